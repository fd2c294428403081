//! `imports`, `import_chunks`, `import_rows`: CSV imports (src/imports.rs).

use super::{all, first, int, opt_text, run, stmt, text};
use edgelink_core::csv::ImportRow;
use edgelink_core::ids::{ImportId, WorkspaceId};
use edgelink_core::{ApiError, ApiResult};
use serde::Deserialize;
use worker::{D1Database, D1PreparedStatement};

#[derive(Deserialize)]
pub struct Import {
    pub id: ImportId,
    pub workspace_id: WorkspaceId,
    pub status: String,
    pub total_rows: i64,
    pub chunks: i64,
    pub next_chunk: i64,
    pub created: i64,
    pub skipped: i64,
    pub failed: i64,
    pub error: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A new import and its chunks of mapped rows, in one transaction.
pub async fn insert(
    db: &D1Database,
    id: &str,
    workspace_id: &str,
    chunks: &[String],
    total_rows: usize,
    now: i64,
) -> ApiResult<()> {
    let mut stmts = vec![stmt(
        db,
        "INSERT INTO imports (id, workspace_id, total_rows, chunks, created_at, updated_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
        &[
            text(id),
            text(workspace_id),
            int(total_rows as i64),
            int(chunks.len() as i64),
            int(now),
        ],
    )?];
    for (i, rows) in chunks.iter().enumerate() {
        stmts.push(stmt(
            db,
            "INSERT INTO import_chunks (import_id, chunk, rows) VALUES (?1, ?2, ?3)",
            &[text(id), int(i as i64), text(rows)],
        )?);
    }
    db.batch(stmts)
        .await
        .map_err(crate::http::internal("import insert"))?;
    Ok(())
}

/// An import of the workspace.
pub async fn get(db: &D1Database, workspace_id: &str, id: &str) -> ApiResult<Option<Import>> {
    first(
        db,
        "SELECT * FROM imports WHERE id = ?1 AND workspace_id = ?2",
        &[text(id), text(workspace_id)],
    )
    .await
}

/// An import, whoever owns it (the job consumer).
pub async fn get_any(db: &D1Database, id: &str) -> ApiResult<Option<Import>> {
    first(db, "SELECT * FROM imports WHERE id = ?1", &[text(id)]).await
}

#[derive(Deserialize)]
struct ChunkRow {
    rows: String,
}

/// A chunk's rows (none once it has been processed).
pub async fn chunk_rows(db: &D1Database, id: &str, chunk: i64) -> ApiResult<Vec<ImportRow>> {
    let row: Option<ChunkRow> = first(
        db,
        "SELECT rows FROM import_chunks WHERE import_id = ?1 AND chunk = ?2",
        &[text(id), int(chunk)],
    )
    .await?;
    match row {
        None => Ok(Vec::new()),
        Some(r) => serde_json::from_str(&r.rows).map_err(|e| {
            worker::console_error!("import {id} chunk {chunk} unreadable: {e}");
            ApiError::Internal
        }),
    }
}

#[derive(Deserialize)]
struct RowNumber {
    row: i64,
}

/// Rows of `from..=to` that already have an outcome.
pub async fn done_rows(db: &D1Database, id: &str, from: usize, to: usize) -> ApiResult<Vec<usize>> {
    let rows: Vec<RowNumber> = all(
        db,
        "SELECT row FROM import_rows WHERE import_id = ?1 AND row BETWEEN ?2 AND ?3",
        &[text(id), int(from as i64), int(to as i64)],
    )
    .await?;
    Ok(rows.into_iter().map(|r| r.row as usize).collect())
}

/// A row's outcome when it is known before the batch (skipped, failed).
pub struct Outcome<'a> {
    pub row: usize,
    pub outcome: &'a str,
    pub slug: Option<&'a str>,
    pub url: Option<&'a str>,
    pub code: Option<&'a str>,
    pub message: Option<&'a str>,
}

pub fn outcome_stmt(db: &D1Database, id: &str, o: &Outcome) -> ApiResult<D1PreparedStatement> {
    stmt(
        db,
        "INSERT INTO import_rows (import_id, row, outcome, slug, url, code, message) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT DO NOTHING",
        &[
            text(id),
            int(o.row as i64),
            text(o.outcome),
            opt_text(o.slug),
            opt_text(o.url),
            opt_text(o.code),
            opt_text(o.message),
        ],
    )
}

