//! The OpenAPI 3.1 document, generated natively at build time
//! (`cargo run --bin openapi`, from scripts/build-worker.sh) into
//! `public/api/v1/openapi.json`, which Workers static assets serve: the
//! wasm carries none of it.
//!
//! The route table (`router::table`) gives every path, method, operation
//! id, security requirement and path parameter, and the statuses a route
//! answers by construction (401/429 for a key, 403 for a write, 404 for an
//! id, 400/413/415 for a body). `openapi/operations.json` adds what only a
//! handler knows (summary, query parameters, body and success schemas,
//! its own refusals), keyed by operation id; `openapi/base.json` holds the
//! schemas. Generation fails if the two disagree on the operations.

use serde_json::{json, Map, Value};
use worker::Method;

use crate::router::{self, Handler, Route};

const BASE: &str = include_str!("../openapi/base.json");
const OPERATIONS: &str = include_str!("../openapi/operations.json");

pub fn document() -> Result<Value, String> {
    let mut doc: Value = serde_json::from_str(BASE).map_err(|e| format!("base.json: {e}"))?;
    let mut ops: Map<String, Value> =
        serde_json::from_str(OPERATIONS).map_err(|e| format!("operations.json: {e}"))?;
    let mut paths = Map::new();
    for route in router::table() {
        let op = ops
            .remove(route.op)
            .ok_or_else(|| format!("{}: no entry in openapi/operations.json", route.op))?;
        let item = paths
            .entry(route.path)
            .or_insert_with(|| json!({}))
            .as_object_mut()
            .expect("path item");
        item.insert(route.method.as_ref().to_lowercase(), operation(&route, op)?);
    }
    if !ops.is_empty() {
        let unrouted: Vec<&String> = ops.keys().collect();
        return Err(format!("operations without a route: {unrouted:?}"));
    }
    doc["paths"] = Value::Object(paths);
    Ok(doc)
}

/// Path parameters: `{name}` segments, never empty, one segment each.
fn path_parameters(route: &Route) -> Vec<Value> {
    route
        .path
        .split('/')
        .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
        .map(|name| {
            json!({"name": name, "in": "path", "required": true,
                   "schema": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,100}$"}})
        })
        .collect()
}

fn operation(route: &Route, mut op: Value) -> Result<Value, String> {
    let o = op
        .as_object_mut()
        .ok_or(format!("{}: not an object", route.op))?;
    o.insert("operationId".into(), json!(route.op));
    match route.handler {
        Handler::Key(_) => {} // the document's default: the bearer key
        Handler::Operator(_) => {
            o.insert("security".into(), json!([{"admin": []}]));
        }
        Handler::Public(_) => {
            o.insert("security".into(), json!([]));
        }
    }
    let mut params = path_parameters(route);
    let has_path = !params.is_empty();
    let has_query = o.get("parameters").is_some();
    if let Some(Value::Array(q)) = o.remove("parameters") {
        params.extend(q);
    }
    if !params.is_empty() {
        o.insert("parameters".into(), Value::Array(params));
    }
    let has_body = o.contains_key("requestBody");
    let dialect = router::Dialect::of(route.path);
    let responses = o
        .entry("responses")
        .or_insert_with(|| json!({}))
        .as_object_mut()
        .ok_or(format!("{}: responses", route.op))?;
    let mut add = |status: &str, name: &str| {
        responses
            .entry(status)
            .or_insert_with(|| json!({"$ref": format!("#/components/responses/{name}")}));
    };
    // xiaomark and the HTML page list their own errors (other shapes).
    if dialect == router::Dialect::Envelope {
        if has_body || has_query {
            add("400", "BadRequest");
        }
        if has_body {
            add("413", "PayloadTooLarge");
            add("415", "UnsupportedMediaType");
        }
        if has_path {
            add("404", "NotFound");
        }
        match route.handler {
            Handler::Key(_) => {
                add("401", "Unauthorized");
                add("429", "RateLimited");
                if route.method != Method::Get {
                    add("403", "Forbidden");
                }
            }
            Handler::Operator(_) => add("401", "Unauthorized"),
            Handler::Public(_) => {}
        }
    }
    Ok(op)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every route has an operation and every operation a route (the
    /// generator refuses otherwise), with unique ids.
    #[test]
    fn the_document_and_the_route_table_name_the_same_operations() {
        let doc = document().unwrap();
        let mut ids = std::collections::BTreeSet::new();
        let mut n = 0;
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                let id = op["operationId"].as_str().unwrap();
                assert!(ids.insert(id.to_string()), "{id} twice");
                let route = router::table().into_iter().find(|r| r.op == id).unwrap();
                assert_eq!(
                    (route.path, route.method.as_ref()),
                    (path.as_str(), &*method.to_uppercase())
                );
                n += 1;
            }
        }
        assert_eq!(n, router::table().len());
    }

    #[test]
    fn every_schema_reference_resolves() {
        let doc = document().unwrap();
        let text = doc.to_string();
        for part in text.split("\"$ref\":\"#/components/").skip(1) {
            let target = part.split('"').next().unwrap();
            let (kind, name) = target.split_once('/').unwrap();
            assert!(
                doc["components"][kind][name].is_object(),
                "unresolved $ref {target}"
            );
        }
    }
}
