//! Pure domain logic of the edge link platform.
//!
//! Nothing here depends on `worker` or JS: time and randomness come in as
//! arguments, so every rule unit-tests natively with `cargo test`.

pub mod aggregate;
pub mod blocklist;
pub mod config;
pub mod country;
pub mod csv;
pub mod domains;
pub mod error;
pub mod events;
pub mod galleries;
pub mod ids;
pub mod input;
pub mod jobs;
pub mod link;
pub mod pages;
pub mod plan;
pub mod qr;
pub mod redirect;
pub mod secrets;
pub mod slug;
pub mod stats;
pub mod time;
pub mod ua;
pub mod url;
pub mod webhooks;

pub use error::{ApiError, ApiResult};
