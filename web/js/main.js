// The portal: a single page over the REST API. One shell (the navigation and the user menu) and
// one view at a time, chosen by the URL's hash; each view keeps its state and renders from it.
import { api, onSignedOut, setSession } from "./api.js";
import { h, show } from "./dom.js";
import { link, parseHash } from "./router.js";
import { can, ROLE_TITLES, session, setCurrent } from "./session.js";
import { openTokenDialog } from "./views/tokens.js";
import { signInView } from "./views/signin.js";

const VIEWS = {
  results: () => import("./views/results.js"),
  result: () => import("./views/result.js"),
  tokens: () => import("./views/tokens.js"),
  nodes: () => import("./views/nodes.js"),
  node: () => import("./views/node.js"),
  job: () => import("./views/job.js"),
  reservations: () => import("./views/reservations.js"),
  monitor: () => import("./views/monitor.js"),
  flaky: () => import("./views/flaky.js"),
  compare: () => import("./views/compare.js"),
  users: () => import("./views/users.js"),
};

const NAV = [
  ["results", "Results", "results"], ["nodes", "Nodes", "view"],
  ["reservations", "Reservations", "view"], ["monitor", "Monitor", "view"],
  ["flaky", "Flaky tests", "results"], ["compare", "Compare jobs", "results"],
];

const root = document.getElementById("app");
let current = null; // {destroy} of the view shown
let mainEl = null;
let navEl = null;
let closeUserMenu = () => {};
document.addEventListener("click", (e) => closeUserMenu(e));

function defaultRoute() {
  return can("results") ? "results" : "nodes";
}

async function boot() {
  document.getElementById("skip").addEventListener("click", (e) => {
    e.preventDefault();
    if (mainEl) mainEl.focus();
  });
  onSignedOut(() => {
    if (session()) signedOut();
  });
  // the view of the URL loads while the session is asked for, not after
  const first = parseHash(location.hash);
  if (first && VIEWS[first.name]) VIEWS[first.name]().catch(() => {});
  try {
    const s = await api.get("/api/v2/session");
    signedIn(s);
  } catch (e) {
    if (e.status === 403 || e.status === 429) signedOut();
    else show(root, h("p", { class: "alert", role: "alert" }, e.message));
  }
}

function signedOut() {
  destroyView();
  setCurrent(null);
  setSession(null);
  mainEl = null;
  show(root, signInView(signedIn));
}

function signedIn(s) {
  setCurrent(s);
  setSession(s);
  renderShell();
  route();
}

function renderShell() {
  const s = session();
  navEl = h("nav", { class: "main", "aria-label": "Pages" },
    NAV.filter(([, , rule]) => can(rule)).map(([name, text]) =>
      h("a", { href: link(name), dataset: { route: name } }, text)));
  const menu = h("div", { class: "menu hidden", role: "menu", id: "user-menu" },
    h("button", { role: "menuitem", id: "generate-token", onClick: () => {
      closeMenu();
      openTokenDialog();
    } }, "Generate new access token"),
    h("a", { role: "menuitem", href: link("tokens"), onClick: closeMenu }, "Access tokens"),
    can("admin") ? h("a", { role: "menuitem", href: link("users"), onClick: closeMenu }, "Users") : null,
    h("button", { role: "menuitem", id: "sign-out", onClick: signOut }, "Sign out"));
  const toggle = h("button", { id: "user-button", "aria-haspopup": "menu", "aria-expanded": "false",
    "aria-controls": "user-menu", onClick: () => (menu.classList.contains("hidden") ? openMenu() : closeMenu()) },
  `${s.login} (${ROLE_TITLES[s.role] || s.role}) ▾`);
  function openMenu() {
    menu.classList.remove("hidden");
    toggle.setAttribute("aria-expanded", "true");
    menu.querySelector("button, a").focus();
  }
  function closeMenu() {
    menu.classList.add("hidden");
    toggle.setAttribute("aria-expanded", "false");
  }
  menu.addEventListener("keydown", (e) => {
    if (e.key === "Escape") {
      closeMenu();
      toggle.focus();
    }
  });
  closeUserMenu = (e) => {
    if (!menu.contains(e.target) && e.target !== toggle) closeMenu();
  };
  mainEl = h("main", { id: "main", tabindex: "-1" });
  show(root,
    h("header", { class: "top" },
      h("a", { class: "brand", href: link(defaultRoute()) }, "stbfarm"), navEl,
      h("div", { class: "usermenu" }, toggle, menu)),
    mainEl);
}

async function signOut() {
  try {
    await api.del("/api/v2/session");
  } catch { /* ended already */ }
  signedOut();
}

function destroyView() {
  if (current && current.destroy) current.destroy();
  current = null;
}

let routing = 0;
async function route() {
  if (!session() || !mainEl) return;
  const r = parseHash(location.hash);
  if (!r) return; // an in-page anchor
  if (!r.name) {
    location.replace(link(defaultRoute()));
    return;
  }
  for (const a of navEl.querySelectorAll("a")) {
    if (a.dataset.route === r.name) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  const seq = ++routing;
  destroyView();
  const load = VIEWS[r.name];
  if (!load) {
    show(mainEl, h("h1", null, "Not found"), h("p", null, "No page is called ", h("code", null, r.name), "."));
    return;
  }
  show(mainEl, h("p", { class: "loading" }, "Loading…"));
  const mod = await load();
  if (seq !== routing) return; // another navigation came first
  const container = h("div");
  show(mainEl, container);
  current = mod.view(container, r) || null;
}

window.addEventListener("hashchange", route);
boot();
