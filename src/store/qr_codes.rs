//! `qr_codes` table: saved QR configurations of a workspace.
//!
//! A QR tied to a link is read joined with that link (same workspace), so
//! the code it renders follows the link's current domain and slug; if the
//! link is gone, the stored `url` (or `link_url`) is used instead.

use super::{insert_row, row_args};
use super::{opt_text, page, run, text, Owned};
use edgelink_core::ids::{QrCodeId, WorkspaceId};
use edgelink_core::ApiResult;
use serde::{Deserialize, Serialize};
use worker::D1Database;

/// One row, with the tied link's current domain and slug (when it exists).
#[derive(Deserialize, Serialize)]
pub struct QrRow {
    pub id: QrCodeId,
    pub workspace_id: WorkspaceId,
    pub name: String,
    /// The data the user gave (required without a link).
    pub url: Option<String>,
    pub link_id: Option<String>,
    /// The tied link's short URL with the QR marker, as of the last save.
    pub link_url: Option<String>,
    /// `QrStyle::to_json()` as text.
    pub style: String,
    pub created_at: i64,
    pub updated_at: i64,
    #[serde(default)]
    pub link_domain: Option<String>,
    #[serde(default)]
    pub link_slug: Option<String>,
}

const COLUMNS: &str = "q.id, q.workspace_id, q.name, q.url, q.link_id, q.link_url, q.style, \
     q.created_at, q.updated_at, l.domain AS link_domain, l.slug AS link_slug";

/// The stored columns (`?1..?9` in inserts and updates).
const STORED: &str =
    "id, workspace_id, name, url, link_id, link_url, style, created_at, updated_at";

impl Owned for QrRow {
    const TABLE: &'static str = "qr_codes";
    const COLUMNS: &'static str = COLUMNS;
    const ALIAS: &'static str = "q";
    /// The tied link's current domain and slug, when it still exists.
    const JOINS: &'static str =
        " LEFT JOIN links l ON l.id = q.link_id AND l.workspace_id = q.workspace_id";
    const ORDER: &'static str = "q.created_at DESC, q.id DESC";
}

owned_fns!(QrRow: get, delete);

pub async fn insert(db: &D1Database, q: &QrRow) -> ApiResult<()> {
    insert_row(db, "qr_codes", STORED, q).await
}

pub async fn update(db: &D1Database, q: &QrRow) -> ApiResult<bool> {
    let sql = "UPDATE qr_codes SET name = ?3, url = ?4, link_id = ?5, link_url = ?6, style = ?7, \
         updated_at = ?9 WHERE id = ?1 AND workspace_id = ?2";
    Ok(run(db, sql, &row_args(q, STORED)).await? > 0)
}

/// A page of the workspace's saved QR codes, newest first, optionally only
/// those tied to `link_id`; with the total count.
pub async fn list(
    db: &D1Database,
    workspace_id: &str,
    link_id: Option<&str>,
    limit: i64,
    offset: i64,
) -> ApiResult<(Vec<QrRow>, i64)> {
    page(
        db,
        COLUMNS,
        &format!(
            "{} WHERE q.workspace_id = ?1 AND (?2 IS NULL OR q.link_id = ?2)",
            QrRow::from_clause().0
        ),
        QrRow::ORDER,
        &[text(workspace_id), opt_text(link_id)],
        limit,
        offset,
    )
    .await
}
