// Serves the built worker over HTTP on 127.0.0.1 (Miniflare's own socket,
// as the tests run it: fresh D1/KV/Queues, the static assets) for tools
// that need a real server: scripts/fuzz.sh runs schemathesis against it.
// Bootstraps a business workspace (KEYS keys, default 1) and prints one
// line of JSON, {"url", "key", "keys"}, once ready; stops on SIGTERM/SIGINT.
import { startWorker } from "./helpers.mjs";

// PORT=0 (the default) takes a free port, so runs never collide.
const port = Number(process.env.PORT ?? 0);
// Webhook receivers on this machine are allowed, as in development
// (.dev.vars.example), so a schema-valid URL is never refused for its host.
const w = await startWorker({ port, vars: { WEBHOOK_ALLOW_PRIVATE_TARGETS: "true" } });
// A high quota, so the fuzzer's creates are refused only for a reason.
const { key } = await w.workspace("Fuzz", "business", { linkQuota: 100000000 });
// More keys of the same workspace: a client may spread its requests over
// them (each has its own rate-limit window).
const keys = [key];
for (let i = 1; i < Number(process.env.KEYS ?? 1); i++) {
  const r = await w.api("POST", "/api/v1/keys", { key, body: { name: `key ${i}` } });
  keys.push(r.body.data.key);
}
console.log(JSON.stringify({ url: new URL(w.url).origin, key, keys }));
for (const sig of ["SIGTERM", "SIGINT"]) {
  process.on(sig, async () => {
    await w.close();
    process.exit(0);
  });
}
