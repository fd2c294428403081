//! `/api/v1/links`: go2.gg-compatible link management.

use std::collections::HashMap;

use edgelink_core::blocklist::{self as core_blocklist, HostPattern};
use edgelink_core::ids::{LinkId, WorkspaceId};
use edgelink_core::link::{Link, LinkPatch};
use edgelink_core::slug::Slug;
use edgelink_core::{ApiError, ApiResult};
use worker::{D1Database, Request, Response};

use crate::auth::Caller;
use crate::http::{
    created, found, list as list_response, no_content, ok, random_bytes, Ctx, Page, Query,
};
use crate::router::{Call, Route};
use crate::store::links::{self, ListFilter, Sort};
use crate::store::{blocklist, domains, groups, records, workspaces};
use crate::store::{Constraint, OnConstraint, WriteError};
use crate::webhooks;

#[rustfmt::skip]
pub fn routes() -> Vec<Route> {
    crate::crud!("/api/v1/links", "Link", "Links": list create get update delete)
}

/// The lookups a new or changed link needs (its host is a verified
/// domain of the workspace, its group exists there, its URLs are not
/// blocked), the first two remembered for the many links of a bulk
/// request or an import.
pub struct Checks<'a> {
    pub db: &'a D1Database,
    pub workspace_id: &'a str,
    pub short_domain: &'a str,
    domains: HashMap<String, bool>,
    groups: HashMap<String, bool>,
    /// Authorities of a link's URLs → those that are this platform's.
    own: HashMap<String, Vec<String>>,
    /// Host candidates of a link's URLs → the blocked patterns among them.
    patterns: HashMap<String, Vec<HostPattern>>,
}

impl<'a> Checks<'a> {
    pub fn new(db: &'a D1Database, workspace_id: &'a str, short_domain: &'a str) -> Self {
        Checks {
            db,
            workspace_id,
            short_domain,
            domains: HashMap::new(),
            groups: HashMap::new(),
            own: HashMap::new(),
            patterns: HashMap::new(),
        }
    }

    /// Links on another host need a verified domain of the workspace.
    pub async fn domain(&mut self, domain: &str) -> ApiResult<()> {
        if domain == self.short_domain {
            return Ok(());
        }
        let ok = match self.domains.get(domain) {
            Some(ok) => *ok,
            None => {
                let ok = domains::verified(self.db, self.workspace_id, domain).await?;
                self.domains.insert(domain.to_string(), ok);
                ok
            }
        };
        match ok {
            true => Ok(()),
            false => Err(ApiError::DomainNotVerified(format!(
                "The domain '{domain}' is not a verified domain of this workspace"
            ))),
        }
    }

    /// No URL of the link on a blocked host (400 `DESTINATION_BLOCKED`),
    /// none a short link of this platform (400 `INVALID_URL`). The D1
    /// lookups (which hosts are verified domains, which patterns match)
    /// are remembered per host set; the checks themselves are core's.
    pub async fn urls(&mut self, link: &Link) -> ApiResult<()> {
        let authorities = core_blocklist::link_authorities(link);
        let key = authorities.join(" ");
        if !self.own.contains_key(&key) {
            let mut own = domains::verified_among(self.db, &authorities).await?;
            own.push(self.short_domain.to_string());
            self.own.insert(key.clone(), own);
        }
        core_blocklist::check_self_loop(link, &self.own[&key])?;
        let candidates = core_blocklist::link_candidates(link);
        let key = candidates.join(" ");
        if !self.patterns.contains_key(&key) {
            let found = blocklist::matching(self.db, &candidates).await?;
            self.patterns
                .insert(key.clone(), found.into_iter().map(|p| p.host).collect());
        }
        core_blocklist::check(link, &self.patterns[&key])
    }

    pub async fn group(&mut self, group_id: Option<&str>) -> ApiResult<()> {
        let Some(g) = group_id else { return Ok(()) };
        let ok = match self.groups.get(g) {
            Some(ok) => *ok,
            None => {
                let ok = groups::get(self.db, self.workspace_id, g).await?.is_some();
                self.groups.insert(g.to_string(), ok);
                ok
            }
        };
        match ok {
            true => Ok(()),
            false => Err(ApiError::validation(
                "groupId",
                "no such group in this workspace",
            )),
        }
    }
}

/// A new link of the workspace from a validated create body (its slug is
/// the body's, or empty until one is generated).
pub fn new_link(
    workspace_id: &WorkspaceId,
    short_domain: &str,
    now: i64,
    patch: LinkPatch,
) -> Link {
    let mut link = Link {
        id: LinkId::new(&random_bytes::<16>()),
        workspace_id: workspace_id.clone(),
        domain: short_domain.to_string(),
        created_at: now,
        updated_at: now,
        ..Default::default()
    };
    patch.apply(&mut link, &random_bytes::<16>());
    link
}

pub fn slug_exists(link: &Link) -> ApiError {
    ApiError::SlugExists(format!(
        "The slug '{}' already exists on {}",
        link.slug, link.domain
    ))
}

