//! `/api/v1/galleries`: link-in-bio pages and their items; `GET /bio/{slug}`
//! serves a published one as HTML (`edgelink_core::galleries::render`).

use edgelink_core::galleries::{
    self as core_galleries, check_reorder, GalleryPatch, ItemInput, MAX_ITEMS, MAX_PER_WORKSPACE,
    PAGE_CSP,
};
use edgelink_core::input::Fields;
use edgelink_core::secrets::new_id;
use edgelink_core::slug::Slug;
use edgelink_core::{pages, ApiError, ApiResult};
use serde_json::{Map, Value};
use worker::{Request, Response};

use crate::auth::Caller;
use crate::http::{
    created, internal, json_body, list as list_response, no_content, ok, random_bytes, Ctx, Page,
    Query,
};
use crate::store::galleries::{self as store, Gallery, Item};
use crate::store::OnConstraint;

fn page_url(ctx: &Ctx, slug: &str) -> String {
    format!("{}://{}/bio/{slug}", ctx.scheme, ctx.short_domain)
}

fn slug_taken(slug: &str) -> ApiError {
    ApiError::SlugExists(format!("The gallery slug '{slug}' is taken"))
}

pub async fn create(ctx: &Ctx, caller: &Caller, req: &mut Request) -> ApiResult<Response> {
    caller.require_write()?;
    let body = json_body(req).await?;
    let p = GalleryPatch::parse(&body, true)?;
    let g = Gallery {
        id: new_id("gal", &random_bytes::<16>()),
        workspace_id: caller.workspace_id.clone(),
        slug: p.slug.unwrap_or_default(),
        title: p.title.unwrap_or_default(),
        bio: p.bio.flatten(),
        avatar_url: p.avatar_url.flatten(),
        theme: p.theme.unwrap_or_else(|| "default".into()),
        custom_css: p.custom_css.flatten(),
        is_published: 0,
        created_at: ctx.now,
        updated_at: ctx.now,
    };
    let inserted = store::insert(&ctx.db()?, &g, MAX_PER_WORKSPACE)
        .await
        .on_constraint(|_| slug_taken(&g.slug))?;
    if !inserted {
        return Err(ApiError::LimitReached(format!(
            "A workspace can have at most {MAX_PER_WORKSPACE} galleries"
        )));
    }
    Ok(created(g.to_json(&page_url(ctx, &g.slug), &[])))
}

async fn load(ctx: &Ctx, caller: &Caller, id: &str) -> ApiResult<Gallery> {
    store::get(&ctx.db()?, &caller.workspace_id, id)
        .await?
        .ok_or_else(|| ApiError::not_found("Gallery"))
}

async fn render_json(ctx: &Ctx, g: &Gallery) -> ApiResult<Value> {
    let items = store::items(&ctx.db()?, &g.id).await?;
    Ok(g.to_json(&page_url(ctx, &g.slug), &items))
}

pub async fn get(ctx: &Ctx, caller: &Caller, id: &str) -> ApiResult<Response> {
    let g = load(ctx, caller, id).await?;
    Ok(ok(render_json(ctx, &g).await?))
}

/// Galleries without their items (`GET /{id}` has them).
pub async fn list(ctx: &Ctx, caller: &Caller, req: &Request) -> ApiResult<Response> {
    let page = Page::from_query(&Query::of(req))?;
    let (rows, total) = store::list(
        &ctx.db()?,
        &caller.workspace_id,
        page.per_page,
        page.offset(),
    )
    .await?;
    let items = rows
        .iter()
        .map(|g| {
            let mut v = g.to_json(&page_url(ctx, &g.slug), &[]);
            if let Value::Object(m) = &mut v {
                m.remove("items");
            }
            v
        })
        .collect();
    Ok(list_response(items, &page, total))
}

async fn save(ctx: &Ctx, g: &Gallery) -> ApiResult<Response> {
    store::update(&ctx.db()?, g)
        .await
        .on_constraint(|_| slug_taken(&g.slug))?;
    Ok(ok(render_json(ctx, g).await?))
}

