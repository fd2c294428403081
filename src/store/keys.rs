//! `api_keys` table. Keys are looked up by their SHA-256; the key itself
//! is never stored.

use super::{first, int, page, run, stmt, text};
use edgelink_core::ApiResult;
use serde::Deserialize;
use serde_json::{json, Value};
use worker::{D1Database, D1PreparedStatement};

#[derive(Deserialize)]
pub struct ApiKey {
    pub id: String,
    pub workspace_id: String,
    pub name: String,
    pub key_hash: String,
    pub prefix: String,
    pub scope: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

impl ApiKey {
    pub fn scopes(&self) -> Vec<&'static str> {
        if self.scope == "full" {
            vec!["read", "write"]
        } else {
            vec!["read"]
        }
    }

    pub fn to_json(&self) -> Value {
        use edgelink_core::time::format_rfc3339;
        json!({
            "id": self.id, "name": self.name, "prefix": self.prefix,
            "scopes": self.scopes(), "scope": self.scope,
            "createdAt": format_rfc3339(self.created_at),
            "lastUsedAt": self.last_used_at.map(format_rfc3339),
        })
    }
}

/// A key row joined with its workspace's plan, as authentication needs it.
#[derive(Deserialize)]
pub struct KeyAuth {
    pub id: String,
    pub workspace_id: String,
    pub key_hash: String,
    pub scope: String,
    pub plan: String,
}

pub fn find_active_stmt(db: &D1Database, key_hash: &str) -> ApiResult<D1PreparedStatement> {
    stmt(
        db,
        "SELECT k.id, k.workspace_id, k.key_hash, k.scope, w.plan FROM api_keys k \
         JOIN workspaces w ON w.id = k.workspace_id \
         WHERE k.key_hash = ?1 AND k.revoked_at IS NULL",
        &[text(key_hash)],
    )
}

pub async fn insert(db: &D1Database, k: &ApiKey) -> ApiResult<()> {
    run(
        db,
        "INSERT INTO api_keys (id, workspace_id, name, key_hash, prefix, scope, created_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        &[
            text(&k.id),
            text(&k.workspace_id),
            text(&k.name),
            text(&k.key_hash),
            text(&k.prefix),
            text(&k.scope),
            int(k.created_at),
        ],
    )
    .await
    .map(|_| ())
}

/// Active keys of a workspace, newest first, and how many there are.
pub async fn list(
    db: &D1Database,
    workspace_id: &str,
    limit: i64,
    offset: i64,
) -> ApiResult<(Vec<ApiKey>, i64)> {
    page(
        db,
        "*",
        "FROM api_keys WHERE workspace_id = ?1 AND revoked_at IS NULL",
        "created_at DESC, rowid DESC",
        &[text(workspace_id)],
        limit,
        offset,
    )
    .await
}

pub async fn revoke(db: &D1Database, workspace_id: &str, id: &str, now: i64) -> ApiResult<bool> {
    let n = run(
        db,
        "UPDATE api_keys SET revoked_at = ?3 WHERE id = ?1 AND workspace_id = ?2 AND revoked_at IS NULL",
        &[text(id), text(workspace_id), int(now)],
    )
    .await?;
    Ok(n > 0)
}

pub async fn touch(db: &D1Database, id: &str, now: i64) -> ApiResult<()> {
    // Minute resolution is enough and keeps this write rare.
    run(
        db,
        "UPDATE api_keys SET last_used_at = ?2 WHERE id = ?1 AND (last_used_at IS NULL OR last_used_at < ?2 - 60000)",
        &[text(id), int(now)],
    )
    .await
    .map(|_| ())
}

pub async fn get(db: &D1Database, workspace_id: &str, id: &str) -> ApiResult<Option<ApiKey>> {
    first(
        db,
        "SELECT * FROM api_keys WHERE id = ?1 AND workspace_id = ?2 AND revoked_at IS NULL",
        &[text(id), text(workspace_id)],
    )
    .await
}
