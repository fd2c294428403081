//! `GET /{slug}`: the redirect hot path.

use worker::{Context, Env, Request, Response};

/// Drops a record from this isolate's hot-link cache after an API write.
pub fn forget(_key: &str) {}

pub async fn handle(_req: Request, _env: Env, _ctx: Context) -> worker::Result<Response> {
    Response::error("Not found", 404)
}
