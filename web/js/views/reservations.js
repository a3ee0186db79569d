// #/reservations: the current reservations of every node: who, their message, time left; end
// yours, interrupt someone else's with a message.
import { api } from "../api.js";
import { alertBox, browserZone, field, formatTime, h, show } from "../dom.js";
import { messageOf, timeLeft } from "../reservations.js";
import { link } from "../router.js";
import { can } from "../session.js";

export function view(el) {
  const zone = browserZone();
  const state = { list: null, error: null, open: null, stopped: false };
  const body = h("div", { id: "reservations" });
  let timer = null;

  function actions(r) {
    if (r.reserved_by_you) {
      return h("button", { class: "danger", onClick: async () => {
        try {
          await api.del(`/api/v2/reservations/${r.reservation_id}`);
        } catch (e) {
          state.error = e.message;
        }
        load();
      } }, "End");
    }
    if (!can("reserve")) return null;
    if (state.open !== r.reservation_id) {
      return h("button", { onClick: () => {
        state.open = r.reservation_id;
        render();
        body.querySelector(`#interrupt-${r.reservation_id} textarea`).focus();
      } }, "Interrupt…");
    }
    const message = h("textarea", { rows: "2", required: true, placeholder: "Why you need it now" });
    const msg = h("div");
    const form = h("form", { id: `interrupt-${r.reservation_id}` }, field("Message", message), msg,
      h("div", { class: "row" }, h("button", { type: "submit", class: "danger" }, "Interrupt"),
        h("button", { type: "button", onClick: () => {
          state.open = null;
          render();
        } }, "Cancel")));
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      try {
        await api.post(`/api/v2/reservations/${r.reservation_id}/interrupt`, { message: message.value });
        state.open = null;
        load();
      } catch (err) {
        show(msg, alertBox(err.message));
      }
    });
    return form;
  }

  function render() {
    if (!state.list) return show(body, state.error ? alertBox(state.error) : h("p", { class: "loading" }, "Loading…"));
    const list = state.list;
    show(body, state.error ? alertBox(state.error) : null,
      list.length ? h("div", { class: "tablewrap" }, h("table", null,
        h("thead", null, h("tr", null, ["Node", "Reserved by", "Message", "Since", "Ends", ""].map((t) => h("th", { scope: "col" }, t)))),
        h("tbody", null, list.map((r) => h("tr", { dataset: { id: String(r.reservation_id) } },
          h("td", { class: "mono" }, h("a", { href: link("node", r.node_id) }, r.node_id)),
          h("td", null, r.reserved_by_you ? "you" : `@${r.username}`),
          h("td", null, messageOf(r)),
          h("td", { class: "when" }, formatTime(r.start_time, zone)),
          h("td", { class: "when" }, r.expires ? `${formatTime(r.expires, zone)} (${timeLeft(r.expires)})` : "never"),
          h("td", null, actions(r)))))))
        : h("p", { class: "muted" }, "No node is reserved."));
    el.dataset.loaded = "true";
  }

  async function load() {
    clearTimeout(timer);
    try {
      state.list = (await api.get("/api/v2/reservations")).reservations;
      state.error = null;
    } catch (e) {
      state.error = e.message;
    }
    if (state.stopped) return;
    if (state.open === null) render(); // never under someone typing a message
    timer = setTimeout(load, 10000);
  }
  show(el, h("h1", null, "Reservations"), body);
  render();
  load();
  return { destroy() {
    state.stopped = true;
    clearTimeout(timer);
  } };
}
