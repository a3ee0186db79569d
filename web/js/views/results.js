// #/results?filter=...&sort=...&tz=...&before=...: the search box of GET /api/v2/results, its
// filter language exactly (the API checks it and its message shows here), sortable columns,
// counts, "older" past the 2,000 the API answers, CSV and JUnit downloads of the same query.
import { api, qs } from "../api.js";
import { alertBox, browserZone, durationOf, field, formatDuration, formatTime, h, show, verdict } from "../dom.js";
import { link } from "../router.js";

const LIMIT = 2000;
const COLUMNS = [
  ["date", "Date", "desc"], ["duration", "Duration", "desc"], ["job", "Job", "asc"],
  ["testcase", "Test case", "asc"], ["result", "Result", "asc"], ["category", "Category", "asc"],
  [null, "Failure reason"],
];

// The filter the API is asked: the user's, and the page's "before" bound.
export function effectiveFilter(filter, before) {
  return [filter, before ? `date:<${before}` : ""].filter(Boolean).join(" ");
}

export function view(el, r) {
  const filter = r.query.get("filter") || "";
  const sort = r.query.get("sort") || "date:desc";
  const tzParam = r.query.get("tz") || "";
  const before = r.query.get("before") || "";
  const zone = tzParam || browserZone();
  const state = { rows: null, error: null };
  const controller = new AbortController();
  const apiQuery = { filter: effectiveFilter(filter, before), sort, tz: zone };

  const input = h("input", { type: "search", name: "filter", value: filter, class: "grow",
    placeholder: "result:fail testcase:tests/epg.py::* timeout", autocomplete: "off",
    spellcheck: "false" });
  const form = h("form", { role: "search", class: "row", id: "results-search" },
    h("label", { for: "filter-input", class: "sr-only" }, "Filter"),
    input, h("button", { type: "submit", class: "primary" }, "Search"));
  input.id = "filter-input";
  input.setAttribute("aria-label", "Filter");
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    location.hash = link("results", "", { filter: input.value.trim(), sort: sort === "date:desc" ? "" : sort, tz: tzParam });
  });
  const help = h("details", { class: "muted" }, h("summary", null, "Filter syntax"),
    h("p", null, "Terms must all hold; ", h("code", null, "-"), " negates one; ", h("code", null, "*"),
      " matches any run of characters; quote values with spaces."),
    h("ul", null,
      ["job:/stb-tester-abc/0a23/972", "testcase:tests/epg.py::*", "result:fail", "category:nightly",
        "node:stb-tester-abc", "tag:model=T-1000", "date:2024-01-31", "date:>=2024-01-01",
        "date:2024-01-01..2024-02-01", "\"EPG is empty\""].map((t) => h("li", null, h("code", null, t)))));
  const status = h("div", { class: "counts", id: "results-counts", "aria-live": "polite" });
  const table = h("div", { id: "results-table" });

  function sortHeader([key, title, first]) {
    if (!key) return h("th", { scope: "col" }, title);
    const [field, dir] = sort.split(":");
    const active = field === key;
    const next = active ? (dir === "desc" ? "asc" : "desc") : first;
    const th = h("th", { scope: "col", "aria-sort": active ? (dir === "asc" ? "ascending" : "descending") : "none" },
      h("button", { type: "button", "data-sort": key, onClick: () => {
        location.hash = link("results", "", { filter, sort: `${key}:${next}` === "date:desc" ? "" : `${key}:${next}`, tz: tzParam });
      } }, title));
    return th;
  }

  function row(x) {
    return h("tr", { dataset: { id: x.result_id } },
      h("td", { class: "when" }, h("a", { href: link("result", x.result_id) }, formatTime(x.start_time, zone))),
      h("td", { class: "num" }, formatDuration(durationOf(x))),
      h("td", { class: "mono job" }, h("a", { href: link("job", x.job_uid) }, x.job_uid)),
      h("td", { class: "mono testcase" }, x.test_case),
      h("td", null, verdict(x.result)),
      h("td", null, x.job_category),
      h("td", { class: "reason" }, x.failure_reason || ""));
  }

  function render() {
    if (state.error) {
      show(status);
      show(table, alertBox(state.error));
      return;
    }
    if (!state.rows) {
      show(table, h("p", { class: "loading" }, "Searching…"));
      return;
    }
    const rows = state.rows;
    const counts = { pass: 0, fail: 0, error: 0 };
    for (const x of rows) counts[x.result] = (counts[x.result] || 0) + 1;
    const capped = rows.length === LIMIT;
    const older = capped && sort === "date:desc" && rows.length
      ? h("a", { id: "older", href: link("results", "", { filter, tz: tzParam, before: rows[rows.length - 1].start_time }) }, "Older results →")
      : null;
    const downloads = [
      h("a", { href: `/api/v2/results.csv${qs(apiQuery)}`, download: "results.csv", id: "download-csv" }, "CSV"),
      h("a", { href: `/api/v2/results.xml${qs({ ...apiQuery, include_tz: "true" })}`, download: "results.xml", id: "download-junit" }, "JUnit XML"),
    ];
    show(status,
      h("strong", null, `${rows.length.toLocaleString("en")} results`),
      h("span", null, ["pass", "fail", "error"].map((k) => [verdict(k), ` ${counts[k]} `])),
      capped ? h("span", { class: "muted" }, `the first ${LIMIT.toLocaleString("en")} the API answers`) : null,
      before ? h("span", null, `before ${formatTime(before, zone)} · `, h("a", { href: link("results", "", { filter, tz: tzParam }) }, "newest")) : null,
      older,
      h("span", null, "Download: ", downloads[0], " · ", downloads[1]),
      h("span", null, h("a", { href: link("flaky", "", { filter }) }, "Flaky tests of these")),
      h("span", { class: "muted" }, `times in ${zone}`));
    if (!rows.length) {
      show(table, h("p", { class: "muted" }, "No results match."));
    } else {
      const body = h("tbody");
      const frag = document.createDocumentFragment();
      for (const x of rows) frag.appendChild(row(x));
      body.appendChild(frag);
      show(table, h("div", { class: "tablewrap" }, h("table", { id: "results" },
        h("caption", { class: "sr-only" }, "Test results"),
        h("thead", null, h("tr", null, COLUMNS.map(sortHeader))), body)));
    }
    table.dataset.loaded = "true";
    performance.mark("results-table");
  }

  show(el, h("h1", null, "Test results"), form, help, status, table);
  render();
  api.get(`/api/v2/results${qs({ ...apiQuery, details: "true" })}`, { signal: controller.signal })
    .then((rows) => {
      state.rows = rows;
      render();
    })
    .catch((e) => {
      if (e.name === "AbortError") return;
      state.error = e.status === 400 ? `Invalid filter: ${e.message}` : e.message;
      render();
    });
  return { destroy: () => controller.abort() };
}
