//! API-key and operator authentication, and the per-key rate limit.

use edgelink_core::ids::WorkspaceId;
use edgelink_core::plan::rate_window;
use edgelink_core::secrets::{constant_time_eq, sha256_hex};
use edgelink_core::{ApiError, ApiResult};
use worker::Request;

use crate::http::{internal, Ctx};
use crate::store::{keys, ratelimit};

/// Who is calling: a workspace, through one key.
pub struct Caller {
    pub workspace_id: WorkspaceId,
    pub read_only: bool,
    /// Reported on every answer to this caller.
    pub limits: RateLimit,
}

/// A rate-limit window as the `X-RateLimit-*` headers report it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateLimit {
    pub limit: i64,
    pub remaining: i64,
    /// Unix seconds when the window resets (GitHub's convention).
    pub reset: i64,
}

impl RateLimit {
    /// The `count`-th request of the window that started at `window` (ms).
    pub fn new(limit: i64, count: i64, window: i64) -> RateLimit {
        RateLimit {
            limit,
            remaining: (limit - count).max(0),
            reset: (window + 60_000) / 1000,
        }
    }

    pub fn apply(&self, resp: &mut worker::Response) {
        let h = resp.headers_mut();
        let _ = h.set("X-RateLimit-Limit", &self.limit.to_string());
        let _ = h.set("X-RateLimit-Remaining", &self.remaining.to_string());
        let _ = h.set("X-RateLimit-Reset", &self.reset.to_string());
    }
}

/// A refused key: the error, and the window it was counted in if it was.
pub type Refusal = (ApiError, Option<RateLimit>);

impl Caller {
    pub fn require_write(&self) -> ApiResult<()> {
        if self.read_only {
            return Err(ApiError::Forbidden("This API key is read-only".into()));
        }
        Ok(())
    }

    /// The JSON body of a write, once the key may write.
    pub async fn write_body(
        &self,
        req: &mut Request,
    ) -> ApiResult<serde_json::Map<String, serde_json::Value>> {
        self.require_write()?;
        crate::http::json_body(req).await
    }
}

fn bearer(req: &Request) -> Option<String> {
    let h = req.headers().get("Authorization").ok().flatten()?;
    let (scheme, token) = h.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_string())
        .filter(|t| !t.is_empty())
}

/// The caller of a request with `Authorization: Bearer go2_...`. A refusal
/// keeps the rate-limit headers, so a 429 still states the limit,
/// `Remaining: 0` and when the window resets.
pub async fn caller(ctx: &Ctx, req: &Request) -> Result<Caller, Refusal> {
    let token = bearer(req).ok_or_else(|| {
        (
            ApiError::Unauthorized("Missing API key: send Authorization: Bearer go2_...".into()),
            None,
        )
    })?;
    authenticate(ctx, &token).await
}

/// Authenticates a plaintext key (from a header or, for xiaomark, a body
/// field) and counts the request against its plan's rate, in one D1 round
/// trip (lookup and counter in a batch). On refusal: the error and any
/// rate-limit headers for it.
pub async fn authenticate(ctx: &Ctx, token: &str) -> Result<Caller, Refusal> {
    let invalid = || {
        (
            ApiError::Unauthorized("Invalid or revoked API key".into()),
            None,
        )
    };
    if !token.starts_with("go2_") || token.len() > 100 {
        return Err(invalid());
    }
    let hash = sha256_hex(token.as_bytes());
    let db = ctx.db().map_err(|e| (e, None))?;
    let (window, reset) = rate_window(ctx.now);
    let stmts = vec![
        keys::find_active_stmt(&db, &hash).map_err(|e| (e, None))?,
        ratelimit::hit_key_stmt(&db, &hash, window).map_err(|e| (e, None))?,
    ];
    let results = db
        .batch(stmts)
        .await
        .map_err(|e| (internal("auth batch")(e), None))?;
    let key = results
        .first()
        .and_then(|r| r.results::<keys::KeyAuth>().ok())
        .and_then(|mut v| v.pop())
        .ok_or_else(invalid)?;
    // Defence in depth: the index found it by hash; compare without early exit.
    if !constant_time_eq(key.key_hash.as_bytes(), hash.as_bytes()) {
        return Err(invalid());
    }
    #[derive(serde::Deserialize)]
    struct Hit {
        count: i64,
    }
    let count = results
        .get(1)
        .and_then(|r| r.results::<Hit>().ok())
        .and_then(|mut v| v.pop())
        .map(|h| h.count)
        .unwrap_or(1);
    let plan = key.plan;
    let limit = plan.requests_per_minute() as i64;
    let limits = RateLimit::new(limit, count, window);
    if count > limit {
        return Err((
            ApiError::RateLimited {
                retry_after_secs: reset,
            },
            Some(limits),
        ));
    }
    if count == 1 {
        // First request of this key's window: tidy old windows and note use.
        let _ = ratelimit::prune(&db, window - 3_600_000).await;
        let _ = keys::touch(&db, &key.id, ctx.now).await;
    }
    Ok(Caller {
        limits,
        workspace_id: key.workspace_id,
        read_only: !key.scope.can_write(),
    })
}

/// Operator endpoints: `Authorization: Bearer <ADMIN_TOKEN>`.
pub fn require_admin(ctx: &Ctx, req: &Request) -> ApiResult<()> {
    // A deployment without the token fails loudly (logged 500), never
    // with a built-in value.
    let expected = ctx.config.admin_token().map_err(crate::config::missing)?;
    let token =
        bearer(req).ok_or_else(|| ApiError::Unauthorized("Missing operator token".into()))?;
    if !constant_time_eq(
        sha256_hex(token.as_bytes()).as_bytes(),
        sha256_hex(expected.as_bytes()).as_bytes(),
    ) {
        return Err(ApiError::Unauthorized("Invalid operator token".into()));
    }
    Ok(())
}
