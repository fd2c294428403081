//! Link-in-bio galleries: input rules for galleries and their items, and
//! the public page at `/bio/{slug}` (self-contained, responsive HTML in
//! which everything a user typed is escaped).

use crate::error::{ApiError, ApiResult};
use crate::input::Fields;
use crate::pages::escape;
use crate::slug::Slug;
use crate::url::DestinationUrl;
use serde_json::{Map, Value};

pub const THEMES: [&str; 6] = ["default", "minimal", "gradient", "dark", "neon", "custom"];
pub const ITEM_TYPES: [&str; 5] = ["link", "header", "divider", "embed", "image"];

/// The fields an item of a type may carry besides `type`: its own and no
/// others (the OpenAPI document's `oneOf` on `type` says the same).
pub fn item_fields(kind: &str) -> &'static [&'static str] {
    match kind {
        "link" => &["title", "url"],
        "header" => &["title"],
        "image" => &["imageUrl", "url", "title"],
        "embed" => &["embedType", "embedData", "title"],
        _ => &[],
    }
}
pub const MAX_ITEMS: i64 = 100;
pub const MAX_PER_WORKSPACE: i64 = 50;
pub const MAX_TITLE_CHARS: usize = 100;
pub const MAX_BIO_CHARS: usize = 500;
pub const MAX_ITEM_TITLE_CHARS: usize = 200;
pub const MAX_CSS_CHARS: usize = 10_000;

/// A gallery's settings as sent on create (`creating`) or PATCH; absent
/// fields are `None`, `Some(None)` clears an optional one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GalleryPatch {
    /// Lower-cased: `/bio/MyName` and `/bio/myname` are one page.
    pub slug: Option<String>,
    pub title: Option<String>,
    pub bio: Option<Option<String>>,
    pub avatar_url: Option<Option<String>>,
    pub theme: Option<String>,
    pub custom_css: Option<Option<String>>,
}

impl GalleryPatch {
    pub fn parse(body: &Map<String, Value>, creating: bool) -> ApiResult<Self> {
        let f = Fields::new(body);
        f.deny_unknown(
            &["slug", "title", "bio", "avatarUrl", "theme", "customCss"],
            &[
                "id",
                "url",
                "items",
                "isPublished",
                "createdAt",
                "updatedAt",
            ],
        )?;
        let slug = match f.string("slug", 100)? {
            Some(s) => Some(Slug::parse(&s.to_ascii_lowercase())?.as_str().to_string()),
            None if creating => return Err(ApiError::validation("slug", "is required")),
            None => None,
        };
        let title = match f.string("title", MAX_TITLE_CHARS)? {
            Some(t) if t.trim().is_empty() => {
                return Err(ApiError::validation("title", "must not be empty"))
            }
            Some(t) => Some(t.trim().to_string()),
            None if creating => return Err(ApiError::validation("title", "is required")),
            None => None,
        };
        let theme = match f.string("theme", 20)? {
            Some(t) if THEMES.contains(&t.as_str()) => Some(t),
            Some(_) => {
                return Err(ApiError::validation(
                    "theme",
                    format!("must be one of {}", THEMES.join(", ")),
                ))
            }
            None if creating => Some("default".to_string()),
            None => None,
        };
        let custom_css = match f.nullable_string("customCss", MAX_CSS_CHARS)? {
            Some(Some(css)) => Some(Some(check_css(&css)?)),
            other => other,
        };
        let avatar_url = match f.nullable_string("avatarUrl", crate::url::MAX_URL_LEN)? {
            Some(Some(u)) if !u.trim().is_empty() => {
                Some(Some(DestinationUrl::parse(&u, "avatarUrl")?.into_string()))
            }
            Some(_) => Some(None),
            None => None,
        };
        Ok(GalleryPatch {
            slug,
            title,
            bio: f.nullable_string("bio", MAX_BIO_CHARS)?,
            avatar_url,
            theme,
            custom_css,
        })
    }
}