pub async fn update(
    ctx: &Ctx,
    caller: &Caller,
    req: &mut Request,
    id: &str,
) -> ApiResult<Response> {
    caller.require_write()?;
    let body = json_body(req).await?;
    let p = GalleryPatch::parse(&body, false)?;
    let mut g = load(ctx, caller, id).await?;
    if let Some(s) = p.slug {
        g.slug = s;
    }
    if let Some(t) = p.title {
        g.title = t;
    }
    if let Some(b) = p.bio {
        g.bio = b;
    }
    if let Some(a) = p.avatar_url {
        g.avatar_url = a;
    }
    if let Some(t) = p.theme {
        g.theme = t;
    }
    if let Some(c) = p.custom_css {
        g.custom_css = c;
    }
    g.updated_at = ctx.now;
    save(ctx, &g).await
}

/// `POST /{id}/publish` with `{"isPublished": true|false}`.
pub async fn publish(
    ctx: &Ctx,
    caller: &Caller,
    req: &mut Request,
    id: &str,
) -> ApiResult<Response> {
    caller.require_write()?;
    let body = json_body(req).await?;
    let f = Fields::new(&body);
    f.deny_unknown(&["isPublished"], &[])?;
    let publish = f
        .bool("isPublished")?
        .ok_or_else(|| ApiError::validation("isPublished", "is required"))?;
    let mut g = load(ctx, caller, id).await?;
    g.is_published = publish as i64;
    g.updated_at = ctx.now;
    save(ctx, &g).await
}

pub async fn delete(ctx: &Ctx, caller: &Caller, id: &str) -> ApiResult<Response> {
    caller.require_write()?;
    if !store::delete(&ctx.db()?, &caller.workspace_id, id).await? {
        return Err(ApiError::not_found("Gallery"));
    }
    Ok(no_content())
}

// ---------------------------------------------------------------------------
// Items
// ---------------------------------------------------------------------------

fn item_row(id: String, gallery_id: &str, input: ItemInput, now: i64) -> Item {
    Item {
        id,
        gallery_id: gallery_id.to_string(),
        kind: input.kind,
        title: input.title,
        url: input.url,
        image_url: input.image_url,
        embed_type: input.embed_type,
        embed_data: input.embed_data.map(|d| d.to_string()),
        position: 0,
        created_at: now,
        updated_at: now,
    }
}

pub async fn list_items(ctx: &Ctx, caller: &Caller, id: &str) -> ApiResult<Response> {
    let g = load(ctx, caller, id).await?;
    let items = store::items(&ctx.db()?, &g.id).await?;
    Ok(ok(Value::Array(items.iter().map(Item::to_json).collect())))
}

pub async fn create_item(
    ctx: &Ctx,
    caller: &Caller,
    req: &mut Request,
    id: &str,
) -> ApiResult<Response> {
    caller.require_write()?;
    let body = json_body(req).await?;
    let input = ItemInput::parse(&body)?;
    let g = load(ctx, caller, id).await?;
    let mut it = item_row(new_id("itm", &random_bytes::<16>()), &g.id, input, ctx.now);
    match store::insert_item(&ctx.db()?, &caller.workspace_id, &it, MAX_ITEMS).await? {
        Some(position) => {
            it.position = position;
            Ok(created(it.to_json()))
        }
        None => Err(ApiError::LimitReached(format!(
            "A gallery can have at most {MAX_ITEMS} items"
        ))),
    }
}

async fn load_item(ctx: &Ctx, g: &Gallery, item_id: &str) -> ApiResult<Item> {
    store::item(&ctx.db()?, &g.id, item_id)
        .await?
        .ok_or_else(|| ApiError::not_found("Item"))
}

