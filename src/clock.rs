//! The time of a request. Test builds (the `test-hooks` feature, never in
//! the release wasm) let a request pin it with an `X-Test-Now` header (ms
//! since the epoch), so tests of one-minute windows need not wait for the
//! next minute.

use worker::worker_sys::web_sys;
use worker::Headers;

/// Now, from the request's headers (only test builds read them).
pub fn now(headers: &Headers) -> i64 {
    #[cfg(feature = "test-hooks")]
    if let Some(t) = headers
        .get("X-Test-Now")
        .ok()
        .flatten()
        .and_then(|v| v.trim().parse::<i64>().ok())
    {
        return t;
    }
    #[cfg(not(feature = "test-hooks"))]
    let _ = headers;
    worker::Date::now().as_millis() as i64
}

/// [`now`] of a request the runtime handed over as it is (release builds
/// read no header for it).
pub fn now_of(req: &web_sys::Request) -> i64 {
    #[cfg(feature = "test-hooks")]
    return now(&Headers(req.headers()));
    #[cfg(not(feature = "test-hooks"))]
    {
        let _ = req;
        worker::Date::now().as_millis() as i64
    }
}
