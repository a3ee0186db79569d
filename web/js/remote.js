// The remote control of a node page: a button per key of the test pack's lircd.conf, and
// keyboard shortcuts for the keys a remote usually has, active while the live screen or the
// remote has the focus (so typing in a form never presses anything).
import { h } from "./dom.js";

// keyboard key -> the LIRC key names it may press, the first the remote has
const SHORTCUTS = [
  ["ArrowUp", ["KEY_UP"]], ["ArrowDown", ["KEY_DOWN"]], ["ArrowLeft", ["KEY_LEFT"]],
  ["ArrowRight", ["KEY_RIGHT"]], ["Enter", ["KEY_OK", "KEY_ENTER", "KEY_SELECT"]],
  ["Backspace", ["KEY_BACK", "KEY_BACKSPACE"]], ["Escape", ["KEY_EXIT", "KEY_BACK"]],
  ["m", ["KEY_MENU"]], ["h", ["KEY_HOME"]], ["g", ["KEY_EPG", "KEY_GUIDE"]], ["i", ["KEY_INFO"]],
  ["t", ["KEY_TV"]], ["p", ["KEY_POWER"]], [" ", ["KEY_PLAYPAUSE", "KEY_PLAY", "KEY_PAUSE"]],
  ["PageUp", ["KEY_CHANNELUP"]], ["PageDown", ["KEY_CHANNELDOWN"]],
  ["+", ["KEY_VOLUMEUP"]], ["=", ["KEY_VOLUMEUP"]], ["-", ["KEY_VOLUMEDOWN"]],
  ["r", ["KEY_RED"]], ["G", ["KEY_GREEN"]], ["y", ["KEY_YELLOW"]], ["b", ["KEY_BLUE"]],
  ["f", ["KEY_FASTFORWARD"]], ["w", ["KEY_REWIND"]], ["s", ["KEY_STOP"]], ["R", ["KEY_RECORD"]],
  ...Array.from({ length: 10 }, (_, d) => [String(d), [`KEY_${d}`]]),
];

const LABELS = { ArrowUp: "↑", ArrowDown: "↓", ArrowLeft: "←", ArrowRight: "→", " ": "Space" };

// {keyboard key: LIRC key} for a remote with these keys.
export function shortcutsFor(keys) {
  const have = new Set(keys);
  const map = {};
  for (const [kb, names] of SHORTCUTS) {
    const name = names.find((n) => have.has(n));
    if (name && !map[kb]) map[kb] = name;
  }
  return map;
}

// The buttons, and a keydown handler for the element(s) that take shortcuts. press(key) sends.
export function remoteControl(keys, press, disabled) {
  const shortcuts = shortcutsFor(keys);
  const hint = {};
  for (const [kb, key] of Object.entries(shortcuts)) if (!hint[key]) hint[key] = LABELS[kb] || kb;
  const buttons = keys.map((key) => h("button", { type: "button", dataset: { key },
    disabled: disabled ? true : null, title: hint[key] ? `${key} (shortcut ${hint[key]})` : key,
    onClick: () => press(key) }, key.replace(/^KEY_/, ""), hint[key] ? h("kbd", null, hint[key]) : null));
  const panel = h("div", { class: "remote", role: "group", "aria-label": "Remote control",
    id: "remote" }, buttons);
  function onKey(e) {
    if (disabled || e.ctrlKey || e.metaKey || e.altKey) return;
    if (e.target.closest && e.target.closest("input, textarea, select")) return;
    if (e.target.tagName === "BUTTON" && (e.key === "Enter" || e.key === " ")) return; // a click
    const key = shortcuts[e.key];
    if (!key) return;
    e.preventDefault();
    press(key);
  }
  return { element: panel, onKey };
}
