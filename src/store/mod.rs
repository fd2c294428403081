//! D1 and KV access. Each SQL statement and KV key format lives in one of
//! these modules; parameters are always bound, never formatted in.

pub mod domains;
pub mod galleries;
pub mod groups;
pub mod keys;
pub mod links;
pub mod qr_codes;
pub mod ratelimit;
pub mod records;
pub mod webhooks;
pub mod workspaces;

use edgelink_core::{ApiError, ApiResult};
use serde::de::DeserializeOwned;
use worker::wasm_bindgen::JsValue;
use worker::{D1Database, D1PreparedStatement};

pub fn text(s: &str) -> JsValue {
    JsValue::from_str(s)
}

pub fn opt_text(s: Option<&str>) -> JsValue {
    s.map(JsValue::from_str).unwrap_or(JsValue::NULL)
}

/// D1 numbers are JS doubles: exact up to 2^53, far beyond any count here.
pub fn int(i: i64) -> JsValue {
    JsValue::from_f64(i as f64)
}

pub fn opt_int(i: Option<i64>) -> JsValue {
    i.map(int).unwrap_or(JsValue::NULL)
}

pub fn flag(b: bool) -> JsValue {
    int(b as i64)
}

pub fn stmt(db: &D1Database, sql: &str, args: &[JsValue]) -> ApiResult<D1PreparedStatement> {
    db.prepare(sql).bind(args).map_err(|e| {
        worker::console_error!("bind failed for {sql}: {e:?}");
        ApiError::Internal
    })
}

fn db_error(sql: &str) -> impl Fn(worker::Error) -> ApiError + '_ {
    move |e| {
        worker::console_error!("D1 error in {sql}: {e:?}");
        ApiError::Internal
    }
}

pub async fn first<T: DeserializeOwned>(
    db: &D1Database,
    sql: &str,
    args: &[JsValue],
) -> ApiResult<Option<T>> {
    stmt(db, sql, args)?
        .first::<T>(None)
        .await
        .map_err(db_error(sql))
}

pub async fn all<T: DeserializeOwned>(
    db: &D1Database,
    sql: &str,
    args: &[JsValue],
) -> ApiResult<Vec<T>> {
    let res = stmt(db, sql, args)?.all().await.map_err(db_error(sql))?;
    res.results::<T>().map_err(db_error(sql))
}

/// Runs a write; returns the number of rows changed.
pub async fn run(db: &D1Database, sql: &str, args: &[JsValue]) -> ApiResult<i64> {
    let res = stmt(db, sql, args)?.run().await.map_err(db_error(sql))?;
    Ok(res
        .meta()
        .ok()
        .flatten()
        .and_then(|m| m.changes)
        .map(|c| c as i64)
        .unwrap_or(0))
}

/// Like `run`, but a UNIQUE violation comes back as `Ok(None)`.
pub async fn run_unique(db: &D1Database, sql: &str, args: &[JsValue]) -> ApiResult<Option<i64>> {
    match stmt(db, sql, args)?.run().await {
        Ok(res) => Ok(Some(
            res.meta()
                .ok()
                .flatten()
                .and_then(|m| m.changes)
                .map(|c| c as i64)
                .unwrap_or(0),
        )),
        Err(e) if format!("{e:?}").contains("UNIQUE constraint failed") => Ok(None),
        Err(e) => Err(db_error(sql)(e)),
    }
}

#[derive(serde::Deserialize)]
pub struct Count {
    pub n: i64,
}

/// One page of rows and the total count. `from` is a constant
/// `FROM … WHERE …` using `?1..?n` (bound to `args`), `select` the columns,
/// `order` the ORDER BY; limit and offset are bound after `args`.
pub async fn page<T: DeserializeOwned>(
    db: &D1Database,
    select: &str,
    from: &str,
    order: &str,
    args: &[JsValue],
    limit: i64,
    offset: i64,
) -> ApiResult<(Vec<T>, i64)> {
    let total: Option<Count> = first(db, &format!("SELECT COUNT(*) AS n {from}"), args).await?;
    let n = args.len();
    let mut bound = args.to_vec();
    bound.push(int(limit));
    bound.push(int(offset));
    let rows = all(
        db,
        &format!(
            "SELECT {select} {from} ORDER BY {order} LIMIT ?{} OFFSET ?{}",
            n + 1,
            n + 2
        ),
        &bound,
    )
    .await?;
    Ok((rows, total.map(|c| c.n).unwrap_or(0)))
}

/// Deletes a parent's dependent rows and then the parent in one D1
/// transaction, both statements bound to `args`; true if the parent existed.
pub async fn delete_with_children(
    db: &D1Database,
    children_sql: &str,
    parent_sql: &str,
    args: &[JsValue],
) -> ApiResult<bool> {
    let results = db
        .batch(vec![
            stmt(db, children_sql, args)?,
            stmt(db, parent_sql, args)?,
        ])
        .await
        .map_err(db_error(parent_sql))?;
    Ok(results
        .get(1)
        .and_then(|r| r.meta().ok().flatten())
        .and_then(|m| m.changes)
        .unwrap_or(0)
        > 0)
}
