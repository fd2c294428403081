//! Request context and response rendering: the one place where an
//! `ApiError` becomes an HTTP response.

use edgelink_core::{ApiError, ApiResult};
use serde_json::{json, Value};
use worker::{Request, Response};

/// Everything a handler needs about the deployment and the moment.
pub struct Ctx {
    pub env: worker::Env,
    pub config: std::rc::Rc<crate::config::Config>,
    pub now: i64,
    pub short_domain: String,
    pub scheme: String,
}

impl Ctx {
    pub fn new(env: worker::Env, req: &Request) -> Ctx {
        let config = crate::config::get(&env);
        Ctx {
            short_domain: config.short_domain.clone(),
            scheme: config.short_scheme.clone(),
            now: crate::clock::now(req.headers()),
            config,
            env,
        }
    }

    pub fn db(&self) -> ApiResult<worker::D1Database> {
        self.env.d1("DB").map_err(internal("D1 binding"))
    }

    pub fn kv(&self) -> ApiResult<worker::KvStore> {
        self.env.kv("LINKS").map_err(internal("KV binding"))
    }
}

/// Logs the cause and returns the opaque `INTERNAL` error.
pub fn internal<E: std::fmt::Debug>(what: &'static str) -> impl Fn(E) -> ApiError {
    move |e| {
        worker::console_error!("{what}: {e:?}");
        ApiError::Internal
    }
}

pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    // getrandom on wasm uses crypto.getRandomValues; it does not fail there.
    getrandom::getrandom(&mut b).expect("crypto.getRandomValues");
    b
}

/// A JS value (e.g. a Queue message body) as JSON text.
pub fn js_json(v: &worker::wasm_bindgen::JsValue) -> Option<String> {
    worker::js_sys::JSON::stringify(v)
        .ok()
        .and_then(|s| s.as_string())
}

pub fn json_response(status: u16, body: &Value) -> Response {
    let mut r = Response::from_bytes(body.to_string().into_bytes())
        .unwrap_or_else(|_| Response::empty().unwrap())
        .with_status(status);
    let _ = r
        .headers_mut()
        .set("Content-Type", "application/json; charset=utf-8");
    r
}

pub fn ok(data: Value) -> Response {
    json_response(200, &json!({"success": true, "data": data}))
}

pub fn created(data: Value) -> Response {
    json_response(201, &json!({"success": true, "data": data}))
}

pub fn no_content() -> Response {
    Response::empty().unwrap().with_status(204)
}

pub struct Page {
    pub page: i64,
    pub per_page: i64,
}

impl Page {
    pub fn offset(&self) -> i64 {
        (self.page - 1) * self.per_page
    }

    pub fn from_query(q: &Query) -> ApiResult<Page> {
        Ok(Page {
            page: edgelink_core::input::query_int(q.get("page"), "page", 1, 1, 1_000_000)?,
            per_page: edgelink_core::input::query_int(q.get("perPage"), "perPage", 20, 1, 100)?,
        })
    }
}

/// A paged list answer: `page`/`perPage` from the query, one page of rows
/// and the total from `fetch(limit, offset)`, each row as `render` shows it.
pub async fn paged<T, F, Fut>(
    req: &Request,
    fetch: F,
    render: impl Fn(&T) -> Value,
) -> ApiResult<Response>
where
    F: FnOnce(i64, i64) -> Fut,
    Fut: std::future::Future<Output = ApiResult<(Vec<T>, i64)>>,
{
    let page = Page::from_query(&Query::of(req))?;
    let (rows, total) = fetch(page.per_page, page.offset()).await?;
    Ok(list(rows.iter().map(render).collect(), &page, total))
}

/// A record of the caller's workspace, or `NOT_FOUND` naming its kind
/// (another workspace's ids do not exist for the caller).
pub fn found<T>(row: Option<T>, what: &str) -> ApiResult<T> {
    row.ok_or_else(|| ApiError::not_found(what))
}

