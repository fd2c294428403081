//! D1 and KV access. Each SQL statement and KV key format lives in one of
//! these modules; parameters are always bound, never formatted in.

/// A store module's `get`, `list` and `delete` for its `Owned` type, so
/// each resource states which it has in one line.
macro_rules! owned_fns {
    ($t:ty: $($f:ident),+) => { $( owned_fns!(@ $t, $f); )+ };
    (@ $t:ty, get) => {
        pub async fn get(
            db: &worker::D1Database,
            workspace_id: &str,
            id: &str,
        ) -> edgelink_core::ApiResult<Option<$t>> {
            super::get_owned(db, workspace_id, id).await
        }
    };
    (@ $t:ty, list) => {
        pub async fn list(
            db: &worker::D1Database,
            workspace_id: &str,
            limit: i64,
            offset: i64,
        ) -> edgelink_core::ApiResult<(Vec<$t>, i64)> {
            super::list_owned(db, workspace_id, limit, offset).await
        }
    };
    (@ $t:ty, delete) => {
        pub async fn delete(
            db: &worker::D1Database,
            workspace_id: &str,
            id: &str,
        ) -> edgelink_core::ApiResult<bool> {
            super::delete_owned::<$t>(db, workspace_id, id).await
        }
    };
}

pub mod blocklist;
pub mod clicks;
pub mod domains;
pub mod galleries;
pub mod groups;
pub mod imports;
pub mod keys;
pub mod kv;
pub mod links;
pub mod pending;
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
    Ok(changes(&res))
}

/// A uniqueness rule of the schema that a write can break, named after
/// what it keeps unique (schema.sql).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Constraint {
    /// `links_domain_slug`: one link per host and slug.
    LinkSlug,
    /// `domains.domain`: a custom domain belongs to one workspace.
    DomainName,
    /// `galleries.slug`: one `/bio/{slug}` page on the platform.
    GallerySlug,
    /// `blocked_hosts.host`: a host is blocked once.
    BlockedHost,
}

impl Constraint {
    /// SQLite names the columns of the broken rule in its message
    /// (`UNIQUE constraint failed: links.domain, links.slug`); this is the
    /// one place that reads it.
    fn of_message(msg: &str) -> Option<Constraint> {
        let cols = msg.split("UNIQUE constraint failed: ").nth(1)?;
        let cols: Vec<&str> = cols
            .split(|c: char| c == ',' || c == ':' || c.is_whitespace())
            .filter(|c| !c.is_empty())
            .collect();
        match cols.as_slice() {
            ["links.domain", "links.slug", ..] => Some(Constraint::LinkSlug),
            ["domains.domain", ..] => Some(Constraint::DomainName),
            ["galleries.slug", ..] => Some(Constraint::GallerySlug),
            ["blocked_hosts.host", ..] => Some(Constraint::BlockedHost),
            _ => None,
        }
    }

    /// The API's answer when a request breaks it and its handler says
    /// nothing more specific: 409.
    pub fn default_error(self) -> ApiError {
        match self {
            Constraint::LinkSlug => {
                ApiError::SlugExists("That slug already exists on this domain".into())
            }
            Constraint::GallerySlug => ApiError::SlugExists("That gallery slug is taken".into()),
            Constraint::DomainName => {
                ApiError::Conflict("That domain has already been added".into())
            }
            Constraint::BlockedHost => ApiError::Conflict("That host is already blocked".into()),
        }
    }
}

impl From<WriteError> for ApiError {
    fn from(e: WriteError) -> ApiError {
        match e {
            WriteError::Constraint(c) => c.default_error(),
            WriteError::Other(e) => e,
        }
    }
}

/// A failed write: a named constraint, or anything else (logged already).
#[derive(Debug)]
pub enum WriteError {
    Constraint(Constraint),
    Other(ApiError),
}

impl From<ApiError> for WriteError {
    fn from(e: ApiError) -> Self {
        WriteError::Other(e)
    }
}

pub type WriteResult<T> = Result<T, WriteError>;

/// Maps a broken constraint to the API's answer (realworld-axum-sqlx's
/// `on_constraint`); other failures pass through.
pub trait OnConstraint<T> {
    fn on_constraint(self, f: impl FnOnce(Constraint) -> ApiError) -> ApiResult<T>;
}

impl<T> OnConstraint<T> for WriteResult<T> {
    fn on_constraint(self, f: impl FnOnce(Constraint) -> ApiError) -> ApiResult<T> {
        self.map_err(|e| match e {
            WriteError::Constraint(c) => f(c),
            WriteError::Other(e) => e,
        })
    }
}

/// Like `run`, but a broken uniqueness rule comes back named.
pub async fn write(db: &D1Database, sql: &str, args: &[JsValue]) -> WriteResult<i64> {
    match stmt(db, sql, args)?.run().await {
        Ok(res) => Ok(changes(&res)),
        Err(e) => {
            let msg = match &e {
                worker::Error::D1(d1) => d1.cause(),
                other => other.to_string(),
            };
            match Constraint::of_message(&msg) {
                Some(c) => Err(WriteError::Constraint(c)),
                None => Err(WriteError::Other(db_error(sql)(e))),
            }
        }
    }
}

