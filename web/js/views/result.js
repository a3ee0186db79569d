// #/result/<result_id>: everything about one test run. The video plays beside stbt.log, the line
// of the moment highlighted as it plays; a click on a line seeks the video there.
import { api, encodePath, qs, urls } from "../api.js";
import { alertBox, browserZone, durationOf, formatBytes, formatDuration, formatTime, h, quote, show, verdict } from "../dom.js";
import { link } from "../router.js";

const STAMP = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)) ?(.*)$/;

// stbt.log as [{at (ms since the epoch), stamp, text}]; a line without a timestamp (a message's
// continuation) has the time of the line before.
export function parseLog(text) {
  const lines = [];
  let at = null;
  for (const line of text.split("\n")) {
    if (line === "" && lines.length && lines[lines.length - 1].text === "") continue;
    const m = STAMP.exec(line);
    if (m) {
      at = Date.parse(m[1]);
      lines.push({ at, stamp: m[1], text: m[2] });
    } else {
      lines.push({ at, stamp: null, text: line });
    }
  }
  while (lines.length && lines[lines.length - 1].text === "" && !lines[lines.length - 1].stamp) lines.pop();
  return lines;
}

// The last line at or before ms (binary search over lines in time order), or -1.
function lineAt(lines, ms) {
  let lo = 0, hi = lines.length - 1, found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (lines[mid].at !== null && lines[mid].at <= ms) {
      found = mid;
      lo = mid + 1;
    } else if (lines[mid].at === null) {
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  return found;
}

function shortTime(stamp, zone) {
  return formatTime(stamp, zone).slice(11) + (/\.(\d{3})/.exec(stamp) ? `.${/\.(\d{3})/.exec(stamp)[1]}` : "");
}

export function view(el, r) {
  const id = r.arg;
  const zone = r.query.get("tz") || browserZone();
  const base = urls.result(id);
  const controller = new AbortController();
  const signal = controller.signal;
  show(el, h("p", { class: "loading" }, "Loading…"));

  function facts(res) {
    const tags = Object.entries(res.tags || {});
    const rows = [
      ["Result", verdict(res.result)],
      ["Test case", h("span", { class: "mono" }, res.test_case)],
      ["Job", h("span", null, h("a", { href: link("job", res.job_uid), class: "mono", id: "job-link" }, res.job_uid),
        " · ", h("a", { href: link("results", "", { filter: `job:${res.job_uid}` }) }, "its results"))],
      ["Node", h("a", { href: link("node", res.node_id), class: "mono" }, res.node_id)],
      ["Branch", res.test_pack_branch || h("span", { class: "muted" }, "(none: a commit)")],
      ["Commit", h("span", { class: "mono" }, res.test_pack_sha)],
      ["User", res.username],
      ["Category", res.job_category],
      ["Tags", tags.length ? h("span", null, tags.map(([k, v], i) => [i ? ", " : "", h("code", null, `${k}=${v}`)])) : h("span", { class: "muted" }, "none")],
      ["Started", formatTime(res.start_time, zone)],
      ["Duration", formatDuration(durationOf(res))],
      ["Failure reason", res.failure_reason ? h("span", { id: "failure-reason" }, res.failure_reason) : h("span", { class: "muted" }, "none")],
    ];
    return h("dl", { class: "facts" }, rows.map(([k, v]) => [h("dt", null, k), h("dd", null, v)]));
  }

  function player(res, logText) {
    const lines = logText === null ? [] : parseLog(logText);
    const start = Date.parse(res.start_time);
    const hasVideo = Boolean(res.artifacts["video.mp4"]);
    const video = hasVideo ? h("video", { controls: true, preload: "metadata", id: "video",
      src: `${base}/artifacts/video.mp4` }) : null;
    const items = lines.map((l, i) => h("li", { dataset: { i: String(i) }, tabindex: hasVideo && l.at !== null ? "0" : null,
      title: hasVideo && l.at !== null ? "Seek the video here" : null },
    l.stamp ? h("span", { class: "ts" }, `${shortTime(l.stamp, zone)} `) : null, l.text));
    const list = h("ol", { id: "stbt-log", "aria-label": "stbt.log" }, items);
    const pane = h("div", { class: "log" }, list);
    let now = -1;
    function follow() {
      const i = lineAt(lines, start + video.currentTime * 1000);
      if (i === now) return;
      if (now >= 0) items[now].classList.remove("now");
      now = i;
      if (i >= 0) {
        items[i].classList.add("now");
        const top = items[i].offsetTop - pane.offsetTop;
        if (top < pane.scrollTop || top > pane.scrollTop + pane.clientHeight - 20) pane.scrollTop = top - pane.clientHeight / 3;
      }
    }
    function seek(target) {
      const li = target.closest("li");
      if (!li || !video) return;
      const l = lines[Number(li.dataset.i)];
      if (l.at === null) return;
      video.currentTime = Math.max(0, (l.at - start) / 1000);
      follow();
    }
    if (video) {
      video.addEventListener("timeupdate", follow);
      video.addEventListener("seeked", follow);
      list.addEventListener("click", (e) => seek(e.target));
      list.addEventListener("keydown", (e) => {
        if (e.key === "Enter" || e.key === " ") {
          e.preventDefault();
          seek(e.target);
        }
      });
    }
    const logPart = logText === null ? h("p", { class: "muted" }, "No stbt.log.") : pane;
    if (!video) return h("div", null, h("h2", null, "stbt.log"), logPart);
    return h("div", { class: "player" }, h("div", null, video), h("div", null, h("h2", { class: "sr-only" }, "stbt.log"), logPart));
  }

  function artifacts(res) {
    const names = Object.keys(res.artifacts).sort();
    return h("div", { class: "tablewrap" }, h("table", { id: "artifacts" },
      h("thead", null, h("tr", null, h("th", null, "Artifact"), h("th", null, "Size"), h("th", null, "Open"))),
      h("tbody", null, names.map((n) => {
        const href = `${base}/artifacts/${encodePath(n)}`;
        return h("tr", null,
          h("td", { class: "mono name" }, h("a", { href, target: "_blank", rel: "noopener" }, n)),
          h("td", { class: "num" }, formatBytes(res.artifacts[n].size)),
          h("td", null, h("a", { href, download: n.split("/").pop(), "aria-label": `Download ${n}` }, "Download")));
      }))));
  }

  async function strip(res) {
    const box = h("div", { class: "strip", id: "last-runs", "aria-label": "Last runs of this test case" });
    try {
      const runs = await api.get(`/api/v2/results${qs({ filter: `testcase:${quote(res.test_case)}`, limit: 40 })}`, { signal });
      show(box, runs.reverse().map((x) => h("a", { href: link("result", x.result_id),
        class: `${x.result}${x.result_id === res.result_id ? " current" : ""}`,
        title: `${x.result} · ${formatTime(x.start_time, zone)}`, "aria-label": `${x.result}, ${formatTime(x.start_time, zone)}` })));
    } catch (e) {
      if (e.name !== "AbortError") show(box, h("span", { class: "muted" }, e.message));
    }
    return box;
  }

  (async () => {
    let res;
    try {
      res = await api.get(base, { signal });
    } catch (e) {
      if (e.name !== "AbortError") show(el, h("h1", null, "Result"), alertBox(e.message));
      return;
    }
    let logText = null;
    if (res.artifacts["stbt.log"]) {
      try {
        logText = await api.get(`${base}/stbt.log`, { signal });
      } catch (e) {
        if (e.name === "AbortError") return;
      }
    }
    const runs = h("div");
    show(el,
      h("h1", null, verdict(res.result), " ", h("span", { class: "mono", id: "test-case" }, res.test_case)),
      facts(res),
      res.traceback ? h("details", { open: res.result !== "pass" }, h("summary", null, "Traceback"),
        h("pre", { id: "traceback" }, res.traceback)) : null,
      h("h2", null, "Last runs of this test case"), runs,
      h("h2", null, "Video and log"), player(res, logText),
      res.artifacts["screenshot.png"] ? [h("h2", null, "Final screenshot"),
        h("img", { class: "screenshot", id: "screenshot", src: `${base}/screenshot.png`, alt: "The last frame of the test run" })] : null,
      h("h2", null, "Artifacts"), artifacts(res));
    el.dataset.loaded = "true";
    show(runs, await strip(res));
  })();

  return {
    destroy: () => {
      controller.abort();
      const v = el.querySelector("video");
      if (v) {
        v.pause();
        v.removeAttribute("src");
        v.load();
      }
    },
  };
}
