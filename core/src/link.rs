//! Short links: the record, the validated changes an API request makes to
//! it, its JSON shape, and the compact redirect record kept in KV.

use crate::ids::{LinkId, WorkspaceId};
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use crate::country::CountryCode;
use crate::error::{ApiError, ApiResult};
use crate::input::Fields;
use crate::secrets;
use crate::slug::Slug;
use crate::time::{format_rfc3339, parse_rfc3339};
use crate::ua::Device;
use crate::url::{encode_component, DestinationUrl};

pub const MAX_TITLE: usize = 200;
pub const MAX_DESCRIPTION: usize = 2000;
pub const MAX_TAGS: usize = 20;
pub const MAX_TAG_LEN: usize = 50;
pub const MAX_PASSWORD: usize = 128;
pub const MAX_UTM: usize = 200;
pub const MAX_SCENE: usize = 100;
pub const MAX_DOMAIN: usize = 253;
pub const MAX_ID: usize = 64;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Utm {
    pub source: Option<String>,
    pub medium: Option<String>,
    pub campaign: Option<String>,
    pub term: Option<String>,
    pub content: Option<String>,
}

impl Utm {
    /// `utm_source=...&...`, encoded once here so the redirect only appends.
    pub fn query(&self) -> String {
        let pairs = [
            ("utm_source", &self.source),
            ("utm_medium", &self.medium),
            ("utm_campaign", &self.campaign),
            ("utm_term", &self.term),
            ("utm_content", &self.content),
        ];
        pairs
            .iter()
            .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}={}", encode_component(v))))
            .collect::<Vec<_>>()
            .join("&")
    }
}

/// One A/B destination: `weight` of 100 visitors go to `url`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Variant {
    pub url: String,
    pub weight: u8,
}

pub const MIN_VARIANTS: usize = 2;
pub const MAX_VARIANTS: usize = 4;

/// What link-preview crawlers (Slack, iMessage, X, ...) show for the link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Preview {
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// An https image URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
}

/// Open Graph's own guidance: titles past ~90 characters and descriptions
/// past ~300 are cut by every unfurler.
pub const MAX_PREVIEW_TITLE: usize = 200;
pub const MAX_PREVIEW_DESCRIPTION: usize = 500;

/// A link as stored in D1.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Link {
    pub id: LinkId,
    pub workspace_id: WorkspaceId,
    pub domain: String,
    pub slug: String,
    pub destination_url: String,
    pub title: Option<String>,
    pub description: Option<String>,
    pub tags: Vec<String>,
    pub password_hash: Option<String>,
    pub expires_at: Option<i64>,
    pub click_limit: Option<i64>,
    pub geo_targets: BTreeMap<String, String>,
    pub device_targets: BTreeMap<String, String>,
    pub ios_url: Option<String>,
    pub android_url: Option<String>,
    pub utm: Utm,
    /// A/B test: 2–4 destinations whose weights sum to 100; empty = none.
    pub test_variants: Vec<Variant>,
    pub preview: Option<Preview>,
    pub group_id: Option<String>,
    pub archived: bool,
    pub escape_from_wechat: bool,
    pub advanced_bot_detection: bool,
    pub webhook: bool,
    pub webhook_scene: String,
    pub suspended: bool,
    pub banned: bool,
    pub click_count: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

/// Validated changes from a create or PATCH body. `Some(None)` clears.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LinkPatch {
    pub destination_url: Option<DestinationUrl>,
    pub slug: Option<Slug>,
    pub domain: Option<String>,
    pub title: Option<Option<String>>,
    pub description: Option<Option<String>>,
    pub tags: Option<Vec<String>>,
    pub password: Option<Option<String>>,
    pub expires_at: Option<Option<i64>>,
    pub click_limit: Option<Option<i64>>,
    pub geo_targets: Option<BTreeMap<String, String>>,
    pub device_targets: Option<BTreeMap<String, String>>,
    pub ios_url: Option<Option<DestinationUrl>>,
    pub android_url: Option<Option<DestinationUrl>>,
    pub utm_source: Option<Option<String>>,
    pub utm_medium: Option<Option<String>>,
    pub utm_campaign: Option<Option<String>>,
    pub utm_term: Option<Option<String>>,
    pub utm_content: Option<Option<String>>,
    /// `Some(vec![])` ends the test (`null`).
    pub test_variants: Option<Vec<Variant>>,
    pub preview: Option<Option<Preview>>,
    pub group_id: Option<Option<String>>,
    pub archived: Option<bool>,
    pub escape_from_wechat: Option<bool>,
    pub advanced_bot_detection: Option<bool>,
    pub webhook: Option<bool>,
    pub webhook_scene: Option<String>,
    pub suspended: Option<bool>,
}

