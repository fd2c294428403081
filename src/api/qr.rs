//! `/api/v1/qr`: the public generator and a workspace's saved QR codes.
//!
//! * `POST /api/v1/qr/generate` needs no key; it is limited to
//!   [`GENERATE_PER_MINUTE`] requests a minute per client IP
//!   (`CF-Connecting-IP`, hashed; requests without it share one bucket) in
//!   the same D1 fixed windows as the API keys, with the same
//!   `X-RateLimit-*` headers and `429 RATE_LIMITED` + `Retry-After`.
//! * Saved QR codes (`qr_...`) are workspace records. One tied to a link
//!   (`linkId`) encodes the link's short URL plus [`QR_MARKER`], which the
//!   redirect strips and records as a QR scan (`qr: true` on the click).
//!
//! Images answer with their content type; a contrast that scans but is below
//! the recommended ratio adds `X-QR-Contrast-Warning: low` and
//! `X-QR-Contrast-Ratio` (colours below the minimum are refused with 400).
//! A `size` giving modules fewer than 2 px (but at least 1) adds
//! `X-QR-Size-Warning: small` and `X-QR-Recommended-Min-Size` (the
//! smallest size with 2 px per module); saved-QR answers carry them too.

use edgelink_core::ids::QrCodeId;
use edgelink_core::input::Fields;
use edgelink_core::link::Link;
use edgelink_core::plan::rate_window;
use edgelink_core::qr::{self, Fit, QrRequest, QrStyle, RenderedQr};
use edgelink_core::secrets::sha256_hex;
use edgelink_core::time::format_rfc3339;
use edgelink_core::{ApiError, ApiResult};
use serde_json::{json, Map, Value};
use worker::{Method, Request, Response};

use crate::auth::{Caller, RateLimit};
use crate::http::{
    created, internal, json_body, list as list_response, no_content, ok, random_bytes, Ctx, Page,
    Query,
};
use crate::router::{Call, Route};
use crate::store::qr_codes::{self, QrRow};
use crate::store::{links, ratelimit};

/// Requests a minute one client IP may send to `POST /api/v1/qr/generate`.
pub const GENERATE_PER_MINUTE: i64 = 30;
/// Query parameter added to a link's short URL in a saved QR code; the
/// redirect recognises it (`split_qr_marker`) and never forwards it.
pub const QR_MARKER: &str = "qr=1";
/// `Cache-Control` of `generate`: the image is a pure function of the body.
const GENERATE_CACHE: &str = "public, max-age=86400";
/// `Cache-Control` of a saved QR's download: the config can change.
const DOWNLOAD_CACHE: &str = "private, max-age=0";
const MAX_NAME_CHARS: usize = 100;
const MAX_ID_CHARS: usize = 100;
const STYLE_FIELDS: [&str; 6] = [
    "size",
    "foregroundColor",
    "backgroundColor",
    "cornerRadius",
    "errorCorrection",
    "format",
];
/// The body fields of a saved QR: its own and the style's.
fn known_fields() -> Vec<&'static str> {
    ["name", "url", "linkId"]
        .into_iter()
        .chain(STYLE_FIELDS)
        .collect()
}

#[rustfmt::skip]
pub fn routes() -> Vec<Route> {
    let mut all = vec![
        // Public, no key: limited per client IP instead.
        Route::public(Method::Post, "/api/v1/qr/generate", "generateQr", |x, r| Box::pin(generate(x, r))),
        Route::key(Method::Get, "/api/v1/qr/{id}/download", "downloadQr", |x, c, r| Box::pin(download(x, c, &r.req, &r.params[0]))),
    ];
    all.extend(crate::crud!("/api/v1/qr", "Qr", "Qrs": list create get update delete));
    all
}

// ---------------------------------------------------------------------------
// Public generator
// ---------------------------------------------------------------------------

/// `POST /api/v1/qr/generate`: counts the request against the client IP's
/// window first (so bad requests count too), then renders. Every answer,
/// 429 included, reports the window.
async fn generate(ctx: &Ctx, call: &mut Call) -> ApiResult<Response> {
    let (window, reset) = rate_window(ctx.now);
    let count = count_ip(ctx, &call.req, window).await?;
    let limit = GENERATE_PER_MINUTE;
    call.limits = Some(RateLimit::new(limit, count, window));
    if count > limit {
        return Err(ApiError::RateLimited {
            retry_after_secs: reset,
        });
    }
    render_request(&mut call.req).await
}

