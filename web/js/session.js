// Who is signed in, and what their role lets them do. The API enforces every rule; the pages
// only hide what would be refused.

let current = null;

export function session() {
  return current;
}

export function setCurrent(s) {
  current = s;
}

const RULES = {
  view: ["manual", "read", "write", "admin"],
  press: ["manual", "write", "admin"],
  reserve: ["manual", "write", "admin"],
  results: ["read", "write", "admin"],
  run: ["write", "admin"],
  admin: ["admin"],
};

export function can(action) {
  return Boolean(current && RULES[action] && RULES[action].includes(current.role));
}

export const ROLE_TITLES = { manual: "manual control", read: "read", write: "write", admin: "admin" };
