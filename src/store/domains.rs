//! `domains` table: a workspace's custom short domains.

use super::{first, int, page, run_unique, text};
use edgelink_core::domains::{record_name, record_value};
use edgelink_core::time::format_rfc3339;
use edgelink_core::ApiResult;
use serde::Deserialize;
use serde_json::{json, Value};
use worker::D1Database;

#[derive(Deserialize)]
pub struct Domain {
    pub id: String,
    pub workspace_id: String,
    pub domain: String,
    pub verification_token: String,
    pub verified: i64,
    pub created_at: i64,
    pub verified_at: Option<i64>,
    #[serde(default)]
    pub link_count: i64,
}

impl Domain {
    pub fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "domain": self.domain,
            "verified": self.verified != 0,
            "verifiedAt": self.verified_at.map(format_rfc3339),
            "linkCount": self.link_count,
            "createdAt": format_rfc3339(self.created_at),
            "verification": {
                "type": "TXT",
                "name": record_name(&self.domain),
                "value": record_value(&self.verification_token),
            },
        })
    }
}

const COLUMNS: &str = "d.id, d.workspace_id, d.domain, d.verification_token, d.verified, \
    d.created_at, d.verified_at, \
    (SELECT COUNT(*) FROM links l WHERE l.domain = d.domain AND l.workspace_id = d.workspace_id) AS link_count";

pub enum Insert {
    Done,
    OverQuota,
    Taken,
}

/// Inserts unless the workspace has `max` domains; a domain already added
/// (by any workspace) is `Taken`.
pub async fn insert(db: &D1Database, d: &Domain, max: i64) -> ApiResult<Insert> {
    let changed = run_unique(
        db,
        "INSERT INTO domains (id, workspace_id, domain, verification_token, verified, created_at) \
         SELECT ?1, ?2, ?3, ?4, 0, ?5 \
         WHERE (SELECT COUNT(*) FROM domains WHERE workspace_id = ?2) < ?6",
        &[
            text(&d.id),
            text(&d.workspace_id),
            text(&d.domain),
            text(&d.verification_token),
            int(d.created_at),
            int(max),
        ],
    )
    .await?;
    Ok(match changed {
        None => Insert::Taken,
        Some(0) => Insert::OverQuota,
        Some(_) => Insert::Done,
    })
}

pub async fn get(db: &D1Database, workspace_id: &str, id: &str) -> ApiResult<Option<Domain>> {
    first(
        db,
        &format!("SELECT {COLUMNS} FROM domains d WHERE d.id = ?1 AND d.workspace_id = ?2"),
        &[text(id), text(workspace_id)],
    )
    .await
}

pub async fn list(
    db: &D1Database,
    workspace_id: &str,
    limit: i64,
    offset: i64,
) -> ApiResult<(Vec<Domain>, i64)> {
    page(
        db,
        COLUMNS,
        "FROM domains d WHERE d.workspace_id = ?1",
        "d.created_at DESC, d.id DESC",
        &[text(workspace_id)],
        limit,
        offset,
    )
    .await
}

/// Marks it verified; false when it already was (so the event is raised once).
pub async fn mark_verified(db: &D1Database, id: &str, now: i64) -> ApiResult<bool> {
    Ok(super::run(
        db,
        "UPDATE domains SET verified = 1, verified_at = ?2 WHERE id = ?1 AND verified = 0",
        &[text(id), int(now)],
    )
    .await?
        > 0)
}

/// Deletes a domain that no link uses (one statement, so a link created
/// meanwhile keeps it); false when it has links or is gone.
pub async fn delete_unused(db: &D1Database, workspace_id: &str, id: &str) -> ApiResult<bool> {
    Ok(super::run(
        db,
        "DELETE FROM domains WHERE id = ?1 AND workspace_id = ?2 \
         AND NOT EXISTS (SELECT 1 FROM links l WHERE l.domain = domains.domain)",
        &[text(id), text(workspace_id)],
    )
    .await?
        > 0)
}