const WRITABLE: &[&str] = &[
    "destinationUrl",
    "slug",
    "domain",
    "title",
    "description",
    "tags",
    "password",
    "expiresAt",
    "clickLimit",
    "geoTargets",
    "deviceTargets",
    "iosUrl",
    "androidUrl",
    "utmSource",
    "utmMedium",
    "utmCampaign",
    "utmTerm",
    "utmContent",
    "testVariants",
    "preview",
    "groupId",
    "archived",
    "escapeFromWechat",
    "advancedBotDetection",
    "webhook",
    "webhookScene",
    "suspended",
];
/// Response fields a client may echo back in a PATCH; they are ignored.
const READ_ONLY: &[&str] = &[
    "id",
    "shortUrl",
    "clickCount",
    "createdAt",
    "updatedAt",
    "hasPassword",
    "workspaceId",
];

fn nullable_url(f: &Fields, name: &str) -> ApiResult<Option<Option<DestinationUrl>>> {
    Ok(
        match f.nullable_string(name, crate::url::MAX_URL_LEN + 64)? {
            None => None,
            Some(None) => Some(None),
            Some(Some(s)) if s.trim().is_empty() => Some(None),
            Some(Some(s)) => Some(Some(DestinationUrl::parse(&s, name)?)),
        },
    )
}

fn url_map(
    f: &Fields,
    name: &str,
    key: impl Fn(&str, &str) -> ApiResult<String>,
) -> ApiResult<Option<BTreeMap<String, String>>> {
    let Some(pairs) = f.string_map(name, 300)? else {
        return Ok(None);
    };
    let mut out = BTreeMap::new();
    for (k, v) in pairs {
        let field = format!("{name}.{k}");
        let key = key(&k, &field)?;
        let url = DestinationUrl::parse(&v, &field)?;
        out.insert(key, url.into_string());
    }
    Ok(Some(out))
}

/// `testVariants`: null (ends the test) or 2–4 `{url, weight}` with
/// whole-number weights summing to 100; each url as `destinationUrl`.
fn test_variants(f: &Fields) -> ApiResult<Option<Vec<Variant>>> {
    const NAME: &str = "testVariants";
    let items = match f.map.get(NAME) {
        None => return Ok(None),
        Some(Value::Null) => return Ok(Some(Vec::new())),
        Some(Value::Array(items)) => items,
        Some(_) => return Err(ApiError::validation(NAME, "must be an array or null")),
    };
    if !(MIN_VARIANTS..=MAX_VARIANTS).contains(&items.len()) {
        return Err(ApiError::validation(
            NAME,
            format!("must hold {MIN_VARIANTS} to {MAX_VARIANTS} variants"),
        ));
    }
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let at = format!("{NAME}[{i}]");
        let Value::Object(m) = item else {
            return Err(ApiError::validation(at, "must be an object {url, weight}"));
        };
        let vf = Fields::new(m);
        vf.deny_unknown(&["url", "weight"], &[])
            .map_err(|e| prefixed(&at, e))?;
        let url = match vf.string("url", crate::url::MAX_URL_LEN + 64) {
            Ok(Some(u)) => DestinationUrl::parse(&u, &format!("{at}.url"))?,
            Ok(None) => return Err(ApiError::validation(format!("{at}.url"), "is required")),
            Err(e) => return Err(prefixed(&at, e)),
        };
        let weight = match m.get("weight") {
            Some(Value::Number(n)) => n.as_u64().filter(|w| (1..=99).contains(w)),
            None => return Err(ApiError::validation(format!("{at}.weight"), "is required")),
            _ => None,
        }
        .ok_or_else(|| {
            ApiError::validation(
                format!("{at}.weight"),
                "must be a whole number from 1 to 99",
            )
        })?;
        out.push(Variant {
            url: url.into_string(),
            weight: weight as u8,
        });
    }
    let sum: u32 = out.iter().map(|v| v.weight as u32).sum();
    if sum != 100 {
        return Err(ApiError::validation(
            NAME,
            format!("weights must sum to 100 (they sum to {sum})"),
        ));
    }
    Ok(Some(out))
}