/// The outcome of a row whose link insert precedes it in the batch:
/// created if the link is there, else failed (its slug was taken, or the
/// quota filled, between the checks and the commit).
pub fn created_stmt(
    db: &D1Database,
    id: &str,
    row: usize,
    link_id: &str,
    slug: &str,
    url: &str,
) -> ApiResult<D1PreparedStatement> {
    stmt(
        db,
        "INSERT INTO import_rows (import_id, row, outcome, link_id, slug, url, code, message) \
         SELECT ?1, ?2, CASE WHEN e THEN 'created' ELSE 'failed' END, CASE WHEN e THEN ?3 END, \
         ?4, ?5, CASE WHEN e THEN NULL ELSE 'CONFLICT' END, \
         CASE WHEN e THEN NULL ELSE 'The slug was taken or the plan''s link quota filled during the import' END \
         FROM (SELECT EXISTS (SELECT 1 FROM links WHERE id = ?3) AS e) WHERE true ON CONFLICT DO NOTHING",
        &[text(id), int(row as i64), text(link_id), text(slug), text(url)],
    )
}

/// Recounts the outcomes (so a repeated batch cannot count twice).
pub fn counts_stmt(db: &D1Database, id: &str, now: i64) -> ApiResult<D1PreparedStatement> {
    stmt(
        db,
        "UPDATE imports SET status = 'running', failures = 0, error = NULL, updated_at = ?2, \
         created = (SELECT COUNT(*) FROM import_rows WHERE import_id = ?1 AND outcome = 'created'), \
         skipped = (SELECT COUNT(*) FROM import_rows WHERE import_id = ?1 AND outcome = 'skipped'), \
         failed = (SELECT COUNT(*) FROM import_rows WHERE import_id = ?1 AND outcome = 'failed') \
         WHERE id = ?1",
        &[text(id), int(now)],
    )
}

/// Marks `chunk` processed (once): the next one is due, or the import is
/// done. True if this call moved it on.
pub async fn finish_chunk(db: &D1Database, id: &str, chunk: i64, now: i64) -> ApiResult<bool> {
    let args = [text(id), int(chunk), int(now)];
    let results = db
        .batch(vec![
            stmt(
                db,
                "UPDATE imports SET next_chunk = ?2 + 1, updated_at = ?3, failures = 0, \
                 status = CASE WHEN ?2 + 1 >= chunks THEN 'done' ELSE 'running' END \
                 WHERE id = ?1 AND next_chunk = ?2",
                &args,
            )?,
            stmt(
                db,
                "DELETE FROM import_chunks WHERE import_id = ?1 AND chunk = ?2",
                &args[..2],
            )?,
        ])
        .await
        .map_err(crate::http::internal("import finish"))?;
    Ok(results.first().is_some_and(crate::kvsync::changed))
}

/// A chunk run failed: counted, and after `max` in a row the import fails.
pub async fn record_failure(
    db: &D1Database,
    id: &str,
    error: &str,
    max: i64,
    now: i64,
) -> ApiResult<bool> {
    run(
        db,
        "UPDATE imports SET failures = failures + 1, error = ?2, updated_at = ?4, \
         status = CASE WHEN failures + 1 >= ?3 THEN 'failed' ELSE status END \
         WHERE id = ?1 AND status IN ('queued', 'running')",
        &[text(id), text(error), int(max), int(now)],
    )
    .await?;
    Ok(get_any(db, id).await?.is_some_and(|i| i.status == "failed"))
}

/// Imports that made no progress since `before` (their message was lost):
/// their next chunk is due again. Touched, so the next sweep waits again.
pub async fn stalled(db: &D1Database, before: i64, now: i64) -> ApiResult<Vec<(String, i64)>> {
    #[derive(Deserialize)]
    struct Due {
        id: String,
        next_chunk: i64,
    }
    let due: Vec<Due> = all(
        db,
        "UPDATE imports SET updated_at = ?2 WHERE id IN (SELECT id FROM imports \
         WHERE status IN ('queued', 'running') AND updated_at < ?1 LIMIT 50) \
         RETURNING id, next_chunk",
        &[int(before), int(now)],
    )
    .await?;
    Ok(due.into_iter().map(|d| (d.id, d.next_chunk)).collect())
}

#[derive(Deserialize)]
pub struct ErrorRow {
    pub row: i64,
    pub outcome: String,
    pub slug: Option<String>,
    pub url: Option<String>,
    pub code: Option<String>,
    pub message: Option<String>,
}

/// Rows that created nothing, after row `after`, in order.
pub async fn error_page(
    db: &D1Database,
    id: &str,
    after: i64,
    limit: i64,
) -> ApiResult<Vec<ErrorRow>> {
    all(
        db,
        "SELECT row, outcome, slug, url, code, message FROM import_rows \
         WHERE import_id = ?1 AND outcome <> 'created' AND row > ?2 ORDER BY row LIMIT ?3",
        &[text(id), int(after), int(limit)],
    )
    .await
}
