//! `/api/v1/links/bulk`: create, change or delete up to 100 links in one
//! request. The answer has one entry per input, in order: the link (or
//! `deleted: true`), or the error it would have had alone, with `index`.
//! D1 is written in one transaction, then KV (`crate::kvsync`).

use std::collections::{HashMap, HashSet};

use edgelink_core::input::Fields;
use edgelink_core::link::{Link, LinkPatch, MAX_ID, MAX_TAGS, MAX_TAG_LEN};
use edgelink_core::slug::Slug;
use edgelink_core::{ApiError, ApiResult};
use serde_json::{json, Map, Value};
use worker::{D1PreparedStatement, Method, Request, Response};

use crate::api::links::{new_link, slug_exists, Checks};
use crate::auth::Caller;
use crate::http::{json_value_body, ok, random_bytes, Ctx};
use crate::kvsync::{self, changed, KvChange};
use crate::router::Route;
use crate::store::{links, workspaces};
use crate::webhooks;

/// Items a bulk request may name.
pub const MAX_ITEMS: usize = 100;
/// A bulk create's body: 100 links of up to ~10 KB each.
const MAX_BODY: usize = 1024 * 1024;

#[rustfmt::skip]
pub fn routes() -> Vec<Route> {
    vec![
        Route::key(Method::Post, "/api/v1/links/bulk", "bulkCreateLinks", |x, c, r| Box::pin(create(x, c, &mut r.req))),
        Route::key(Method::Patch, "/api/v1/links/bulk", "bulkUpdateLinks", |x, c, r| Box::pin(update(x, c, &mut r.req))),
        Route::key(Method::Delete, "/api/v1/links/bulk", "bulkDeleteLinks", |x, c, r| Box::pin(delete(x, c, &mut r.req))),
    ]
}

fn error_entry(index: usize, id: Option<&str>, e: &ApiError) -> Value {
    let mut v = json!({"index": index, "error": e.envelope()["error"]});
    if let Some(id) = id {
        v["id"] = json!(id);
    }
    v
}

fn too_many(field: &str) -> ApiError {
    ApiError::validation(field, format!("at most {MAX_ITEMS} items"))
}

/// Test builds only: `BULK_FAULT_POINT=after-d1` makes every bulk request
/// fail after its D1 transaction committed, before any KV write.
fn fault_after_d1(_ctx: &Ctx) -> ApiResult<()> {
    #[cfg(feature = "test-hooks")]
    if kvsync::fault_point(&_ctx.env, "BULK_FAULT_POINT").as_deref() == Some("after-d1") {
        worker::console_error!("bulk: fault injected after the D1 commit");
        return Err(ApiError::Internal);
    }
    Ok(())
}