/// Custom CSS goes inside the page's `<style>` element: no `<` at all, so
/// it can never close that element (`</style>`) or open another; at most
/// 10,000 bytes.
pub fn check_css(css: &str) -> ApiResult<String> {
    // Characters, as JSON Schema's maxLength counts them.
    if css.chars().count() > MAX_CSS_CHARS {
        return Err(ApiError::validation(
            "customCss",
            format!("must be at most {MAX_CSS_CHARS} characters"),
        ));
    }
    if css.contains('<') {
        return Err(ApiError::validation(
            "customCss",
            "must not contain '<' (it is CSS, not HTML)",
        ));
    }
    Ok(css.to_string())
}

/// One item as validated input; `None` fields do not apply to its type.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ItemInput {
    pub kind: String,
    pub title: Option<String>,
    pub url: Option<String>,
    pub image_url: Option<String>,
    pub embed_type: Option<String>,
    /// `{"videoId": "..."}` for YouTube.
    pub embed_data: Option<Value>,
}

impl ItemInput {
    /// A whole item (create, or PATCH merged over the stored one by the
    /// caller): the fields its type needs, and only those.
    pub fn parse(body: &Map<String, Value>) -> ApiResult<Self> {
        let f = Fields::new(body);
        f.deny_unknown(
            &["type", "title", "url", "imageUrl", "embedType", "embedData"],
            &["id", "position", "createdAt", "updatedAt"],
        )?;
        let kind = f
            .string("type", 20)?
            .ok_or_else(|| ApiError::validation("type", "is required"))?;
        if !ITEM_TYPES.contains(&kind.as_str()) {
            return Err(ApiError::validation(
                "type",
                format!("must be one of {}", ITEM_TYPES.join(", ")),
            ));
        }
        let own = item_fields(&kind);
        if let Some(k) = ["title", "url", "imageUrl", "embedType", "embedData"]
            .into_iter()
            .find(|k| body.contains_key(*k) && !own.contains(k))
        {
            return Err(ApiError::validation(
                k,
                format!("is not a field of a {kind} item"),
            ));
        }
        let title = f
            .nullable_string("title", MAX_ITEM_TITLE_CHARS)?
            .flatten()
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty());
        let url = |name: &str| -> ApiResult<Option<String>> {
            Ok(
                match f.nullable_string(name, crate::url::MAX_URL_LEN)?.flatten() {
                    Some(u) if !u.trim().is_empty() => {
                        Some(DestinationUrl::parse(&u, name)?.into_string())
                    }
                    _ => None,
                },
            )
        };
        let need = |v: Option<String>, name: &str| {
            v.ok_or_else(|| ApiError::validation(name, format!("is required for a {kind} item")))
        };
        let mut item = ItemInput {
            kind: kind.clone(),
            ..Default::default()
        };
        match kind.as_str() {
            "link" => {
                item.title = Some(need(title, "title")?);
                item.url = Some(need(url("url")?, "url")?);
            }
            "header" => item.title = Some(need(title, "title")?),
            "divider" => {}
            "image" => {
                item.image_url = Some(need(url("imageUrl")?, "imageUrl")?);
                item.url = url("url")?;
                item.title = title;
            }
            _ => {
                // embed
                match f.string("embedType", 20)?.as_deref() {
                    Some("youtube") => {}
                    Some(_) => return Err(ApiError::validation("embedType", "must be youtube")),
                    None => {
                        return Err(ApiError::validation(
                            "embedType",
                            "is required for an embed item",
                        ))
                    }
                }
                let video = body
                    .get("embedData")
                    .and_then(|d| d.get("videoId"))
                    .and_then(Value::as_str)
                    .filter(|v| is_youtube_id(v))
                    .ok_or_else(|| {
                        ApiError::validation(
                            "embedData.videoId",
                            "must be a YouTube video id (11 letters, digits, '-' or '_')",
                        )
                    })?;
                item.embed_type = Some("youtube".into());
                item.embed_data = Some(serde_json::json!({ "videoId": video }));
                item.title = title;
            }
        }
        Ok(item)
    }
}

