// #/monitor: a wall of every node's screen (thumbnails about once a second), what it runs, and
// the verdicts of its latest results.
import { api, qs } from "../api.js";
import { h, show } from "../dom.js";
import { link } from "../router.js";
import { can } from "../session.js";
import { liveThumbnail, nodeStatus } from "./nodes.js";

export function view(el) {
  const tiles = new Map(); // node id -> {fig, caption, strip, thumb}
  const wall = h("div", { class: "wall", id: "wall" });
  const state = { stopped: false, tick: 0 };
  let timer = null;

  async function strip(nodeId, box) {
    try {
      const runs = await api.get(`/api/v2/results${qs({ filter: `node:${nodeId}`, limit: 20 })}`);
      show(box, runs.reverse().map((x) => h("a", { href: link("result", x.result_id), class: x.result,
        title: `${x.test_case}: ${x.result}`, "aria-label": `${x.test_case}: ${x.result}` })));
    } catch { /* shown next time */ }
  }

  async function load() {
    clearTimeout(timer);
    try {
      const nodes = await api.get("/api/v2/nodes");
      for (const n of nodes) {
        let t = tiles.get(n.node_id);
        if (!t) {
          const thumb = liveThumbnail(n.node_id, `The screen of ${n.node_id}`);
          t = { thumb, caption: h("figcaption"), strip: h("div", { class: "strip" }) };
          t.fig = h("figure", { dataset: { node: n.node_id } }, h("a", { href: link("node", n.node_id) }, thumb.element), t.caption, t.strip);
          tiles.set(n.node_id, t);
          wall.appendChild(t.fig);
        }
        const job = n.job;
        show(t.caption, h("strong", null, n.friendly_name || n.node_id), " ", nodeStatus(n),
          job && job.status === "running" ? h("div", null, h("a", { href: link("job", job.job_uid), class: "mono" }, job.job_uid),
            ` ${job.result_counts.pass}✓ ${job.result_counts.fail}✗ ${job.result_counts.error}!`) : null);
        if (can("results") && state.tick % 3 === 0) strip(n.node_id, t.strip);
      }
      el.dataset.loaded = "true";
    } catch { /* the next load tries again */ }
    state.tick += 1;
    if (!state.stopped) timer = setTimeout(load, 3000);
  }
  show(el, h("h1", null, "Monitor"), wall);
  load();
  return { destroy() {
    state.stopped = true;
    clearTimeout(timer);
    for (const t of tiles.values()) t.thumb.stop();
  } };
}
