//! `domains` table: a workspace's custom short domains.

use super::{first, int, text, write, Owned, WriteResult};
use edgelink_core::domains::DomainStatus;
use edgelink_core::ids::{DomainId, WorkspaceId};
use edgelink_core::ApiResult;
use serde::Deserialize;
use worker::D1Database;

#[derive(Deserialize)]
pub struct Domain {
    pub id: DomainId,
    pub workspace_id: WorkspaceId,
    pub domain: String,
    pub verification_token: String,
    pub verified: DomainStatus,
    pub created_at: i64,
    pub verified_at: Option<i64>,
    #[serde(default)]
    pub link_count: i64,
}

impl Owned for Domain {
    const TABLE: &'static str = "domains";
    const COLUMNS: &'static str = "d.id, d.workspace_id, d.domain, d.verification_token, \
        d.verified, d.created_at, d.verified_at, (SELECT COUNT(*) FROM links l \
        WHERE l.domain = d.domain AND l.workspace_id = d.workspace_id) AS link_count";
    const ALIAS: &'static str = "d";
}

owned_fns!(Domain: get, list);

/// Inserts unless the workspace has `max` domains (false then); a domain
/// already added (by any workspace) is `Constraint::DomainName`.
pub async fn insert(db: &D1Database, d: &Domain, max: i64) -> WriteResult<bool> {
    let changed = write(
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
    Ok(changed > 0)
}

/// Marks it verified; false when it already was (so the event is raised once).
pub async fn mark_verified(db: &D1Database, id: &DomainId, now: i64) -> ApiResult<bool> {
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

/// Whether `domain` is a verified domain of the workspace.
pub async fn verified(db: &D1Database, workspace_id: &str, domain: &str) -> ApiResult<bool> {
    let row: Option<super::Count> = first(
        db,
        "SELECT COUNT(*) AS n FROM domains WHERE domain = ?1 AND workspace_id = ?2 AND verified = 1",
        &[text(domain), text(workspace_id)],
    )
    .await?;
    Ok(row.is_some_and(|c| c.n > 0))
}

/// Which of `authorities` (`host[:port]`) are verified custom domains of
/// any workspace: a link to a short link there would loop.
pub async fn verified_among(db: &D1Database, authorities: &[String]) -> ApiResult<Vec<String>> {
    if authorities.is_empty() {
        return Ok(Vec::new());
    }
    #[derive(serde::Deserialize)]
    struct D {
        domain: String,
    }
    let rows: Vec<D> = super::all(
        db,
        "SELECT domain FROM domains WHERE verified = 1 \
         AND domain IN (SELECT value FROM json_each(?1))",
        &[text(
            &serde_json::to_string(authorities).unwrap_or_default(),
        )],
    )
    .await?;
    Ok(rows.into_iter().map(|d| d.domain).collect())
}
