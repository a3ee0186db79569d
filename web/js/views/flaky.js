// #/flaky?filter=...: for the results of a filter, each test case's pass rate and its verdicts
// over time, flaky ones first (the most changes of verdict), then those that always fail, then
// those that always pass.
import { api, qs } from "../api.js";
import { alertBox, browserZone, formatTime, h, quote, show } from "../dom.js";
import { link } from "../router.js";

// [{test_case, runs (oldest first), pass, flips, rate}] ranked flaky first.
export function rank(results) {
  const by = new Map();
  for (const r of results) {
    if (!by.has(r.test_case)) by.set(r.test_case, []);
    by.get(r.test_case).push(r);
  }
  const rows = [];
  for (const [testCase, runs] of by) {
    runs.sort((a, b) => (a.start_time < b.start_time ? -1 : a.start_time > b.start_time ? 1 : 0));
    let flips = 0;
    for (let i = 1; i < runs.length; i++) if (runs[i].result !== runs[i - 1].result) flips += 1;
    const pass = runs.filter((x) => x.result === "pass").length;
    rows.push({ test_case: testCase, runs, pass, flips, rate: pass / runs.length });
  }
  const kind = (x) => (x.pass > 0 && x.pass < x.runs.length ? 0 : x.pass === 0 ? 1 : 2);
  rows.sort((a, b) => kind(a) - kind(b) || b.flips - a.flips ||
    Math.abs(a.rate - 0.5) - Math.abs(b.rate - 0.5) || (a.test_case < b.test_case ? -1 : 1));
  return rows;
}

export function view(el, r) {
  const filter = r.query.get("filter") || "";
  const zone = browserZone();
  const controller = new AbortController();
  const input = h("input", { type: "search", id: "flaky-filter", value: filter, class: "grow",
    "aria-label": "Filter", placeholder: "category:nightly date:>=2024-01-01" });
  const form = h("form", { role: "search", class: "row" }, input, h("button", { type: "submit", class: "primary" }, "Show"));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    location.hash = link("flaky", "", { filter: input.value.trim() });
  });
  const out = h("div", { id: "flaky" });
  show(el, h("h1", null, "Flaky tests"),
    h("p", { class: "muted" }, "Pass rate and verdicts over time of each test case in the newest 2,000 results of a filter."),
    form, out);
  show(out, h("p", { class: "loading" }, "Loading…"));
  api.get(`/api/v2/results${qs({ filter, tz: zone })}`, { signal: controller.signal }).then((results) => {
    const rows = rank(results);
    if (!rows.length) return show(out, h("p", { class: "muted" }, "No results match."));
    const flaky = rows.filter((x) => x.pass > 0 && x.pass < x.runs.length).length;
    show(out, h("p", null, `${rows.length} test cases in ${results.length} results; ${flaky} both passed and failed.`),
      h("div", { class: "tablewrap" }, h("table", null,
        h("thead", null, h("tr", null, ["Test case", "Runs", "Pass rate", "Changes", "Verdicts, oldest first"].map((t) => h("th", { scope: "col" }, t)))),
        h("tbody", null, rows.map((x) => h("tr", { dataset: { testcase: x.test_case } },
          h("td", { class: "mono" }, h("a", { href: link("results", "", { filter: `${filter} testcase:${quote(x.test_case)}`.trim() }) }, x.test_case)),
          h("td", { class: "num" }, x.runs.length),
          h("td", { class: "num" }, `${Math.round(x.rate * 100)}%`),
          h("td", { class: "num" }, x.flips),
          h("td", null, h("div", { class: "strip" }, x.runs.map((run) => h("a", { href: link("result", run.result_id),
            class: run.result, title: `${run.result} · ${formatTime(run.start_time, zone)}`,
            "aria-label": `${run.result}, ${formatTime(run.start_time, zone)}` }))))))))));
    el.dataset.loaded = "true";
  }).catch((e) => {
    if (e.name !== "AbortError") show(out, alertBox(e.message));
  });
  return { destroy: () => controller.abort() };
}
