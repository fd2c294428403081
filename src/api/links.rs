//! `/api/v1/links`: go2.gg-compatible link management.

use edgelink_core::ids::LinkId;
use edgelink_core::link::{Link, LinkPatch};
use edgelink_core::slug::Slug;
use edgelink_core::{ApiError, ApiResult};
use worker::{Request, Response};

use crate::auth::Caller;
use crate::http::{
    created, found, list as list_response, no_content, ok, random_bytes, Ctx, Page, Query,
};
use crate::router::{Call, Route};
use crate::store::links::{self, ListFilter, Sort};
use crate::store::{domains, groups, records, workspaces};
use crate::store::{Constraint, OnConstraint, WriteError};
use crate::webhooks;

#[rustfmt::skip]
pub fn routes() -> Vec<Route> {
    crate::crud!("/api/v1/links", "Link", "Links": list create get update delete)
}

/// Links on another host need a verified domain of the caller's workspace.
async fn check_domain(ctx: &Ctx, caller: &Caller, domain: &str) -> ApiResult<()> {
    if domain == ctx.short_domain {
        return Ok(());
    }
    match domains::verified(&ctx.db()?, &caller.workspace_id, domain).await? {
        true => Ok(()),
        false => Err(ApiError::DomainNotVerified(format!(
            "The domain '{domain}' is not a verified domain of this workspace"
        ))),
    }
}

async fn check_group(ctx: &Ctx, caller: &Caller, group_id: Option<&str>) -> ApiResult<()> {
    if let Some(g) = group_id {
        if groups::get(&ctx.db()?, &caller.workspace_id, g)
            .await?
            .is_none()
        {
            return Err(ApiError::validation(
                "groupId",
                "no such group in this workspace",
            ));
        }
    }
    Ok(())
}

fn slug_exists(link: &Link) -> ApiError {
    ApiError::SlugExists(format!(
        "The slug '{}' already exists on {}",
        link.slug, link.domain
    ))
}

pub async fn create(ctx: &Ctx, caller: &Caller, req: &mut Request) -> ApiResult<Response> {
    let body = caller.write_body(req).await?;
    let patch = LinkPatch::parse(&body, true)?;
    let custom_slug = patch.slug.is_some();
    let mut link = Link {
        id: LinkId::new(&random_bytes::<16>()),
        workspace_id: caller.workspace_id.clone(),
        domain: ctx.short_domain.clone(),
        created_at: ctx.now,
        updated_at: ctx.now,
        ..Default::default()
    };
    patch.apply(&mut link, &random_bytes::<16>());
    check_domain(ctx, caller, &link.domain).await?;
    check_group(ctx, caller, link.group_id.as_deref()).await?;
    crate::blocklist::check_link(ctx, &link).await?;
    let db = ctx.db()?;
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
    if link.domain != before.domain {
        check_domain(ctx, caller, &link.domain).await?;
    }
    if link.group_id != before.group_id {
        check_group(ctx, caller, link.group_id.as_deref()).await?;
    }
    // Only new URLs are checked: a blocked link stays editable once its
    // destination is changed, and a title change costs no lookups.
    if link.urls() != before.urls() {
        crate::blocklist::check_link(ctx, &link).await?;
    }
    link.updated_at = ctx.now;
    links::update(&ctx.db()?, &link)
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
