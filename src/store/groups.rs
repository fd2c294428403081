//! `groups` table.

use super::{first, int, opt_text, page, run, text};
use edgelink_core::time::format_rfc3339;
use edgelink_core::ApiResult;
use serde::Deserialize;
use serde_json::{json, Value};
use worker::D1Database;

#[derive(Deserialize)]
pub struct Group {
    pub id: String,
    pub workspace_id: String,
    pub name: String,
    pub description: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    #[serde(default)]
    pub link_count: i64,
}

impl Group {
    pub fn to_json(&self) -> Value {
        json!({
            "id": self.id, "name": self.name, "description": self.description,
            "linkCount": self.link_count,
            "createdAt": format_rfc3339(self.created_at),
            "updatedAt": format_rfc3339(self.updated_at),
        })
    }
}

const COLUMNS: &str = "g.*, (SELECT COUNT(*) FROM links l WHERE l.workspace_id = g.workspace_id AND l.group_id = g.id) AS link_count";
const SELECT: &str = "SELECT g.*, (SELECT COUNT(*) FROM links l WHERE l.workspace_id = g.workspace_id AND l.group_id = g.id) AS link_count FROM groups g";

pub async fn insert(db: &D1Database, g: &Group) -> ApiResult<()> {
    run(
        db,
        "INSERT INTO groups (id, workspace_id, name, description, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        &[text(&g.id), text(&g.workspace_id), text(&g.name), opt_text(g.description.as_deref()), int(g.created_at), int(g.updated_at)],
    )
    .await
    .map(|_| ())
}

pub async fn update(db: &D1Database, g: &Group) -> ApiResult<()> {
    run(
        db,
        "UPDATE groups SET name = ?3, description = ?4, updated_at = ?5 WHERE id = ?1 AND workspace_id = ?2",
        &[text(&g.id), text(&g.workspace_id), text(&g.name), opt_text(g.description.as_deref()), int(g.updated_at)],
    )
    .await
    .map(|_| ())
}

pub async fn get(db: &D1Database, workspace_id: &str, id: &str) -> ApiResult<Option<Group>> {
    first(
        db,
        &format!("{SELECT} WHERE g.id = ?1 AND g.workspace_id = ?2"),
        &[text(id), text(workspace_id)],
    )
    .await
}

pub async fn list(
    db: &D1Database,
    workspace_id: &str,
    limit: i64,
    offset: i64,
) -> ApiResult<(Vec<Group>, i64)> {
    page(
        db,
        COLUMNS,
        "FROM groups g WHERE g.workspace_id = ?1",
        "g.created_at DESC, g.rowid DESC",
        &[text(workspace_id)],
        limit,
        offset,
    )
    .await
}

pub async fn delete(db: &D1Database, workspace_id: &str, id: &str) -> ApiResult<bool> {
    Ok(run(
        db,
        "DELETE FROM groups WHERE id = ?1 AND workspace_id = ?2",
        &[text(id), text(workspace_id)],
    )
    .await?
        > 0)
}