/// `preview`: null (none) or `{title, description?, image?}`.
fn preview(f: &Fields) -> ApiResult<Option<Option<Preview>>> {
    const NAME: &str = "preview";
    let m = match f.map.get(NAME) {
        None => return Ok(None),
        Some(Value::Null) => return Ok(Some(None)),
        Some(Value::Object(m)) => m,
        Some(_) => return Err(ApiError::validation(NAME, "must be an object or null")),
    };
    let pf = Fields::new(m);
    let p = |e| prefixed(NAME, e);
    pf.deny_unknown(&["title", "description", "image"], &[])
        .map_err(p)?;
    let title = pf.required_string("title", MAX_PREVIEW_TITLE).map_err(p)?;
    let description = pf
        .nullable_string("description", MAX_PREVIEW_DESCRIPTION)
        .map_err(p)?
        .flatten()
        .filter(|d| !d.trim().is_empty());
    let image = match pf
        .nullable_string("image", crate::url::MAX_URL_LEN + 64)
        .map_err(p)?
        .flatten()
    {
        None => None,
        Some(u) => {
            let url = DestinationUrl::parse(&u, "preview.image")?;
            if !url.as_str()[..6].eq_ignore_ascii_case("https:") {
                return Err(ApiError::invalid_url(
                    "preview.image",
                    "must be an https URL (unfurlers refuse mixed content)",
                ));
            }
            Some(url.into_string())
        }
    };
    Ok(Some(Some(Preview {
        title: title.trim().to_string(),
        description,
        image,
    })))
}

/// The same error, its field named inside `outer` (`preview.title`).
fn prefixed(outer: &str, e: ApiError) -> ApiError {
    match e {
        ApiError::Validation { field, message } => ApiError::Validation {
            field: format!("{outer}.{field}"),
            message,
        },
        ApiError::InvalidUrl { field, message } => ApiError::InvalidUrl {
            field: format!("{outer}.{field}"),
            message,
        },
        other => other,
    }
}

impl LinkPatch {
    /// Reads a create (`creating`) or PATCH body.
    pub fn parse(body: &Map<String, Value>, creating: bool) -> ApiResult<LinkPatch> {
        let f = Fields::new(body);
        if f.has("banned") {
            return Err(ApiError::Forbidden(
                "banned can only be set by an operator".into(),
            ));
        }
        f.deny_unknown(WRITABLE, READ_ONLY)?;
        let destination_url = match f.string("destinationUrl", crate::url::MAX_URL_LEN + 64)? {
            Some(s) => Some(DestinationUrl::parse(&s, "destinationUrl")?),
            None if creating => return Err(ApiError::validation("destinationUrl", "is required")),
            None => None,
        };
        let slug = match f.nullable_string("slug", 1000)? {
            Some(Some(s)) => Some(Slug::parse(&s)?),
            Some(None) if !creating => {
                return Err(ApiError::validation("slug", "must not be null"));
            }
            _ => None,
        };
        let domain = match f.nullable_string("domain", MAX_DOMAIN)? {
            Some(Some(d)) => Some(parse_domain(&d)?),
            _ => None,
        };
        let expires_at = match f.nullable_string("expiresAt", 64)? {
            None => None,
            Some(None) => Some(None),
            Some(Some(s)) => {
                let t = parse_rfc3339(&s).ok_or_else(|| {
                    ApiError::validation(
                        "expiresAt",
                        "must be an ISO 8601 date-time, e.g. 2025-12-31T23:59:59Z",
                    )
                })?;
                // A past date is accepted (the seed's own example is one):
                // the link is created expired and answers 410.
                Some(Some(t))
            }
        };
        let password = match f.nullable_string("password", MAX_PASSWORD)? {
            Some(Some(p)) if p.is_empty() => Some(None),
            other => other,
        };
        let geo_targets = url_map(&f, "geoTargets", |k, field| {
            CountryCode::parse_field(k, field).map(|c| c.as_str().to_string())
        })?;
        let device_targets = url_map(&f, "deviceTargets", |k, field| match Device::parse(k) {
            Some(d) => Ok(d.as_str().to_string()),
            None => Err(ApiError::validation(
                field,
                "device must be mobile, tablet or desktop",
            )),
        })?;
        let group_id = match f.nullable_string("groupId", MAX_ID)? {
            Some(Some(g)) if g.is_empty() => Some(None),
            other => other,
        };
        // Duplicates dropped wherever they are, first occurrence kept.
        let tags = f.string_list("tags", MAX_TAGS, MAX_TAG_LEN)?.map(|t| {
            let mut seen = std::collections::BTreeSet::new();
            t.into_iter()
                .filter(|x| seen.insert(x.clone()))
                .collect::<Vec<_>>()
        });
        Ok(LinkPatch {
            destination_url,
            slug,
            domain,
            title: f.nullable_string("title", MAX_TITLE)?,
            description: f.nullable_string("description", MAX_DESCRIPTION)?,
            tags,
            password,
            expires_at,
            click_limit: f.nullable_int("clickLimit", 1, 1_000_000_000_000)?,
            geo_targets,
            device_targets,
            ios_url: nullable_url(&f, "iosUrl")?,
            android_url: nullable_url(&f, "androidUrl")?,
            utm_source: f.nullable_string("utmSource", MAX_UTM)?,
            utm_medium: f.nullable_string("utmMedium", MAX_UTM)?,
            utm_campaign: f.nullable_string("utmCampaign", MAX_UTM)?,
            utm_term: f.nullable_string("utmTerm", MAX_UTM)?,
            utm_content: f.nullable_string("utmContent", MAX_UTM)?,
            test_variants: test_variants(&f)?,
            preview: preview(&f)?,
            group_id,
            archived: f.bool("archived")?,
            escape_from_wechat: f.bool("escapeFromWechat")?,
            advanced_bot_detection: f.bool("advancedBotDetection")?,
            webhook: f.bool("webhook")?,
            webhook_scene: f
                .nullable_string("webhookScene", MAX_SCENE)?
                .map(Option::unwrap_or_default),
            suspended: f.bool("suspended")?,
        })
    }