fn is_youtube_id(v: &str) -> bool {
    v.len() == 11
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// `itemIds` of a reorder: exactly the gallery's items, each once.
pub fn check_reorder(item_ids: &[String], existing: &[String]) -> ApiResult<()> {
    let mut a: Vec<&String> = item_ids.iter().collect();
    let mut b: Vec<&String> = existing.iter().collect();
    a.sort();
    b.sort();
    let dup = a.windows(2).any(|w| w[0] == w[1]);
    if dup || a != b {
        return Err(ApiError::validation(
            "itemIds",
            "must list every item of the gallery exactly once",
        ));
    }
    Ok(())
}

/// What the public page shows.
pub struct Page<'a> {
    pub title: &'a str,
    pub bio: Option<&'a str>,
    pub avatar_url: Option<&'a str>,
    pub theme: &'a str,
    pub custom_css: Option<&'a str>,
    pub items: Vec<ItemInput>,
}

fn theme_css(theme: &str) -> &'static str {
    match theme {
        "minimal" => ":root{--bg:#fff;--fg:#111;--muted:#666;--card:#fff;--card-fg:#111;--border:#111;--radius:0}",
        "gradient" => ":root{--bg:linear-gradient(135deg,#6366f1,#ec4899);--fg:#fff;--muted:#f3f4f6;--card:rgba(255,255,255,.18);--card-fg:#fff;--border:rgba(255,255,255,.35);--radius:14px}",
        "dark" => ":root{--bg:#0f172a;--fg:#f1f5f9;--muted:#94a3b8;--card:#1e293b;--card-fg:#f1f5f9;--border:#334155;--radius:12px}",
        "neon" => ":root{--bg:#050505;--fg:#39ff14;--muted:#0ff;--card:#000;--card-fg:#39ff14;--border:#39ff14;--radius:8px}.item{box-shadow:0 0 8px #39ff14}",
        _ => ":root{--bg:#f4f5f7;--fg:#1f2933;--muted:#52606d;--card:#fff;--card-fg:#1f2933;--border:#e4e7eb;--radius:12px}",
    }
}

const BASE_CSS: &str = "*{box-sizing:border-box}body{margin:0;min-height:100vh;background:var(--bg);color:var(--fg);font:16px/1.5 -apple-system,BlinkMacSystemFont,'Segoe UI',Roboto,sans-serif}main{max-width:560px;margin:0 auto;padding:40px 16px;text-align:center}.avatar{width:96px;height:96px;border-radius:50%;object-fit:cover}h1{font-size:24px;margin:12px 0 4px}.bio{color:var(--muted);margin:0 0 24px;white-space:pre-line}.item{display:block;margin:12px 0;padding:14px 16px;border:1px solid var(--border);border-radius:var(--radius);background:var(--card);color:var(--card-fg);text-decoration:none;font-weight:600;overflow-wrap:anywhere}a.item:hover{opacity:.85}h2{font-size:15px;text-transform:uppercase;letter-spacing:.06em;color:var(--muted);margin:28px 0 8px}hr{border:0;border-top:1px solid var(--border);margin:24px 0}.embed{position:relative;padding-top:56.25%;margin:12px 0;border-radius:var(--radius);overflow:hidden}.embed iframe{position:absolute;inset:0;width:100%;height:100%;border:0}figure{margin:12px 0}figure img{max-width:100%;border-radius:var(--radius)}figcaption{color:var(--muted);font-size:14px}";

/// The Content-Security-Policy the page is served with: inline styles,
/// https images and YouTube embeds only; no scripts, no external CSS.
pub const PAGE_CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src https: data:; frame-src https://www.youtube-nocookie.com; base-uri 'none'; form-action 'none'";