pub fn list(items: Vec<Value>, page: &Page, total: i64) -> Response {
    let total_pages = if total == 0 {
        0
    } else {
        (total + page.per_page - 1) / page.per_page
    };
    json_response(
        200,
        &json!({
            "success": true,
            "data": items,
            "meta": {"page": page.page, "perPage": page.per_page, "total": total, "totalPages": total_pages}
        }),
    )
}

pub fn error_response(e: &ApiError) -> Response {
    error_with_body(e, &e.envelope())
}

/// An error's status and `Retry-After` with the body of a dialect
/// (the envelope, or xiaomark's shape).
pub fn error_with_body(e: &ApiError, body: &Value) -> Response {
    let mut r = json_response(e.status(), body);
    if let ApiError::RateLimited { retry_after_secs } = e {
        let _ = r
            .headers_mut()
            .set("Retry-After", &retry_after_secs.to_string());
    }
    r
}

/// Every HTML answer: not cached, not indexed, not sniffed. A page that
/// should be cached or indexed (a published bio page) overrides them.
pub fn html(status: u16, body: String) -> Response {
    let mut r = Response::from_html(body)
        .unwrap_or_else(|_| Response::empty().unwrap())
        .with_status(status);
    let h = r.headers_mut();
    let _ = h.set("Cache-Control", "private, max-age=0");
    let _ = h.set("X-Robots-Tag", "noindex");
    let _ = h.set("X-Content-Type-Options", "nosniff");
    r
}

/// An `ApiError` as an HTML page (the `/bio/` paths).
pub fn error_page(e: &ApiError) -> Response {
    use edgelink_core::pages::layout;
    let body = match e {
        ApiError::NotFound(_) => layout(
            404,
            "Page not found",
            "<p>There is no published page at this address.</p>",
        ),
        ApiError::MethodNotAllowed => layout(405, "Method not allowed", ""),
        _ => layout(e.status(), "Server error", ""),
    };
    html(e.status(), body)
}

/// Decoded query parameters (first value wins).
pub struct Query(pub Vec<(String, String)>);

