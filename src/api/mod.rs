//! JSON API handlers: parse → core → store → render.

pub mod admin;
pub mod domains;
pub mod groups;
pub mod keys;
pub mod links;
pub mod qr;
pub mod stats;
pub mod webhooks;
pub mod xiaomark;
