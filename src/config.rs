//! The deployment's settings (`edgelink_core::config::Config`), read from
//! `env` once per isolate and shared by fetch, the redirect, both queue
//! consumers and the cron.

use std::cell::RefCell;
use std::rc::Rc;

pub use edgelink_core::config::{Config, MissingSecret, QueueKind};
use worker::Env;

thread_local! {
    static CONFIG: RefCell<Option<Rc<Config>>> = const { RefCell::new(None) };
}

/// The isolate's settings (vars and secrets only change with a new
/// deployment, which starts new isolates).
pub fn get(env: &Env) -> Rc<Config> {
    if let Some(c) = CONFIG.with(|c| c.borrow().clone()) {
        return c;
    }
    let c = Rc::new(Config::from_lookup(|name| {
        // Secrets, or plain vars of the same name (local test bindings).
        env.secret(name)
            .map(|s| s.to_string())
            .or_else(|_| env.var(name).map(|v| v.to_string()))
            .ok()
    }));
    CONFIG.with(|slot| *slot.borrow_mut() = Some(c.clone()));
    c
}

/// A missing secret: logged, answered as the opaque 500.
pub fn missing(e: MissingSecret) -> edgelink_core::ApiError {
    worker::console_error!("misconfigured deployment: {e}");
    edgelink_core::ApiError::Internal
}