/// The public page. Every user value is escaped; custom CSS (already
/// free of `<`) only applies with the `custom` theme.
pub fn render(p: &Page) -> String {
    let mut body = String::new();
    if let Some(a) = p.avatar_url {
        body.push_str(&format!(
            "<img class=\"avatar\" src=\"{}\" alt=\"\">",
            escape(a)
        ));
    }
    body.push_str(&format!("<h1>{}</h1>", escape(p.title)));
    if let Some(b) = p.bio.filter(|b| !b.is_empty()) {
        body.push_str(&format!("<p class=\"bio\">{}</p>", escape(b)));
    }
    for it in &p.items {
        let title = it.title.as_deref().unwrap_or("");
        match it.kind.as_str() {
            "link" => body.push_str(&format!(
                "<a class=\"item\" href=\"{}\" rel=\"noopener nofollow\">{}</a>",
                escape(it.url.as_deref().unwrap_or("")),
                escape(title)
            )),
            "header" => body.push_str(&format!("<h2>{}</h2>", escape(title))),
            "divider" => body.push_str("<hr>"),
            "image" => {
                let img = format!(
                    "<img src=\"{}\" alt=\"{}\" loading=\"lazy\">",
                    escape(it.image_url.as_deref().unwrap_or("")),
                    escape(title)
                );
                let img = match &it.url {
                    Some(u) => format!(
                        "<a href=\"{}\" rel=\"noopener nofollow\">{img}</a>",
                        escape(u)
                    ),
                    None => img,
                };
                let caption = if title.is_empty() {
                    String::new()
                } else {
                    format!("<figcaption>{}</figcaption>", escape(title))
                };
                body.push_str(&format!("<figure>{img}{caption}</figure>"));
            }
            _ => {
                let id = it
                    .embed_data
                    .as_ref()
                    .and_then(|d| d.get("videoId"))
                    .and_then(Value::as_str)
                    .filter(|v| is_youtube_id(v))
                    .unwrap_or("");
                body.push_str(&format!(
                    "<div class=\"embed\"><iframe src=\"https://www.youtube-nocookie.com/embed/{}\" title=\"{}\" loading=\"lazy\" allowfullscreen></iframe></div>",
                    escape(id),
                    escape(title)
                ));
            }
        }
    }
    let custom = match (p.theme, p.custom_css) {
        // Re-checked at render: never trust what storage holds.
        ("custom", Some(css)) if !css.contains('<') => css,
        _ => "",
    };
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
<title>{t}</title><style>{theme}{BASE_CSS}</style><style>{custom}</style></head>\
<body class=\"theme-{th}\"><main>{body}</main></body></html>",
        t = escape(p.title),
        theme = theme_css(p.theme),
        th = escape(p.theme),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn the_seed_gallery_parses() {
        let g = GalleryPatch::parse(
            &obj(json!({"slug": "myprofile", "title": "My Name", "bio": "Creator & developer", "theme": "gradient"})),
            true,
        )
        .unwrap();
        assert_eq!(g.slug.as_deref(), Some("myprofile"));
        assert_eq!(g.theme.as_deref(), Some("gradient"));
        assert_eq!(g.bio, Some(Some("Creator & developer".into())));
    }

    #[test]
    fn gallery_refusals_name_their_field() {
        for (body, field) in [
            (json!({"title": "x"}), "slug"),
            (json!({"slug": "a b", "title": "x"}), "slug"),
            (json!({"slug": "ok"}), "title"),
            (json!({"slug": "ok", "title": " "}), "title"),
            (
                json!({"slug": "ok", "title": "x", "theme": "pink"}),
                "theme",
            ),
            (
                json!({"slug": "ok", "title": "x", "customCss": "</style><script>alert(1)</script>"}),
                "customCss",
            ),
            (
                json!({"slug": "ok", "title": "x", "avatarUrl": "javascript:alert(1)"}),
                "avatarUrl",
            ),
            (
                json!({"slug": "ok", "title": "x", "bio": "b".repeat(501)}),
                "bio",
            ),
            (
                json!({"slug": "ok", "title": "x", "colour": "red"}),
                "colour",
            ),
        ] {
            let e = GalleryPatch::parse(&obj(body.clone()), true).unwrap_err();
            assert!(e.envelope().to_string().contains(field), "{body} → {e:?}");
        }
        assert_eq!(
            GalleryPatch::parse(&obj(json!({"slug": "api", "title": "x"})), true)
                .unwrap_err()
                .code(),
            "SLUG_RESERVED"
        );
    }

    #[test]
    fn items_need_what_their_type_needs() {
        let link = ItemInput::parse(&obj(
            json!({"type": "link", "title": "My Website", "url": "https://example.com"}),
        ))
        .unwrap();
        assert_eq!(link.url.as_deref(), Some("https://example.com"));
        let embed = ItemInput::parse(&obj(json!({"type": "embed", "title": "Latest Video", "embedType": "youtube", "embedData": {"videoId": "dQw4w9WgXcQ"}}))).unwrap();
        assert_eq!(embed.embed_data, Some(json!({"videoId": "dQw4w9WgXcQ"})));
        assert!(ItemInput::parse(&obj(json!({"type": "divider"}))).is_ok());
        for (body, field) in [
            (json!({"title": "x"}), "type"),
            (json!({"type": "button"}), "type"),
            (json!({"type": "link", "url": "https://a.com"}), "title"),
            (json!({"type": "link", "title": "x"}), "url"),
            (
                json!({"type": "link", "title": "x", "url": "javascript:alert(1)"}),
                "url",
            ),
            (json!({"type": "header"}), "title"),
            (json!({"type": "image"}), "imageUrl"),
            (
                json!({"type": "embed", "embedData": {"videoId": "dQw4w9WgXcQ"}}),
                "embedType",
            ),
            (
                json!({"type": "embed", "embedType": "vimeo", "embedData": {"videoId": "1"}}),
                "embedType",
            ),
            (
                json!({"type": "embed", "embedType": "youtube", "embedData": {"videoId": "x\"><script>"}}),
                "embedData.videoId",
            ),
            (
                json!({"type": "embed", "embedType": "youtube"}),
                "embedData.videoId",
            ),
        ] {
            let e = ItemInput::parse(&obj(body.clone())).unwrap_err();
            assert!(e.envelope().to_string().contains(field), "{body} → {e:?}");
        }
    }

    #[test]
    fn reorder_needs_every_item_once() {
        let have = vec!["a".to_string(), "b".to_string(), "c".to_string()];
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert!(check_reorder(&s(&["c", "a", "b"]), &have).is_ok());
        assert!(check_reorder(&s(&["a", "b"]), &have).is_err());
        assert!(check_reorder(&s(&["a", "b", "b"]), &have).is_err());
        assert!(check_reorder(&s(&["a", "b", "c", "d"]), &have).is_err());
        assert!(check_reorder(&s(&["a", "a", "b", "c"]), &have).is_err());
    }

    #[test]
    fn the_page_escapes_everything_typed() {
        let evil = "<script>alert(1)</script>\"'&";
        let page = render(&Page {
            title: evil,
            bio: Some(evil),
            avatar_url: Some("https://a.com/\"onerror=alert(1)"),
            theme: "custom",
            custom_css: Some("body{color:red}"),
            items: vec![
                ItemInput {
                    kind: "link".into(),
                    title: Some(evil.into()),
                    url: Some("https://a.com/?q=\"><script>".into()),
                    ..Default::default()
                },
                ItemInput {
                    kind: "header".into(),
                    title: Some(evil.into()),
                    ..Default::default()
                },
                ItemInput {
                    kind: "divider".into(),
                    ..Default::default()
                },
                ItemInput {
                    kind: "image".into(),
                    title: Some(evil.into()),
                    image_url: Some("https://a.com/i.png".into()),
                    ..Default::default()
                },
                ItemInput {
                    kind: "embed".into(),
                    embed_type: Some("youtube".into()),
                    embed_data: Some(json!({"videoId": "dQw4w9WgXcQ"})),
                    ..Default::default()
                },
            ],
        });
        assert!(!page.contains("<script>"));
        assert!(!page.contains("\"onerror"));
        assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;&amp;"));
        assert!(page.contains("<style>body{color:red}</style>"));
        assert!(page.contains("https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ"));
        assert!(page.contains("<hr>"));
        assert!(page.contains("name=\"viewport\""));
        // Stored CSS that somehow holds '<' is dropped, not rendered.
        let sneaky = render(&Page {
            title: "t",
            bio: None,
            avatar_url: None,
            theme: "custom",
            custom_css: Some("</style><script>x</script>"),
            items: vec![],
        });
        assert!(!sneaky.contains("<script>"));
        // Custom CSS only with the custom theme.
        let plain = render(&Page {
            title: "t",
            bio: None,
            avatar_url: None,
            theme: "dark",
            custom_css: Some("body{color:red}"),
            items: vec![],
        });
        assert!(!plain.contains("color:red"));
    }
}
