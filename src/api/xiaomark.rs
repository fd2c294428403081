//! xiaomark compatibility: `POST /v2/sl/link/batch_get` (the links of a
//! group, `offset`/`count`), with xiaomark's exact request and response.
//!
//! Request: `{"apikey", "group_id", "offset"?: 0, "count"?: 10}`; `apikey`
//! is one of our API keys (`go2_...`, read-only is enough) and counts
//! against its rate limit like any request. Unknown body fields are
//! ignored, as xiaomark does.
//!
//! Success: HTTP 200, `{"code": 0, "message": "请求成功", "data": {"links",
//! "count", "total"}}`, links oldest first.
//!
//! Errors keep xiaomark's body shape, `{"code": <non-zero>, "message":
//! "...", "data": null}`, and ALSO answer a fitting HTTP status; `code`
//! equals that status so a client may look at either: 400 bad parameter
//! (the message names it), 401 missing/invalid/revoked apikey, 404 unknown
//! group (or one of another workspace), 405 not POST, 413 body over
//! 64 KiB, 415 not JSON, 429 rate limited (with `Retry-After` and
//! `X-RateLimit-*`), 500 internal. Unknown `/v2/...` paths answer 404 in
//! the same shape.

use edgelink_core::input::int_in;
use edgelink_core::link::{Link, MAX_ID};
use edgelink_core::{ApiError, ApiResult};
use serde_json::{json, Map, Value};
use worker::{Method, Response};

use crate::auth;
use crate::http::{error_with_body, json_body, json_response, Ctx};
use crate::router::{Call, Route};
use crate::store::{groups, links};

pub const MAX_COUNT: i64 = 100;
pub const DEFAULT_COUNT: i64 = 10;

/// xiaomark's one route; its errors render in xiaomark's shape
/// ([`error_response`], by the `/v2/` prefix in `router::Dialect`).
pub fn routes() -> Vec<Route> {
    vec![Route::public(
        Method::Post,
        "/v2/sl/link/batch_get",
        "xiaomarkBatchGet",
        |x, r| Box::pin(batch_get(x, r)),
    )]
}

async fn batch_get(ctx: &Ctx, call: &mut Call) -> ApiResult<Response> {
    let body = json_body(&mut call.req).await?;
    let key = apikey(&body)?;
    let caller = auth::authenticate(ctx, &key).await;
    let caller = call.counted(caller)?;
    let p = Params::parse(&body)?;
    let db = ctx.db()?;
    if groups::get(&db, &caller.workspace_id, &p.group_id)
        .await?
        .is_none()
    {
        return Err(ApiError::not_found("Group"));
    }
    let (rows, total) =
        links::by_group(&db, &caller.workspace_id, &p.group_id, p.count, p.offset).await?;
    Ok(json_response(
        200,
        &success(batch_data(&rows, total, &ctx.scheme)),
    ))
}

fn apikey(body: &Map<String, Value>) -> ApiResult<String> {
    match body.get("apikey") {
        None | Some(Value::Null) => Err(ApiError::Unauthorized("apikey is required".into())),
        Some(Value::String(s)) if s.trim().is_empty() => {
            Err(ApiError::Unauthorized("apikey is required".into()))
        }
        Some(Value::String(s)) => Ok(s.trim().to_string()),
        Some(_) => Err(ApiError::validation("apikey", "must be a string")),
    }
}

/// The validated request parameters besides `apikey`.
#[derive(Debug, PartialEq)]
pub struct Params {
    pub group_id: String,
    pub offset: i64,
    pub count: i64,
}

impl Params {
    pub fn parse(body: &Map<String, Value>) -> ApiResult<Params> {
        let group_id = match body.get("group_id") {
            None | Some(Value::Null) => {
                return Err(ApiError::validation("group_id", "is required"))
            }
            Some(Value::String(s)) if s.trim().is_empty() => {
                return Err(ApiError::validation("group_id", "is required"))
            }
            Some(Value::String(s)) if s.chars().count() > MAX_ID => {
                return Err(ApiError::validation(
                    "group_id",
                    format!("must be at most {MAX_ID} characters"),
                ))
            }
            Some(Value::String(s)) => s.trim().to_string(),
            Some(_) => return Err(ApiError::validation("group_id", "must be a string")),
        };
        let int = |name: &str, default: i64, max: i64| match body.get(name) {
            None | Some(Value::Null) => Ok(default),
            Some(v) => int_in(v, name, 0, max),
        };
        Ok(Params {
            group_id,
            offset: int("offset", 0, 1_000_000_000)?,
            count: int("count", DEFAULT_COUNT, MAX_COUNT)?,
        })
    }
}

/// One link in xiaomark's shape.
pub fn link_json(l: &Link, scheme: &str) -> Value {
    let name = match l.title.as_deref().map(str::trim) {
        Some(t) if !t.is_empty() => t.to_string(),
        _ => format!("短链{}", l.slug),
    };
    json!({
        "url": l.short_url(scheme),
        "domain": l.domain,
        "create_time": l.created_at.div_euclid(1000),
        "project_id": l.workspace_id,
        "group_id": l.group_id.clone().unwrap_or_default(),
        "name": name,
        "target_url": l.destination_url,
        "escape_from_wechat": l.escape_from_wechat,
        "advanced_bot_detection": l.advanced_bot_detection,
        "webhook": l.webhook,
        "webhook_scene": l.webhook_scene,
        "suspended": l.suspended,
        "banned": l.banned,
    })
}

