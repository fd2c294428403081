//! CSV imports, processed through the JOBS Queue one chunk (100 rows) per
//! message; each chunk's message is sent once the previous chunk is done.
//!
//! Resumable, and never a link twice:
//! - every row's outcome goes to `import_rows` in the same D1 transaction
//!   as its link (25 rows a transaction), so a run that dies midway has
//!   committed whole rows only, and a retry skips the rows it finds there;
//! - a row's link id is derived from (import, row), so even two runs of
//!   one chunk at once insert its link once (the second insert is ignored);
//! - KV records follow `crate::kvsync` under a token of the chunk, which
//!   the chunk's retry repairs first;
//! - the cron re-sends the due chunk of an import that made no progress
//!   for [`STALL_MS`] (a lost message).

use std::collections::{HashMap, HashSet};

use edgelink_core::csv::{row_link_id, ImportRow};
use edgelink_core::ids::WorkspaceId;
use edgelink_core::jobs::Job;
use edgelink_core::link::{Link, LinkPatch};
use edgelink_core::slug::Slug;
use edgelink_core::{ApiError, ApiResult};
use worker::{console_error, console_log, D1Database, Env};

use crate::api::links::{new_link, Checks};
use crate::config::Config;
use crate::http::{internal, random_bytes};
use crate::kvsync::{self, changed, KvChange};
use crate::store::imports::{self, Outcome};
use crate::store::{links, workspaces};

/// Rows per D1 transaction within a chunk.
const SUB_BATCH: usize = 25;
/// Failed runs of one chunk in a row before the import is `failed`.
const MAX_FAILURES: i64 = 10;
/// An import with no progress for this long lost its message.
const STALL_MS: i64 = 5 * 60_000;

pub async fn send(env: &Env, job: &Job) -> ApiResult<()> {
    let q = env.queue("JOBS").map_err(internal("JOBS binding"))?;
    q.send(job).await.map_err(internal("JOBS send"))
}

/// What becomes of one row.
enum Plan {
    Create(Box<Link>),
    Skip { slug: String, message: String },
    Fail(ApiError),
}

/// The state a chunk's rows are planned against: the workspace's links
/// by destination and the links at the rows' slugs, updated as rows are
/// planned, and the room left under the quota.
struct Planner<'a> {
    import_id: &'a str,
    workspace_id: WorkspaceId,
    short_domain: &'a str,
    now: i64,
    room: i64,
    quota: i64,
    destinations: HashMap<String, String>,
    taken: HashMap<(String, String), (WorkspaceId, String)>,
    checks: Checks<'a>,
}

impl Planner<'_> {
    async fn plan(&mut self, row: &ImportRow, patch: ApiResult<LinkPatch>) -> Plan {
        let patch = match patch {
            Ok(p) => p,
            Err(e) => return Plan::Fail(e),
        };
        let explicit = patch.slug.is_some();
        let mut link = new_link(&self.workspace_id, self.short_domain, self.now, patch);
        link.id = row_link_id(self.import_id, row.row);
        if let Err(e) = self.checks.domain(&link.domain).await {
            return Plan::Fail(e);
        }
        if let Err(e) = self.checks.group(link.group_id.as_deref()).await {
            return Plan::Fail(e);
        }
        if let Err(e) = self.checks.urls(&link).await {
            return Plan::Fail(e);
        }
        let duplicate = |slug: &str| Plan::Skip {
            slug: slug.to_string(),
            message: format!(
                "duplicate: this workspace's link '{slug}' already points to {}",
                link.destination_url
            ),
        };
        if explicit {
            let key = (link.domain.clone(), link.slug.clone());
            if let Some((ws, dest)) = self.taken.get(&key) {
                if *ws == self.workspace_id && *dest == link.destination_url {
                    return duplicate(&link.slug);
                }
                return Plan::Fail(crate::api::links::slug_exists(&link));
            }
        } else {
            if let Some(slug) = self.destinations.get(&link.destination_url) {
                return duplicate(slug);
            }
            // Another service's back-half is kept when it is free here.
            link.slug = row
                .preferred_slug
                .as_deref()
                .and_then(|s| Slug::parse(s).ok())
                .map(|s| s.as_str().to_string())
                .filter(|s| !self.taken.contains_key(&(link.domain.clone(), s.clone())))
                .unwrap_or_else(|| Slug::generate(&random_bytes::<7>()).to_string());
        }
        if self.room <= 0 {
            return Plan::Fail(ApiError::LimitReached(format!(
                "This workspace's plan allows {} links",
                self.quota
            )));
        }
        self.room -= 1;
        self.taken.insert(
            (link.domain.clone(), link.slug.clone()),
            (self.workspace_id.clone(), link.destination_url.clone()),
        );
        self.destinations
            .entry(link.destination_url.clone())
            .or_insert_with(|| link.slug.clone());
        Plan::Create(Box::new(link))
    }
}

