//! Fixed one-minute windows in D1, so a limit holds across isolates.
//! `rate_limits.bucket` formats live here, one per kind of limit.

use super::{int, stmt, text};
use edgelink_core::ApiResult;
use worker::{D1Database, D1PreparedStatement};

/// What a window counts.
pub enum Bucket<'a> {
    /// Password guesses at one link by one (daily-hashed) visitor.
    Password { link_id: &'a str, visitor: &'a str },
    /// `POST /api/v1/qr/generate` by one client IP (its SHA-256, never the
    /// address), or by every client without one.
    QrIp(Option<&'a str>),
}

impl Bucket<'_> {
    fn key(&self) -> String {
        match self {
            Bucket::Password { link_id, visitor } => format!("pw:{link_id}:{visitor}"),
            Bucket::QrIp(Some(hash)) => format!("qrip:{hash}"),
            Bucket::QrIp(None) => "qrip:unknown".to_string(),
        }
    }
}

/// Counts one request in `bucket`'s window; the statement returns `count`.
fn hit_stmt(db: &D1Database, bucket: &Bucket, window_start: i64) -> ApiResult<D1PreparedStatement> {
    stmt(
        db,
        "INSERT INTO rate_limits (bucket, window_start, count) VALUES (?1, ?2, 1) \
         ON CONFLICT (bucket, window_start) DO UPDATE SET count = count + 1 RETURNING count",
        &[text(&bucket.key()), int(window_start)],
    )
}

/// `hit_stmt` for an API key (bucket `key:<hash>`), counted only when an
/// active key has that hash, so requests with made-up keys leave no rows.
pub fn hit_key_stmt(
    db: &D1Database,
    key_hash: &str,
    window_start: i64,
) -> ApiResult<D1PreparedStatement> {
    stmt(
        db,
        "INSERT INTO rate_limits (bucket, window_start, count) \
         SELECT 'key:' || ?1, ?2, 1 \
         WHERE EXISTS (SELECT 1 FROM api_keys WHERE key_hash = ?1 AND revoked_at IS NULL) \
         ON CONFLICT (bucket, window_start) DO UPDATE SET count = count + 1 RETURNING count",
        &[text(key_hash), int(window_start)],
    )
}

pub async fn hit(db: &D1Database, bucket: &Bucket<'_>, window_start: i64) -> ApiResult<i64> {
    #[derive(serde::Deserialize)]
    struct Row {
        count: i64,
    }
    let row: Option<Row> = hit_stmt(db, bucket, window_start)?
        .first(None)
        .await
        .map_err(crate::http::internal("rate limit"))?;
    Ok(row.map(|r| r.count).unwrap_or(1))
}

/// Drops windows older than `before` (run now and then, not per request).
pub async fn prune(db: &D1Database, before: i64) -> ApiResult<()> {
    super::run(
        db,
        "DELETE FROM rate_limits WHERE window_start < ?1",
        &[int(before)],
    )
    .await
    .map(|_| ())
}
