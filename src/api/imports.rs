//! Links in and out as CSV: `POST /api/v1/links/import` (202, processed
//! by the JOBS consumer, src/imports.rs), `GET /api/v1/imports/{id}`,
//! `GET /api/v1/imports/{id}/errors.csv` and the streamed
//! `GET /api/v1/links/export.csv`. Parsing and column mapping:
//! `edgelink_core::csv`.

use edgelink_core::csv::{chunks, export_line, read_import, EXPORT_HEADER, MAX_IMPORT_BYTES};
use edgelink_core::ids::ImportId;
use edgelink_core::jobs::Job;
use edgelink_core::stats::csv_field;
use edgelink_core::time::format_rfc3339;
use edgelink_core::{ApiError, ApiResult};
use serde_json::json;
use worker::{D1Database, Method, Request, Response};

use crate::auth::Caller;
use crate::http::{body_bytes, found, internal, json_response, ok, random_bytes, Ctx};
use crate::router::Route;
use crate::store::imports::{self, Import};
use crate::store::links;

#[rustfmt::skip]
pub fn routes() -> Vec<Route> {
    vec![
        Route::key(Method::Post, "/api/v1/links/import", "importLinks", |x, c, r| Box::pin(upload(x, c, &mut r.req))),
        Route::key(Method::Get, "/api/v1/imports/{id}", "getImport", |x, c, r| Box::pin(get(x, c, &r.params[0]))),
        Route::key(Method::Get, "/api/v1/imports/{id}/errors.csv", "getImportErrors", |x, c, r| Box::pin(errors_csv(x, c, &r.params[0]))),
        Route::key(Method::Get, "/api/v1/links/export.csv", "exportLinks", |x, c, _| Box::pin(export(x, c))),
    ]
}

const CSV: (&str, fn(&str) -> bool) = ("text/csv", |ct| {
    ct.starts_with("text/csv") || ct.starts_with("application/csv")
});

pub async fn upload(ctx: &Ctx, caller: &Caller, req: &mut Request) -> ApiResult<Response> {
    caller.require_write()?;
    let has_type = req.headers().get("Content-Type").ok().flatten().is_some();
    if !has_type {
        return Err(ApiError::UnsupportedMediaType(CSV.0));
    }
    let bytes = body_bytes(req, MAX_IMPORT_BYTES, CSV).await?;
    let text =
        String::from_utf8(bytes).map_err(|_| ApiError::validation("body", "must be UTF-8 text"))?;
    let import = read_import(&text)?;
    if import.rows.is_empty() {
        return Err(ApiError::validation(
            "body",
            "no data rows under the header row",
        ));
    }
    let chunks = chunks(&import.rows);
    let id = ImportId::new(&random_bytes::<16>());
    let db = ctx.db()?;
    imports::insert(
        &db,
        &id,
        &caller.workspace_id,
        &chunks,
        import.rows.len(),
        ctx.now,
    )
    .await?;
    // A lost send is re-sent by the cron (the import is seen stalled).
    let job = Job::Import {
        import_id: id.clone(),
        chunk: 0,
    };
    if let Err(e) = crate::imports::send(&ctx.env, &job).await {
        worker::console_error!("imports: first chunk of {id} not sent: {e:?}");
    }
    let mut r = json_response(
        202,
        &json!({"success": true, "data": {
            "importId": id,
            "status": "queued",
            "totalRows": import.rows.len(),
            "ignoredColumns": import.ignored_columns,
        }}),
    );
    let _ = r
        .headers_mut()
        .set("Location", &format!("/api/v1/imports/{id}"));
    Ok(r)
}

fn view(i: &Import) -> serde_json::Value {
    json!({
        "id": i.id,
        "status": i.status,
        "totalRows": i.total_rows,
        "processedRows": i.created + i.skipped + i.failed,
        "created": i.created,
        "skipped": i.skipped,
        "failed": i.failed,
        "error": i.error,
        "errorsUrl": format!("/api/v1/imports/{}/errors.csv", i.id),
        "createdAt": format_rfc3339(i.created_at),
        "updatedAt": format_rfc3339(i.updated_at),
    })
}

async fn load(ctx: &Ctx, caller: &Caller, id: &str) -> ApiResult<Import> {
    found(
        imports::get(&ctx.db()?, &caller.workspace_id, id).await?,
        "Import",
    )
}

