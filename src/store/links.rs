//! `links` table.

use edgelink_core::ids::{LinkId, WorkspaceId};
use std::collections::BTreeMap;

use super::{
    all, first, flag, get_owned, int, opt_int, opt_text, page, run, stmt, text, write, Count,
    Owned, WriteResult,
};
use edgelink_core::link::{Link, Utm};
use edgelink_core::ApiResult;
use serde::Deserialize;
use worker::wasm_bindgen::JsValue;
use worker::{D1Database, D1PreparedStatement};

#[derive(Deserialize)]
struct Row {
    id: LinkId,
    workspace_id: WorkspaceId,
    domain: String,
    slug: String,
    destination_url: String,
    title: Option<String>,
    description: Option<String>,
    tags: String,
    password_hash: Option<String>,
    expires_at: Option<i64>,
    click_limit: Option<i64>,
    geo_targets: String,
    device_targets: String,
    ios_url: Option<String>,
    android_url: Option<String>,
    utm_source: Option<String>,
    utm_medium: Option<String>,
    utm_campaign: Option<String>,
    utm_term: Option<String>,
    utm_content: Option<String>,
    group_id: Option<String>,
    archived: i64,
    escape_from_wechat: i64,
    advanced_bot_detection: i64,
    webhook: i64,
    webhook_scene: String,
    suspended: i64,
    banned: i64,
    click_count: i64,
    /// The count as `links_counted` reads it (migration 0006): the
    /// aggregator's packed total, or `click_count` before it has one.
    #[serde(default)]
    counted: Option<i64>,
    created_at: i64,
    updated_at: i64,
    test_variants: Option<String>,
    preview: Option<String>,
}

