// #/nodes: a card per node with its thumbnail (refreshed about once a second while the page is
// visible), whether it is online and available and why not, its job and its reservation.
import { api, urls } from "../api.js";
import { alertBox, h, show } from "../dom.js";
import { messageOf, timeLeft } from "../reservations.js";
import { link } from "../router.js";

// A thumbnail that reloads itself every period ms after the last one arrived, while visible.
export function liveThumbnail(nodeId, alt, period = 1000) {
  const img = h("img", { alt, width: "320", height: "180", decoding: "async" });
  let timer = null, stopped = false, n = 0;
  function next() {
    if (stopped) return;
    timer = setTimeout(() => {
      if (document.hidden) return next();
      img.src = `${urls.node(nodeId)}/thumbnail.jpg?n=${n++}`;
    }, period);
  }
  img.addEventListener("load", next);
  img.addEventListener("error", () => {
    if (stopped) return;
    timer = setTimeout(() => {
      img.src = `${urls.node(nodeId)}/thumbnail.jpg?n=${n++}`;
    }, period * 5);
  });
  img.src = `${urls.node(nodeId)}/thumbnail.jpg?n=${n++}`;
  return { element: img, stop() {
    stopped = true;
    clearTimeout(timer);
    img.removeAttribute("src");
  } };
}

export function nodeStatus(n) {
  const cls = !n.online ? "offline" : n.available ? "online" : "busy";
  const text = !n.online ? "offline" : n.available ? "available" : n.not_available_reason || "not available";
  return h("span", { class: `status ${cls}` }, text);
}

export function view(el) {
  const cards = new Map(); // node id -> {card, body, thumb}
  const grid = h("div", { class: "cards", id: "node-cards" });
  const err = h("div");
  let timer = null, stopped = false;

  function cardBody(n) {
    const job = n.job;
    return [
      h("h2", null, h("a", { href: link("node", n.node_id) }, n.friendly_name || n.node_id)),
      h("div", { class: "mono muted" }, n.node_id),
      nodeStatus(n),
      n.device_type ? h("div", null, "Device: ", n.device_type) : null,
      job ? h("div", null, job.status === "running" ? "Running " : "Last job ",
        h("a", { href: link("job", job.job_uid), class: "mono" }, job.job_uid)) : null,
      n.reservation ? h("div", { class: "reservation" },
        h("strong", null, `Reserved by @${n.reservation.username}`), ` · ${timeLeft(n.reservation.expires)}`,
        messageOf(n.reservation)) : null,
    ];
  }

  async function load() {
    try {
      const nodes = await api.get("/api/v2/nodes");
      show(err);
      const seen = new Set();
      for (const n of nodes) {
        seen.add(n.node_id);
        let c = cards.get(n.node_id);
        if (!c) {
          const thumb = liveThumbnail(n.node_id, `The screen of ${n.node_id}`);
          const body = h("div");
          c = { card: h("article", { class: "card", dataset: { node: n.node_id } }, thumb.element, body), body, thumb };
          cards.set(n.node_id, c);
          grid.appendChild(c.card);
        }
        show(c.body, cardBody(n));
      }
      for (const [id, c] of cards) {
        if (!seen.has(id)) {
          c.thumb.stop();
          c.card.remove();
          cards.delete(id);
        }
      }
      el.dataset.loaded = "true";
    } catch (e) {
      show(err, alertBox(e.message));
    }
    if (!stopped) timer = setTimeout(load, 3000);
  }
  show(el, h("h1", null, "Nodes"), err, grid);
  load();
  return { destroy() {
    stopped = true;
    clearTimeout(timer);
    for (const c of cards.values()) c.thumb.stop();
  } };
}