/// The SHA-256 of the caller's IP (never the raw address), or `None`
/// without the header (one shared bucket).
fn ip_hash(req: &Request) -> Option<String> {
    match req.headers().get("CF-Connecting-IP").ok().flatten() {
        Some(ip) if !ip.trim().is_empty() => Some(sha256_hex(ip.trim().as_bytes())),
        _ => None,
    }
}

async fn count_ip(ctx: &Ctx, req: &Request, window: i64) -> ApiResult<i64> {
    let db = ctx.db()?;
    let ip = ip_hash(req);
    let count = ratelimit::hit(&db, &ratelimit::Bucket::QrIp(ip.as_deref()), window).await?;
    if count == 1 {
        // First request of this IP's window: tidy old windows (as for keys).
        let _ = ratelimit::prune(&db, window - 3_600_000).await;
    }
    Ok(count)
}

async fn render_request(req: &mut Request) -> ApiResult<Response> {
    let body = json_body(req).await?;
    let request: QrRequest = serde_json::from_value(Value::Object(body))
        .map_err(|_| ApiError::validation("body", "must be a JSON object"))?;
    let valid = request.validate()?;
    let image = qr::render(&valid.url, &valid.style)?;
    image_response(image, &valid.style, GENERATE_CACHE, None)
}

/// The image bytes with their content type, caching and warning headers.
fn image_response(
    image: RenderedQr,
    style: &QrStyle,
    cache_control: &str,
    disposition: Option<String>,
) -> ApiResult<Response> {
    let mut resp = Response::from_bytes(image.bytes).map_err(internal("qr response"))?;
    let h = resp.headers_mut();
    let set = |k: &str, v: &str| h.set(k, v).map_err(internal("qr header"));
    set("Content-Type", image.content_type)?;
    set("Cache-Control", cache_control)?;
    set("X-Content-Type-Options", "nosniff")?;
    if let Some(d) = disposition {
        set("Content-Disposition", &d)?;
    }
    if image.low_contrast_warning {
        set("X-QR-Contrast-Warning", "low")?;
        set(
            "X-QR-Contrast-Ratio",
            &format!("{:.2}", style.contrast_ratio()),
        )?;
    }
    if image.small_module_warning {
        set("X-QR-Size-Warning", "small")?;
        set(
            "X-QR-Recommended-Min-Size",
            &image.recommended_min_size.to_string(),
        )?;
    }
    Ok(resp)
}

/// Adds the contrast and size warning headers to a JSON answer about a
/// saved QR.
fn warn_json(mut resp: Response, style: &QrStyle, fit: &Fit) -> Response {
    let h = resp.headers_mut();
    if style.low_contrast_warning() {
        let _ = h.set("X-QR-Contrast-Warning", "low");
        let _ = h.set(
            "X-QR-Contrast-Ratio",
            &format!("{:.2}", style.contrast_ratio()),
        );
    }
    if fit.small_module_warning {
        let _ = h.set("X-QR-Size-Warning", "small");
        let _ = h.set(
            "X-QR-Recommended-Min-Size",
            &fit.recommended_min_size.to_string(),
        );
    }
    resp
}

// ---------------------------------------------------------------------------
// Saved QR codes
// ---------------------------------------------------------------------------

/// A stored row with its parsed style.
struct Saved {
    row: QrRow,
    style: QrStyle,
}

impl Saved {
    fn from_row(row: QrRow) -> ApiResult<Saved> {
        let style = match serde_json::from_str::<Value>(&row.style) {
            Ok(Value::Object(m)) => QrStyle::from_json(&m).map_err(internal("stored QR style"))?,
            other => return Err(internal("stored QR style")(other)),
        };
        Ok(Saved { row, style })
    }

