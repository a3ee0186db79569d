// #/job/<job_uid>: a job's status and counts, its runs so far, its log live while it runs (each
// line shows as soon as the node sends it: GET .../log?offset=N&wait=true), and stop.
import { api, qs, urls } from "../api.js";
import { alertBox, browserZone, durationOf, formatDuration, formatTime, h, show, verdict } from "../dom.js";
import { link } from "../router.js";
import { can } from "../session.js";

export function view(el, r) {
  const uid = r.arg;
  const zone = browserZone();
  const base = urls.job(uid);
  const controller = new AbortController();
  const signal = controller.signal;
  const state = { job: null, error: null, runsKey: null, stopped: false };
  const summary = h("div", { id: "job-summary" });
  const runs = h("div", { id: "job-runs" });
  const logPre = h("pre", { class: "joblog", id: "job-log", tabindex: "0", "aria-label": "The job's log" });
  const logStatus = h("div", { class: "muted", role: "status", id: "job-log-status" });
  let timer = null;

  function counts(c) {
    return h("span", null, ["pass", "fail", "error"].map((k) => [verdict(k), ` ${c[k]} `]), `of ${c.total}`);
  }

  function renderSummary() {
    const j = state.job;
    if (state.error) return show(summary, alertBox(state.error));
    if (!j) return show(summary, h("p", { class: "loading" }, "Loading…"));
    const running = j.status === "running", queued = j.status === "queued";
    const outcome = queued ? h("span", { class: "verdict running", id: "job-status" }, "queued")
      : running ? h("span", { class: "verdict running", id: "job-status" }, j.stopping ? "stopping" : "running")
      : h("span", { id: "job-status", class: `verdict ${j.result_counts.error ? "error" : j.result_counts.fail ? "fail" : "pass"}` },
        j.result_counts.error ? "error" : j.result_counts.fail ? "fail" : "pass");
    show(summary,
      h("p", null, outcome, " ", counts(j.result_counts),
        (running || queued) && can("run") ? [" ", h("button", { class: "danger", id: "job-stop", onClick: stop }, "Stop")] : null),
      h("dl", { class: "facts" },
        h("dt", null, "Node"), h("dd", null, j.node_id ? h("a", { href: link("node", j.node_id), class: "mono" }, j.node_id)
          : h("span", { class: "mono" }, `waiting for ${(j.queued_on || []).join(", ")}`)),
        h("dt", null, queued ? "Queued" : "Started"), h("dd", null, `${formatTime(j.start_time, zone)} by ${j.user}`),
        queued ? [h("dt", null, "Waits until"), h("dd", null, `${formatTime(j.queue_deadline, zone)} (priority ${j.priority})`)]
          : [h("dt", null, running ? "Running" : "Ended"), h("dd", null, running ? (j.current_test_case || "between test cases")
            : `${formatTime(j.end_time, zone)} (${formatDuration(durationOf(j))})${j.not_started_reason ? ` · ${j.not_started_reason}` : ""}`)],
        h("dt", null, "Revision"), h("dd", { class: "mono" }, j.test_pack_branch ? `${j.test_pack_branch} ` : "", j.test_pack_sha),
        h("dt", null, "Test cases"), h("dd", { class: "mono" }, j.test_cases.join(", ")),
        h("dt", null, "Remote control"), h("dd", null, j.remote_control || "—"),
        h("dt", null, "Category"), h("dd", null, j.category || "default"),
        h("dt", null, "Soak"), h("dd", null, `${j.soak}${j.shuffle ? ", shuffled" : ""}`),
        h("dt", null, "Tags"), h("dd", null, Object.entries(j.tags).map(([k, v]) => `${k}=${v}`).join(", ") || "none")),
      can("results") ? h("p", null, h("a", { href: link("results", "", { filter: `job:${j.job_uid}` }) }, "Its results"), " · ",
        h("a", { href: link("compare", "", { a: j.job_uid }) }, "Compare with another job")) : null);
  }

  async function loadRuns() {
    const j = state.job;
    const key = JSON.stringify(j.result_counts);
    if (key === state.runsKey || !can("results")) return;
    state.runsKey = key;
    try {
      const rows = await api.get(`/api/v2/results${qs({ filter: `job:${uid}`, sort: "date:asc" })}`, { signal });
      show(runs, rows.length ? h("div", { class: "tablewrap" }, h("table", null,
        h("thead", null, h("tr", null, ["Started", "Test case", "Result", "Duration", "Failure reason"].map((t) => h("th", { scope: "col" }, t)))),
        h("tbody", null, rows.map((x) => h("tr", null,
          h("td", { class: "when" }, h("a", { href: link("result", x.result_id) }, formatTime(x.start_time, zone))),
          h("td", { class: "mono" }, x.test_case), h("td", null, verdict(x.result)),
          h("td", { class: "num" }, formatDuration(durationOf(x))), h("td", { class: "reason" }, x.failure_reason || ""))))))
        : h("p", { class: "muted" }, "No runs stored yet."));
    } catch (e) {
      if (e.name !== "AbortError") show(runs, alertBox(e.message));
    }
  }

  async function refresh() {
    clearTimeout(timer);
    try {
      state.job = await api.get(`${base}${qs({ details: "true" })}`, { signal });
      state.error = null;
    } catch (e) {
      if (e.name === "AbortError") return;
      state.error = e.message;
    }
    if (state.stopped) return;
    renderSummary();
    if (state.job) loadRuns();
    el.dataset.loaded = "true";
    if (!state.job || state.job.status !== "exited") timer = setTimeout(refresh, 1000);
  }

  async function stop() {
    try {
      await api.put(`${base}/stop`);
    } catch (e) {
      show(logStatus, alertBox(e.message));
    }
    refresh();
  }

  // The log: read from where we are, wait for more while the job runs.
  async function follow() {
    const decoder = new TextDecoder();
    let offset = 0;
    while (!state.stopped) {
      let res;
      try {
        res = await api.get(`${base}/log${qs({ offset, wait: "true" })}`, { signal, raw: true });
      } catch (e) {
        if (e.name === "AbortError") return;
        show(logStatus, e.message);
        await new Promise((resolve) => setTimeout(resolve, 2000));
        continue;
      }
      const bytes = new Uint8Array(await res.arrayBuffer());
      offset = Number(res.headers.get("X-Log-Offset")) || offset + bytes.length;
      const exited = res.headers.get("X-Job-Status") === "exited";
      if (bytes.length) {
        const atEnd = logPre.scrollTop + logPre.clientHeight >= logPre.scrollHeight - 4;
        logPre.append(decoder.decode(bytes, { stream: !exited }));
        if (atEnd) logPre.scrollTop = logPre.scrollHeight;
      }
      show(logStatus, exited ? "The job has exited." : "Following the log…");
      if (exited) {
        refresh();
        return;
      }
    }
  }

  show(el, h("h1", null, "Job ", h("span", { class: "mono" }, uid)), summary,
    can("results") ? [h("h2", null, "Runs"), runs, h("h2", null, "Log"), logStatus, logPre] : null);
  renderSummary();
  refresh();
  if (can("results")) follow();
  return { destroy() {
    state.stopped = true;
    clearTimeout(timer);
    controller.abort();
  } };
}
