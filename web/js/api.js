// The REST API, as the portal uses it: same origin, the session cookie, and the session's CSRF
// token on every request that changes something. Errors become ApiError with the API's message.

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

let csrfToken = null;
let signedOut = () => {};

export function setSession(session) {
  csrfToken = session ? session.csrf_token : null;
}

// Called when the API says the session has ended: the portal shows the sign-in page.
export function onSignedOut(fn) {
  signedOut = fn;
}

export async function request(method, path, body, options = {}) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET" && method !== "HEAD" && csrfToken) headers["X-CSRF-Token"] = csrfToken;
  let res;
  try {
    res = await fetch(path, {
      method, headers, credentials: "same-origin", signal: options.signal,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    if (e.name === "AbortError") throw e;
    throw new ApiError(0, `The portal did not answer (${e.message}).`);
  }
  if (!res.ok) {
    let message = `${res.status} ${res.statusText}`;
    try {
      message = (await res.json()).error || message;
    } catch { /* not JSON */ }
    if (res.status === 403 && /session has ended|missing access token/.test(message)) signedOut();
    const err = new ApiError(res.status, message);
    err.retryAfter = res.headers.get("Retry-After");
    throw err;
  }
  if (options.raw) return res;
  if (res.status === 204) return null;
  const type = res.headers.get("Content-Type") || "";
  return type.startsWith("application/json") ? res.json() : res.text();
}

export const api = {
  get: (path, options) => request("GET", path, undefined, options),
  post: (path, body, options) => request("POST", path, body === undefined ? {} : body, options),
  put: (path, body) => request("PUT", path, body === undefined ? {} : body),
  del: (path) => request("DELETE", path),
};

// "?a=1&b=2" of the params that have a value.
export function qs(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== "") q.set(k, String(v));
  }
  const s = q.toString();
  return s ? `?${s}` : "";
}

// A path of segments, each escaped: an artifact "a b/c.log" is "a%20b/c.log".
export function encodePath(path) {
  return path.split("/").map(encodeURIComponent).join("/");
}

// result and job ids start with "/": "/stb-tester-x/0a23/972/..."
export const urls = {
  result: (id) => `/api/v2/results${encodePath(id)}`,
  job: (uid) => `/api/v2/jobs${encodePath(uid)}`,
  node: (id) => `/api/v2/nodes/${encodeURIComponent(id)}`,
};