/// PATCH merges the fields sent over the stored item, then checks the
/// result as a whole (so changing `type` needs that type's fields).
pub async fn update_item(
    ctx: &Ctx,
    caller: &Caller,
    req: &mut Request,
    id: &str,
    item_id: &str,
) -> ApiResult<Response> {
    caller.require_write()?;
    let body = json_body(req).await?;
    let g = load(ctx, caller, id).await?;
    let stored = load_item(ctx, &g, item_id).await?;
    let mut merged: Map<String, Value> = match stored.to_json() {
        Value::Object(m) => m
            .into_iter()
            .filter(|(k, v)| {
                ["type", "title", "url", "imageUrl", "embedType", "embedData"].contains(&k.as_str())
                    && !v.is_null()
            })
            .collect(),
        _ => Map::new(),
    };
    for (k, v) in body {
        merged.insert(k, v);
    }
    let input = ItemInput::parse(&merged)?;
    let mut it = item_row(stored.id.clone(), &g.id, input, ctx.now);
    it.position = stored.position;
    it.created_at = stored.created_at;
    store::update_item(&ctx.db()?, &it).await?;
    Ok(ok(it.to_json()))
}

pub async fn delete_item(
    ctx: &Ctx,
    caller: &Caller,
    id: &str,
    item_id: &str,
) -> ApiResult<Response> {
    caller.require_write()?;
    let g = load(ctx, caller, id).await?;
    if !store::delete_item(&ctx.db()?, &g.id, item_id).await? {
        return Err(ApiError::not_found("Item"));
    }
    Ok(no_content())
}

/// `PATCH /{id}/items/reorder` with `{"itemIds": [...]}`: every item once.
pub async fn reorder(
    ctx: &Ctx,
    caller: &Caller,
    req: &mut Request,
    id: &str,
) -> ApiResult<Response> {
    caller.require_write()?;
    let body = json_body(req).await?;
    let f = Fields::new(&body);
    f.deny_unknown(&["itemIds"], &[])?;
    let ids = f
        .string_list("itemIds", MAX_ITEMS as usize, 100)?
        .ok_or_else(|| ApiError::validation("itemIds", "is required"))?;
    let g = load(ctx, caller, id).await?;
    let db = ctx.db()?;
    let existing: Vec<String> = store::items(&db, &g.id)
        .await?
        .into_iter()
        .map(|i| i.id)
        .collect();
    check_reorder(&ids, &existing)?;
    store::reorder(&db, &g.id, &ids, ctx.now).await?;
    let items = store::items(&db, &g.id).await?;
    Ok(ok(Value::Array(items.iter().map(Item::to_json).collect())))
}

// ---------------------------------------------------------------------------
// The public page
// ---------------------------------------------------------------------------

/// `GET /bio/{slug}` (and HEAD): the published gallery, or the 404 page.
pub async fn page(ctx: &Ctx, slug: &str) -> ApiResult<Response> {
    let slug = slug.to_ascii_lowercase();
    let found = match Slug::parse_path(&slug) {
        Some(_) => store::published(&ctx.db()?, &slug).await?,
        None => None,
    };
    let Some(g) = found else {
        let body = pages::layout(
            404,
            "Page not found",
            "<p>There is no published page at this address.</p>",
        );
        return html(404, body, "private, max-age=0", true);
    };
    let items = store::items(&ctx.db()?, &g.id).await?;
    let body = core_galleries::render(&core_galleries::Page {
        title: &g.title,
        bio: g.bio.as_deref(),
        avatar_url: g.avatar_url.as_deref(),
        theme: &g.theme,
        custom_css: g.custom_css.as_deref(),
        items: items.iter().map(Item::input).collect(),
    });
    html(200, body, "public, max-age=60", false)
}

fn html(status: u16, body: String, cache: &str, noindex: bool) -> ApiResult<Response> {
    let mut r = Response::from_html(body)
        .map_err(internal("bio page"))?
        .with_status(status);
    let h = r.headers_mut();
    let set = |k: &str, v: &str| h.set(k, v).map_err(internal("bio header"));
    set("Cache-Control", cache)?;
    set("Content-Security-Policy", PAGE_CSP)?;
    set("X-Content-Type-Options", "nosniff")?;
    set("Referrer-Policy", "strict-origin-when-cross-origin")?;
    if noindex {
        set("X-Robots-Tag", "noindex")?;
    }
    Ok(r)
}