pub fn batch_data(rows: &[Link], total: i64, scheme: &str) -> Value {
    json!({
        "links": rows.iter().map(|l| link_json(l, scheme)).collect::<Vec<_>>(),
        "count": rows.len(),
        "total": total,
    })
}

pub fn success(data: Value) -> Value {
    json!({"code": 0, "message": "请求成功", "data": data})
}

/// `{"code": <status>, "message": "<中文说明>: <detail>", "data": null}`.
pub fn error_body(e: &ApiError) -> Value {
    let what = match e {
        ApiError::Validation { .. } | ApiError::InvalidUrl { .. } => "参数错误",
        ApiError::Unauthorized(_) => "apikey 无效",
        ApiError::Forbidden(_) => "没有权限",
        ApiError::NotFound(m) if m.starts_with("Group") => "分组不存在",
        ApiError::NotFound(_) => "接口不存在",
        ApiError::RateLimited { .. } => "请求过于频繁",
        ApiError::PayloadTooLarge(_) => "请求体过大",
        ApiError::MethodNotAllowed => "请求方法错误，请使用 POST",
        ApiError::UnsupportedMediaType(_) => "请求格式错误，请使用 JSON",
        ApiError::Internal => "服务器内部错误",
        _ => "请求失败",
    };
    json!({
        "code": e.status(),
        "message": format!("{what}: {}", e.message()),
        "data": null,
    })
}

pub fn error_response(e: &ApiError) -> Response {
    error_with_body(e, &error_body(e))
}

/// Native checks of the parts that need no worker runtime.
#[cfg(test)]
mod tests {
    use super::*;

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn the_seed_request_parses() {
        let p = Params::parse(&obj(json!({
            "apikey": "5ac55544645cf99e40b14b4e78de5d90",
            "group_id": "81myhfrn", "offset": 0, "count": 20
        })))
        .unwrap();
        assert_eq!(
            p,
            Params {
                group_id: "81myhfrn".into(),
                offset: 0,
                count: 20
            }
        );
        let d = Params::parse(&obj(json!({"group_id": "g"}))).unwrap();
        assert_eq!((d.offset, d.count), (0, DEFAULT_COUNT));
    }

    #[test]
    fn bad_parameters_name_the_field() {
        for (body, field) in [
            (json!({}), "group_id"),
            (json!({"group_id": 5}), "group_id"),
            (json!({"group_id": ""}), "group_id"),
            (json!({"group_id": "g", "count": 101}), "count"),
            (json!({"group_id": "g", "count": -1}), "count"),
            (json!({"group_id": "g", "count": "10"}), "count"),
            (json!({"group_id": "g", "offset": -1}), "offset"),
            (json!({"group_id": "g", "offset": 1.5}), "offset"),
        ] {
            let e = Params::parse(&obj(body.clone())).unwrap_err();
            assert_eq!(e.field(), Some(field), "{body}");
            assert_eq!(error_body(&e)["code"], 400);
        }
        assert_eq!(apikey(&obj(json!({}))).unwrap_err().status(), 401);
        assert_eq!(
            apikey(&obj(json!({"apikey": 1}))).unwrap_err().status(),
            400
        );
    }

    #[test]
    fn links_have_the_seed_fields() {
        let l = Link {
            id: "lnk_1".into(),
            workspace_id: "ws_1".into(),
            domain: "sourl.cn".into(),
            slug: "6GtdVb".into(),
            destination_url: "https://xiaomark.com/shortlink".into(),
            group_id: Some("81myhfrn".into()),
            advanced_bot_detection: true,
            suspended: true,
            created_at: 1_732_768_208_999,
            ..Default::default()
        };
        let v = link_json(&l, "https");
        assert_eq!(
            v,
            json!({
                "url": "https://sourl.cn/6GtdVb",
                "domain": "sourl.cn",
                "create_time": 1732768208,
                "project_id": "ws_1",
                "group_id": "81myhfrn",
                "name": "短链6GtdVb",
                "target_url": "https://xiaomark.com/shortlink",
                "escape_from_wechat": false,
                "advanced_bot_detection": true,
                "webhook": false,
                "webhook_scene": "",
                "suspended": true,
                "banned": false
            })
        );
        let titled = Link {
            title: Some("图片压缩".into()),
            ..l.clone()
        };
        assert_eq!(link_json(&titled, "https")["name"], "图片压缩");
        let data = batch_data(&[l, titled], 7, "https");
        assert_eq!(
            (data["count"].clone(), data["total"].clone()),
            (json!(2), json!(7))
        );
        assert_eq!(success(json!(null))["message"], "请求成功");
    }

    #[test]
    fn errors_keep_the_xiaomark_shape() {
        let v = error_body(&ApiError::Unauthorized("Invalid or revoked API key".into()));
        assert_eq!(v["code"], 401);
        assert!(v["data"].is_null());
        assert!(v["message"].as_str().unwrap().starts_with("apikey 无效"));
        assert_eq!(
            error_body(&ApiError::not_found("Group"))["message"],
            "分组不存在: Group not found"
        );
        assert_eq!(error_body(&ApiError::Internal)["code"], 500);
        assert_ne!(
            error_body(&ApiError::RateLimited {
                retry_after_secs: 3
            })["code"],
            0
        );
    }
}
