//! Pure domain logic of the edge link platform.
//!
//! Nothing here depends on `worker` or JS: time and randomness come in as
//! arguments, so every rule unit-tests natively with `cargo test`.

pub mod error;
pub mod qr;
pub mod ua;

pub use error::{ApiError, ApiResult};