pub async fn create(ctx: &Ctx, caller: &Caller, req: &mut Request) -> ApiResult<Response> {
    let body = caller.write_body(req).await?;
    let patch = LinkPatch::parse(&body, true)?;
    let custom_slug = patch.slug.is_some();
    let mut link = new_link(&caller.workspace_id, &ctx.short_domain, ctx.now, patch);
    let db = ctx.db()?;
    let mut checks = Checks::new(&db, &caller.workspace_id, &ctx.short_domain);
    checks.domain(&link.domain).await?;
    checks.group(link.group_id.as_deref()).await?;
    checks.urls(&link).await?;
    let quota = workspaces::get(&db, &caller.workspace_id)
        .await?
        .map(|w| w.link_quota())
        .unwrap_or(0);
    // A generated slug retries on the (rare) collision; a chosen one does not.
    for _ in 0..5 {
        if !custom_slug {
            link.slug = Slug::generate(&random_bytes::<7>()).to_string();
        }
        match links::insert(&db, &link, quota).await {
            Ok(true) => {
                records::put(&ctx.kv()?, &link).await?;
                let data = link.to_json(&ctx.scheme);
                webhooks::emit(ctx, &link.workspace_id, "link.created", data.clone()).await;
                return Ok(created(data));
            }
            Ok(false) => {
                return Err(ApiError::LimitReached(format!(
                    "This workspace's plan allows {quota} links"
                )))
            }
            Err(WriteError::Constraint(Constraint::LinkSlug)) if !custom_slug => continue,
            Err(WriteError::Constraint(_)) => return Err(slug_exists(&link)),
            Err(WriteError::Other(e)) => return Err(e),
        }
    }
    Err(ApiError::Conflict(
        "Could not generate a free slug; retry".into(),
    ))
}

pub async fn load(ctx: &Ctx, caller: &Caller, id: &str) -> ApiResult<Link> {
    found(
        links::get(&ctx.db()?, &caller.workspace_id, id).await?,
        "Link",
    )
}

pub async fn get(ctx: &Ctx, caller: &Caller, id: &str) -> ApiResult<Response> {
    Ok(ok(load(ctx, caller, id).await?.to_json(&ctx.scheme)))
}

pub async fn update(ctx: &Ctx, caller: &Caller, call: &mut Call) -> ApiResult<Response> {
    let (req, id) = call.split();
    let body = caller.write_body(req).await?;
    let patch = LinkPatch::parse(&body, false)?;
    let before = load(ctx, caller, id).await?;
    let mut link = before.clone();
    patch.apply(&mut link, &random_bytes::<16>());
    let db = ctx.db()?;
    let mut checks = Checks::new(&db, &caller.workspace_id, &ctx.short_domain);
    if link.domain != before.domain {
        checks.domain(&link.domain).await?;
    }
    if link.group_id != before.group_id {
        checks.group(link.group_id.as_deref()).await?;
    }
    // Only new URLs are checked: a blocked link stays editable once its
    // destination is changed, and a title change costs no lookups.
    if link.urls() != before.urls() {
        checks.urls(&link).await?;
    }
    link.updated_at = ctx.now;
    links::update(&db, &link)
        .await
        .on_constraint(|_| slug_exists(&link))?;
    records::sync(&ctx.kv()?, Some(&before), &link).await?;
    let data = link.to_json(&ctx.scheme);
    webhooks::emit(ctx, &link.workspace_id, "link.updated", data.clone()).await;
    Ok(ok(data))
}

pub async fn delete(ctx: &Ctx, caller: &Caller, id: &str) -> ApiResult<Response> {
    caller.require_write()?;
    let link = load(ctx, caller, id).await?;
    if links::delete(&ctx.db()?, &caller.workspace_id, id).await? {
        records::delete(&ctx.kv()?, &link.domain, &link.slug).await?;
        let data = link.to_json(&ctx.scheme);
        webhooks::emit(ctx, &link.workspace_id, "link.deleted", data).await;
    }
    Ok(no_content())
}

pub async fn list(ctx: &Ctx, caller: &Caller, req: &Request) -> ApiResult<Response> {
    let q = Query::of(req);
    let page = Page::from_query(&q)?;
    let nonempty = |name: &str| q.get(name).filter(|s| !s.is_empty()).map(str::to_string);
    if nonempty("search").is_some_and(|s| s.chars().count() > 200) {
        return Err(ApiError::validation(
            "search",
            "must be at most 200 characters",
        ));
    }
    let filter = ListFilter {
        search: nonempty("search"),
        domain: nonempty("domain").map(|d| d.to_ascii_lowercase()),
        tag: nonempty("tag"),
        archived: edgelink_core::input::query_bool(q.get("archived"), "archived")?,
        group_id: nonempty("groupId"),
        sort: match q.get("sort") {
            None | Some("") => Sort::Created,
            Some(s) => Sort::parse(s).ok_or_else(|| {
                ApiError::validation("sort", "must be created, clicks or updated")
            })?,
        },
    };
    let (rows, total) = links::list(
        &ctx.db()?,
        &caller.workspace_id,
        &filter,
        page.per_page,
        page.offset(),
    )
    .await?;
    let items = rows.iter().map(|l| l.to_json(&ctx.scheme)).collect();
    Ok(list_response(items, &page, total))
}
