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

/**
 * What the webhook test files share: a started receiver, a worker allowed to
 * deliver to it (plus `vars`), a workspace (`key`), another one
 * (`otherKey`) and a read-only key of the first. `close()` stops both.
 */
export async function webhookWorld(vars, names = ["Hooks Co", "Other Co"]) {
  const { startWorker } = await import("./helpers.mjs");
  const rx = new Receiver();
  await rx.start();
  const w = await startWorker({ vars: { WEBHOOK_ALLOW_PRIVATE_TARGETS: "true", ...vars } });
  const { key } = await w.workspace(names[0], "business");
  const { key: otherKey } = await w.workspace(names[1], "business");
  const ro = await w.api("POST", "/api/v1/keys", { key, body: { name: "ro", scopes: ["read"] } });
  if (ro.status !== 201) throw new Error(`read-only key: ${ro.status} ${ro.text}`);
  return {
    rx,
    w,
    key,
    otherKey,
    readOnlyKey: ro.body.data.key,
    close: async () => {
      await w.close();
      await rx.stop();
    },
  };
}