/// Processes chunk `chunk` of an import (the JOBS consumer's work).
pub async fn process(env: &Env, cfg: &Config, import_id: &str, chunk: i64) -> ApiResult<()> {
    let db = env.d1("DB").map_err(internal("D1 binding"))?;
    let kv = env.kv("LINKS").map_err(internal("KV binding"))?;
    let now = worker::Date::now().as_millis() as i64;
    let Some(imp) = imports::get_any(&db, import_id).await? else {
        return Ok(()); // gone
    };
    if matches!(imp.status.as_str(), "done" | "failed") || chunk != imp.next_chunk {
        // Already processed (a duplicate message), or not due yet.
        return Ok(());
    }
    #[cfg(feature = "test-hooks")]
    faults::always(env)?;
    let token = format!("import:{import_id}:{chunk}");
    let repaired = kvsync::repair_token(&db, &kv, &token).await?;
    if repaired > 0 {
        console_log!("imports: {import_id} chunk {chunk}: {repaired} KV records of an interrupted run repaired");
    }
    let rows = imports::chunk_rows(&db, import_id, chunk).await?;
    let (Some(first), Some(last)) = (rows.first(), rows.last()) else {
        return advance(env, &db, &imp, chunk, now).await;
    };
    let done: HashSet<usize> = imports::done_rows(&db, import_id, first.row, last.row)
        .await?
        .into_iter()
        .collect();
    let todo: Vec<(&ImportRow, ApiResult<LinkPatch>)> = rows
        .iter()
        .filter(|r| !done.contains(&r.row))
        .map(|r| (r, LinkPatch::parse(&r.fields, true)))
        .collect();

    // What the rows are checked against, read once for the chunk.
    let quota = workspaces::get(&db, &imp.workspace_id)
        .await?
        .map(|w| w.link_quota())
        .unwrap_or(0);
    let count = links::count(&db, &imp.workspace_id).await?;
    let mut urls = Vec::new();
    let mut keys = Vec::new();
    for (row, patch) in &todo {
        if let Ok(p) = patch {
            let url = p.destination_url.clone().map(|u| u.into_string());
            urls.extend(url);
            let domain = p.domain.clone().unwrap_or_else(|| cfg.short_domain.clone());
            let slug = p.slug.as_ref().map(|s| s.as_str().to_string());
            if let Some(s) = slug.or_else(|| row.preferred_slug.clone()) {
                keys.push((domain, s));
            }
        }
    }
    let mut destinations = HashMap::new();
    for l in links::by_destinations(&db, &imp.workspace_id, &urls).await? {
        destinations.entry(l.destination_url).or_insert(l.slug);
    }
    let taken = links::by_slugs(&db, &keys)
        .await?
        .into_iter()
        .map(|l| ((l.domain, l.slug), (l.workspace_id, l.destination_url)))
        .collect();
    let mut planner = Planner {
        import_id,
        workspace_id: imp.workspace_id.clone(),
        short_domain: &cfg.short_domain,
        now,
        room: quota - count,
        quota,
        destinations,
        taken,
        checks: Checks::new(&db, &imp.workspace_id, &cfg.short_domain),
    };

    let mut todo = todo.into_iter().peekable();
    while todo.peek().is_some() {
        let sub: Vec<_> = todo.by_ref().take(SUB_BATCH).collect();
        let mut stmts = Vec::new();
        let mut creates: Vec<(usize, Link)> = Vec::new();
        for (row, patch) in sub {
            let url = row.fields.get("destinationUrl").and_then(|v| v.as_str());
            match planner.plan(row, patch).await {
                Plan::Create(link) => {
                    creates.push((stmts.len(), (*link).clone()));
                    stmts.push(links::insert_stmt(&db, &link, quota)?);
                    stmts.push(imports::created_stmt(
                        &db,
                        import_id,
                        row.row,
                        &link.id,
                        &link.slug,
                        &link.destination_url,
                    )?);
                }
                Plan::Skip { slug, message } => {
                    let o = Outcome {
                        row: row.row,
                        outcome: "skipped",
                        slug: Some(&slug),
                        url,
                        code: Some("DUPLICATE"),
                        message: Some(&message),
                    };
                    stmts.push(imports::outcome_stmt(&db, import_id, &o)?);
                }
                Plan::Fail(e) => {
                    let slug = row.fields.get("slug").and_then(|v| v.as_str());
                    let message = e.message();
                    let o = Outcome {
                        row: row.row,
                        outcome: "failed",
                        slug,
                        url,
                        code: Some(e.code()),
                        message: Some(&message),
                    };
                    stmts.push(imports::outcome_stmt(&db, import_id, &o)?);
                }
            }
        }
        stmts.push(imports::counts_stmt(&db, import_id, now)?);
        let keys: Vec<_> = creates
            .iter()
            .map(|(_, l)| (l.domain.clone(), l.slug.clone()))
            .collect();
        let results = kvsync::commit(&db, stmts, &token, &keys, now).await?;
        #[cfg(feature = "test-hooks")]
        faults::after_batch(env, &kv, import_id).await?;
        let changes: Vec<KvChange> = creates
            .into_iter()
            .filter(|(i, _)| results.get(*i).is_some_and(changed))
            .map(|(_, l)| KvChange::Put(Box::new(l)))
            .collect();
        kvsync::apply(&db, &kv, &token, &changes).await;
    }
    advance(env, &db, &imp, chunk, now).await
}

