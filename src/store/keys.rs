//! `api_keys` table. Keys are looked up by their SHA-256; the key itself
//! is never stored.

use super::insert_row;
use super::{int, run, stmt, text, Owned};
use edgelink_core::ids::{ApiKeyId, WorkspaceId};
use edgelink_core::plan::{KeyScope, Plan};
use edgelink_core::ApiResult;
use serde::{Deserialize, Serialize};
use worker::{D1Database, D1PreparedStatement};

#[derive(Deserialize, Serialize)]
pub struct ApiKey {
    pub id: ApiKeyId,
    pub workspace_id: WorkspaceId,
    pub name: String,
    pub key_hash: String,
    pub prefix: String,
    pub scope: KeyScope,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

impl Owned for ApiKey {
    const TABLE: &'static str = "api_keys";
    /// Revoked keys are gone for the API.
    const LIVE: &'static str = " AND revoked_at IS NULL";
    const ORDER: &'static str = "created_at DESC, rowid DESC";
}

owned_fns!(ApiKey: get, list);

/// A key row joined with its workspace's plan, as authentication needs it.
#[derive(Deserialize)]
pub struct KeyAuth {
    pub id: ApiKeyId,
    pub workspace_id: WorkspaceId,
    pub key_hash: String,
    pub scope: KeyScope,
    pub plan: Plan,
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
    let columns = "id, workspace_id, name, key_hash, prefix, scope, created_at";
    insert_row(db, "api_keys", columns, k).await
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

pub async fn touch(db: &D1Database, id: &ApiKeyId, now: i64) -> ApiResult<()> {
    // Minute resolution is enough and keeps this write rare.
    run(
        db,
        "UPDATE api_keys SET last_used_at = ?2 WHERE id = ?1 AND (last_used_at IS NULL OR last_used_at < ?2 - 60000)",
        &[text(id), int(now)],
    )
    .await
    .map(|_| ())
}