fn token() -> String {
    random_bytes::<12>()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A new link of the request that passed every check of its own.
struct Candidate {
    index: usize,
    link: Link,
    custom_slug: bool,
}

pub async fn create(ctx: &Ctx, caller: &Caller, req: &mut Request) -> ApiResult<Response> {
    caller.require_write()?;
    let items = match json_value_body(req, MAX_BODY).await? {
        Value::Array(items) => items,
        _ => {
            return Err(ApiError::validation(
                "body",
                "must be a JSON array of links",
            ))
        }
    };
    if items.is_empty() {
        return Err(ApiError::validation("body", "must name at least one link"));
    }
    if items.len() > MAX_ITEMS {
        return Err(too_many("body"));
    }
    // The request's shape is checked whole; each link's content alone.
    if let Some(i) = items.iter().position(|v| !v.is_object()) {
        return Err(ApiError::validation(
            format!("body[{i}]"),
            "must be a JSON object (a link)",
        ));
    }
    let db = ctx.db()?;
    let mut checks = Checks::new(&db, &caller.workspace_id, &ctx.short_domain);
    let mut entries: Vec<Option<Value>> = vec![None; items.len()];
    let mut candidates = Vec::new();
    let mut chosen = HashSet::new();
    for (index, item) in items.iter().enumerate() {
        let prepared = async {
            let body = item.as_object().ok_or(ApiError::Internal)?;
            let patch = LinkPatch::parse(body, true)?;
            let custom_slug = patch.slug.is_some();
            let mut link = new_link(&caller.workspace_id, &ctx.short_domain, ctx.now, patch);
            checks.domain(&link.domain).await?;
            checks.group(link.group_id.as_deref()).await?;
            checks.urls(&link).await?;
            if !custom_slug {
                link.slug = Slug::generate(&random_bytes::<7>()).to_string();
            }
            // Two inputs of one request with the same slug: the first wins.
            if !chosen.insert((link.domain.clone(), link.slug.clone())) {
                return Err(slug_exists(&link));
            }
            Ok(Candidate {
                index,
                link,
                custom_slug,
            })
        }
        .await;
        match prepared {
            Ok(c) => candidates.push(c),
            Err(e) => entries[index] = Some(error_entry(index, None, &e)),
        }
    }
    // Slugs taken already: their inputs fail alone, as they would alone.
    let keys: Vec<(String, String)> = candidates
        .iter()
        .map(|c| (c.link.domain.clone(), c.link.slug.clone()))
        .collect();
    let taken: HashSet<(String, String)> = links::by_slugs(&db, &keys)
        .await?
        .into_iter()
        .map(|l| (l.domain, l.slug))
        .collect();
    candidates.retain(|c| {
        let free = !taken.contains(&(c.link.domain.clone(), c.link.slug.clone()));
        if !free {
            let e = if c.custom_slug {
                slug_exists(&c.link)
            } else {
                ApiError::Conflict("Could not generate a free slug; retry".into())
            };
            entries[c.index] = Some(error_entry(c.index, None, &e));
        }
        free
    });

    if !candidates.is_empty() {
        let quota = workspaces::get(&db, &caller.workspace_id)
            .await?
            .map(|w| w.link_quota())
            .unwrap_or(0);
        let n = candidates.len() as i64;
        let over = |count: i64| {
            ApiError::LimitReached(format!(
                "This workspace's plan allows {quota} links; it has {count} and this request would add {n}"
            ))
        };
        let count = links::count(&db, &caller.workspace_id).await?;
        if count + n > quota {
            return Err(over(count));
        }
        // The guard repeats the check inside the transaction, so a
        // concurrent create cannot push the workspace over its quota.
        let mut stmts = vec![links::quota_guard_stmt(
            &db,
            &caller.workspace_id,
            n,
            quota,
        )?];
        for c in &candidates {
            stmts.push(links::insert_stmt(&db, &c.link, quota)?);
        }
        let token = token();
        let results = match kvsync::commit(&db, stmts, &token, &keys_of(&candidates), ctx.now).await
        {
            Ok(r) => r,
            Err(e) => {
                let count = links::count(&db, &caller.workspace_id).await?;
                return Err(if count + n > quota { over(count) } else { e });
            }
        };
        fault_after_d1(ctx)?;
        let mut created = Vec::new();
        for (c, r) in candidates.into_iter().zip(results.iter().skip(1)) {
            if changed(r) {
                created.push(c);
            } else {
                // Taken between the check and the commit.
                entries[c.index] = Some(error_entry(c.index, None, &slug_exists(&c.link)));
            }
        }
        let changes: Vec<KvChange> = created
            .iter()
            .map(|c| KvChange::Put(Box::new(c.link.clone())))
            .collect();
        kvsync::apply(&db, &ctx.kv()?, &token, &changes).await;
        for c in created {
            let data = c.link.to_json(&ctx.scheme);
            webhooks::emit(ctx, &caller.workspace_id, "link.created", data.clone()).await;
            entries[c.index] = Some(json!({"index": c.index, "link": data}));
        }
    }
    Ok(ok(Value::Array(entries.into_iter().flatten().collect())))
}

fn keys_of(c: &[Candidate]) -> Vec<(String, String)> {
    c.iter()
        .map(|c| (c.link.domain.clone(), c.link.slug.clone()))
        .collect()
}

/// `ids`: 1 to 100 distinct link ids.
fn ids(f: &Fields) -> ApiResult<Vec<String>> {
    let ids = match f.map.get("ids") {
        None => return Err(ApiError::validation("ids", "is required")),
        Some(Value::Array(a)) => a,
        Some(_) => return Err(ApiError::validation("ids", "must be an array of link ids")),
    };
    if ids.is_empty() {
        return Err(ApiError::validation("ids", "must name at least one link"));
    }
    if ids.len() > MAX_ITEMS {
        return Err(too_many("ids"));
    }
    let mut seen = HashSet::new();
    ids.iter()
        .map(|v| match v.as_str() {
            Some(s) if !s.is_empty() && s.chars().count() <= MAX_ID => {
                if seen.insert(s) {
                    Ok(s.to_string())
                } else {
                    Err(ApiError::validation("ids", format!("'{s}' is named twice")))
                }
            }
            _ => Err(ApiError::validation(
                "ids",
                format!("must be non-empty strings of at most {MAX_ID} characters"),
            )),
        })
        .collect()
}

/// The links of the workspace among `ids`, by id.
async fn owned(ctx: &Ctx, caller: &Caller, ids: &[String]) -> ApiResult<HashMap<String, Link>> {
    Ok(links::by_ids(&ctx.db()?, &caller.workspace_id, ids)
        .await?
        .into_iter()
        .map(|l| (l.id.to_string(), l))
        .collect())
}

/// The changes a bulk PATCH may make.
struct Changes {
    add_tags: Vec<String>,
    remove_tags: Vec<String>,
    group_id: Option<Option<String>>,
    archived: Option<bool>,
    suspended: Option<bool>,
}

const CHANGES: &[&str] = &["addTags", "removeTags", "groupId", "archived", "suspended"];

impl Changes {
    fn parse(v: Option<&Value>) -> ApiResult<Changes> {
        let map: &Map<String, Value> = match v {
            Some(Value::Object(m)) => m,
            None => return Err(ApiError::validation("changes", "is required")),
            Some(_) => return Err(ApiError::validation("changes", "must be an object")),
        };
        if let Some(k) = map.keys().find(|k| !CHANGES.contains(&k.as_str())) {
            return Err(ApiError::validation(
                format!("changes.{k}"),
                "cannot be changed in bulk (only addTags, removeTags, groupId, archived, suspended)",
            ));
        }
        if map.is_empty() {
            return Err(ApiError::validation("changes", "must change something"));
        }
        let f = Fields::new(map);
        let named = |e: ApiError| match e {
            ApiError::Validation { field, message } => {
                ApiError::validation(format!("changes.{field}"), message)
            }
            other => other,
        };
        let tags = |name: &str| -> ApiResult<Vec<String>> {
            if map.get(name).is_some_and(Value::is_null) {
                return Err(ApiError::validation(
                    format!("changes.{name}"),
                    "must be an array of strings",
                ));
            }
            Ok(f.string_list(name, MAX_TAGS, MAX_TAG_LEN)
                .map_err(named)?
                .unwrap_or_default())
        };
        Ok(Changes {
            add_tags: tags("addTags")?,
            remove_tags: tags("removeTags")?,
            group_id: match f.nullable_string("groupId", MAX_ID).map_err(named)? {
                Some(Some(g)) if g.is_empty() => Some(None),
                other => other,
            },
            archived: f.bool("archived").map_err(named)?,
            suspended: f.bool("suspended").map_err(named)?,
        })
    }

    fn apply(&self, link: &mut Link) -> ApiResult<()> {
        if !self.add_tags.is_empty() || !self.remove_tags.is_empty() {
            let mut tags: Vec<String> = link
                .tags
                .iter()
                .filter(|t| !self.remove_tags.contains(t))
                .cloned()
                .collect();
            for t in &self.add_tags {
                if !tags.contains(t) {
                    tags.push(t.clone());
                }
            }
            if tags.len() > MAX_TAGS {
                return Err(ApiError::validation(
                    "tags",
                    format!("a link has at most {MAX_TAGS} tags"),
                ));
            }
            link.tags = tags;
        }
        if let Some(g) = &self.group_id {
            link.group_id = g.clone();
        }
        if let Some(a) = self.archived {
            link.archived = a;
        }
        if let Some(s) = self.suspended {
            link.suspended = s;
        }
        Ok(())
    }
}

pub async fn update(ctx: &Ctx, caller: &Caller, req: &mut Request) -> ApiResult<Response> {
    let body = caller.write_body(req).await?;
    let f = Fields::only(&body, &["ids", "changes"])?;
    let ids = ids(&f)?;
    let changes = Changes::parse(body.get("changes"))?;
    let db = ctx.db()?;
    if let Some(Some(g)) = &changes.group_id {
        Checks::new(&db, &caller.workspace_id, &ctx.short_domain)
            .group(Some(g))
            .await
            .map_err(|_| {
                ApiError::validation("changes.groupId", "no such group in this workspace")
            })?;
    }
    let found = owned(ctx, caller, &ids).await?;
    let mut entries = Vec::with_capacity(ids.len());
    let mut stmts: Vec<D1PreparedStatement> = Vec::new();
    let mut written: Vec<(usize, Link)> = Vec::new();
    let mut kv_changes = Vec::new();
    for (index, id) in ids.iter().enumerate() {
        let Some(before) = found.get(id) else {
            entries.push(error_entry(index, Some(id), &ApiError::not_found("Link")));
            continue;
        };
        let mut link = before.clone();
        if let Err(e) = changes.apply(&mut link) {
            entries.push(error_entry(index, Some(id), &e));
            continue;
        }
        if link != *before {
            link.updated_at = ctx.now;
            stmts.push(links::update_stmt(&db, &link)?);
            // Tags, group and archiving are not in the redirect record.
            if link.record() != before.record() {
                kv_changes.push(KvChange::Put(Box::new(link.clone())));
            }
            written.push((entries.len(), link.clone()));
        }
        entries.push(json!({"index": index, "id": id, "link": link.to_json(&ctx.scheme)}));
    }
    if !stmts.is_empty() {
        let token = token();
        let keys: Vec<_> = kv_changes.iter().map(KvChange::key).collect();
        kvsync::commit(&db, stmts, &token, &keys, ctx.now).await?;
        fault_after_d1(ctx)?;
        kvsync::apply(&db, &ctx.kv()?, &token, &kv_changes).await;
        for (_, link) in written {
            let data = link.to_json(&ctx.scheme);
            webhooks::emit(ctx, &caller.workspace_id, "link.updated", data).await;
        }
    }
    Ok(ok(Value::Array(entries)))
}

pub async fn delete(ctx: &Ctx, caller: &Caller, req: &mut Request) -> ApiResult<Response> {
    let body = caller.write_body(req).await?;
    let f = Fields::only(&body, &["ids"])?;
    let ids = ids(&f)?;
    let db = ctx.db()?;
    let found = owned(ctx, caller, &ids).await?;
    let mut entries: Vec<Option<Value>> = vec![None; ids.len()];
    let mut stmts = Vec::new();
    let mut doomed: Vec<(usize, &Link)> = Vec::new();
    for (index, id) in ids.iter().enumerate() {
        match found.get(id) {
            Some(link) => {
                stmts.push(links::delete_stmt(&db, &caller.workspace_id, id)?);
                doomed.push((index, link));
            }
            None => {
                entries[index] = Some(error_entry(index, Some(id), &ApiError::not_found("Link")))
            }
        }
    }
    if !stmts.is_empty() {
        let token = token();
        let keys: Vec<_> = doomed
            .iter()
            .map(|(_, l)| (l.domain.clone(), l.slug.clone()))
            .collect();
        let results = kvsync::commit(&db, stmts, &token, &keys, ctx.now).await?;
        fault_after_d1(ctx)?;
        let mut gone = Vec::new();
        for ((index, link), r) in doomed.into_iter().zip(&results) {
            if changed(r) {
                gone.push(link);
            }
            // Deleted meanwhile by another request: deleted all the same.
            entries[index] = Some(json!({"index": index, "id": link.id, "deleted": true}));
        }
        let kv_changes: Vec<KvChange> = gone
            .iter()
            .map(|l| KvChange::Delete {
                domain: l.domain.clone(),
                slug: l.slug.clone(),
            })
            .collect();
        kvsync::apply(&db, &ctx.kv()?, &token, &kv_changes).await;
        for link in gone {
            let data = link.to_json(&ctx.scheme);
            webhooks::emit(ctx, &caller.workspace_id, "link.deleted", data).await;
        }
    }
    Ok(ok(Value::Array(entries.into_iter().flatten().collect())))
}
