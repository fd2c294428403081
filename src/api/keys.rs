//! `/api/v1/keys`: list, create (full or read-only), revoke.

use edgelink_core::ids::{ApiKeyId, WorkspaceId};
use edgelink_core::input::Fields;
use edgelink_core::plan::KeyScope;
use edgelink_core::secrets::{new_api_key, sha256_hex};
use edgelink_core::{ApiError, ApiResult};
use serde_json::{json, Value};
use worker::{Request, Response};

use crate::auth::Caller;
use crate::http::{created, no_content, ok, paged, random_bytes, Ctx};
use crate::router::Route;
use crate::store::keys::{self, ApiKey};

#[rustfmt::skip]
pub fn routes() -> Vec<Route> {
    crate::crud!("/api/v1/keys", "ApiKey", "ApiKeys": list create get revoke)
}

/// `"full"`, `"read-only"`, or an array of `read`/`write` (also those two words).
fn parse_scope(v: Option<&Value>) -> ApiResult<KeyScope> {
    let bad = || {
        ApiError::validation(
            "scopes",
            "must be \"full\", \"read-only\", or an array of \"read\"/\"write\"",
        )
    };
    let words: Vec<&str> = match v {
        None | Some(Value::Null) => return Ok(KeyScope::Full),
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(a)) => a
            .iter()
            .map(|x| x.as_str().ok_or_else(bad))
            .collect::<ApiResult<_>>()?,
        Some(_) => return Err(bad()),
    };
    let mut write = false;
    let mut any = false;
    for w in words {
        match w {
            "full" | "write" | "links:write" => write = true,
            "read-only" | "read" | "links:read" => {}
            _ => return Err(bad()),
        }
        any = true;
    }
    if !any {
        return Err(bad());
    }
    Ok(if write {
        KeyScope::Full
    } else {
        KeyScope::ReadOnly
    })
}

/// Creates a key row and returns it with the plaintext key (shown once).
pub async fn issue(
    ctx: &Ctx,
    workspace_id: &WorkspaceId,
    name: &str,
    scope: KeyScope,
) -> ApiResult<(ApiKey, String)> {
    let key = new_api_key(&random_bytes::<32>());
    let row = ApiKey {
        id: ApiKeyId::new(&random_bytes::<16>()),
        workspace_id: workspace_id.clone(),
        name: name.to_string(),
        key_hash: sha256_hex(key.as_bytes()),
        prefix: key[..8].to_string(),
        scope,
        created_at: ctx.now,
        last_used_at: None,
    };
    keys::insert(&ctx.db()?, &row).await?;
    Ok((row, key))
}

pub async fn create(ctx: &Ctx, caller: &Caller, req: &mut Request) -> ApiResult<Response> {
    let body = caller.write_body(req).await?;
    let f = Fields::only(&body, &["name", "scopes", "scope"])?;
    let name = f.string("name", 100)?.unwrap_or_else(|| "API key".into());
    // Both spellings are checked; `scopes` wins when both are sent.
    let scope = parse_scope(body.get("scope"))?;
    let scope = match body.get("scopes") {
        None => scope,
        some => parse_scope(some)?,
    };
    let (row, key) = issue(ctx, &caller.workspace_id, &name, scope).await?;
    let mut data = row.to_json();
    data["key"] = json!(key);
    Ok(created(data))
}

pub async fn list(ctx: &Ctx, caller: &Caller, req: &Request) -> ApiResult<Response> {
    let db = ctx.db()?;
    let fetch = |n, skip| keys::list(&db, &caller.workspace_id, n, skip);
    paged(req, fetch, ApiKey::to_json).await
}

pub async fn revoke(ctx: &Ctx, caller: &Caller, id: &str) -> ApiResult<Response> {
    caller.require_write()?;
    if !keys::revoke(&ctx.db()?, &caller.workspace_id, id, ctx.now).await? {
        return Err(ApiError::not_found("API key"));
    }
    Ok(no_content())
}

pub async fn get(ctx: &Ctx, caller: &Caller, id: &str) -> ApiResult<Response> {
    let k = keys::get(&ctx.db()?, &caller.workspace_id, id)
        .await?
        .ok_or_else(|| ApiError::not_found("API key"))?;
    Ok(ok(k.to_json()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes() {
        assert_eq!(parse_scope(None).unwrap(), "full");
        assert_eq!(parse_scope(Some(&json!("read-only"))).unwrap(), "read-only");
        assert_eq!(parse_scope(Some(&json!(["read"]))).unwrap(), "read-only");
        assert_eq!(
            parse_scope(Some(&json!(["read", "write"]))).unwrap(),
            "full"
        );
        assert!(parse_scope(Some(&json!(["admin"]))).is_err());
        assert!(parse_scope(Some(&json!([]))).is_err());
        assert!(parse_scope(Some(&json!(5))).is_err());
    }
}
