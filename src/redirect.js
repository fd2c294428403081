// The redirect's two crossings of the wasm boundary, written in JS: read
// through wasm-bindgen, the visitor's fields cost five calls (a Headers
// object, three gets, the `cf` getter) and the 302 six (a Headers object,
// three sets, a ResponseInit, the Response), each decoding its strings.
// These were the largest items of the hot path's CPU profile (README
// "Performance").

/** User-Agent, CF-Connecting-IP, Referer and the country, "\n"-separated
 * (no header value holds a newline), "" for each one missing. */
export function visitorFields(req) {
  const h = req.headers;
  return `${h.get("User-Agent") ?? ""}\n${h.get("CF-Connecting-IP") ?? ""}\n${h.get("Referer") ?? ""}\n${req.cf?.country ?? ""}`;
}

/** The redirect's 302: never cached, never indexed. */
export function found(location) {
  return new Response(null, {
    status: 302,
    headers: { Location: location, "Cache-Control": "private, max-age=0", "X-Robots-Tag": "noindex" },
  });
}