    /// Applies the changes; a new password is hashed with `salt`.
    pub fn apply(self, link: &mut Link, salt: &[u8; 16]) {
        use crate::input::set;
        let empty_to_none = |v: Option<Option<String>>| v.map(|o| o.filter(|s| !s.is_empty()));
        set(
            &mut link.destination_url,
            self.destination_url.map(DestinationUrl::into_string),
        );
        set(&mut link.slug, self.slug.map(|s| s.as_str().to_string()));
        set(&mut link.domain, self.domain);
        set(&mut link.title, self.title);
        set(&mut link.description, self.description);
        set(&mut link.tags, self.tags);
        if let Some(p) = self.password {
            link.password_hash = p.map(|p| secrets::hash_password(&p, salt));
        }
        set(&mut link.expires_at, self.expires_at);
        set(&mut link.click_limit, self.click_limit);
        set(&mut link.geo_targets, self.geo_targets);
        set(&mut link.device_targets, self.device_targets);
        set(
            &mut link.ios_url,
            self.ios_url.map(|o| o.map(DestinationUrl::into_string)),
        );
        set(
            &mut link.android_url,
            self.android_url.map(|o| o.map(DestinationUrl::into_string)),
        );
        set(&mut link.utm.source, empty_to_none(self.utm_source));
        set(&mut link.utm.medium, empty_to_none(self.utm_medium));
        set(&mut link.utm.campaign, empty_to_none(self.utm_campaign));
        set(&mut link.utm.term, empty_to_none(self.utm_term));
        set(&mut link.utm.content, empty_to_none(self.utm_content));
        set(&mut link.test_variants, self.test_variants);
        set(&mut link.preview, self.preview);
        set(&mut link.group_id, self.group_id);
        set(&mut link.archived, self.archived);
        set(&mut link.escape_from_wechat, self.escape_from_wechat);
        set(
            &mut link.advanced_bot_detection,
            self.advanced_bot_detection,
        );
        set(&mut link.webhook, self.webhook);
        set(&mut link.webhook_scene, self.webhook_scene);
        set(&mut link.suspended, self.suspended);
    }
}

/// A host name as typed by a user: lower-cased, no scheme, path or port.
pub fn parse_domain(s: &str) -> ApiResult<String> {
    let d = s.trim().trim_end_matches('.').to_ascii_lowercase();
    let labels_ok = d.split('.').all(|l| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    });
    // `localhost:8787` is the local default domain.
    let (host, port) = match d.split_once(':') {
        Some((h, p)) => (h.to_string(), Some(p)),
        None => (d.clone(), None),
    };
    let port_ok =
        port.is_none_or(|p| !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()));
    let host_ok = if port.is_some() {
        host.split('.')
            .all(|l| !l.is_empty() && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
    } else {
        labels_ok
    };
    if d.is_empty() || d.len() > MAX_DOMAIN || !host_ok || !port_ok {
        return Err(ApiError::validation(
            "domain",
            "must be a host name such as links.example.com",
        ));
    }
    Ok(d)
}

impl Link {
    pub fn short_url(&self, scheme: &str) -> String {
        format!("{scheme}://{}/{}", self.domain, self.slug)
    }

    /// The API shape (go2.gg's fields plus ours). Never the password.
    /// `testVariants` and `preview` appear only when set, so links
    /// without them keep exactly go2.gg's shape.
    pub fn to_json(&self, scheme: &str) -> Value {
        let mut v = json!({
            "id": self.id,
            "shortUrl": self.short_url(scheme),
            "destinationUrl": self.destination_url,
            "slug": self.slug,
            "domain": self.domain,
            "title": self.title,
            "description": self.description,
            "tags": self.tags,
            "hasPassword": self.password_hash.is_some(),
            "expiresAt": self.expires_at.map(format_rfc3339),
            "clickLimit": self.click_limit,
            "geoTargets": self.geo_targets,
            "deviceTargets": self.device_targets,
            "iosUrl": self.ios_url,
            "androidUrl": self.android_url,
            "utmSource": self.utm.source,
            "utmMedium": self.utm.medium,
            "utmCampaign": self.utm.campaign,
            "utmTerm": self.utm.term,
            "utmContent": self.utm.content,
            "groupId": self.group_id,
            "archived": self.archived,
            "escapeFromWechat": self.escape_from_wechat,
            "advancedBotDetection": self.advanced_bot_detection,
            "webhook": self.webhook,
            "webhookScene": self.webhook_scene,
            "suspended": self.suspended,
            "banned": self.banned,
            "clickCount": self.click_count,
            "createdAt": format_rfc3339(self.created_at),
            "updatedAt": format_rfc3339(self.updated_at),
        });
        if !self.test_variants.is_empty() {
            v["testVariants"] = json!(self.test_variants);
        }
        if let Some(p) = &self.preview {
            v["preview"] = json!(p);
        }
        v
    }

