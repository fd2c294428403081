//! The time of a request. Test builds (the `test-hooks` feature, never in
//! the release wasm) let a request pin it with an `X-Test-Now` header (ms
//! since the epoch), so tests of one-minute windows need not wait for the
//! next minute.

use worker::Request;

pub fn now(req: &Request) -> i64 {
    #[cfg(feature = "test-hooks")]
    if let Some(t) = req
        .headers()
        .get("X-Test-Now")
        .ok()
        .flatten()
        .and_then(|v| v.trim().parse::<i64>().ok())
    {
        return t;
    }
    #[cfg(not(feature = "test-hooks"))]
    let _ = req;
    worker::Date::now().as_millis() as i64
}
