// A webhook receiver on 127.0.0.1 for the integration tests, shared by
// every file that checks deliveries.
import http from "node:http";

/** A local webhook receiver. Paths choose the answer: `/ok/*` 200,
 * `/fail/*` 500, `/flaky/N/*` 500 for the first N requests then 200,
 * `/redirect/*` 302 to `/ok/...`. Every request is recorded by path. */
export class Receiver {
  constructor() {
    this.seen = new Map();
    this.server = http.createServer((req, res) => {
      const chunks = [];
      req.on("data", (c) => chunks.push(c));
      req.on("end", () => {
        const body = Buffer.concat(chunks).toString("utf8");
        const list = this.seen.get(req.url) ?? [];
        list.push({ method: req.method, headers: req.headers, body });
        this.seen.set(req.url, list);
        const [, kind, n] = req.url.split("/");
        let status = 200;
        if (kind === "fail") status = 500;
        if (kind === "flaky" && list.length <= Number(n)) status = 500;
        if (kind === "redirect") {
          res.writeHead(302, { Location: "/ok/redirected" });
          return res.end();
        }
        res.writeHead(status, { "Content-Type": "text/plain" });
        res.end(status === 200 ? "thanks" : "nope");
      });
    });
  }
  async start() {
    await new Promise((r) => this.server.listen(0, "127.0.0.1", r));
    this.base = `http://127.0.0.1:${this.server.address().port}`;
  }
  stop() {
    return new Promise((r) => this.server.close(r));
  }
  got(path) {
    return this.seen.get(path) ?? [];
  }
  /** Waits until `path` has at least `n` requests (or `ms` passed). */
  async waitFor(path, n = 1, ms = 8000) {
    const end = Date.now() + ms;
    while (this.got(path).length < n && Date.now() < end) await sleep(50);
    return this.got(path);
  }
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