impl From<Row> for Link {
    fn from(r: Row) -> Link {
        let map = |s: &str| serde_json::from_str::<BTreeMap<String, String>>(s).unwrap_or_default();
        Link {
            tags: serde_json::from_str(&r.tags).unwrap_or_default(),
            test_variants: r
                .test_variants
                .and_then(|s| serde_json::from_str(&s).ok())
                .unwrap_or_default(),
            preview: r.preview.and_then(|s| serde_json::from_str(&s).ok()),
            geo_targets: map(&r.geo_targets),
            device_targets: map(&r.device_targets),
            id: r.id,
            workspace_id: r.workspace_id,
            domain: r.domain,
            slug: r.slug,
            destination_url: r.destination_url,
            title: r.title,
            description: r.description,
            password_hash: r.password_hash,
            expires_at: r.expires_at,
            click_limit: r.click_limit,
            ios_url: r.ios_url,
            android_url: r.android_url,
            utm: Utm {
                source: r.utm_source,
                medium: r.utm_medium,
                campaign: r.utm_campaign,
                term: r.utm_term,
                content: r.utm_content,
            },
            group_id: r.group_id,
            archived: r.archived != 0,
            escape_from_wechat: r.escape_from_wechat != 0,
            advanced_bot_detection: r.advanced_bot_detection != 0,
            webhook: r.webhook != 0,
            webhook_scene: r.webhook_scene,
            suspended: r.suspended != 0,
            banned: r.banned != 0,
            click_count: r.counted.unwrap_or(r.click_count),
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

impl Owned for Row {
    const TABLE: &'static str = "links";
    const SOURCE: &'static str = "links_counted links";
    const ORDER: &'static str = "created_at DESC, rowid DESC";
}

owned_fns!(Row: delete);

const COLUMNS: &str = "id, workspace_id, domain, slug, destination_url, title, description, tags, \
    password_hash, expires_at, click_limit, geo_targets, device_targets, ios_url, android_url, \
    utm_source, utm_medium, utm_campaign, utm_term, utm_content, group_id, archived, \
    escape_from_wechat, advanced_bot_detection, webhook, webhook_scene, suspended, banned, \
    click_count, created_at, updated_at, test_variants, preview";

fn values(l: &Link) -> Vec<JsValue> {
    vec![
        text(&l.id),
        text(&l.workspace_id),
        text(&l.domain),
        text(&l.slug),
        text(&l.destination_url),
        opt_text(l.title.as_deref()),
        opt_text(l.description.as_deref()),
        text(&serde_json::to_string(&l.tags).unwrap_or_else(|_| "[]".into())),
        opt_text(l.password_hash.as_deref()),
        opt_int(l.expires_at),
        opt_int(l.click_limit),
        text(&serde_json::to_string(&l.geo_targets).unwrap_or_else(|_| "{}".into())),
        text(&serde_json::to_string(&l.device_targets).unwrap_or_else(|_| "{}".into())),
        opt_text(l.ios_url.as_deref()),
        opt_text(l.android_url.as_deref()),
        opt_text(l.utm.source.as_deref()),
        opt_text(l.utm.medium.as_deref()),
        opt_text(l.utm.campaign.as_deref()),
        opt_text(l.utm.term.as_deref()),
        opt_text(l.utm.content.as_deref()),
        opt_text(l.group_id.as_deref()),
        flag(l.archived),
        flag(l.escape_from_wechat),
        flag(l.advanced_bot_detection),
        flag(l.webhook),
        text(&l.webhook_scene),
        flag(l.suspended),
        flag(l.banned),
        int(l.click_count),
        int(l.created_at),
        int(l.updated_at),
        if l.test_variants.is_empty() {
            JsValue::NULL
        } else {
            text(&serde_json::to_string(&l.test_variants).unwrap_or_default())
        },
        match &l.preview {
            None => JsValue::NULL,
            Some(p) => text(&serde_json::to_string(p).unwrap_or_default()),
        },
    ]
}

/// `INSERT … SELECT` of every column unless the workspace already holds
/// `quota` links (the last parameter), then `tail`.
fn insert_sql(tail: &str) -> String {
    let n = COLUMNS.split(", ").count();
    let placeholders: Vec<String> = (1..=n).map(|i| format!("?{i}")).collect();
    format!(
        "INSERT INTO links ({COLUMNS}) SELECT {} \
         WHERE (SELECT COUNT(*) FROM links WHERE workspace_id = ?2) < ?{} {tail}",
        placeholders.join(", "),
        n + 1
    )
}

fn insert_args(l: &Link, quota: i64) -> Vec<JsValue> {
    let mut args = values(l);
    args.push(int(quota));
    args
}

/// Inserts unless the workspace already holds `quota` links (checked in
/// the same statement, so concurrent creates cannot overshoot): false
/// then. A taken domain + slug is `Constraint::LinkSlug`.
pub async fn insert(db: &D1Database, l: &Link, quota: i64) -> WriteResult<bool> {
    Ok(write(db, &insert_sql(""), &insert_args(l, quota)).await? > 0)
}

/// The insert of a batch (bulk create, import): does nothing when the
/// host + slug or the id is taken, or the workspace holds `quota` links,
/// rather than failing the whole batch; its `changes` tell which.
pub fn insert_stmt(db: &D1Database, l: &Link, quota: i64) -> ApiResult<D1PreparedStatement> {
    stmt(
        db,
        &insert_sql("ON CONFLICT DO NOTHING"),
        &insert_args(l, quota),
    )
}

/// A statement that fails, rolling its batch back, unless the workspace
/// has room for `n` more links: a bulk create is all or nothing.
pub fn quota_guard_stmt(
    db: &D1Database,
    workspace_id: &str,
    n: i64,
    quota: i64,
) -> ApiResult<D1PreparedStatement> {
    // json() of a non-JSON string errors at run time; CASE evaluates it
    // only when the quota would be exceeded.
    stmt(
        db,
        "SELECT CASE WHEN (SELECT COUNT(*) FROM links WHERE workspace_id = ?1) + ?2 > ?3 \
         THEN json('quota exceeded') END",
        &[text(workspace_id), int(n), int(quota)],
    )
}

pub async fn count(db: &D1Database, workspace_id: &str) -> ApiResult<i64> {
    let c: Option<Count> = first(
        db,
        "SELECT COUNT(*) AS n FROM links WHERE workspace_id = ?1",
        &[text(workspace_id)],
    )
    .await?;
    Ok(c.map_or(0, |c| c.n))
}

/// The workspace's links among `ids` (others' ids are not found).
pub async fn by_ids(db: &D1Database, workspace_id: &str, ids: &[String]) -> ApiResult<Vec<Link>> {
    let rows: Vec<Row> = all(
        db,
        "SELECT * FROM links_counted WHERE workspace_id = ?1 AND id IN (SELECT value FROM json_each(?2))",
        &[text(workspace_id), text(&json_list(ids))],
    )
    .await?;
    Ok(rows.into_iter().map(Link::from).collect())
}

/// The links (of any workspace) at these hosts and slugs.
pub async fn by_slugs(db: &D1Database, keys: &[(String, String)]) -> ApiResult<Vec<Link>> {
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<Row> = all(
        db,
        "SELECT l.* FROM json_each(?1) j JOIN links_counted l \
         ON l.domain = json_extract(j.value, '$[0]') AND l.slug = json_extract(j.value, '$[1]')",
        &[text(&serde_json::to_string(keys).unwrap_or_default())],
    )
    .await?;
    Ok(rows.into_iter().map(Link::from).collect())
}

/// The workspace's links to any of these destinations.
pub async fn by_destinations(
    db: &D1Database,
    workspace_id: &str,
    urls: &[String],
) -> ApiResult<Vec<Link>> {
    if urls.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<Row> = all(
        db,
        "SELECT * FROM links_counted WHERE workspace_id = ?1 \
         AND destination_url IN (SELECT value FROM json_each(?2))",
        &[text(workspace_id), text(&json_list(urls))],
    )
    .await?;
    Ok(rows.into_iter().map(Link::from).collect())
}

/// The workspace's links after `(created_at, id)`, oldest first: the
/// export's pages (keyset, so a link created meanwhile shifts nothing).
pub async fn export_page(
    db: &D1Database,
    workspace_id: &str,
    after: (i64, &str),
    limit: i64,
) -> ApiResult<Vec<Link>> {
    let rows: Vec<Row> = all(
        db,
        "SELECT * FROM links_counted WHERE workspace_id = ?1 \
         AND (created_at > ?2 OR (created_at = ?2 AND id > ?3)) \
         ORDER BY created_at, id LIMIT ?4",
        &[text(workspace_id), int(after.0), text(after.1), int(limit)],
    )
    .await?;
    Ok(rows.into_iter().map(Link::from).collect())
}

fn json_list(items: &[String]) -> String {
    serde_json::to_string(items).unwrap_or_else(|_| "[]".into())
}

/// `update` as a statement of a batch.
pub fn update_stmt(db: &D1Database, l: &Link) -> ApiResult<D1PreparedStatement> {
    stmt(db, &update_sql(), &values(l))
}

/// Deletes one link of the workspace, as a statement of a batch.
pub fn delete_stmt(
    db: &D1Database,
    workspace_id: &str,
    id: &str,
) -> ApiResult<D1PreparedStatement> {
    stmt(
        db,
        "DELETE FROM links WHERE id = ?1 AND workspace_id = ?2",
        &[text(id), text(workspace_id)],
    )
}

/// Rewrites every column the API owns (a taken domain + slug is
/// `Constraint::LinkSlug`). Counts belong to the aggregator (`link_totals`),
/// and `click_count` (the count from before it) is never rewritten. `banned` belongs to the operator and the
/// blocklist jobs ([`set_banned`], [`ban_matching`]): a PATCH racing a
/// ban must not write it back.
pub async fn update(db: &D1Database, l: &Link) -> WriteResult<()> {
    write(db, &update_sql(), &values(l)).await.map(|_| ())
}

fn update_sql() -> String {
    let sets: Vec<String> = COLUMNS
        .split(", ")
        .enumerate()
        .skip(2)
        .filter(|(_, c)| !matches!(c.trim(), "click_count" | "created_at" | "banned"))
        .map(|(i, c)| format!("{} = ?{}", c.trim(), i + 1))
        .collect();
    format!(
        "UPDATE links SET {} WHERE id = ?1 AND workspace_id = ?2",
        sets.join(", ")
    )
}

pub async fn get(db: &D1Database, workspace_id: &str, id: &str) -> ApiResult<Option<Link>> {
    Ok(get_owned::<Row>(db, workspace_id, id)
        .await?
        .map(Link::from))
}

/// Operator access, across workspaces.
pub async fn get_any(db: &D1Database, id: &str) -> ApiResult<Option<Link>> {
    let row: Option<Row> =
        first(db, "SELECT * FROM links_counted WHERE id = ?1", &[text(id)]).await?;
    Ok(row.map(Link::from))
}

#[derive(Default)]
pub struct ListFilter {
    pub search: Option<String>,
    pub domain: Option<String>,
    pub tag: Option<String>,
    pub archived: Option<bool>,
    pub group_id: Option<String>,
    pub sort: Sort,
}

#[derive(Default, Clone, Copy)]
pub enum Sort {
    #[default]
    Created,
    Clicks,
    Updated,
}

impl Sort {
    pub fn parse(s: &str) -> Option<Sort> {
        match s {
            "created" | "createdAt" => Some(Sort::Created),
            "clicks" | "clickCount" => Some(Sort::Clicks),
            "updated" | "updatedAt" => Some(Sort::Updated),
            _ => None,
        }
    }

    /// The view a list reads (migration 0006): sorting by clicks needs
    /// every link's count, which `links_by_clicks` parses once per query.
    fn source(self) -> &'static str {
        match self {
            Sort::Clicks => "links_by_clicks",
            Sort::Created | Sort::Updated => "links_counted",
        }
    }

    /// Ties (same millisecond) fall back to insertion order via `rowid`.
    fn order_by(self) -> &'static str {
        match self {
            Sort::Created => "created_at DESC, rowid DESC",
            Sort::Clicks => "counted DESC, created_at DESC, rowid DESC",
            Sort::Updated => "updated_at DESC, rowid DESC",
        }
    }
}

/// `(WHERE clause, its arguments)`; ?1 is always the workspace.
fn where_clause(workspace_id: &str, f: &ListFilter) -> (String, Vec<JsValue>) {
    let mut sql = String::from("workspace_id = ?1");
    let mut args = vec![text(workspace_id)];
    let mut push = |cond: &str, v: JsValue, args: &mut Vec<JsValue>| {
        args.push(v);
        sql.push_str(&cond.replace('#', &format!("?{}", args.len())));
    };
    if let Some(s) = &f.search {
        // A substring, ASCII case-insensitive (as LIKE was), with `%` and
        // `_` literal. instr, not LIKE: D1 refuses LIKE patterns over 50
        // bytes ("pattern too complex"), and a search may have 200 characters.
        let needle = s.to_ascii_lowercase();
        // Tags too, so the seed's `search=marketing&tag=q1-2025` finds a
        // link tagged `marketing`.
        push(
            " AND (instr(lower(slug), #) > 0 OR instr(lower(coalesce(title, '')), #) > 0 \
             OR instr(lower(destination_url), #) > 0 \
             OR EXISTS (SELECT 1 FROM json_each(links.tags) WHERE instr(lower(json_each.value), #) > 0))",
            text(&needle),
            &mut args,
        );
    }
    if let Some(d) = &f.domain {
        push(" AND domain = #", text(d), &mut args);
    }
    if let Some(t) = &f.tag {
        push(
            " AND EXISTS (SELECT 1 FROM json_each(links.tags) WHERE json_each.value = #)",
            text(t),
            &mut args,
        );
    }
    if let Some(a) = f.archived {
        push(" AND archived = #", flag(a), &mut args);
    }
    if let Some(g) = &f.group_id {
        push(" AND group_id = #", text(g), &mut args);
    }
    (sql, args)
}

pub async fn list(
    db: &D1Database,
    workspace_id: &str,
    f: &ListFilter,
    limit: i64,
    offset: i64,
) -> ApiResult<(Vec<Link>, i64)> {
    let (cond, args) = where_clause(workspace_id, f);
    let from = format!("FROM {} links WHERE {cond}", f.sort.source());
    links_page(db, &from, f.sort.order_by(), &args, limit, offset).await
}

/// A group's links, oldest first (xiaomark's `batch_get`), and how many
/// the group holds in all.
pub async fn by_group(
    db: &D1Database,
    workspace_id: &str,
    group_id: &str,
    limit: i64,
    offset: i64,
) -> ApiResult<(Vec<Link>, i64)> {
    let from = "FROM links_counted links WHERE workspace_id = ?1 AND group_id = ?2";
    let args = [text(workspace_id), text(group_id)];
    links_page(db, from, "created_at ASC, rowid ASC", &args, limit, offset).await
}

async fn links_page(
    db: &D1Database,
    from: &str,
    order: &str,
    args: &[JsValue],
    limit: i64,
    offset: i64,
) -> ApiResult<(Vec<Link>, i64)> {
    let (rows, total) = page::<Row>(db, "*", from, order, args, limit, offset).await?;
    Ok((rows.into_iter().map(Link::from).collect(), total))
}

pub async fn clear_group(
    db: &D1Database,
    workspace_id: &str,
    group_id: &str,
    now: i64,
) -> ApiResult<()> {
    run(
        db,
        "UPDATE links SET group_id = NULL, updated_at = ?3 WHERE workspace_id = ?1 AND group_id = ?2",
        &[text(workspace_id), text(group_id), int(now)],
    )
    .await
    .map(|_| ())
}

/// Operator moderation: bans or unbans, and takes the ban off any block's
/// account (an operator's ban outlives an unblock; an unban is final).
pub async fn set_banned(db: &D1Database, id: &str, banned: bool, now: i64) -> ApiResult<()> {
    run(
        db,
        "UPDATE links SET banned = ?2, banned_by_block = NULL, updated_at = ?3 WHERE id = ?1",
        &[text(id), flag(banned), int(now)],
    )
    .await
    .map(|_| ())
}

/// Every workspace's links after `cursor` in id order, `limit` of them
/// (the blocklist job's scan: bounded, resumable at the last id).
pub async fn scan(db: &D1Database, cursor: &str, limit: i64) -> ApiResult<Vec<Link>> {
    let rows: Vec<Row> = super::all(
        db,
        "SELECT * FROM links_counted WHERE id > ?1 ORDER BY id LIMIT ?2",
        &[text(cursor), int(limit)],
    )
    .await?;
    Ok(rows.into_iter().map(Link::from).collect())
}

/// Links banned by `block`, `limit` at a time (the unblock job), or those
/// of them in `(after, upto]` by id.
pub async fn banned_by(
    db: &D1Database,
    block: &str,
    after: &str,
    upto: Option<&str>,
    limit: i64,
) -> ApiResult<Vec<Link>> {
    let rows: Vec<Row> = super::all(
        db,
        "SELECT * FROM links_counted WHERE banned_by_block = ?1 AND id > ?2 AND (?3 IS NULL OR id <= ?3) \
         ORDER BY id LIMIT ?4",
        &[text(block), text(after), opt_text(upto), int(limit)],
    )
    .await?;
    Ok(rows.into_iter().map(Link::from).collect())
}
