//! `/api/v1/galleries`: link-in-bio pages and their items; `GET /bio/{slug}`
//! serves a published one as HTML (`edgelink_core::galleries::render`).

use edgelink_core::galleries::{
    self as core_galleries, check_reorder, GalleryPatch, ItemInput, MAX_ITEMS, MAX_PER_WORKSPACE,
    PAGE_CSP,
};
use edgelink_core::ids::{GalleryId, GalleryItemId};
use edgelink_core::input::{set, Fields};
use edgelink_core::slug::Slug;
use edgelink_core::{ApiError, ApiResult};
use serde_json::{Map, Value};
use worker::{Method, Request, Response};

use crate::auth::Caller;
use crate::http::{created, found, html, internal, no_content, ok, paged, random_bytes, Ctx};
use crate::router::{Call, Route};
use crate::store::galleries::{self as store, Gallery, Item};
use crate::store::OnConstraint;

#[rustfmt::skip]
pub fn routes() -> Vec<Route> {
    let mut all = crate::crud!("/api/v1/galleries", "Gallery", "Galleries": list create get update delete);
    all.extend([
        Route::key(Method::Post, "/api/v1/galleries/{id}/publish", "publishGallery", |x, c, r| Box::pin(publish(x, c, r))),
        Route::key(Method::Get, "/api/v1/galleries/{id}/items", "listGalleryItems", |x, c, r| Box::pin(list_items(x, c, &r.params[0]))),
        Route::key(Method::Post, "/api/v1/galleries/{id}/items", "createGalleryItem", |x, c, r| Box::pin(create_item(x, c, r))),
        Route::key(Method::Patch, "/api/v1/galleries/{id}/items/reorder", "reorderGalleryItems", |x, c, r| Box::pin(reorder(x, c, r))),
        Route::key(Method::Patch, "/api/v1/galleries/{id}/items/{itemId}", "updateGalleryItem", |x, c, r| Box::pin(update_item(x, c, r))),
        Route::key(Method::Delete, "/api/v1/galleries/{id}/items/{itemId}", "deleteGalleryItem", |x, c, r| Box::pin(delete_item(x, c, &r.params[0], &r.params[1]))),
        // The public page; its errors are HTML pages too (`/bio/` prefix).
        Route::public(Method::Get, "/bio/{slug}", "getBioPage", |x, r| Box::pin(page(x, &r.params[0]))),
    ]);
    all
}

fn page_url(ctx: &Ctx, slug: &str) -> String {
    format!("{}://{}/bio/{slug}", ctx.scheme, ctx.short_domain)
}

fn slug_taken(slug: &str) -> ApiError {
    ApiError::SlugExists(format!("The gallery slug '{slug}' is taken"))
}

