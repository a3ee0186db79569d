// #/compare?a=<job>&b=<job>: two jobs side by side, test case by test case, what changed
// verdict first.
import { api, qs } from "../api.js";
import { alertBox, field, h, show, verdict } from "../dom.js";
import { link } from "../router.js";

// {test case: [verdicts in time order]} of a job's results.
function byTestCase(results) {
  const m = new Map();
  for (const r of [...results].sort((x, y) => (x.start_time < y.start_time ? -1 : 1))) {
    if (!m.has(r.test_case)) m.set(r.test_case, []);
    m.get(r.test_case).push(r);
  }
  return m;
}

// Rows of the comparison: {test_case, a: [results], b: [results], changed}.
export function compare(aResults, bResults) {
  const a = byTestCase(aResults), b = byTestCase(bResults);
  const names = [...new Set([...a.keys(), ...b.keys()])].sort();
  const last = (runs) => (runs && runs.length ? runs[runs.length - 1].result : null);
  const rows = names.map((n) => ({ test_case: n, a: a.get(n) || [], b: b.get(n) || [],
    changed: last(a.get(n)) !== last(b.get(n)) }));
  rows.sort((x, y) => Number(y.changed) - Number(x.changed) || (x.test_case < y.test_case ? -1 : 1));
  return rows;
}

export function view(el, r) {
  const aUid = r.query.get("a") || "", bUid = r.query.get("b") || "";
  const a = h("input", { id: "compare-a", value: aUid, class: "mono", placeholder: "/stb-tester-…/0a23/972", list: "recent-jobs" });
  const b = h("input", { id: "compare-b", value: bUid, class: "mono", placeholder: "/stb-tester-…/0a23/973", list: "recent-jobs" });
  const recent = h("datalist", { id: "recent-jobs" });
  const form = h("form", { class: "row" }, h("div", { class: "grow" }, field("Job A", a)), h("div", { class: "grow" }, field("Job B", b)),
    h("button", { type: "submit", class: "primary" }, "Compare"), recent);
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    location.hash = link("compare", "", { a: a.value.trim(), b: b.value.trim() });
  });
  const out = h("div", { id: "comparison" });
  show(el, h("h1", null, "Compare jobs"), form, out);
  api.get(`/api/v2/jobs${qs({ limit: 50 })}`).then((jobs) => {
    show(recent, jobs.map((j) => h("option", { value: j.job_uid }, `${j.node_id} ${j.start_time}`)));
  }).catch(() => {});
  if (!aUid || !bUid) {
    show(out, h("p", { class: "muted" }, "Name two jobs to compare them."));
    return {};
  }
  show(out, h("p", { class: "loading" }, "Loading…"));
  Promise.all([aUid, bUid].map((u) => api.get(`/api/v2/results${qs({ filter: `job:${u}` })}`))).then(([ra, rb]) => {
    const rows = compare(ra, rb);
    const changed = rows.filter((x) => x.changed);
    const cell = (runs) => (runs.length ? runs.map((x) => h("a", { href: link("result", x.result_id) }, verdict(x.result), " "))
      : h("span", { class: "muted" }, "not run"));
    show(out,
      h("p", null, `${rows.length} test cases; ${changed.length} changed verdict.`),
      h("div", { class: "tablewrap" }, h("table", null,
        h("thead", null, h("tr", null, h("th", { scope: "col" }, "Test case"),
          h("th", { scope: "col" }, h("a", { href: link("job", aUid), class: "mono" }, aUid)),
          h("th", { scope: "col" }, h("a", { href: link("job", bUid), class: "mono" }, bUid)), h("th", { scope: "col" }, "Changed"))),
        h("tbody", null, rows.map((x) => h("tr", { class: x.changed ? "changed" : null, dataset: { testcase: x.test_case } },
          h("td", { class: "mono" }, x.test_case), h("td", null, cell(x.a)), h("td", null, cell(x.b)),
          h("td", null, x.changed ? "yes" : "")))))));
    el.dataset.loaded = "true";
  }).catch((e) => show(out, alertBox(e.message)));
  return {};
}
