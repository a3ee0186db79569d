// Hash routes: "#/results?filter=...", "#/result/<result_id>" (the spec's triage URLs), "#/job/<uid>",
// "#/node/<id>", ... Every view is a URL that can be shared.

// {name, arg, query} of a hash; null for a hash that is no route (an in-page anchor).
export function parseHash(hash) {
  if (!hash || hash === "#" || hash === "#/") return { name: "", arg: "", query: new URLSearchParams() };
  if (!hash.startsWith("#/")) return null;
  let rest = hash.slice(2);
  let query = new URLSearchParams();
  const q = rest.indexOf("?");
  if (q >= 0) {
    query = new URLSearchParams(rest.slice(q + 1));
    rest = rest.slice(0, q);
  }
  const slash = rest.indexOf("/");
  const name = slash < 0 ? rest : rest.slice(0, slash);
  let arg = slash < 0 ? "" : rest.slice(slash + 1);
  try {
    arg = decodeURIComponent(arg);
  } catch { /* keep it as it is */ }
  return { name, arg, query };
}

// "#/name/arg?k=v"
export function link(name, arg, query) {
  let s = `#/${name}`;
  if (arg) s += `/${arg}`;
  if (query) {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) {
      if (v !== undefined && v !== null && v !== "") q.set(k, String(v));
    }
    const text = q.toString();
    if (text) s += `?${text}`;
  }
  return s;
}
