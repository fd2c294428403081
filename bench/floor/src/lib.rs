//! The floor of any workers-rs redirect: the same 302 as the JS constant
//! baseline, with no work in Rust. `npm run bench` compares against it to
//! show what the wasm/JS glue costs by itself.

use worker::{event, Context, Env, Request, Response, Result};

#[event(fetch)]
async fn fetch(_req: Request, _env: Env, _ctx: Context) -> Result<Response> {
    let mut r = Response::empty()?.with_status(302);
    let h = r.headers_mut();
    h.set("Location", "https://example.com/p/0")?;
    h.set("Cache-Control", "private, max-age=0")?;
    Ok(r)
}