    /// Every URL a visitor can be sent to, with the API field naming it.
    pub fn urls(&self) -> Vec<(String, &str)> {
        let mut out = vec![("destinationUrl".to_string(), self.destination_url.as_str())];
        for (k, u) in &self.geo_targets {
            out.push((format!("geoTargets.{k}"), u));
        }
        for (k, u) in &self.device_targets {
            out.push((format!("deviceTargets.{k}"), u));
        }
        if let Some(u) = &self.ios_url {
            out.push(("iosUrl".into(), u));
        }
        if let Some(u) = &self.android_url {
            out.push(("androidUrl".into(), u));
        }
        for (i, v) in self.test_variants.iter().enumerate() {
            out.push((format!("testVariants[{i}].url"), &v.url));
        }
        out
    }

    pub fn record(&self) -> RedirectRecord {
        RedirectRecord {
            version: RECORD_VERSION,
            link_id: self.id.clone(),
            workspace_id: self.workspace_id.clone(),
            destination_url: self.destination_url.clone(),
            ios_url: self.ios_url.clone(),
            android_url: self.android_url.clone(),
            geo_targets: self.geo_targets.clone(),
            device_targets: self.device_targets.clone(),
            utm_query: self.utm.query(),
            test_variants: self.test_variants.clone(),
            preview: self.preview.clone(),
            expires_at: self.expires_at,
            click_limit: self.click_limit,
            limit_reached: self.click_limit.is_some_and(|l| self.click_count >= l),
            password_hash: self.password_hash.clone(),
            suspended: self.suspended,
            banned: self.banned,
            escape_from_wechat: self.escape_from_wechat,
            advanced_bot_detection: self.advanced_bot_detection,
            webhook: self.webhook,
            webhook_scene: self.webhook_scene.clone(),
        }
    }
}

pub const RECORD_VERSION: u8 = 1;

fn is_false(b: &bool) -> bool {
    !*b
}

/// What the redirect reads from KV: one compact, versioned JSON object per
/// host + slug. Readable names here, the short keys in KV (serde renames:
/// the stored form is unchanged, so records already in KV still read).
/// Empty fields are left out to keep the read small.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RedirectRecord {
    #[serde(rename = "v")]
    pub version: u8,
    #[serde(rename = "id")]
    pub link_id: LinkId,
    #[serde(rename = "ws")]
    pub workspace_id: WorkspaceId,
    #[serde(rename = "url")]
    pub destination_url: String,
    #[serde(rename = "ios", default, skip_serializing_if = "Option::is_none")]
    pub ios_url: Option<String>,
    #[serde(rename = "and", default, skip_serializing_if = "Option::is_none")]
    pub android_url: Option<String>,
    #[serde(rename = "geo", default, skip_serializing_if = "BTreeMap::is_empty")]
    pub geo_targets: BTreeMap<String, String>,
    #[serde(rename = "dev", default, skip_serializing_if = "BTreeMap::is_empty")]
    pub device_targets: BTreeMap<String, String>,
    /// Pre-encoded UTM query.
    #[serde(rename = "utm", default, skip_serializing_if = "String::is_empty")]
    pub utm_query: String,
    /// A/B destinations (checked and summing to 100 at write time).
    #[serde(rename = "ab", default, skip_serializing_if = "Vec::is_empty")]
    pub test_variants: Vec<Variant>,
    /// The card link-preview crawlers get.
    #[serde(rename = "pv", default, skip_serializing_if = "Option::is_none")]
    pub preview: Option<Preview>,
    /// Expiry, ms since the epoch.
    #[serde(rename = "exp", default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
    #[serde(rename = "lim", default, skip_serializing_if = "Option::is_none")]
    pub click_limit: Option<i64>,
    /// The click limit has been reached (set by the analytics consumer).
    #[serde(rename = "done", default, skip_serializing_if = "is_false")]
    pub limit_reached: bool,
    #[serde(rename = "pw", default, skip_serializing_if = "Option::is_none")]
    pub password_hash: Option<String>,
    #[serde(rename = "sus", default, skip_serializing_if = "is_false")]
    pub suspended: bool,
    #[serde(rename = "ban", default, skip_serializing_if = "is_false")]
    pub banned: bool,
    #[serde(rename = "wc", default, skip_serializing_if = "is_false")]
    pub escape_from_wechat: bool,
    #[serde(rename = "bot", default, skip_serializing_if = "is_false")]
    pub advanced_bot_detection: bool,
    #[serde(rename = "wh", default, skip_serializing_if = "is_false")]
    pub webhook: bool,
    #[serde(rename = "whs", default, skip_serializing_if = "String::is_empty")]
    pub webhook_scene: String,
}