    /// The tied link's current short URL, if the QR has a link that exists.
    fn short_url(&self, scheme: &str) -> Option<String> {
        match (&self.row.link_domain, &self.row.link_slug) {
            (Some(domain), Some(slug)) => Some(
                Link {
                    domain: domain.clone(),
                    slug: slug.clone(),
                    ..Default::default()
                }
                .short_url(scheme),
            ),
            _ => None,
        }
    }

    /// What the code encodes: the live link's short URL with the QR marker;
    /// without one the given `url`, else the link's URL as last saved.
    fn data(&self, scheme: &str) -> String {
        self.short_url(scheme)
            .map(|s| with_marker(&s))
            .or_else(|| self.row.url.clone())
            .or_else(|| self.row.link_url.clone())
            .unwrap_or_default()
    }

    fn to_json(&self, scheme: &str) -> Value {
        let mut v = json!({
            "id": self.row.id,
            "name": self.row.name,
            "url": self.data(scheme),
            "linkId": self.row.link_id,
            "shortUrl": self.short_url(scheme),
            "createdAt": format_rfc3339(self.row.created_at),
            "updatedAt": format_rfc3339(self.row.updated_at),
        });
        if let (Value::Object(out), Value::Object(style)) = (&mut v, self.style.to_json()) {
            out.extend(style);
        }
        v
    }

    /// Before a write: needs a `url` without a link, refreshes the link's
    /// saved URL, and checks that what it encodes now and the `url` fallback
    /// both fit the style (version, size). Returns the fit of what it
    /// encodes now.
    fn prepare_save(&mut self, scheme: &str) -> ApiResult<Fit> {
        if self.row.link_id.is_none() && self.row.url.is_none() {
            return Err(ApiError::validation(
                "url",
                "is required unless linkId is given",
            ));
        }
        if let Some(short) = self.short_url(scheme) {
            self.row.link_url = Some(with_marker(&short));
        }
        let fit = qr::check_fits(&self.data(scheme), &self.style)?;
        if let Some(url) = &self.row.url {
            qr::check_fits(url, &self.style)?;
        }
        self.row.style = self.style.to_json().to_string();
        Ok(fit)
    }
}

fn with_marker(short_url: &str) -> String {
    format!("{short_url}?{QR_MARKER}")
}

/// `linkId`: absent → None, `null` → Some(None), a string → Some(Some(id)).
fn link_id_field(body: &Map<String, Value>) -> ApiResult<Option<Option<String>>> {
    match body.get("linkId") {
        None => Ok(None),
        Some(Value::Null) => Ok(Some(None)),
        Some(Value::String(s)) if s.trim().is_empty() => {
            Err(ApiError::validation("linkId", "must not be empty"))
        }
        Some(Value::String(s)) if s.chars().count() > MAX_ID_CHARS => Err(ApiError::validation(
            "linkId",
            format!("must be at most {MAX_ID_CHARS} characters"),
        )),
        Some(Value::String(s)) => Ok(Some(Some(s.clone()))),
        Some(_) => Err(ApiError::validation("linkId", "must be a string")),
    }
}

/// `url`: absent → None, `null` → Some(None), else a valid QR data string.
fn url_field(body: &Map<String, Value>) -> ApiResult<Option<Option<String>>> {
    match body.get("url") {
        None => Ok(None),
        Some(Value::Null) => Ok(Some(None)),
        v => qr::parse_url_field(v).map(|u| Some(Some(u))),
    }
}

/// The caller's link, or a validation error on `linkId` (the same for a
/// missing link and another workspace's).
async fn find_link(ctx: &Ctx, caller: &Caller, id: &str) -> ApiResult<Link> {
    links::get(&ctx.db()?, &caller.workspace_id, id)
        .await?
        .ok_or_else(|| ApiError::validation("linkId", "no such link in this workspace"))
}

fn tie(row: &mut QrRow, link: Option<&Link>) {
    row.link_id = link.map(|l| l.id.to_string());
    row.link_domain = link.map(|l| l.domain.clone());
    row.link_slug = link.map(|l| l.slug.clone());
    row.link_url = None; // set from the link by `prepare_save`
}