fn changes(res: &worker::D1Result) -> i64 {
    res.meta()
        .ok()
        .flatten()
        .and_then(|m| m.changes)
        .map(|c| c as i64)
        .unwrap_or(0)
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

/// Binds the fields of `row` named by `columns` (`"a, b, c"`), in that
/// order: a row struct's serde names are its column names, so inserts and
/// updates need no hand-written argument lists.
pub fn row_args<T: serde::Serialize>(row: &T, columns: &str) -> Vec<JsValue> {
    use serde_json::Value;
    let v = serde_json::to_value(row).unwrap_or(Value::Null);
    columns
        .split(',')
        .map(|c| match &v[c.trim()] {
            Value::Null => JsValue::NULL,
            Value::Bool(b) => flag(*b),
            Value::Number(n) => JsValue::from_f64(n.as_f64().unwrap_or(0.0)),
            Value::String(s) => text(s),
            other => text(&other.to_string()),
        })
        .collect()
}

/// Inserts the named columns of `row` into `table`.
pub async fn insert_row<T: serde::Serialize>(
    db: &D1Database,
    table: &str,
    columns: &str,
    row: &T,
) -> ApiResult<()> {
    let n = columns.split(',').count();
    let params: Vec<String> = (1..=n).map(|i| format!("?{i}")).collect();
    let sql = format!(
        "INSERT INTO {table} ({columns}) VALUES ({})",
        params.join(", ")
    );
    run(db, &sql, &row_args(row, columns)).await.map(|_| ())
}

/// A table of workspace-owned rows: enough about its SQL for the shared
/// get / list / delete below (every resource's CRUD has that shape).
pub trait Owned: DeserializeOwned {
    const TABLE: &'static str;
    /// What rows are read from: the table, or a view over it (`links_counted`).
    const SOURCE: &'static str = Self::TABLE;
    /// The columns a row is read with (may use `ALIAS`).
    const COLUMNS: &'static str = "*";
    /// The table's alias in `COLUMNS`/`JOINS` (`g`), if any.
    const ALIAS: &'static str = "";
    /// Joined tables (` LEFT JOIN …`).
    const JOINS: &'static str = "";
    /// Extra condition on live rows (` AND …`).
    const LIVE: &'static str = "";
    /// List order: newest first, ties broken stably.
    const ORDER: &'static str = "created_at DESC, id DESC";

    /// `FROM …` and the prefix of the table's own columns.
    fn from_clause() -> (String, String) {
        let a = Self::ALIAS;
        let prefix = if a.is_empty() {
            String::new()
        } else {
            format!("{a}.")
        };
        (format!("FROM {} {a}{}", Self::SOURCE, Self::JOINS), prefix)
    }
}

/// One row of the workspace by id (others' ids do not exist for it).
pub async fn get_owned<T: Owned>(
    db: &D1Database,
    workspace_id: &str,
    id: &str,
) -> ApiResult<Option<T>> {
    let (from, a) = T::from_clause();
    let sql = format!(
        "SELECT {} {from} WHERE {a}id = ?1 AND {a}workspace_id = ?2{}",
        T::COLUMNS,
        T::LIVE
    );
    first(db, &sql, &[text(id), text(workspace_id)]).await
}

/// A page of the workspace's rows, newest first, and how many there are.
pub async fn list_owned<T: Owned>(
    db: &D1Database,
    workspace_id: &str,
    limit: i64,
    offset: i64,
) -> ApiResult<(Vec<T>, i64)> {
    let (from, a) = T::from_clause();
    let from = format!("{from} WHERE {a}workspace_id = ?1{}", T::LIVE);
    let args = [text(workspace_id)];
    page(db, T::COLUMNS, &from, T::ORDER, &args, limit, offset).await
}

/// Deletes one row of the workspace; false when there was none.
pub async fn delete_owned<T: Owned>(
    db: &D1Database,
    workspace_id: &str,
    id: &str,
) -> ApiResult<bool> {
    let sql = format!(
        "DELETE FROM {} WHERE id = ?1 AND workspace_id = ?2",
        T::TABLE
    );
    Ok(run(db, &sql, &[text(id), text(workspace_id)]).await? > 0)
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

#[cfg(test)]
mod tests {
    use super::Constraint;

    #[test]
    fn constraints_are_named_from_sqlite_messages() {
        let c = |m: &str| Constraint::of_message(m);
        assert_eq!(
            c("D1_ERROR: UNIQUE constraint failed: links.domain, links.slug: SQLITE_CONSTRAINT"),
            Some(Constraint::LinkSlug)
        );
        assert_eq!(
            c("UNIQUE constraint failed: domains.domain"),
            Some(Constraint::DomainName)
        );
        assert_eq!(
            c("UNIQUE constraint failed: galleries.slug: SQLITE_CONSTRAINT"),
            Some(Constraint::GallerySlug)
        );
        assert_eq!(c("UNIQUE constraint failed: api_keys.key_hash"), None);
        assert_eq!(c("no such table: links"), None);
    }
}
