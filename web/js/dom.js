// Building the page: elements from data, never from HTML strings. Text is always text (a test
// case named "<script>" shows as those characters); the one exception, Markdown the server
// rendered (a reservation's message_html), goes through sanitize() first.

const PROPS = new Set(["value", "checked", "selected", "muted", "indeterminate"]);

// h("a", {href: "#/x", class: "y", onClick: fn}, "text", child, [more])
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith("on") && typeof v === "function") {
      el.addEventListener(k.slice(2).toLowerCase(), v);
    } else if (k === "class") {
      el.className = v;
    } else if (k === "dataset") {
      Object.assign(el.dataset, v);
    } else if (PROPS.has(k)) {
      el[k] = v;
    } else {
      el.setAttribute(k, v === true ? "" : String(v));
    }
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else if (c instanceof Node) el.appendChild(c);
    else el.appendChild(document.createTextNode(String(c)));
  }
  return el;
}

// Replace what el shows.
export function show(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

let ids = 0;
export function uid(prefix) {
  ids += 1;
  return `${prefix}-${ids}`;
}

// A labelled control: h("label") tied to the input by id.
export function field(labelText, input, hint) {
  if (!input.id) input.id = uid("f");
  const parts = [h("label", { for: input.id }, labelText), input];
  if (hint) {
    const hintEl = h("small", { class: "muted", id: uid("hint") }, hint);
    input.setAttribute("aria-describedby", hintEl.id);
    parts.push(hintEl);
  }
  return h("div", { class: "field" }, parts);
}

export function verdict(result) {
  return h("span", { class: `verdict ${result}` }, result);
}

export function alertBox(message) {
  return h("div", { class: "alert", role: "alert" }, message);
}

// ---- Markdown the server rendered ----

const ALLOWED = new Set(["P", "EM", "STRONG", "A", "CODE", "PRE", "UL", "OL", "LI", "BLOCKQUOTE",
  "H1", "H2", "H3", "H4", "H5", "H6", "BR", "HR", "DEL", "TABLE", "THEAD", "TBODY", "TR", "TH",
  "TD"]);

// The HTML as elements of a short list, with no attributes but a link's safe href: whatever the
// server let through, nothing here can run or load anything.
export function sanitize(html) {
  const doc = new DOMParser().parseFromString(`<body>${html || ""}</body>`, "text/html");
  const out = document.createDocumentFragment();
  const copy = (from, to) => {
    for (const n of from.childNodes) {
      if (n.nodeType === Node.TEXT_NODE) {
        to.appendChild(document.createTextNode(n.textContent));
      } else if (n.nodeType === Node.ELEMENT_NODE) {
        if (!ALLOWED.has(n.tagName)) {
          copy(n, to); // keep the text of what is not allowed
          continue;
        }
        const el = document.createElement(n.tagName.toLowerCase());
        const href = n.tagName === "A" ? n.getAttribute("href") || "" : "";
        if (/^(https?:|mailto:|#|\/)/i.test(href)) {
          el.setAttribute("href", href);
          el.setAttribute("rel", "noopener noreferrer");
        }
        copy(n, el);
        to.appendChild(el);
      }
    }
  };
  copy(doc.body, out);
  return out;
}

// ---- times ----

export function browserZone() {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
}

const formats = new Map();
function formatter(zone) {
  let f = formats.get(zone);
  if (!f) {
    try {
      f = new Intl.DateTimeFormat("en-CA", { timeZone: zone, year: "numeric", month: "2-digit",
        day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" });
    } catch {
      f = formatter("UTC");
    }
    formats.set(zone, f);
  }
  return f;
}

// "2024-05-28 14:46:35" in zone.
export function formatTime(iso, zone) {
  if (!iso) return "";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const p = Object.fromEntries(formatter(zone).formatToParts(d).map((x) => [x.type, x.value]));
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}:${p.second}`;
}

export function formatDuration(secs) {
  if (secs === null || secs === undefined || Number.isNaN(secs)) return "";
  if (secs < 60) return `${secs.toFixed(secs < 10 ? 1 : 0)} s`;
  const m = Math.floor(secs / 60), s = Math.round(secs % 60);
  if (m < 60) return `${m} min ${s} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

export function durationOf(r) {
  return (new Date(r.end_time) - new Date(r.start_time)) / 1000;
}

export function formatBytes(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

// ---- the filter language ----

// A value as the filter language quotes it: "a \"b\"".
export function quote(value) {
  return `"${String(value).replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}
