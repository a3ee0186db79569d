// The user menu's tokens: generate one (shown once), list yours with when each was last used,
// revoke. The same endpoints scripts use: /api/v2/tokens.
import { api } from "../api.js";
import { alertBox, browserZone, field, formatTime, h, show } from "../dom.js";

// The "Generate new access token" dialog. onMade(token) after one was made.
export function openTokenDialog(onMade) {
  const note = h("input", { name: "note", maxlength: "200", placeholder: "e.g. Jenkins" });
  const body = h("div");
  const make = h("button", { type: "submit", class: "primary" }, "Generate");
  const close = h("button", { type: "button", onClick: () => dialog.close() }, "Close");
  const form = h("form", { method: "dialog" },
    h("h2", { id: "token-dialog-title" }, "Generate new access token"),
    field("Note (what the token is for)", note), body, h("div", { class: "row" }, make, close));
  const dialog = h("dialog", { "aria-labelledby": "token-dialog-title", id: "token-dialog" }, form);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    make.disabled = true;
    try {
      const t = await api.post("/api/v2/tokens", { note: note.value || null });
      const secret = h("div", { class: "secret", id: "new-token", tabindex: "0" }, t.token);
      show(body,
        h("p", null, "Your new token. Copy it now: it is shown only this once."), secret,
        h("p", { class: "muted" }, "Use it as ", h("code", null, "Authorization: token <token>"), "."));
      make.classList.add("hidden");
      secret.focus();
      if (onMade) onMade(t);
    } catch (err) {
      show(body, alertBox(err.message));
      make.disabled = false;
    }
  });
  dialog.addEventListener("close", () => dialog.remove());
  document.body.appendChild(dialog);
  dialog.showModal();
  note.focus();
}

export function view(el) {
  const zone = browserZone();
  const state = { tokens: null, error: null };
  const list = h("div");
  function render() {
    if (state.error) return show(list, alertBox(state.error));
    if (!state.tokens) return show(list, h("p", { class: "loading" }, "Loading…"));
    if (!state.tokens.length) return show(list, h("p", { class: "muted" }, "You have no tokens listed here."));
    show(list, h("div", { class: "tablewrap" }, h("table", { id: "tokens" },
      h("thead", null, h("tr", null, h("th", null, "Note"), h("th", null, "Created"),
        h("th", null, "Last used"), h("th", null, h("span", { class: "sr-only" }, "Revoke")))),
      h("tbody", null, state.tokens.map((t) => h("tr", { dataset: { id: t.id } },
        h("td", null, t.note || h("span", { class: "muted" }, "(no note)")),
        h("td", { class: "when" }, formatTime(t.created, zone)),
        h("td", { class: "when" }, t.last_used ? formatTime(t.last_used, zone) : "never"),
        h("td", null, h("button", { class: "danger", "aria-label": `Revoke token ${t.note || t.created}`,
          onClick: () => revoke(t) }, "Revoke"))))))));
  }
  async function load() {
    try {
      state.tokens = await api.get("/api/v2/tokens");
      state.error = null;
    } catch (e) {
      state.error = e.message;
    }
    render();
  }
  async function revoke(t) {
    try {
      await api.del(`/api/v2/tokens/${t.id}`);
    } catch (e) {
      state.error = e.message;
    }
    load();
  }
  show(el, h("h1", null, "Access tokens"),
    h("p", null, "Scripts use a token instead of your password. Revoking one stops it at once."),
    h("p", null, h("button", { class: "primary", onClick: () => openTokenDialog(load) },
      "Generate new access token")),
    list);
  render();
  load();
  return {};
}