/// `POST /api/v1/qr`: `name`, `url` and/or `linkId`, style fields. With
/// `linkId` the code encodes the link's short URL + `?qr=1`; a `url` given
/// as well is kept as the fallback should the link be deleted.
pub async fn create(ctx: &Ctx, caller: &Caller, req: &mut Request) -> ApiResult<Response> {
    let body = caller.write_body(req).await?;
    let f = Fields::new(&body);
    f.deny_unknown(&known_fields(), &[])?;
    let name = f.required_string("name", MAX_NAME_CHARS)?;
    let url = url_field(&body)?.flatten();
    let link_id = link_id_field(&body)?.flatten();
    let style = QrStyle::from_json(&body)?;
    if url.is_none() && link_id.is_none() {
        return Err(ApiError::validation(
            "url",
            "is required unless linkId is given",
        ));
    }
    let link = match &link_id {
        Some(id) => Some(find_link(ctx, caller, id).await?),
        None => None,
    };
    let mut row = QrRow {
        id: QrCodeId::new(&random_bytes::<16>()),
        workspace_id: caller.workspace_id.clone(),
        name,
        url,
        link_id: None,
        link_url: None,
        style: String::new(),
        created_at: ctx.now,
        updated_at: ctx.now,
        link_domain: None,
        link_slug: None,
    };
    tie(&mut row, link.as_ref());
    let mut saved = Saved { row, style };
    let fit = saved.prepare_save(&ctx.scheme)?;
    qr_codes::insert(&ctx.db()?, &saved.row).await?;
    Ok(warn_json(
        created(saved.to_json(&ctx.scheme)),
        &saved.style,
        &fit,
    ))
}

async fn load(ctx: &Ctx, caller: &Caller, id: &str) -> ApiResult<Saved> {
    let row = qr_codes::get(&ctx.db()?, &caller.workspace_id, id)
        .await?
        .ok_or_else(|| ApiError::not_found("QR code"))?;
    Saved::from_row(row)
}

pub async fn get(ctx: &Ctx, caller: &Caller, id: &str) -> ApiResult<Response> {
    Ok(ok(load(ctx, caller, id).await?.to_json(&ctx.scheme)))
}

/// `GET /api/v1/qr?page=&perPage=&linkId=`, newest first.
pub async fn list(ctx: &Ctx, caller: &Caller, req: &Request) -> ApiResult<Response> {
    let q = Query::of(req);
    let page = Page::from_query(&q)?;
    let link_id = q.get("linkId").filter(|s| !s.is_empty());
    if link_id.is_some_and(|s| s.chars().count() > MAX_ID_CHARS) {
        return Err(ApiError::validation(
            "linkId",
            format!("must be at most {MAX_ID_CHARS} characters"),
        ));
    }
    let (rows, total) = qr_codes::list(
        &ctx.db()?,
        &caller.workspace_id,
        link_id,
        page.per_page,
        page.offset(),
    )
    .await?;
    let items = rows
        .into_iter()
        .map(|r| Saved::from_row(r).map(|s| s.to_json(&ctx.scheme)))
        .collect::<ApiResult<Vec<_>>>()?;
    Ok(list_response(items, &page, total))
}

/// `PATCH /api/v1/qr/{id}`: any of `name`, `url` (`null` clears it; a QR
/// needs a `url` or a `linkId`), `linkId` (`null` unties), style fields
/// (`null` resets one to its default).
pub async fn update(ctx: &Ctx, caller: &Caller, call: &mut Call) -> ApiResult<Response> {
    let (req, id) = call.split();
    let body = caller.write_body(req).await?;
    let f = Fields::new(&body);
    f.deny_unknown(&known_fields(), &[])?;
    let name = match f.has("name") {
        true => Some(f.required_string("name", MAX_NAME_CHARS)?),
        false => None,
    };
    let url = url_field(&body)?;
    let link_id = link_id_field(&body)?;
    let mut saved = load(ctx, caller, id).await?;
    if STYLE_FIELDS.iter().any(|k| body.contains_key(*k)) {
        let Value::Object(mut merged) = saved.style.to_json() else {
            return Err(ApiError::Internal);
        };
        for key in STYLE_FIELDS {
            match body.get(key) {
                None => {}
                Some(Value::Null) => {
                    merged.remove(key);
                }
                Some(v) => {
                    merged.insert(key.to_string(), v.clone());
                }
            }
        }
        saved.style = QrStyle::from_json(&merged)?;
    }
    match link_id {
        None => {}
        Some(None) => tie(&mut saved.row, None),
        Some(Some(lid)) => {
            let link = find_link(ctx, caller, &lid).await?;
            tie(&mut saved.row, Some(&link));
        }
    }
    if let Some(n) = name {
        saved.row.name = n;
    }
    if let Some(u) = url {
        saved.row.url = u;
    }
    saved.row.updated_at = ctx.now;
    let fit = saved.prepare_save(&ctx.scheme)?;
    if !qr_codes::update(&ctx.db()?, &saved.row).await? {
        return Err(ApiError::not_found("QR code"));
    }
    Ok(warn_json(
        ok(saved.to_json(&ctx.scheme)),
        &saved.style,
        &fit,
    ))
}

