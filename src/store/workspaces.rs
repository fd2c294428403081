//! `workspaces` table.

use super::{first, run, text};
use super::{insert_row, row_args};
use edgelink_core::ids::WorkspaceId;
use edgelink_core::plan::Plan;
use edgelink_core::ApiResult;
use serde::{Deserialize, Serialize};
use worker::D1Database;

#[derive(Deserialize, Serialize)]
pub struct Workspace {
    pub id: WorkspaceId,
    pub name: String,
    pub plan: Plan,
    pub link_quota: Option<i64>,
    pub created_at: i64,
}

impl Workspace {
    pub fn link_quota(&self) -> i64 {
        self.link_quota.unwrap_or(self.plan.link_quota() as i64)
    }
}

pub async fn insert(db: &D1Database, w: &Workspace) -> ApiResult<()> {
    insert_row(
        db,
        "workspaces",
        "id, name, plan, link_quota, created_at",
        w,
    )
    .await
}

pub async fn get(db: &D1Database, id: &str) -> ApiResult<Option<Workspace>> {
    first(db, "SELECT * FROM workspaces WHERE id = ?1", &[text(id)]).await
}

pub async fn update(db: &D1Database, w: &Workspace) -> ApiResult<()> {
    let sql = "UPDATE workspaces SET name = ?2, plan = ?3, link_quota = ?4 WHERE id = ?1";
    run(db, sql, &row_args(w, "id, name, plan, link_quota"))
        .await
        .map(|_| ())
}
