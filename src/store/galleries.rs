//! `galleries` and `gallery_items`: link-in-bio pages of a workspace.

use super::row_args;
use super::{all, delete_with_children, first, int, run, text, write, Owned, WriteResult};
use edgelink_core::galleries::ItemInput;
use edgelink_core::ids::{GalleryId, GalleryItemId, WorkspaceId};
use edgelink_core::ApiResult;
use serde::{Deserialize, Serialize};
use worker::D1Database;

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Gallery {
    pub id: GalleryId,
    pub workspace_id: WorkspaceId,
    pub slug: String,
    pub title: String,
    pub bio: Option<String>,
    pub avatar_url: Option<String>,
    pub theme: String,
    pub custom_css: Option<String>,
    pub is_published: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Item {
    pub id: GalleryItemId,
    pub gallery_id: GalleryId,
    #[serde(rename = "type")]
    pub kind: String,
    pub title: Option<String>,
    pub url: Option<String>,
    pub image_url: Option<String>,
    pub embed_type: Option<String>,
    pub embed_data: Option<String>,
    pub position: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Item {
    pub fn input(&self) -> ItemInput {
        ItemInput {
            kind: self.kind.clone(),
            title: self.title.clone(),
            url: self.url.clone(),
            image_url: self.image_url.clone(),
            embed_type: self.embed_type.clone(),
            embed_data: self
                .embed_data
                .as_deref()
                .and_then(|d| serde_json::from_str(d).ok()),
        }
    }
}

const COLUMNS: &str = "id, workspace_id, slug, title, bio, avatar_url, theme, custom_css, \
    is_published, created_at, updated_at";

impl Owned for Gallery {
    const TABLE: &'static str = "galleries";
    const COLUMNS: &'static str = COLUMNS;
}

owned_fns!(Gallery: get, list);

/// An item's own fields, `?1..?10` in its inserts and updates.
const ITEM_FIELDS: &str = "id, gallery_id, type, title, url, image_url, embed_type, embed_data, \
    created_at, updated_at";
const ITEM_COLUMNS: &str = "id, gallery_id, type, title, url, image_url, embed_type, embed_data, \
    position, created_at, updated_at";

/// Inserts unless the workspace has `max` galleries (false then); a taken
/// slug is `Constraint::GallerySlug`.
pub async fn insert(db: &D1Database, g: &Gallery, max: i64) -> WriteResult<bool> {
    let mut args = row_args(g, COLUMNS);
    args.push(int(max));
    let sql = format!(
        "INSERT INTO galleries ({COLUMNS}) SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11 \
         WHERE (SELECT COUNT(*) FROM galleries WHERE workspace_id = ?2) < ?12"
    );
    Ok(write(db, &sql, &args).await? > 0)
}

/// A taken slug is `Constraint::GallerySlug`.
pub async fn update(db: &D1Database, g: &Gallery) -> WriteResult<()> {
    write(
        db,
        "UPDATE galleries SET slug = ?3, title = ?4, bio = ?5, avatar_url = ?6, theme = ?7, \
         custom_css = ?8, is_published = ?9, updated_at = ?11 WHERE id = ?1 AND workspace_id = ?2",
        &row_args(g, COLUMNS),
    )
    .await
    .map(|_| ())
}

/// The published gallery at `/bio/{slug}`.
pub async fn published(db: &D1Database, slug: &str) -> ApiResult<Option<Gallery>> {
    first(
        db,
        &format!("SELECT {COLUMNS} FROM galleries WHERE slug = ?1 AND is_published = 1"),
        &[text(slug)],
    )
    .await
}

/// Deletes the gallery and its items in one transaction.
pub async fn delete(db: &D1Database, workspace_id: &str, id: &str) -> ApiResult<bool> {
    delete_with_children(
        db,
        "DELETE FROM gallery_items WHERE gallery_id = ?1 AND workspace_id = ?2",
        "DELETE FROM galleries WHERE id = ?1 AND workspace_id = ?2",
        &[text(id), text(workspace_id)],
    )
    .await
}

pub async fn items(db: &D1Database, gallery_id: &GalleryId) -> ApiResult<Vec<Item>> {
    all(
        db,
        &format!(
            "SELECT {ITEM_COLUMNS} FROM gallery_items WHERE gallery_id = ?1 ORDER BY position, created_at"
        ),
        &[text(gallery_id)],
    )
    .await
}

pub async fn item(db: &D1Database, gallery_id: &GalleryId, id: &str) -> ApiResult<Option<Item>> {
    first(
        db,
        &format!("SELECT {ITEM_COLUMNS} FROM gallery_items WHERE id = ?1 AND gallery_id = ?2"),
        &[text(id), text(gallery_id)],
    )
    .await
}

/// Appends an item unless the gallery has `max`; false then.
pub async fn insert_item(
    db: &D1Database,
    workspace_id: &str,
    it: &Item,
    max: i64,
) -> ApiResult<Option<i64>> {
    #[derive(Deserialize)]
    struct Pos {
        position: i64,
    }
    let mut args = row_args(it, ITEM_FIELDS);
    args.extend([text(workspace_id), int(max)]);
    let row: Option<Pos> = first(
        db,
        &format!(
            "INSERT INTO gallery_items ({ITEM_COLUMNS}, workspace_id) \
             SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, \
               COALESCE((SELECT MAX(position) + 1 FROM gallery_items WHERE gallery_id = ?2), 0), ?9, ?10, ?11 \
             WHERE (SELECT COUNT(*) FROM gallery_items WHERE gallery_id = ?2) < ?12 \
             RETURNING position"
        ),
        &args,
    )
    .await?;
    Ok(row.map(|r| r.position))
}

pub async fn update_item(db: &D1Database, it: &Item) -> ApiResult<bool> {
    let sql = "UPDATE gallery_items SET type = ?3, title = ?4, url = ?5, image_url = ?6, \
         embed_type = ?7, embed_data = ?8, updated_at = ?10 WHERE id = ?1 AND gallery_id = ?2";
    Ok(run(db, sql, &row_args(it, ITEM_FIELDS)).await? > 0)
}

pub async fn delete_item(db: &D1Database, gallery_id: &GalleryId, id: &str) -> ApiResult<bool> {
    Ok(run(
        db,
        "DELETE FROM gallery_items WHERE id = ?1 AND gallery_id = ?2",
        &[text(id), text(gallery_id)],
    )
    .await?
        > 0)
}

/// Positions 0.. in the order given (one statement: the ids as JSON).
pub async fn reorder(
    db: &D1Database,
    gallery_id: &GalleryId,
    ids: &[String],
    now: i64,
) -> ApiResult<()> {
    run(
        db,
        "UPDATE gallery_items SET position = (SELECT CAST(j.key AS INTEGER) FROM json_each(?2) j \
           WHERE j.value = gallery_items.id), updated_at = ?3 \
         WHERE gallery_id = ?1 AND id IN (SELECT value FROM json_each(?2))",
        &[
            text(gallery_id),
            text(&serde_json::to_string(ids).unwrap_or_default()),
            int(now),
        ],
    )
    .await
    .map(|_| ())
}
