//! The route table: every `src/api/` module declares its routes once
//! (`routes()`), this module merges them and answers from the table, 404
//! and 405 (with `Allow`) included. The OpenAPI generator
//! (`src/openapi.rs`) reads the same table, so the document names exactly
//! the routed operations.

use std::future::Future;
use std::pin::Pin;

use edgelink_core::{ApiError, ApiResult};
use worker::{Method, Request, Response};

use crate::auth::{self, Caller, RateLimit};
use crate::http::Ctx;

/// One request on its way through a handler: the request, the path's
/// `{...}` values in order, and the rate-limit state to report (set by the
/// key check, or by a handler that counts on its own terms).
pub struct Call {
    pub req: Request,
    pub params: Vec<String>,
    pub limits: Option<RateLimit>,
}

impl Call {
    /// The body to read and the first path value (`{id}`), borrowed apart.
    pub fn split(&mut self) -> (&mut Request, &str) {
        (&mut self.req, &self.params[0])
    }

    /// Keeps an authentication's window for the answer, refused or not.
    pub fn counted(&mut self, caller: Result<Caller, auth::Refusal>) -> ApiResult<Caller> {
        match caller {
            Ok(c) => {
                self.limits = Some(c.limits);
                Ok(c)
            }
            Err((e, limits)) => {
                self.limits = limits;
                Err(e)
            }
        }
    }
}

pub type Fut<'a> = Pin<Box<dyn Future<Output = ApiResult<Response>> + 'a>>;
/// A handler that needs an API key: it gets the authenticated caller.
pub type KeyFn = for<'a> fn(&'a Ctx, &'a Caller, &'a mut Call) -> Fut<'a>;
/// A handler for the operator token or for anyone.
pub type OpenFn = for<'a> fn(&'a Ctx, &'a mut Call) -> Fut<'a>;

/// What a route needs before its handler runs.
#[derive(Clone, Copy)]
pub enum Handler {
    /// `Authorization: Bearer go2_...`, counted against the key's rate.
    Key(KeyFn),
    /// `Authorization: Bearer <ADMIN_TOKEN>`.
    Operator(OpenFn),
    /// Nothing (the handler may limit on its own, e.g. per client IP).
    Public(OpenFn),
}

/// How errors are rendered, by path family.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Dialect {
    /// `{"success": false, "error": {...}}` (go2.gg)
    Envelope,
    /// `{"code", "message", "data": null}` (xiaomark, `/v2/...`)
    Xiaomark,
    /// An HTML page (`/bio/...`)
    Html,
}

impl Dialect {
    pub fn of(path: &str) -> Dialect {
        if path.starts_with("/v2/") {
            Dialect::Xiaomark
        } else if path.starts_with("/bio/") {
            Dialect::Html
        } else {
            Dialect::Envelope
        }
    }

    fn render(self, e: &ApiError) -> Response {
        match self {
            Dialect::Envelope => crate::http::error_response(e),
            Dialect::Xiaomark => crate::api::xiaomark::error_response(e),
            Dialect::Html => crate::http::error_page(e),
        }
    }
}

pub struct Route {
    pub method: Method,
    /// `/api/v1/links/{id}/stats`: literal segments and `{name}` values.
    pub path: &'static str,
    /// The OpenAPI `operationId`.
    pub op: &'static str,
    pub handler: Handler,
}

impl Route {
    pub fn key(method: Method, path: &'static str, op: &'static str, f: KeyFn) -> Route {
        Route {
            method,
            path,
            op,
            handler: Handler::Key(f),
        }
    }

    pub fn operator(method: Method, path: &'static str, op: &'static str, f: OpenFn) -> Route {
        Route {
            method,
            path,
            op,
            handler: Handler::Operator(f),
        }
    }

    pub fn public(method: Method, path: &'static str, op: &'static str, f: OpenFn) -> Route {
        Route {
            method,
            path,
            op,
            handler: Handler::Public(f),
        }
    }

    /// The `{...}` values if `segments` is this route's path.
    fn bind(&self, segments: &[&str]) -> Option<Vec<String>> {
        let pattern = self.path.trim_matches('/').split('/');
        if pattern.clone().count() != segments.len() {
            return None;
        }
        let mut params = Vec::new();
        for (p, s) in pattern.zip(segments) {
            if p.starts_with('{') {
                params.push(s.to_string());
            } else if p != *s {
                return None;
            }
        }
        Some(params)
    }

    /// Literal (not `{...}`) segments of the pattern.
    fn literals(&self) -> usize {
        self.path
            .split('/')
            .filter(|s| !s.is_empty() && !s.starts_with('{'))
            .count()
    }

    /// A GET route answers HEAD too (RFC 9110; the runtime drops the body).
    fn answers(&self, method: &str) -> bool {
        self.method.as_ref() == method || (method == "HEAD" && self.method == Method::Get)
    }
}

/// Every route of the worker, in match order (a literal segment is
/// declared before a `{...}` in the same place).
pub fn table() -> Vec<Route> {
    let api = crate::api::routes();
    let mut all = Vec::with_capacity(api.len() + 1);
    // `public/api/v1/openapi.json` is a static asset; wrangler.toml runs
    // the worker first on its path so other methods get 405 with Allow.
    all.push(Route::public(
        Method::Get,
        "/api/v1/openapi.json",
        "getOpenApi",
        |x, r| Box::pin(static_asset(x, r)),
    ));
    all.extend(api);
    all
}