pub async fn create(ctx: &Ctx, caller: &Caller, req: &mut Request) -> ApiResult<Response> {
    let body = caller.write_body(req).await?;
    let p = GalleryPatch::parse(&body, true)?;
    let g = Gallery {
        id: GalleryId::new(&random_bytes::<16>()),
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
    found(
        store::get(&ctx.db()?, &caller.workspace_id, id).await?,
        "Gallery",
    )
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
    let db = ctx.db()?;
    let fetch = |n, skip| store::list(&db, &caller.workspace_id, n, skip);
    paged(req, fetch, |g: &Gallery| {
        let mut v = g.to_json(&page_url(ctx, &g.slug), &[]);
        if let Value::Object(m) = &mut v {
            m.remove("items");
        }
        v
    })
    .await
}

async fn save(ctx: &Ctx, g: &Gallery) -> ApiResult<Response> {
    store::update(&ctx.db()?, g)
        .await
        .on_constraint(|_| slug_taken(&g.slug))?;
    Ok(ok(render_json(ctx, g).await?))
}

pub async fn update(ctx: &Ctx, caller: &Caller, call: &mut Call) -> ApiResult<Response> {
    let (req, id) = call.split();
    let body = caller.write_body(req).await?;
    let p = GalleryPatch::parse(&body, false)?;
    let mut g = load(ctx, caller, id).await?;
    set(&mut g.slug, p.slug);
    set(&mut g.title, p.title);
    set(&mut g.bio, p.bio);
    set(&mut g.avatar_url, p.avatar_url);
    set(&mut g.theme, p.theme);
    set(&mut g.custom_css, p.custom_css);
    g.updated_at = ctx.now;
    save(ctx, &g).await
}

/// `POST /{id}/publish` with `{"isPublished": true|false}`.
pub async fn publish(ctx: &Ctx, caller: &Caller, call: &mut Call) -> ApiResult<Response> {
    let (req, id) = call.split();
    let body = caller.write_body(req).await?;
    let f = Fields::only(&body, &["isPublished"])?;
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

fn item_row(id: GalleryItemId, gallery_id: &GalleryId, input: ItemInput, now: i64) -> Item {
    Item {
        id,
        gallery_id: gallery_id.clone(),
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

pub async fn create_item(ctx: &Ctx, caller: &Caller, call: &mut Call) -> ApiResult<Response> {
    let (req, id) = call.split();
    let body = caller.write_body(req).await?;
    let input = ItemInput::parse(&body)?;
    let g = load(ctx, caller, id).await?;
    let mut it = item_row(
        GalleryItemId::new(&random_bytes::<16>()),
        &g.id,
        input,
        ctx.now,
    );
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
pub async fn update_item(ctx: &Ctx, caller: &Caller, call: &mut Call) -> ApiResult<Response> {
    let item_id = call.params[1].clone();
    let (req, id) = call.split();
    let body = caller.write_body(req).await?;
    let g = load(ctx, caller, id).await?;
    let stored = load_item(ctx, &g, &item_id).await?;
    // Stored fields carry over only where the resulting type has them.
    let kind = match body.get("type") {
        Some(Value::String(t)) => t.clone(),
        _ => stored.kind.clone(),
    };
    let own = core_galleries::item_fields(&kind);
    let mut merged: Map<String, Value> = match stored.to_json() {
        Value::Object(m) => m
            .into_iter()
            .filter(|(k, v)| (k == "type" || own.contains(&k.as_str())) && !v.is_null())
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
pub async fn reorder(ctx: &Ctx, caller: &Caller, call: &mut Call) -> ApiResult<Response> {
    let (req, id) = call.split();
    let body = caller.write_body(req).await?;
    let f = Fields::only(&body, &["itemIds"])?;
    let ids = f
        .string_list("itemIds", MAX_ITEMS as usize, 100)?
        .ok_or_else(|| ApiError::validation("itemIds", "is required"))?;
    let g = load(ctx, caller, id).await?;
    let db = ctx.db()?;
    let existing: Vec<String> = store::items(&db, &g.id)
        .await?
        .into_iter()
        .map(|i| i.id.to_string())
        .collect();
    check_reorder(&ids, &existing)?;
    store::reorder(&db, &g.id, &ids, ctx.now).await?;
    let items = store::items(&db, &g.id).await?;
    Ok(ok(Value::Array(items.iter().map(Item::to_json).collect())))
}

// ---------------------------------------------------------------------------
// The public page
// ---------------------------------------------------------------------------

/// `GET /bio/{slug}` (and HEAD): the published gallery; an unknown or
/// unpublished one is the 404 page (`http::error_page`).
pub async fn page(ctx: &Ctx, slug: &str) -> ApiResult<Response> {
    let slug = slug.to_ascii_lowercase();
    let found = match Slug::parse_path(&slug) {
        Some(_) => store::published(&ctx.db()?, &slug).await?,
        None => None,
    };
    let g = found.ok_or_else(|| ApiError::not_found("Page"))?;
    let items = store::items(&ctx.db()?, &g.id).await?;
    let body = core_galleries::render(&core_galleries::Page {
        title: &g.title,
        bio: g.bio.as_deref(),
        avatar_url: g.avatar_url.as_deref(),
        theme: &g.theme,
        custom_css: g.custom_css.as_deref(),
        items: items.iter().map(Item::input).collect(),
    });
    let mut r = html(200, body);
    let h = r.headers_mut();
    // Published pages are public and meant to be found.
    let set = |k: &str, v: &str| h.set(k, v).map_err(internal("bio header"));
    set("Cache-Control", "public, max-age=60")?;
    set("Content-Security-Policy", PAGE_CSP)?;
    set("Referrer-Policy", "strict-origin-when-cross-origin")?;
    h.delete("X-Robots-Tag").map_err(internal("bio header"))?;
    Ok(r)
}