pub async fn get(ctx: &Ctx, caller: &Caller, id: &str) -> ApiResult<Response> {
    Ok(ok(view(&load(ctx, caller, id).await?)))
}

fn csv_response(
    stream: impl futures_util::Stream<Item = worker::Result<Vec<u8>>> + 'static,
    name: &str,
) -> ApiResult<Response> {
    let mut resp = Response::from_stream(stream).map_err(internal("CSV stream"))?;
    let h = resp.headers_mut();
    let _ = h.set("Content-Type", "text/csv; charset=utf-8");
    let _ = h.set(
        "Content-Disposition",
        &format!("attachment; filename=\"{name}\""),
    );
    let _ = h.set("Cache-Control", "no-store");
    Ok(resp)
}

const PAGE: i64 = 500;

/// The paged reads behind a streamed CSV: the header first, then one page
/// per pull until a short page.
struct Cursor<K> {
    db: D1Database,
    owner: String,
    key: K,
    started: bool,
    done: bool,
    scheme: String,
}

pub const ERRORS_HEADER: &str = "row,outcome,code,message,slug,destinationUrl\r\n";

async fn next_errors(mut c: Cursor<i64>) -> Option<(worker::Result<Vec<u8>>, Cursor<i64>)> {
    if c.done {
        return None;
    }
    if !c.started {
        c.started = true;
        return Some((Ok(ERRORS_HEADER.as_bytes().to_vec()), c));
    }
    match imports::error_page(&c.db, &c.owner, c.key, PAGE).await {
        Err(e) => {
            c.done = true;
            Some((Err(worker::Error::RustError(e.to_string())), c))
        }
        Ok(rows) if rows.is_empty() => None,
        Ok(rows) => {
            c.done = (rows.len() as i64) < PAGE;
            c.key = rows.last().map_or(c.key, |r| r.row);
            let opt = |s: &Option<String>| csv_field(s.as_deref().unwrap_or(""));
            let body: String = rows
                .iter()
                .map(|r| {
                    format!(
                        "{},{},{},{},{},{}\r\n",
                        r.row,
                        csv_field(&r.outcome),
                        opt(&r.code),
                        opt(&r.message),
                        opt(&r.slug),
                        opt(&r.url)
                    )
                })
                .collect();
            Some((Ok(body.into_bytes()), c))
        }
    }
}

/// The rows that created no link (skipped as duplicates, or failed), with
/// the reason, as CSV.
pub async fn errors_csv(ctx: &Ctx, caller: &Caller, id: &str) -> ApiResult<Response> {
    let i = load(ctx, caller, id).await?;
    let cursor = Cursor {
        db: ctx.db()?,
        owner: i.id.to_string(),
        key: 0,
        started: false,
        done: false,
        scheme: String::new(),
    };
    csv_response(
        futures_util::stream::unfold(cursor, next_errors),
        &format!("{}-errors.csv", i.id),
    )
}

async fn next_links(
    mut c: Cursor<(i64, String)>,
) -> Option<(worker::Result<Vec<u8>>, Cursor<(i64, String)>)> {
    if c.done {
        return None;
    }
    if !c.started {
        c.started = true;
        return Some((Ok(EXPORT_HEADER.as_bytes().to_vec()), c));
    }
    let page = links::export_page(&c.db, &c.owner, (c.key.0, &c.key.1), PAGE).await;
    match page {
        Err(e) => {
            // The client sees a truncated body; the cause is in the log.
            c.done = true;
            Some((Err(worker::Error::RustError(e.to_string())), c))
        }
        Ok(rows) if rows.is_empty() => None,
        Ok(rows) => {
            c.done = (rows.len() as i64) < PAGE;
            if let Some(l) = rows.last() {
                c.key = (l.created_at, l.id.to_string());
            }
            let body: String = rows.iter().map(|l| export_line(l, &c.scheme)).collect();
            Some((Ok(body.into_bytes()), c))
        }
    }
}

/// Every link of the workspace, oldest first, with its settings and click
/// count (the stored `click_count` every link view shows), streamed.
pub async fn export(ctx: &Ctx, caller: &Caller) -> ApiResult<Response> {
    let cursor = Cursor {
        db: ctx.db()?,
        owner: caller.workspace_id.to_string(),
        key: (-1, String::new()),
        started: false,
        done: false,
        scheme: ctx.scheme.clone(),
    };
    csv_response(
        futures_util::stream::unfold(cursor, next_links),
        "links.csv",
    )
}
