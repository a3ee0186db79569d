// #/node/<node_id>: the live screen, the remote control (buttons and keyboard shortcuts),
// a screenshot, the reservation, a run-tests form, the node's config and its recent jobs.
import { api, encodePath, qs, urls } from "../api.js";
import { alertBox, browserZone, field, formatTime, h, show } from "../dom.js";
import { liveScreen } from "../live.js";
import { remoteControl } from "../remote.js";
import { reservationPanel } from "../reservations.js";
import { link } from "../router.js";
import { can } from "../session.js";
import { nodeStatus } from "./nodes.js";

export function view(el, r) {
  const id = r.arg;
  const zone = browserZone();
  const state = { node: null, error: null, stopped: false, resvKey: undefined };
  const title = h("h1", null, id);
  const statusEl = h("div", { id: "node-status" });
  const pressStatus = h("div", { role: "status", class: "muted", id: "press-status" });
  const liveStatus = h("div", { role: "status", class: "muted", id: "live-status" });
  const remoteEl = h("div");
  const reservationEl = h("div", { id: "reservation" });
  const runEl = h("div");
  const configEl = h("div");
  const jobsEl = h("div");
  let timer = null;

  const live = liveScreen(id, { fps: 25, onStatus: (t) => show(liveStatus, t || "") });
  live.element.id = "live-screen";
  live.element.tabIndex = 0;
  live.element.setAttribute("role", "img");
  live.element.setAttribute("aria-label", `The live screen of ${id}; with the focus here, keys on the keyboard press the remote control's`);
  const screen = h("div", { class: "screen" }, live.element);

  // ---- the remote control ----
  let remoteName = null;
  async function press(key) {
    show(pressStatus, `Pressing ${key}…`);
    try {
      await api.post(`${urls.node(id)}/press`, { key, remote_control: remoteName });
      show(pressStatus, `Pressed ${key}`);
      const b = remoteEl.querySelector(`button[data-key="${CSS.escape(key)}"]`);
      if (b) {
        b.classList.add("primary");
        setTimeout(() => b.classList.remove("primary"), 200);
      }
    } catch (e) {
      show(pressStatus, alertBox(e.message));
    }
  }
  async function loadRemote(name) {
    try {
      const rcs = await api.get("/api/v2/test_pack/HEAD/remote_controls");
      remoteName = name || rcs.default_remote_control || rcs.remote_controls[0];
      if (!remoteName) return show(remoteEl, h("p", { class: "muted" }, "The test pack has no remote control."));
      const rc = await api.get(`/api/v2/test_pack/HEAD/remote_controls/${encodePath(remoteName)}`);
      const select = h("select", { id: "remote-select", onChange: () => loadRemote(select.value) },
        rcs.remote_controls.map((n) => h("option", { value: n, selected: n === remoteName }, n)));
      const remote = remoteControl(rc.keys, press, !can("press"));
      live.element.onkeydown = remote.onKey;
      remote.element.addEventListener("keydown", remote.onKey);
      show(remoteEl, rcs.remote_controls.length > 1 ? field("Remote control", select) : null,
        remote.element,
        can("press") ? h("p", { class: "muted" }, "Click the live screen, then use the keyboard: arrows, Enter, Backspace, m (menu), h (home), digits…")
          : h("p", { class: "muted" }, "Your role cannot press keys."));
    } catch (e) {
      show(remoteEl, alertBox(e.message));
    }
  }

  // ---- run tests ----
  async function runForm() {
    if (!can("run")) return show(runEl, h("p", { class: "muted" }, "Your role cannot run tests."));
    let refs;
    try {
      refs = await api.get("/api/v2/test_pack/refs");
    } catch (e) {
      return show(runEl, alertBox(e.message));
    }
    const revision = h("select", { name: "revision", id: "run-revision" },
      h("optgroup", { label: "Branches" }, refs.branches.map((b) => h("option", { value: b, selected: b === refs.default_branch }, b))),
      refs.tags.length ? h("optgroup", { label: "Tags" }, refs.tags.map((t) => h("option", { value: t }, t))) : null);
    const filter = h("input", { type: "search", id: "run-filter", placeholder: "filter test cases" });
    const list = h("div", { class: "checklist", id: "run-cases" });
    const remote = h("select", { name: "remote_control", id: "run-remote" });
    const category = h("input", { name: "category", id: "run-category", placeholder: "default" });
    const soak = h("select", { name: "soak", id: "run-soak" }, h("option", { value: "run once" }, "run once"),
      h("option", { value: "run forever" }, "run forever"));
    const shuffle = h("input", { type: "checkbox", name: "shuffle", id: "run-shuffle" });
    const tags = h("textarea", { name: "tags", id: "run-tags", rows: "2", placeholder: "key=value, one a line" });
    const msg = h("div");
    const submit = h("button", { type: "submit", class: "primary", id: "run-submit" }, "Run tests");
    const selectAll = h("button", { type: "button", onClick: () => {
      for (const c of list.querySelectorAll("label:not(.hidden) input")) c.checked = true;
    } }, "Select all shown");
    let cases = [];
    function renderCases() {
      const f = filter.value.toLowerCase();
      for (const label of list.children) label.classList.toggle("hidden", !label.textContent.toLowerCase().includes(f));
    }
    async function loadRevision() {
      show(list, h("span", { class: "muted" }, "Loading…"));
      try {
        const rev = encodePath(revision.value);
        const [names, rcs] = await Promise.all([api.get(`/api/v2/test_pack/${rev}/test_case_names`),
          api.get(`/api/v2/test_pack/${rev}/remote_controls`)]);
        cases = names;
        show(list, cases.map((c) => h("label", null, h("input", { type: "checkbox", value: c }), " ", c)));
        show(remote, rcs.remote_controls.map((n) => h("option", { value: n, selected: n === rcs.default_remote_control }, n)));
        renderCases();
      } catch (e) {
        show(list, alertBox(e.message));
      }
    }
    filter.addEventListener("input", renderCases);
    revision.addEventListener("change", loadRevision);
    const form = h("form", { id: "run-form" }, field("Revision", revision),
      h("div", { class: "field" }, h("label", { for: "run-filter" }, "Test cases"), filter, list, h("div", { class: "row" }, selectAll)),
      field("Remote control", remote), field("Category", category), field("Soak", soak),
      h("div", { class: "field inline" }, shuffle, h("label", { for: "run-shuffle" }, "Shuffle")),
      field("Tags", tags), msg, submit);
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const chosen = [...list.querySelectorAll("input:checked")].map((c) => c.value);
      const tagMap = {};
      for (const line of tags.value.split("\n")) {
        const t = line.trim();
        if (!t) continue;
        const eq = t.indexOf("=");
        tagMap[eq < 0 ? t : t.slice(0, eq).trim()] = eq < 0 ? "" : t.slice(eq + 1).trim();
      }
      const body = { node_id: id, test_pack_revision: revision.value, test_cases: chosen,
        remote_control: remote.value || undefined, soak: soak.value, shuffle: shuffle.checked, tags: tagMap };
      if (category.value.trim()) body.category = category.value.trim();
      submit.disabled = true;
      show(msg);
      try {
        const job = await api.post("/api/v2/run_tests", body);
        location.hash = link("job", job.job_uid);
      } catch (err) {
        show(msg, alertBox(chosen.length ? err.message : "Choose at least one test case."));
      } finally {
        submit.disabled = false;
      }
    });
    show(runEl, form);
    loadRevision();
  }

  // ---- status, reservation, config, jobs ----
  function renderStatus() {
    const n = state.node;
    if (state.error) return show(statusEl, alertBox(state.error));
    if (!n) return;
    show(title, n.friendly_name || n.node_id);
    const job = n.job;
    show(statusEl, h("p", null, h("span", { class: "mono" }, n.node_id), " · ", nodeStatus(n),
      job && job.status === "running" ? [" · running ", h("a", { href: link("job", job.job_uid), class: "mono", id: "node-job" }, job.job_uid),
        can("run") ? [" ", h("button", { class: "danger", id: "node-stop", onClick: async () => {
          try {
            await api.post(`${urls.node(id)}/job/stop`);
          } catch (e) {
            show(pressStatus, alertBox(e.message));
          }
          refresh();
        } }, "Stop")] : null] : null));
    const resvKey = JSON.stringify(n.reservation);
    if (resvKey !== state.resvKey) { // never while someone types a message into it
      state.resvKey = resvKey;
      show(reservationEl, reservationPanel(n, refresh));
    }
    show(configEl, h("dl", { class: "facts" },
      h("dt", null, "Device type"), h("dd", null, n.device_type || "—"),
      h("dt", null, "Local IP"), h("dd", null, n.local_ip_address || "—"),
      h("dt", null, "External IP"), h("dd", null, n.external_ip_address || "—"),
      h("dt", null, "Last used"), h("dd", null, n.last_used_by ? `${n.last_used_by}, ${formatTime(n.last_used_time, zone)}` : "—")),
    h("pre", { id: "node-config" }, JSON.stringify(n.config, null, 2)));
  }
  function jobsTable(tableId, jobs, when) {
    return h("div", { class: "tablewrap" }, h("table", { id: tableId },
      h("thead", null, h("tr", null, ["Job", "Status", "Pass", "Fail", "Error", when, "By"].map((t) => h("th", { scope: "col" }, t)))),
      h("tbody", null, jobs.map((j) => h("tr", null,
        h("td", { class: "mono" }, h("a", { href: link("job", j.job_uid) }, j.job_uid)),
        h("td", null, j.status), h("td", { class: "num" }, j.result_counts.pass),
        h("td", { class: "num" }, j.result_counts.fail), h("td", { class: "num" }, j.result_counts.error),
        h("td", { class: "when" }, formatTime(j.start_time, zone)), h("td", null, j.user))))));
  }
  async function loadJobs() {
    try {
      const [jobs, queue] = await Promise.all([api.get(`/api/v2/jobs${qs({ node_id: id, limit: 10 })}`),
        api.get(`/api/v2/nodes/${encodePath(id)}/queue`)]);
      show(jobsEl,
        queue.length ? [h("h3", null, `Queued (${queue.length}), in the order they will start`),
          jobsTable("node-queue", queue, "Queued")] : null,
        jobs.length ? jobsTable("node-jobs", jobs, "Started") : h("p", { class: "muted" }, "No jobs yet."));
    } catch (e) {
      show(jobsEl, alertBox(e.message));
    }
  }
  async function refresh() {
    clearTimeout(timer);
    try {
      state.node = await api.get(urls.node(id));
      state.error = null;
    } catch (e) {
      state.error = e.message;
    }
    if (state.stopped) return;
    renderStatus();
    loadJobs();
    el.dataset.loaded = "true";
    timer = setTimeout(refresh, 3000);
  }

  const shotName = () => `${id}-${new Date().toISOString().replace(/[:.]/g, "-")}.png`;
  const shot = h("a", { class: "button", id: "screenshot-button", href: `${urls.node(id)}/screenshot.png`,
    download: "screenshot.png", onClick: (e) => e.currentTarget.setAttribute("download", shotName()) }, "Screenshot");
  show(el, title, statusEl,
    h("div", { class: "nodepage" },
      h("div", null, screen, liveStatus, h("div", { class: "row" }, shot), h("h2", null, "Remote control"), remoteEl, pressStatus),
      h("div", null,
        h("section", { class: "panel", "aria-labelledby": "resv-title" }, h("h2", { id: "resv-title" }, "Reservation"), reservationEl),
        h("section", { class: "panel", "aria-labelledby": "run-title" }, h("h2", { id: "run-title" }, "Run tests"), runEl))),
    h("section", { "aria-labelledby": "jobs-title" }, h("h2", { id: "jobs-title" }, "Recent jobs"), jobsEl),
    h("section", { "aria-labelledby": "config-title" }, h("h2", { id: "config-title" }, "Configuration"), configEl));
  refresh();
  loadRemote();
  runForm();
  return { destroy() {
    state.stopped = true;
    clearTimeout(timer);
    live.stop();
  } };
}
