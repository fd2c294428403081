//! JSON API handlers: parse → core → store → render.

pub mod admin;
pub mod blocklist;
pub mod bulk;
pub mod domains;
pub mod galleries;
pub mod groups;
pub mod imports;
pub mod keys;
pub mod links;
pub mod qr;
pub mod stats;
pub mod webhooks;
pub mod xiaomark;

/// Every module's routes, merged (`router::table` adds the static
/// OpenAPI document's path).
pub fn routes() -> Vec<crate::router::Route> {
    [
        admin::routes(),
        blocklist::routes(),
        links::routes(),
        bulk::routes(),
        imports::routes(),
        stats::routes(),
        groups::routes(),
        keys::routes(),
        qr::routes(),
        galleries::routes(),
        domains::routes(),
        webhooks::routes(),
        xiaomark::routes(),
    ]
    .into_iter()
    .flatten()
    .collect()
}
