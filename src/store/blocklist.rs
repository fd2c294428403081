//! `blocked_hosts`: the operator's blocklist, and the link scans and bans
//! of the block/unblock jobs (src/blocklist.rs).

use edgelink_core::blocklist::HostPattern;
use edgelink_core::ids::{BlockId, LinkId};
use edgelink_core::ApiResult;
use serde::Deserialize;
use worker::D1Database;

use super::{all, first, int, page, run, text, write, WriteResult};

#[derive(Debug, Clone, Deserialize)]
pub struct Block {
    pub id: BlockId,
    pub host: HostPattern,
    pub created_at: i64,
    /// Links this block has banned (and not lifted).
    #[serde(default)]
    pub banned_links: i64,
}

const SELECT: &str = "b.id, b.host, b.created_at, \
    (SELECT COUNT(*) FROM links l WHERE l.banned_by_block = b.id) AS banned_links";

/// A host already blocked is `Constraint::BlockedHost`.
pub async fn insert(db: &D1Database, b: &Block) -> WriteResult<()> {
    write(
        db,
        "INSERT INTO blocked_hosts (id, host, created_at) VALUES (?1, ?2, ?3)",
        &[text(&b.id), text(b.host.as_str()), int(b.created_at)],
    )
    .await
    .map(|_| ())
}

/// By id (`blk_...`) or by host.
pub async fn get(db: &D1Database, id_or_host: &str) -> ApiResult<Option<Block>> {
    first(
        db,
        &format!("SELECT {SELECT} FROM blocked_hosts b WHERE b.id = ?1 OR b.host = ?1"),
        &[text(id_or_host)],
    )
    .await
}

/// Newest first.
pub async fn list(db: &D1Database, limit: i64, offset: i64) -> ApiResult<(Vec<Block>, i64)> {
    page(
        db,
        SELECT,
        "FROM blocked_hosts b",
        "b.created_at DESC, b.id DESC",
        &[],
        limit,
        offset,
    )
    .await
}

pub async fn delete(db: &D1Database, id: &str) -> ApiResult<bool> {
    Ok(run(db, "DELETE FROM blocked_hosts WHERE id = ?1", &[text(id)]).await? > 0)
}

#[derive(Deserialize)]
pub struct Pattern {
    pub id: BlockId,
    pub host: HostPattern,
}

/// The blocked patterns among `candidates` (see
/// `edgelink_core::blocklist::candidates`): one indexed lookup for all.
pub async fn matching(db: &D1Database, candidates: &[String]) -> ApiResult<Vec<Pattern>> {
    if candidates.is_empty() {
        return Ok(Vec::new());
    }
    all(
        db,
        "SELECT id, host FROM blocked_hosts WHERE host IN (SELECT value FROM json_each(?1)) \
         ORDER BY created_at, id",
        &[text(&serde_json::to_string(candidates).unwrap_or_default())],
    )
    .await
}

#[derive(Deserialize)]
struct Id {
    id: LinkId,
}

fn ids_json(ids: &[&LinkId]) -> String {
    serde_json::to_string(ids).unwrap_or_else(|_| "[]".into())
}

/// Bans `ids` for `block` where nobody banned them yet (an operator's ban
/// stays the operator's): the ids banned now.
pub async fn ban(
    db: &D1Database,
    ids: &[&LinkId],
    block: &BlockId,
    now: i64,
) -> ApiResult<Vec<LinkId>> {
    let rows: Vec<Id> = all(
        db,
        "UPDATE links SET banned = 1, banned_by_block = ?2, updated_at = ?3 \
         WHERE id IN (SELECT value FROM json_each(?1)) AND banned = 0 RETURNING id",
        &[text(&ids_json(ids)), text(block), int(now)],
    )
    .await?;
    Ok(rows.into_iter().map(|r| r.id).collect())
}

/// Lifts `block`'s bans of `ids`: the ids lifted now.
pub async fn lift(
    db: &D1Database,
    ids: &[&LinkId],
    block: &BlockId,
    now: i64,
) -> ApiResult<Vec<LinkId>> {
    let rows: Vec<Id> = all(
        db,
        "UPDATE links SET banned = 0, banned_by_block = NULL, updated_at = ?3 \
         WHERE id IN (SELECT value FROM json_each(?1)) AND banned_by_block = ?2 RETURNING id",
        &[text(&ids_json(ids)), text(block), int(now)],
    )
    .await?;
    Ok(rows.into_iter().map(|r| r.id).collect())
}

/// A link `from` banned that `to` (another block) also matches: it stays
/// banned, now on `to`'s account.
pub async fn hand_over(
    db: &D1Database,
    id: &LinkId,
    from: &BlockId,
    to: &BlockId,
) -> ApiResult<()> {
    run(
        db,
        "UPDATE links SET banned_by_block = ?3 WHERE id = ?1 AND banned_by_block = ?2",
        &[text(id), text(from), text(to)],
    )
    .await
    .map(|_| ())
}
