// #/users (admin): every account, its role; add one, change a role, remove one. The same
// endpoints as scripts: /api/v2/users.
import { api } from "../api.js";
import { alertBox, browserZone, field, formatTime, h, show } from "../dom.js";
import { ROLE_TITLES, session } from "../session.js";

const ROLES = ["manual", "read", "write", "admin"];

function roleSelect(value, attrs) {
  return h("select", attrs, ROLES.map((r) => h("option", { value: r, selected: r === value }, ROLE_TITLES[r])));
}

export function view(el) {
  const zone = browserZone();
  const list = h("div", { id: "users" });
  const msg = h("div", { role: "status" });
  async function load() {
    try {
      const users = await api.get("/api/v2/users");
      show(list, h("div", { class: "tablewrap" }, h("table", null,
        h("thead", null, h("tr", null, ["User", "Role", "Created", ""].map((t) => h("th", { scope: "col" }, t)))),
        h("tbody", null, users.map((u) => {
          const mine = u.username === session().login;
          const sel = roleSelect(u.role, { "aria-label": `Role of ${u.username}`, disabled: mine ? true : null,
            onChange: async () => {
              try {
                await api.put(`/api/v2/users/${encodeURIComponent(u.username)}`, { role: sel.value });
                show(msg, `${u.username} is now ${ROLE_TITLES[sel.value]}.`);
              } catch (e) {
                show(msg, alertBox(e.message));
              }
            } });
          return h("tr", { dataset: { user: u.username } }, h("td", null, u.username), h("td", null, sel),
            h("td", { class: "when" }, formatTime(u.created, zone)),
            h("td", null, mine ? null : h("button", { class: "danger", onClick: async () => {
              try {
                await api.del(`/api/v2/users/${encodeURIComponent(u.username)}`);
                show(msg, `${u.username} removed, with their tokens and sessions.`);
              } catch (e) {
                show(msg, alertBox(e.message));
              }
              load();
            } }, "Remove")));
        })))));
    } catch (e) {
      show(list, alertBox(e.message));
    }
  }
  const name = h("input", { name: "username", required: true, autocomplete: "off" });
  const password = h("input", { name: "password", type: "password", autocomplete: "new-password" });
  const role = roleSelect("write", { name: "role" });
  const form = h("form", { id: "add-user" }, h("h2", null, "Add a user"), field("Username", name), field("Role", role),
    field("Password", password, "Leave empty to generate one"), h("button", { type: "submit", class: "primary" }, "Add"));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    try {
      const u = await api.post("/api/v2/users", { username: name.value, role: role.value, password: password.value || null });
      show(msg, `Added ${u.username}.`, u.password ? [" Their password (shown once): ", h("span", { class: "secret" }, u.password)] : null);
      form.reset();
      load();
    } catch (err) {
      show(msg, alertBox(err.message));
    }
  });
  show(el, h("h1", null, "Users"), msg, list, form);
  load();
  return {};
}
