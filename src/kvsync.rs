//! Keeping KV in step with D1 when one request writes many links (bulk
//! endpoints, imports), so a request that dies midway leaves nothing
//! inconsistent for long:
//!
//! 1. D1 first, in one `db.batch` (one transaction): the link rows and a
//!    `kv_pending` mark for every host + slug whose KV record they change,
//!    under a token of the request (or of the import chunk);
//! 2. then the KV writes, from the committed state;
//! 3. then the token's marks are deleted.
//!
//! KV records are derived data: a record is whatever D1 says the link at
//! that host + slug is (none: no record). So a mark left behind by a
//! request that died after step 1 is repaired by deriving the record
//! again: the cron does it for marks older than [`STALE_MS`], an import
//! chunk's retry does it first for its own (deterministic) token. Repairs
//! are idempotent and read D1 at repair time, so they never write back a
//! stale state.

use edgelink_core::link::Link;
use edgelink_core::ApiResult;
use worker::{console_error, D1Database, D1PreparedStatement, D1Result, KvStore};

use crate::http::internal;
use crate::store::pending::{self, Pending};
use crate::store::{links, records};

/// A mark this old belongs to a request that died (a Worker request lives
/// at most a few tens of seconds).
pub const STALE_MS: i64 = 60_000;

/// What KV should hold at a host + slug once the batch has committed.
pub enum KvChange {
    Put(Box<Link>),
    Delete { domain: String, slug: String },
}

impl KvChange {
    pub fn key(&self) -> (String, String) {
        match self {
            KvChange::Put(l) => (l.domain.clone(), l.slug.clone()),
            KvChange::Delete { domain, slug } => (domain.clone(), slug.clone()),
        }
    }
}

/// Step 1: runs `stmts` and the marks of `keys` as one transaction; the
/// results are `stmts`' own, in order.
pub async fn commit(
    db: &D1Database,
    mut stmts: Vec<D1PreparedStatement>,
    token: &str,
    keys: &[(String, String)],
    now: i64,
) -> ApiResult<Vec<D1Result>> {
    let n = stmts.len();
    if !keys.is_empty() {
        stmts.push(pending::mark_stmt(db, token, keys, now)?);
    }
    let mut results = db.batch(stmts).await.map_err(internal("D1 batch"))?;
    results.truncate(n);
    Ok(results)
}

/// Steps 2 and 3. A KV failure is logged and leaves the marks for the
/// cron: the D1 write has happened and is the answer.
pub async fn apply(db: &D1Database, kv: &KvStore, token: &str, changes: &[KvChange]) {
    let mut ok = true;
    for c in changes {
        let r = match c {
            KvChange::Put(l) => records::put(kv, l).await,
            KvChange::Delete { domain, slug } => records::delete(kv, domain, slug).await,
        };
        if r.is_err() {
            ok = false;
        }
    }
    if ok {
        if let Err(e) = pending::clear(db, token).await {
            console_error!("kvsync: marks of {token} not cleared (the cron will): {e:?}");
        }
    }
}

/// The record at a host + slug, derived again from D1.
async fn repair_one(db: &D1Database, kv: &KvStore, p: &Pending) -> ApiResult<()> {
    let key = [(p.domain.clone(), p.slug.clone())];
    match links::by_slugs(db, &key).await?.into_iter().next() {
        Some(link) => records::put(kv, &link).await?,
        None => records::delete(kv, &p.domain, &p.slug).await?,
    }
    pending::clear_one(db, p).await
}

/// Repairs every mark of `token` (an import chunk's retry, before it goes on).
pub async fn repair_token(db: &D1Database, kv: &KvStore, token: &str) -> ApiResult<usize> {
    let marks = pending::of_token(db, token).await?;
    for p in &marks {
        repair_one(db, kv, p).await?;
    }
    Ok(marks.len())
}

/// The cron's part: marks older than [`STALE_MS`], up to 200 a run.
pub async fn sweep(env: &worker::Env, now: i64) {
    let (db, kv) = match (env.d1("DB"), env.kv("LINKS")) {
        (Ok(db), Ok(kv)) => (db, kv),
        _ => {
            console_error!("kvsync: sweep: missing D1 or KV binding");
            return;
        }
    };
    let marks = match pending::stale(&db, now - STALE_MS, 200).await {
        Ok(m) => m,
        Err(e) => {
            console_error!("kvsync: sweep failed: {e:?}");
            return;
        }
    };
    let mut repaired = 0;
    for p in &marks {
        match repair_one(&db, &kv, p).await {
            Ok(()) => repaired += 1,
            Err(e) => console_error!("kvsync: repair of {}/{} failed: {e:?}", p.domain, p.slug),
        }
    }
    if repaired > 0 {
        worker::console_log!("kvsync: repaired {repaired} KV records left by interrupted writes");
    }
}

/// Rows a statement of a committed batch changed.
pub fn changed(r: &D1Result) -> bool {
    r.meta().ok().flatten().and_then(|m| m.changes).unwrap_or(0) > 0
}

/// Test builds only: the fault point named by `var` (`after-d1`, ...).
#[cfg(feature = "test-hooks")]
pub fn fault_point(env: &worker::Env, var: &str) -> Option<String> {
    env.var(var)
        .ok()
        .map(|v| v.to_string())
        .filter(|s| !s.is_empty())
}
