//! `groups` table.

use super::{insert_row, row_args};
use super::{run, Owned};
use edgelink_core::ids::{GroupId, WorkspaceId};
use edgelink_core::ApiResult;
use serde::{Deserialize, Serialize};
use worker::D1Database;

#[derive(Deserialize, Serialize)]
pub struct Group {
    pub id: GroupId,
    pub workspace_id: WorkspaceId,
    pub name: String,
    pub description: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    #[serde(default)]
    pub link_count: i64,
}

impl Owned for Group {
    const TABLE: &'static str = "groups";
    const COLUMNS: &'static str = "g.*, (SELECT COUNT(*) FROM links l \
        WHERE l.workspace_id = g.workspace_id AND l.group_id = g.id) AS link_count";
    const ALIAS: &'static str = "g";
    const ORDER: &'static str = "created_at DESC, rowid DESC";
}

owned_fns!(Group: get, list, delete);

pub async fn insert(db: &D1Database, g: &Group) -> ApiResult<()> {
    let columns = "id, workspace_id, name, description, created_at, updated_at";
    insert_row(db, "groups", columns, g).await
}

pub async fn update(db: &D1Database, g: &Group) -> ApiResult<()> {
    let sql = "UPDATE groups SET name = ?3, description = ?4, updated_at = ?5 \
        WHERE id = ?1 AND workspace_id = ?2";
    let args = row_args(g, "id, workspace_id, name, description, updated_at");
    run(db, sql, &args).await.map(|_| ())
}