/// The chunk is done: the import moves on to its next chunk, or is done.
async fn advance(
    env: &Env,
    db: &D1Database,
    imp: &imports::Import,
    chunk: i64,
    now: i64,
) -> ApiResult<()> {
    if imports::finish_chunk(db, &imp.id, chunk, now).await? && chunk + 1 < imp.chunks {
        // A lost send is re-sent by the cron (`sweep`).
        let job = Job::Import {
            import_id: imp.id.clone(),
            chunk: (chunk + 1) as u32,
        };
        if let Err(e) = send(env, &job).await {
            console_error!("imports: next chunk of {} not sent: {e:?}", imp.id);
        }
    }
    Ok(())
}

/// A chunk run failed: the message is retried, unless the import has
/// failed too often (then it is `failed`, and the message dropped).
pub async fn failed(env: &Env, import_id: &str, e: &ApiError) -> bool {
    let now = worker::Date::now().as_millis() as i64;
    let result = async {
        let db = env.d1("DB").map_err(internal("D1 binding"))?;
        imports::record_failure(&db, import_id, &e.message(), MAX_FAILURES, now).await
    }
    .await;
    result.unwrap_or(false)
}

/// The cron's part: imports whose message was lost get their due chunk
/// sent again (a message that was only slow finds it done and stops).
pub async fn sweep(env: &Env, now: i64) {
    let due = match env.d1("DB") {
        Ok(db) => imports::stalled(&db, now - STALL_MS, now).await,
        Err(_) => return,
    };
    match due {
        Ok(due) => {
            for (id, chunk) in due {
                let job = Job::Import {
                    import_id: id.clone().into(),
                    chunk: chunk as u32,
                };
                if let Err(e) = send(env, &job).await {
                    console_error!("imports: re-send of {id} failed: {e:?}");
                }
            }
        }
        Err(e) => console_error!("imports: sweep failed: {e:?}"),
    }
}

/// Fault injection, compiled into test builds only.
#[cfg(feature = "test-hooks")]
mod faults {
    use crate::store::kv::{self, Faults};
    use edgelink_core::{ApiError, ApiResult};

    /// `IMPORT_FAULT_POINT=always`: every run fails before it writes
    /// anything (the import ends `failed`).
    pub fn always(env: &worker::Env) -> ApiResult<()> {
        match crate::kvsync::fault_point(env, "IMPORT_FAULT_POINT").as_deref() {
            Some("always") => Err(ApiError::Internal),
            _ => Ok(()),
        }
    }

    /// `IMPORT_FAULT_POINT=after-first-batch`: the first run of each import
    /// dies after its first D1 transaction committed (links written,
    /// outcomes recorded, KV not written), once per import.
    pub async fn after_batch(
        env: &worker::Env,
        store: &worker::KvStore,
        id: &str,
    ) -> ApiResult<()> {
        let point = crate::kvsync::fault_point(env, "IMPORT_FAULT_POINT");
        if point.as_deref() != Some("after-first-batch") {
            return Ok(());
        }
        if matches!(kv::get::<Faults>(store, ("import", id)).await, Ok(Some(_))) {
            return Ok(());
        }
        let _ = kv::put::<Faults>(store, ("import", id), &1).await;
        worker::console_error!("imports: fault injected after the first batch of {id}");
        Err(ApiError::Internal)
    }
}