impl RedirectRecord {
    pub fn to_json_string(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// `None` for anything that is not a record this version understands.
    pub fn from_json(s: &str) -> Option<RedirectRecord> {
        serde_json::from_str::<RedirectRecord>(s)
            .ok()
            .filter(|r| r.version == RECORD_VERSION)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(v: Value, creating: bool) -> ApiResult<LinkPatch> {
        LinkPatch::parse(v.as_object().unwrap(), creating)
    }

    fn create(v: Value) -> Link {
        let mut l = Link {
            domain: "go2.gg".into(),
            slug: "gen".into(),
            ..Default::default()
        };
        parse(v, true).unwrap().apply(&mut l, &[3; 16]);
        l
    }

    #[test]
    fn seed_create_with_tags() {
        let l = create(json!({
            "destinationUrl": "https://example.com/landing-page",
            "slug": "my-link", "title": "My Campaign Link", "tags": ["marketing", "q1-2025"]
        }));
        let j = l.to_json("https");
        assert_eq!(j["shortUrl"], "https://go2.gg/my-link");
        assert_eq!(j["tags"], json!(["marketing", "q1-2025"]));
        assert_eq!(j["clickCount"], 0);
    }

    #[test]
    fn password_is_hashed_and_hidden() {
        let l = create(
            json!({"destinationUrl": "https://example.com/secret", "slug": "exclusive", "password": "secure123"}),
        );
        let hash = l.password_hash.clone().unwrap();
        assert!(secrets::verify_password("secure123", &hash));
        let text = l.to_json("https").to_string();
        assert!(!text.contains("secure123") && !text.contains(&hash));
        assert_eq!(l.to_json("https")["hasPassword"], true);
        assert_eq!(l.record().password_hash.as_deref(), Some(hash.as_str()));
    }

    #[test]
    fn targets_are_validated_and_normalised() {
        let l = create(json!({
            "destinationUrl": "https://example.com/default",
            "geoTargets": {"us": "https://example.com/us", "GB": "https://example.com/uk"},
            "deviceTargets": {"mobile": "https://m.example.com"},
            "iosUrl": "https://apps.apple.com/app/myapp",
            "utmSource": "email", "utmCampaign": "summer sale"
        }));
        assert_eq!(l.geo_targets["US"], "https://example.com/us");
        let r = l.record();
        assert_eq!(r.device_targets["mobile"], "https://m.example.com");
        assert_eq!(r.utm_query, "utm_source=email&utm_campaign=summer%20sale");
        let rt = RedirectRecord::from_json(&r.to_json_string()).unwrap();
        assert_eq!(rt, r);
        assert!(
            !r.to_json_string().contains("\"sus\""),
            "defaults are omitted"
        );
    }

    #[test]
    fn bad_inputs_name_their_field() {
        let cases = [
            (json!({}), "destinationUrl", "VALIDATION_ERROR"),
            (
                json!({"destinationUrl": 5}),
                "destinationUrl",
                "VALIDATION_ERROR",
            ),
            (
                json!({"destinationUrl": "ftp://x.com"}),
                "destinationUrl",
                "INVALID_URL",
            ),
            (json!({"url": "https://x.com"}), "url", "VALIDATION_ERROR"),
            (
                json!({"destinationUrl": "https://x.com", "geoTargets": {"USA": "https://x.com"}}),
                "geoTargets.USA",
                "VALIDATION_ERROR",
            ),
            (
                json!({"destinationUrl": "https://x.com", "geoTargets": {"US": "javascript:alert(1)"}}),
                "geoTargets.US",
                "INVALID_URL",
            ),
            (
                json!({"destinationUrl": "https://x.com", "deviceTargets": {"watch": "https://x.com"}}),
                "deviceTargets.watch",
                "VALIDATION_ERROR",
            ),
            (
                json!({"destinationUrl": "https://x.com", "androidUrl": "market://details"}),
                "androidUrl",
                "INVALID_URL",
            ),
            (
                json!({"destinationUrl": "https://x.com", "expiresAt": "soon"}),
                "expiresAt",
                "VALIDATION_ERROR",
            ),
            (
                json!({"destinationUrl": "https://x.com", "clickLimit": 0}),
                "clickLimit",
                "VALIDATION_ERROR",
            ),
            (
                json!({"destinationUrl": "https://x.com", "clickLimit": "10"}),
                "clickLimit",
                "VALIDATION_ERROR",
            ),
            (
                json!({"destinationUrl": "https://x.com", "tags": "a"}),
                "tags",
                "VALIDATION_ERROR",
            ),
            (
                json!({"destinationUrl": "https://x.com", "title": "t".repeat(201)}),
                "title",
                "VALIDATION_ERROR",
            ),
            (
                json!({"destinationUrl": "https://x.com", "slug": "a b"}),
                "slug",
                "VALIDATION_ERROR",
            ),
            (
                json!({"destinationUrl": "https://x.com", "domain": "not a domain"}),
                "domain",
                "VALIDATION_ERROR",
            ),
            (
                json!({"destinationUrl": "https://x.com", "suspended": "yes"}),
                "suspended",
                "VALIDATION_ERROR",
            ),
        ];
        for (body, field, code) in cases {
            let e = parse(body.clone(), true).unwrap_err();
            assert_eq!((e.field(), e.code()), (Some(field), code), "{body}");
        }
        assert_eq!(
            parse(
                json!({"destinationUrl": "https://x.com", "slug": "api"}),
                true
            )
            .unwrap_err()
            .code(),
            "SLUG_RESERVED"
        );
        assert_eq!(
            parse(json!({"banned": true}), false).unwrap_err().code(),
            "FORBIDDEN"
        );
    }

    #[test]
    fn variants_and_preview_parse_and_name_their_fields() {
        let base = |extra: Value| {
            let mut b = json!({"destinationUrl": "https://x.com"});
            b.as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            b
        };
        let v = |u: &str, w: Value| json!({"url": u, "weight": w});
        let ok = create(base(json!({
            "testVariants": [v("https://a.com", json!(70)), v("https://b.com", json!(30))],
            "preview": {"title": " Hi ", "description": "D", "image": "https://img.example/i.png"}
        })));
        assert_eq!(ok.test_variants.len(), 2);
        assert_eq!(ok.test_variants[0].weight, 70);
        assert_eq!(ok.preview.as_ref().unwrap().title, "Hi");
        let j = ok.to_json("https");
        assert_eq!(j["testVariants"][1]["url"], "https://b.com");
        assert_eq!(j["preview"]["image"], "https://img.example/i.png");
        let r = RedirectRecord::from_json(&ok.record().to_json_string()).unwrap();
        assert_eq!(r.test_variants, ok.test_variants);
        assert_eq!(r.preview, ok.preview);
        // Absent: go2.gg's shape, unchanged.
        let plain = create(base(json!({})));
        assert!(plain.to_json("https").get("testVariants").is_none());
        assert!(plain.to_json("https").get("preview").is_none());

        let a = v("https://a.com", json!(50));
        let cases = [
            (
                json!({"testVariants": [a.clone()]}),
                "testVariants",
                "VALIDATION_ERROR",
            ),
            (
                json!({"testVariants": [a.clone(), a.clone(), v("https://c.com", json!(0)), a.clone(), a.clone()]}),
                "testVariants",
                "VALIDATION_ERROR",
            ),
            (
                json!({"testVariants": [a.clone(), v("https://b.com", json!(40))]}),
                "testVariants",
                "VALIDATION_ERROR",
            ),
            (
                json!({"testVariants": [a.clone(), v("https://b.com", json!(49.5)), v("https://c.com", json!(0.5))]}),
                "testVariants[1].weight",
                "VALIDATION_ERROR",
            ),
            (
                json!({"testVariants": [a.clone(), v("https://b.com", json!("50"))]}),
                "testVariants[1].weight",
                "VALIDATION_ERROR",
            ),
            (
                json!({"testVariants": [a.clone(), v("javascript:alert(1)", json!(50))]}),
                "testVariants[1].url",
                "INVALID_URL",
            ),
            (
                json!({"testVariants": [a.clone(), {"weight": 50}]}),
                "testVariants[1].url",
                "VALIDATION_ERROR",
            ),
            (
                json!({"testVariants": [a.clone(), {"url": "https://b.com", "weight": 50, "x": 1}]}),
                "testVariants[1].x",
                "VALIDATION_ERROR",
            ),
            (
                json!({"testVariants": "a"}),
                "testVariants",
                "VALIDATION_ERROR",
            ),
            (
                json!({"preview": {"title": "t", "image": "http://img.example/i.png"}}),
                "preview.image",
                "INVALID_URL",
            ),
            (
                json!({"preview": {"description": "d"}}),
                "preview.title",
                "VALIDATION_ERROR",
            ),
            (
                json!({"preview": {"title": "t".repeat(201)}}),
                "preview.title",
                "VALIDATION_ERROR",
            ),
            (
                json!({"preview": {"title": "t", "description": "d".repeat(501)}}),
                "preview.description",
                "VALIDATION_ERROR",
            ),
            (
                json!({"preview": {"title": "t", "video": "x"}}),
                "preview.video",
                "VALIDATION_ERROR",
            ),
            (json!({"preview": "t"}), "preview", "VALIDATION_ERROR"),
        ];
        for (extra, field, code) in cases {
            let e = parse(base(extra.clone()), true).unwrap_err();
            assert_eq!((e.field(), e.code()), (Some(field), code), "{extra}");
        }
        // null ends the test / removes the card.
        let mut l = ok.clone();
        parse(json!({"testVariants": null, "preview": null}), false)
            .unwrap()
            .apply(&mut l, &[0; 16]);
        assert!(l.test_variants.is_empty() && l.preview.is_none());
    }

    #[test]
    fn patch_changes_only_what_it_names_and_null_clears() {
        let mut l = create(
            json!({"destinationUrl": "https://x.com", "title": "T", "tags": ["a"], "clickLimit": 5}),
        );
        let before = l.clone();
        parse(json!({"destinationUrl": "https://example.com/updated-page", "tags": ["updated"], "clickLimit": null, "id": "ignored"}), false)
            .unwrap()
            .apply(&mut l, &[0; 16]);
        assert_eq!(l.destination_url, "https://example.com/updated-page");
        assert_eq!(l.tags, vec!["updated"]);
        assert_eq!(l.click_limit, None);
        assert_eq!(l.title, before.title);
        assert!(parse(json!({}), false).unwrap() == LinkPatch::default());
    }

    #[test]
    fn duplicate_tags_are_dropped_in_order() {
        let l =
            create(json!({"destinationUrl": "https://x.com", "tags": ["a", "b", "a", " b ", "c"]}));
        assert_eq!(l.tags, vec!["a", "b", "c"]);
    }

    #[test]
    fn click_limit_reached_marks_the_record() {
        let mut l = create(json!({"destinationUrl": "https://x.com", "clickLimit": 2}));
        assert!(!l.record().limit_reached);
        l.click_count = 2;
        assert!(l.record().limit_reached);
    }

    #[test]
    fn domains() {
        assert_eq!(
            parse_domain("Links.Example.com").unwrap(),
            "links.example.com"
        );
        assert_eq!(parse_domain("localhost:8787").unwrap(), "localhost:8787");
        for bad in [
            "",
            "a..b",
            "-a.com",
            "https://a.com",
            "a.com/x",
            "a_b.com",
            "a.com:",
        ] {
            assert!(parse_domain(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn records_already_in_kv_read_and_write_back_byte_identical() {
        // Written by the worker before the fields had readable names.
        let old = r#"{"v":1,"id":"lnk_a","ws":"ws_b","url":"https://example.com/x","ios":"https://apps.apple.com/a","and":"https://play.google.com/b","geo":{"DE":"https://example.de/"},"dev":{"mobile":"https://m.example.com/"},"utm":"utm_source=e","exp":1700000000000,"lim":10,"done":true,"pw":"pbkdf2$x","sus":true,"ban":true,"wc":true,"bot":true,"wh":true,"whs":"s1"}"#;
        let r = RedirectRecord::from_json(old).expect("an old record reads");
        assert_eq!(r.link_id, "lnk_a");
        assert_eq!(r.workspace_id, "ws_b");
        assert_eq!(r.destination_url, "https://example.com/x");
        assert_eq!(r.android_url.as_deref(), Some("https://play.google.com/b"));
        assert_eq!(r.geo_targets["DE"], "https://example.de/");
        assert_eq!(r.utm_query, "utm_source=e");
        assert_eq!(
            (r.expires_at, r.click_limit, r.limit_reached),
            (Some(1_700_000_000_000), Some(10), true)
        );
        assert!(r.suspended && r.banned && r.escape_from_wechat && r.advanced_bot_detection);
        assert!(r.webhook);
        assert_eq!(r.webhook_scene, "s1");
        assert_eq!(r.to_json_string(), old);
        let minimal = r#"{"v":1,"id":"x","ws":"y","url":"https://example.com/kv"}"#;
        assert_eq!(
            RedirectRecord::from_json(minimal).unwrap().to_json_string(),
            minimal
        );
    }

    #[test]
    fn unknown_record_versions_are_ignored() {
        assert!(RedirectRecord::from_json(r#"{"v":2,"id":"x","ws":"w","url":"u"}"#).is_none());
        assert!(RedirectRecord::from_json("garbage").is_none());
    }
}