thread_local! {
    // Built once per isolate (wasm is single-threaded).
    static TABLE: &'static [Route] = Box::leak(table().into_boxed_slice());
}

/// Answers a request under `/api/`, `/v2/` or `/bio/` from the table.
pub async fn answer(ctx: &Ctx, req: Request) -> Response {
    let path = req.path();
    // The raw name: `Request::method` reads any unknown one (QUERY, ...) as GET.
    let method = req.inner().method();
    let dialect = Dialect::of(&path);
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let routes: &'static [Route] = TABLE.with(|t| *t);
    // The resource is the most literal pattern the path fits
    // (`/qr/generate` over `/qr/{id}`); its routes give the methods.
    let bound: Vec<(&Route, Vec<String>)> = routes
        .iter()
        .filter_map(|r| Some((r, r.bind(&segments)?)))
        .collect();
    let most = bound.iter().map(|(r, _)| r.literals()).max();
    let mut allow: Vec<&str> = Vec::new();
    let mut found = None;
    for (r, params) in bound {
        if Some(r.literals()) != most {
            continue;
        }
        if found.is_none() && r.answers(&method) {
            found = Some((r, params));
            continue;
        }
        let head = (r.method == Method::Get).then_some("HEAD");
        for m in std::iter::once(r.method.as_ref()).chain(head) {
            if !allow.contains(&m) {
                allow.push(m);
            }
        }
    }
    let Some((route, params)) = found else {
        if allow.is_empty() {
            return dialect.render(&ApiError::NotFound("No such endpoint".into()));
        }
        let mut r = dialect.render(&ApiError::MethodNotAllowed);
        let _ = r.headers_mut().set("Allow", &allow.join(", "));
        return r;
    };
    let mut call = Call {
        req,
        params,
        limits: None,
    };
    let result = run(ctx, route.handler, &mut call).await;
    let mut resp = result.unwrap_or_else(|e| dialect.render(&e));
    if let Some(limits) = call.limits {
        limits.apply(&mut resp);
    }
    resp
}

async fn run(ctx: &Ctx, handler: Handler, call: &mut Call) -> ApiResult<Response> {
    match handler {
        Handler::Key(f) => {
            let caller = auth::caller(ctx, &call.req).await;
            let caller = call.counted(caller)?;
            f(ctx, &caller, call).await
        }
        Handler::Operator(f) => {
            auth::require_admin(ctx, &call.req)?;
            f(ctx, call).await
        }
        Handler::Public(f) => f(ctx, call).await,
    }
}

/// GET/HEAD of a static file whose path runs the worker first: the
/// `ASSETS` binding serves it (404 without one).
async fn static_asset(ctx: &Ctx, call: &mut Call) -> ApiResult<Response> {
    let assets = ctx
        .env
        .assets("ASSETS")
        .map_err(|_| ApiError::NotFound("No such endpoint".into()))?;
    let req = call
        .req
        .clone()
        .map_err(crate::http::internal("asset request"))?;
    assets
        .fetch_request(req)
        .await
        .map_err(crate::http::internal("asset fetch"))
}

/// The five routes of a resource collection from the calling module's
/// `list`/`create`/`get`/`update`/`delete` (or `revoke`) handlers, with
/// operation ids `list{Many}`, `create{One}`, ... .
#[macro_export]
macro_rules! crud {
    ($base:literal, $one:literal, $many:literal: $($verb:ident)+) => {
        vec![$($crate::crud!(@$verb $base, $one, $many)),+]
    };
    (@list $b:literal, $one:literal, $many:literal) => {
        $crate::router::Route::key(worker::Method::Get, $b, concat!("list", $many), |x, c, r| Box::pin(list(x, c, &r.req)))
    };
    (@create $b:literal, $one:literal, $many:literal) => {
        $crate::router::Route::key(worker::Method::Post, $b, concat!("create", $one), |x, c, r| Box::pin(create(x, c, &mut r.req)))
    };
    (@get $b:literal, $one:literal, $many:literal) => {
        $crate::router::Route::key(worker::Method::Get, concat!($b, "/{id}"), concat!("get", $one), |x, c, r| Box::pin(get(x, c, &r.params[0])))
    };
    (@update $b:literal, $one:literal, $many:literal) => {
        $crate::router::Route::key(worker::Method::Patch, concat!($b, "/{id}"), concat!("update", $one), |x, c, r| Box::pin(update(x, c, r)))
    };
    (@delete $b:literal, $one:literal, $many:literal) => {
        $crate::router::Route::key(worker::Method::Delete, concat!($b, "/{id}"), concat!("delete", $one), |x, c, r| Box::pin(delete(x, c, &r.params[0])))
    };
    (@revoke $b:literal, $one:literal, $many:literal) => {
        $crate::router::Route::key(worker::Method::Delete, concat!($b, "/{id}"), concat!("revoke", $one), |x, c, r| Box::pin(revoke(x, c, &r.params[0])))
    };
}
