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
use worker::{Method, Request, Response};

use crate::auth::Caller;
use crate::http::{body_bytes, found, json_response, ok, paged_csv, random_bytes, Ctx};
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

const PAGE: i64 = 500;

pub const ERRORS_HEADER: &str = "row,outcome,code,message,slug,destinationUrl\r\n";

/// The rows that created no link (skipped as duplicates, or failed), with
/// the reason, as CSV.
pub async fn errors_csv(ctx: &Ctx, caller: &Caller, id: &str) -> ApiResult<Response> {
    let i = load(ctx, caller, id).await?;
    let (db, owner) = (std::rc::Rc::new(ctx.db()?), i.id.to_string());
    paged_csv(
        &format!("{}-errors.csv", i.id),
        ERRORS_HEADER,
        PAGE,
        0,
        move |after| {
            let (db, owner) = (db.clone(), owner.clone());
            async move { imports::error_page(&db, &owner, after, PAGE).await }
        },
        |r| r.row,
        |r| {
            let opt = |s: &Option<String>| csv_field(s.as_deref().unwrap_or(""));
            format!(
                "{},{},{},{},{},{}\r\n",
                r.row,
                csv_field(&r.outcome),
                opt(&r.code),
                opt(&r.message),
                opt(&r.slug),
                opt(&r.url)
            )
        },
    )
}

/// Every link of the workspace, oldest first, with its settings and click
/// count (the stored `click_count` every link view shows), streamed.
pub async fn export(ctx: &Ctx, caller: &Caller) -> ApiResult<Response> {
    let (db, owner, scheme) = (
        std::rc::Rc::new(ctx.db()?),
        caller.workspace_id.to_string(),
        ctx.scheme.clone(),
    );
    paged_csv(
        "links.csv",
        EXPORT_HEADER,
        PAGE,
        (-1, String::new()),
        move |(at, id): (i64, String)| {
            let (db, owner) = (db.clone(), owner.clone());
            async move { links::export_page(&db, &owner, (at, &id), PAGE).await }
        },
        |l| (l.created_at, l.id.to_string()),
        move |l| export_line(l, &scheme),
    )
}
