// The sign-in page: username and password for a session cookie.
import { api } from "../api.js";
import { alertBox, field, h, show } from "../dom.js";

export function signInView(onSignedIn) {
  const user = h("input", { name: "username", autocomplete: "username", required: true,
    autocapitalize: "none", spellcheck: "false" });
  const password = h("input", { name: "password", type: "password",
    autocomplete: "current-password", required: true });
  const message = h("div");
  const button = h("button", { type: "submit", class: "primary" }, "Sign in");
  const form = h("form", { class: "signin", "aria-labelledby": "signin-title" },
    h("h1", { id: "signin-title" }, "Sign in to stbfarm"),
    field("Username", user), field("Password", password), message, button);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    button.disabled = true;
    show(message);
    try {
      const s = await api.post("/api/v2/session", { username: user.value, password: password.value });
      onSignedIn(s);
    } catch (err) {
      show(message, alertBox(err.status === 429 && err.retryAfter
        ? `${err.message}` : err.message));
      password.select();
    } finally {
      button.disabled = false;
    }
  });
  queueMicrotask(() => user.focus());
  return form;
}
