// A node's live screen: GET /api/v2/nodes/<id>/live.mjpeg read with fetch and drawn on a
// canvas frame by frame. Reading the stream here rather than in an <img> lets the page stop it
// for certain when it leaves (abort), reconnect when it drops, skip frames when decoding falls
// behind, and count what arrives (bench/portal.sh reads window.__stbfLiveStats).
import { encodePath } from "./api.js";

const CRLF2 = [13, 10, 13, 10];

function indexOf(buf, len, pattern, from) {
  outer: for (let i = from; i + pattern.length <= len; i++) {
    for (let k = 0; k < pattern.length; k++) if (buf[i + k] !== pattern[k]) continue outer;
    return i;
  }
  return -1;
}

// Split a multipart/x-mixed-replace byte stream into parts: push(chunk) calls onPart(headers,
// bytes) for each complete part.
export class PartReader {
  constructor(onPart) {
    this.onPart = onPart;
    this.buf = new Uint8Array(1 << 20);
    this.len = 0;
    this.text = new TextDecoder();
  }

  push(chunk) {
    if (this.len + chunk.length > this.buf.length) {
      const bigger = new Uint8Array(Math.max(this.buf.length * 2, this.len + chunk.length));
      bigger.set(this.buf.subarray(0, this.len));
      this.buf = bigger;
    }
    this.buf.set(chunk, this.len);
    this.len += chunk.length;
    let start = 0;
    for (;;) {
      while (start + 1 < this.len && this.buf[start] === 13 && this.buf[start + 1] === 10) start += 2;
      const end = indexOf(this.buf, this.len, CRLF2, start);
      if (end < 0) break;
      const headers = {};
      for (const line of this.text.decode(this.buf.subarray(start, end)).split("\r\n")) {
        const colon = line.indexOf(":");
        if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
      const n = Number(headers["content-length"]);
      if (!Number.isFinite(n)) throw new Error("a part without Content-Length");
      if (end + 4 + n > this.len) break;
      this.onPart(headers, this.buf.slice(end + 4, end + 4 + n));
      start = end + 4 + n;
    }
    this.buf.copyWithin(0, start, this.len);
    this.len -= start;
  }
}

// A live screen for node id: {element (a canvas), stop()}. onStatus(text) says what is wrong
// (null when frames flow).
export function liveScreen(nodeId, { fps = 25, width = 0, onStatus = () => {} } = {}) {
  const canvas = document.createElement("canvas");
  canvas.width = 1280;
  canvas.height = 720;
  const ctx = canvas.getContext("2d");
  let controller = new AbortController();
  const stats = { frames: 0, since: performance.now(), width: 0, height: 0, watching: null, changedAt: null };
  let pending = null, decoding = false, stopped = false;

  function sample() {
    const small = document.createElement("canvas");
    small.width = 64;
    small.height = 36;
    const c = small.getContext("2d");
    c.drawImage(canvas, 0, 0, 64, 36);
    return c.getImageData(0, 0, 64, 36).data;
  }

  function changed(a, b) {
    let diff = 0;
    for (let i = 0; i < a.length; i += 4) diff += Math.abs(a[i] - b[i]) + Math.abs(a[i + 1] - b[i + 1]);
    return diff / (a.length / 4) > 8;
  }

  async function draw() {
    if (decoding || !pending) return;
    decoding = true;
    const bytes = pending;
    pending = null;
    try {
      const bitmap = await createImageBitmap(new Blob([bytes], { type: "image/jpeg" }));
      if (canvas.width !== bitmap.width || canvas.height !== bitmap.height) {
        canvas.width = bitmap.width;
        canvas.height = bitmap.height;
      }
      ctx.drawImage(bitmap, 0, 0);
      stats.frames += 1;
      stats.width = bitmap.width;
      stats.height = bitmap.height;
      bitmap.close();
      if (stats.watching && !stats.changedAt && changed(stats.watching, sample())) {
        stats.changedAt = performance.timeOrigin + performance.now();
      }
    } catch { /* a damaged frame: the next one will do */ }
    decoding = false;
    if (pending) draw();
  }

  // A hidden tab watches nothing (the node encodes nothing for it); a page going away, or into
  // the back-forward cache, closes its stream at once.
  function onVisibility() {
    if (stopped) return;
    if (document.hidden) controller.abort();
  }
  function onPageHide() {
    controller.abort();
  }
  document.addEventListener("visibilitychange", onVisibility);
  window.addEventListener("pagehide", onPageHide);

  async function run() {
    const q = new URLSearchParams({ fps: String(fps) });
    if (width) q.set("width", String(width));
    const url = `/api/v2/nodes/${encodePath(nodeId)}/live.mjpeg?${q}`;
    while (!stopped) {
      if (document.hidden) {
        await new Promise((resume) => document.addEventListener("visibilitychange", resume, { once: true }));
        continue;
      }
      if (controller.signal.aborted) controller = new AbortController();
      try {
        const res = await fetch(url, { credentials: "same-origin", signal: controller.signal });
        if (!res.ok) {
          let msg = `${res.status}`;
          try {
            msg = (await res.json()).error;
          } catch { /* not JSON */ }
          onStatus(msg);
          await new Promise((r) => setTimeout(r, res.status === 503 ? 3000 : 5000));
          continue;
        }
        const reader = res.body.getReader();
        const parts = new PartReader((headers, bytes) => {
          pending = bytes; // only the newest frame waits: a slow decoder skips, never lags
          onStatus(null);
          draw();
        });
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          parts.push(value);
        }
        onStatus("The live screen stopped; reconnecting…");
      } catch (e) {
        if (stopped) return;
        if (e.name !== "AbortError") onStatus(`The live screen stopped (${e.message}); reconnecting…`);
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
  }

  window.__stbfLiveStats = {
    owner: canvas,
    reset() {
      stats.frames = 0;
      stats.since = performance.now();
    },
    read() {
      return { fps: stats.frames / ((performance.now() - stats.since) / 1000), width: stats.width, height: stats.height };
    },
    watchChange() {
      stats.watching = sample();
      stats.changedAt = null;
    },
    changedAt() {
      return stats.changedAt;
    },
  };
  run();
  return {
    element: canvas,
    stop() {
      stopped = true;
      controller.abort();
      document.removeEventListener("visibilitychange", onVisibility);
      window.removeEventListener("pagehide", onPageHide);
      if (window.__stbfLiveStats && window.__stbfLiveStats.owner === canvas) delete window.__stbfLiveStats;
    },
  };
}
