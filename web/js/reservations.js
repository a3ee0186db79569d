// Reservations as the node page and the reservations page show them: who holds a node, their
// message (Markdown the API rendered, shown through sanitize()), time left, and what you may do:
// reserve, extend, end, or interrupt someone else's.
import { api } from "./api.js";
import { alertBox, field, h, sanitize, show, uid } from "./dom.js";
import { can } from "./session.js";

export const DURATIONS = [
  [1800, "30 minutes"], [3600, "1 hour"], [7200, "2 hours"], [14400, "4 hours"],
  [28800, "8 hours"], [86400, "1 day"], [604800, "1 week"], [0, "until I end it"],
];

export function timeLeft(expires) {
  if (!expires) return "no end";
  const s = Math.max(0, (Date.parse(expires) - Date.now()) / 1000);
  if (s < 60) return `${Math.round(s)} s left`;
  if (s < 3600) return `${Math.round(s / 60)} min left`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min left`;
  return `${Math.floor(s / 86400)} days left`;
}

function durationSelect(name) {
  return h("select", { name }, DURATIONS.map(([secs, text]) => h("option", { value: String(secs),
    selected: secs === 3600 }, text)));
}

export function messageOf(resv) {
  return h("div", { class: "message" }, sanitize(resv.message_html));
}

// A form whose submit runs action(form values) and then onDone; errors show inside it.
function actionForm(id, fields, label, action, onDone, cls) {
  const msg = h("div");
  const button = h("button", { type: "submit", class: cls || "primary" }, label);
  const form = h("form", { id }, fields, msg, button);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    button.disabled = true;
    show(msg);
    try {
      await action(form);
      onDone();
    } catch (err) {
      show(msg, alertBox(err.message));
    } finally {
      button.disabled = false;
    }
  });
  return form;
}

// What the node page's reservation panel shows for node (GET /api/v2/nodes/<id>).
export function reservationPanel(node, onChange) {
  const r = node.reservation;
  if (!r) {
    if (!can("reserve")) return h("p", { class: "muted" }, "Not reserved.");
    const message = h("textarea", { name: "message", rows: "2", required: true,
      placeholder: "What for? (Markdown)" });
    return h("div", null, h("p", null, "Not reserved."),
      actionForm("reserve-form", [field("Message", message), field("For", durationSelect("duration"))],
        "Reserve", async (form) => {
          const secs = Number(form.elements.duration.value);
          await api.post("/api/v2/reservations", { node_ids: [node.node_id], message: message.value,
            duration_secs: secs || null });
        }, onChange));
  }
  const head = h("p", null, r.reserved_by_you ? "Reserved by you" : `Reserved by @${r.username}`,
    ` · ${timeLeft(r.expires)}`);
  const parts = [head, messageOf(r)];
  if (r.reserved_by_you) {
    parts.push(actionForm("extend-form", [field("Extend by", durationSelect("duration"))], "Extend",
      async (form) => {
        const secs = Number(form.elements.duration.value) || 3600;
        await api.post(`/api/v2/reservations/${r.reservation_id}/extend`, { duration_secs: secs });
      }, onChange));
    parts.push(h("p", null, h("button", { id: "end-reservation", class: "danger", onClick: async () => {
      try {
        await api.del(`/api/v2/reservations/${r.reservation_id}`);
      } catch { /* ended already */ }
      onChange();
    } }, "End reservation")));
  } else if (can("reserve")) {
    const message = h("textarea", { name: "message", rows: "2", required: true, id: uid("interrupt"),
      placeholder: "Why you need it now" });
    parts.push(actionForm("interrupt-form", [field("Interrupt with a message", message)], "Interrupt",
      async () => {
        await api.post(`/api/v2/reservations/${r.reservation_id}/interrupt`, { message: message.value });
      }, onChange, "danger"));
  }
  return h("div", null, parts);
}