impl Query {
    pub fn of(req: &Request) -> Query {
        let url = req.url().ok();
        Query(
            url.map(|u| {
                u.query_pairs()
                    .map(|(k, v)| (k.into_owned(), v.into_owned()))
                    .collect()
            })
            .unwrap_or_default(),
        )
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Reads a JSON object body, refusing oversized ones (413) by Content-Length
/// or, failing that, by the bytes actually read.
pub async fn json_body(req: &mut Request) -> ApiResult<serde_json::Map<String, Value>> {
    let bytes = body_bytes(req, edgelink_core::input::MAX_BODY_BYTES, JSON).await?;
    edgelink_core::input::parse_object(&bytes)
}

/// What a JSON body may be labelled.
pub const JSON: (&str, fn(&str) -> bool) = ("application/json", |ct| {
    ct.starts_with("application/json") || ct.contains("+json") || ct.starts_with("text/plain")
});

/// A body of at most `limit` bytes whose Content-Type (lower-cased, if
/// there is one) `accepts` (named `expected` in the 415); 413 otherwise.
pub async fn body_bytes(
    req: &mut Request,
    limit: usize,
    (expected, accepts): (&'static str, fn(&str) -> bool),
) -> ApiResult<Vec<u8>> {
    let too_large =
        || ApiError::PayloadTooLarge(format!("Request body must be at most {limit} bytes"));
    if let Ok(Some(len)) = req.headers().get("Content-Length") {
        if let Some(n) = len.parse::<usize>().ok().filter(|n| *n > limit) {
            // A modest body is drained first: answering before reading it
            // makes the server drop the connection, which a keep-alive
            // client may already be reusing for its next request.
            if n <= 16 * limit {
                let _ = req.bytes().await;
            }
            return Err(too_large());
        }
    }
    let ct = req.headers().get("Content-Type").ok().flatten();
    if let Some(ct) = ct {
        if !accepts(&ct.to_ascii_lowercase()) {
            return Err(ApiError::UnsupportedMediaType(expected));
        }
    }
    let bytes = req
        .bytes()
        .await
        .map_err(|_| ApiError::validation("body", "could not be read"))?;
    if bytes.len() > limit {
        return Err(too_large());
    }
    Ok(bytes)
}

/// A JSON body of any shape (a bulk request's array), up to `limit` bytes.
pub async fn json_value_body(req: &mut Request, limit: usize) -> ApiResult<Value> {
    let bytes = body_bytes(req, limit, JSON).await?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::validation("body", "a JSON body is required"));
    }
    serde_json::from_slice(&bytes).map_err(|e| {
        ApiError::validation(
            "body",
            format!("malformed JSON at line {} column {}", e.line(), e.column()),
        )
    })
}

/// An outgoing fetch that gives up after `timeout_ms` (aborting it).
/// Errors are short descriptions for logs and delivery records.
pub async fn fetch_with_timeout(req: Request, timeout_ms: u64) -> Result<worker::Response, String> {
    use futures_util::future::{select, Either};
    let controller = worker::AbortController::default();
    let signal = controller.signal();
    let fetch = worker::Fetch::Request(req);
    let sending = Box::pin(fetch.send_with_signal(&signal));
    let timeout = Box::pin(worker::Delay::from(std::time::Duration::from_millis(
        timeout_ms,
    )));
    let outcome = select(sending, timeout).await;
    let result = match outcome {
        Either::Left((Ok(resp), _)) => Ok(resp),
        Either::Left((Err(e), _)) => Err(format!("request failed: {e}")),
        Either::Right(_) => {
            controller.abort();
            Err(format!("timed out after {timeout_ms} ms"))
        }
    };
    result
}

/// A CSV download (`name`), streamed page by page so no answer holds a
/// whole table: `header`, then the rows of `fetch(key)` rendered by
/// `line`, the key moving to `key_of` of each page's last row, until a
/// page shorter than `page`. A failed read ends the body early (the cause
/// is in the log: the status is sent by then).
pub fn paged_csv<K, R, F, Fut>(
    name: &str,
    header: &'static str,
    page: i64,
    start: K,
    fetch: F,
    key_of: fn(&R) -> K,
    line: impl Fn(&R) -> String + 'static,
) -> ApiResult<Response>
where
    K: 'static,
    R: 'static,
    F: Fn(K) -> Fut + 'static,
    Fut: std::future::Future<Output = ApiResult<Vec<R>>> + 'static,
{
    enum Step<K> {
        Header(K),
        Page(K),
        Done,
    }
    let fetch = std::rc::Rc::new(fetch);
    let line = std::rc::Rc::new(line);
    let stream = futures_util::stream::unfold(Step::Header(start), move |step| {
        let (fetch, line) = (fetch.clone(), line.clone());
        async move {
            match step {
                Step::Done => None,
                Step::Header(k) => Some((Ok(header.as_bytes().to_vec()), Step::Page(k))),
                Step::Page(k) => match fetch(k).await {
                    Err(e) => {
                        worker::console_error!("CSV page: {e:?}");
                        Some((Err(worker::Error::RustError(e.to_string())), Step::Done))
                    }
                    Ok(rows) => {
                        let last = rows.last()?;
                        let next = if (rows.len() as i64) < page {
                            Step::Done
                        } else {
                            Step::Page(key_of(last))
                        };
                        let body: String = rows.iter().map(|r| line(r)).collect();
                        Some((Ok(body.into_bytes()), next))
                    }
                },
            }
        }
    });
    let mut resp = Response::from_stream(stream).map_err(internal("CSV stream"))?;
    let h = resp.headers_mut();
    let _ = h.set("Content-Type", "text/csv; charset=utf-8");
    let _ = h.set(
        "Content-Disposition",
        &format!("attachment; filename=\"{name}\""),
    );
    let _ = h.set("Cache-Control", "no-store");
    Ok(resp)
}
