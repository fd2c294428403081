//! JSON API handlers: parse → core → store → render.

pub mod admin;
pub mod domains;
pub mod galleries;
pub mod groups;
pub mod keys;
pub mod links;
pub mod qr;
pub mod stats;
pub mod webhooks;
pub mod xiaomark;

/// `GET /api/v1/openapi.json`: the OpenAPI 3.1 description of every route
/// (`src/openapi.json`; a unit test below and tests/openapi.test.mjs keep
/// it and the route table in step).
pub fn openapi() -> worker::Response {
    let mut r = worker::Response::from_bytes(OPENAPI.as_bytes().to_vec())
        .unwrap_or_else(|_| worker::Response::empty().unwrap());
    let h = r.headers_mut();
    let _ = h.set("Content-Type", "application/json; charset=utf-8");
    let _ = h.set("Cache-Control", "public, max-age=300");
    r
}

const OPENAPI: &str = include_str!("../openapi.json");

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    /// Every `(Method, [segments])` arm of the route table in `src/lib.rs`
    /// (and the xiaomark router), as `"get /api/v1/links/{}"`.
    fn routes_in_code() -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        for (src, prefix) in [
            (include_str!("../lib.rs"), ""),
            (include_str!("xiaomark.rs"), ""),
        ] {
            for line in src.lines() {
                let l = line.trim();
                // `(Get, ["links", id]) =>` in lib.rs, or
                // `["v2", ...] if *method == Method::Post =>` in xiaomark.rs.
                let (method, segs) = if let Some(rest) = l.strip_prefix('(') {
                    let Some((method, rest)) = rest.split_once(", [") else {
                        continue;
                    };
                    let Some((segs, _)) = rest.split_once("])") else {
                        continue;
                    };
                    (method.trim(), segs)
                } else if let Some(rest) = l.strip_prefix('[') {
                    let Some((segs, rest)) = rest.split_once(']') else {
                        continue;
                    };
                    let Some((_, m)) = rest.split_once("if *method == Method::") else {
                        continue;
                    };
                    (m.split_whitespace().next().unwrap_or(""), segs)
                } else {
                    continue;
                };
                if !["Get", "Post", "Patch", "Delete"].contains(&method) {
                    continue;
                }
                let parts: Vec<String> = segs
                    .split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty() && *s != "..")
                    .map(|s| match s.strip_prefix('"') {
                        Some(lit) => lit.trim_end_matches('"').to_string(),
                        None => "{}".to_string(),
                    })
                    .collect();
                let full = if parts.first().map(String::as_str) == Some("api")
                    || parts.first().map(String::as_str) == Some("v2")
                {
                    format!("/{}", parts.join("/"))
                } else {
                    format!("/api/v1/{}", parts.join("/"))
                };
                out.insert(format!("{prefix}{} {full}", method.to_lowercase()));
            }
        }
        // Served by `fetch` in lib.rs before the API router.
        out.insert("get /bio/{}".to_string());
        out
    }

    fn routes_in_doc() -> BTreeSet<String> {
        let doc: serde_json::Value =
            serde_json::from_str(super::OPENAPI).expect("openapi.json is JSON");
        let mut out = BTreeSet::new();
        for (path, item) in doc["paths"].as_object().expect("paths") {
            let norm: String = path
                .split('/')
                .map(|s| if s.starts_with('{') { "{}" } else { s })
                .collect::<Vec<_>>()
                .join("/");
            for method in item.as_object().expect("path item").keys() {
                out.insert(format!("{method} {norm}"));
            }
        }
        out
    }

    #[test]
    fn every_route_is_documented_and_every_documented_route_exists() {
        let code = routes_in_code();
        let doc = routes_in_doc();
        assert!(code.len() > 30, "the route table parser found {code:?}");
        let undocumented: Vec<_> = code.difference(&doc).collect();
        let unrouted: Vec<_> = doc.difference(&code).collect();
        assert!(
            undocumented.is_empty(),
            "routes missing from openapi.json: {undocumented:?}"
        );
        assert!(
            unrouted.is_empty(),
            "openapi.json paths with no route: {unrouted:?}"
        );
    }

    #[test]
    fn every_schema_reference_resolves() {
        let doc: serde_json::Value = serde_json::from_str(super::OPENAPI).unwrap();
        let text = super::OPENAPI;
        for part in text.split("\"$ref\": \"#/components/").skip(1) {
            let target = part.split('"').next().unwrap();
            let (kind, name) = target.split_once('/').unwrap();
            assert!(
                doc["components"][kind][name].is_object(),
                "unresolved $ref {target}"
            );
        }
    }
}