pub async fn delete(ctx: &Ctx, caller: &Caller, id: &str) -> ApiResult<Response> {
    caller.require_write()?;
    if !qr_codes::delete(&ctx.db()?, &caller.workspace_id, id).await? {
        return Err(ApiError::not_found("QR code"));
    }
    Ok(no_content())
}

/// `GET /api/v1/qr/{id}/download?format=svg|png&size=`: the saved code in
/// its style, `format` / `size` overriding the stored ones.
pub async fn download(ctx: &Ctx, caller: &Caller, req: &Request, id: &str) -> ApiResult<Response> {
    let q = Query::of(req);
    let saved = load(ctx, caller, id).await?;
    let style = saved.style.with_query(q.get("format"), q.get("size"))?;
    let image = qr::render(&saved.data(&ctx.scheme), &style)?;
    let disposition = format!("inline; filename=\"qr.{}\"", style.format.extension());
    image_response(image, &style, DOWNLOAD_CACHE, Some(disposition))
}

#[cfg(test)]
mod tests {
    use super::*;
    use edgelink_core::redirect::split_qr_marker;

    #[test]
    fn the_redirect_recognises_and_strips_the_marker() {
        let url = with_marker("http://localhost:8787/abc");
        assert_eq!(url, "http://localhost:8787/abc?qr=1");
        let query = url.split_once('?').unwrap().1;
        assert_eq!(split_qr_marker(query), (true, String::new()));
    }

    fn body(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => unreachable!(),
        }
    }

    #[test]
    fn link_id_absent_null_or_a_short_string() {
        assert_eq!(link_id_field(&body(json!({}))).unwrap(), None);
        assert_eq!(
            link_id_field(&body(json!({"linkId": null}))).unwrap(),
            Some(None)
        );
        assert_eq!(
            link_id_field(&body(json!({"linkId": "lnk_1"}))).unwrap(),
            Some(Some("lnk_1".into()))
        );
        for bad in [
            json!(""),
            json!(" "),
            json!(1),
            json!(["lnk_1"]),
            json!("x".repeat(101)),
        ] {
            let e = link_id_field(&body(json!({ "linkId": bad }))).unwrap_err();
            assert_eq!(e.field(), Some("linkId"));
        }
    }

    #[test]
    fn url_absent_null_or_valid_data() {
        assert_eq!(url_field(&body(json!({}))).unwrap(), None);
        assert_eq!(url_field(&body(json!({"url": null}))).unwrap(), Some(None));
        assert_eq!(
            url_field(&body(json!({"url": "https://e.com"}))).unwrap(),
            Some(Some("https://e.com".into()))
        );
        for bad in [json!(""), json!(3), json!("a".repeat(2049))] {
            assert_eq!(
                url_field(&body(json!({ "url": bad }))).unwrap_err().field(),
                Some("url")
            );
        }
    }

    #[test]
    fn known_fields_cover_the_style() {
        let style_keys: Vec<String> = match QrStyle::default().to_json() {
            Value::Object(m) => m.keys().cloned().collect(),
            _ => unreachable!(),
        };
        let mut expected: Vec<String> = STYLE_FIELDS.iter().map(|s| s.to_string()).collect();
        expected.sort();
        let mut got = style_keys;
        got.sort();
        assert_eq!(got, expected);
    }
}
