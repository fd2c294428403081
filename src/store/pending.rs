//! `kv_pending`: KV redirect records a committed D1 write has changed and
//! that KV may not hold yet (see `crate::kvsync`).

use super::{all, int, run, stmt, text};
use edgelink_core::ApiResult;
use serde::Deserialize;
use worker::{D1Database, D1PreparedStatement};

/// Marks `keys` (host, slug) pending under `token`, as a statement of the
/// batch that changes them.
pub fn mark_stmt(
    db: &D1Database,
    token: &str,
    keys: &[(String, String)],
    now: i64,
) -> ApiResult<D1PreparedStatement> {
    stmt(
        db,
        "INSERT INTO kv_pending (token, domain, slug, created_at) \
         SELECT ?1, json_extract(value, '$[0]'), json_extract(value, '$[1]'), ?3 \
         FROM json_each(?2) WHERE true ON CONFLICT DO NOTHING",
        &[
            text(token),
            text(&serde_json::to_string(keys).unwrap_or_default()),
            int(now),
        ],
    )
}

/// Drops a token's marks once KV holds its writes.
pub async fn clear(db: &D1Database, token: &str) -> ApiResult<()> {
    run(
        db,
        "DELETE FROM kv_pending WHERE token = ?1",
        &[text(token)],
    )
    .await
    .map(|_| ())
}

#[derive(Deserialize)]
pub struct Pending {
    pub token: String,
    pub domain: String,
    pub slug: String,
}

/// Marks of a token.
pub async fn of_token(db: &D1Database, token: &str) -> ApiResult<Vec<Pending>> {
    all(
        db,
        "SELECT token, domain, slug FROM kv_pending WHERE token = ?1",
        &[text(token)],
    )
    .await
}

/// Marks older than `before`: their request died between D1 and KV.
pub async fn stale(db: &D1Database, before: i64, limit: i64) -> ApiResult<Vec<Pending>> {
    all(
        db,
        "SELECT token, domain, slug FROM kv_pending WHERE created_at < ?1 \
         ORDER BY created_at LIMIT ?2",
        &[int(before), int(limit)],
    )
    .await
}

pub async fn clear_one(db: &D1Database, p: &Pending) -> ApiResult<()> {
    run(
        db,
        "DELETE FROM kv_pending WHERE token = ?1 AND domain = ?2 AND slug = ?3",
        &[text(&p.token), text(&p.domain), text(&p.slug)],
    )
    .await
    .map(|_| ())
}
