//! `workspaces` table.

use super::{first, int, opt_int, run, text};
use edgelink_core::plan::Plan;
use edgelink_core::ApiResult;
use serde::Deserialize;
use serde_json::{json, Value};
use worker::D1Database;

#[derive(Deserialize)]
pub struct Workspace {
    pub id: String,
    pub name: String,
    pub plan: String,
    pub link_quota: Option<i64>,
    pub created_at: i64,
}

impl Workspace {
    pub fn plan(&self) -> Plan {
        Plan::parse(&self.plan).unwrap_or(Plan::Free)
    }

    pub fn link_quota(&self) -> i64 {
        self.link_quota.unwrap_or(self.plan().link_quota() as i64)
    }

    pub fn to_json(&self) -> Value {
        json!({
            "id": self.id, "name": self.name, "plan": self.plan,
            "linkQuota": self.link_quota(),
            "createdAt": edgelink_core::time::format_rfc3339(self.created_at),
        })
    }
}

pub async fn insert(db: &D1Database, w: &Workspace) -> ApiResult<()> {
    run(
        db,
        "INSERT INTO workspaces (id, name, plan, link_quota, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        &[text(&w.id), text(&w.name), text(&w.plan), opt_int(w.link_quota), int(w.created_at)],
    )
    .await
    .map(|_| ())
}

pub async fn get(db: &D1Database, id: &str) -> ApiResult<Option<Workspace>> {
    first(db, "SELECT * FROM workspaces WHERE id = ?1", &[text(id)]).await
}

pub async fn update(db: &D1Database, w: &Workspace) -> ApiResult<()> {
    run(
        db,
        "UPDATE workspaces SET name = ?2, plan = ?3, link_quota = ?4 WHERE id = ?1",
        &[
            text(&w.id),
            text(&w.name),
            text(&w.plan),
            opt_int(w.link_quota),
        ],
    )
    .await
    .map(|_| ())
}
