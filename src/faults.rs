//! Fault injection for the analytics path, compiled into test builds
//! only (`test-hooks`). Each hook names a click in a var, by its event id
//! or (for clicks the redirect mints, whose ids a test cannot know) by its
//! referrer host, and fires the first time a batch holding that click
//! reaches it (remembered in KV as `test:fault:{mode}:{value}`, which
//! tests read).

use edgelink_core::events::ClickEvent;

use crate::store::kv::{self, Faults};

/// (var, mode)
pub type Hook = (&'static str, &'static str);

/// The flush's D1 transaction fails (rolled back), then is retried.
pub const IN_TX: Hook = ("ANALYTICS_FAIL_ONCE_EVENT_ID", "in-tx");
/// The aggregator commits, then answers an error: the caller falls back
/// (the redirect to the Queue; the consumer retries the message).
pub const AFTER_COMMIT: Hook = ("ANALYTICS_FAIL_AFTER_COMMIT_EVENT_ID", "after-commit");
/// The aggregator answers an error before committing.
pub const BEFORE_COMMIT: Hook = ("ANALYTICS_FAIL_BEFORE_COMMIT_EVENT_ID", "before-commit");
/// The object stalls for two minutes before committing, longer than any
/// caller waits (`Config::analytics_call_timeout_ms`): the caller falls back.
pub const HANG: Hook = ("ANALYTICS_HANG_EVENT_ID", "hang");
/// The object aborts (as a crash) at the flush, before writing D1.
pub const ABORT_BEFORE_FLUSH: Hook = (
    "ANALYTICS_ABORT_BEFORE_FLUSH_EVENT_ID",
    "abort-before-flush",
);
/// The object aborts after D1 committed the flush, before noting it.
pub const ABORT_AFTER_FLUSH: Hook = ("ANALYTICS_ABORT_AFTER_FLUSH_EVENT_ID", "abort-after-flush");

/// True the first time a batch holding the hook's event id is seen.
/// Always false when the variable is unset.
pub async fn fire(env: &worker::Env, (var, mode): Hook, clicks: &[ClickEvent]) -> bool {
    let Some(id) = env
        .var(var)
        .ok()
        .map(|v| v.to_string())
        .filter(|s| !s.is_empty())
    else {
        return false;
    };
    if !clicks
        .iter()
        .any(|c| c.id == id || c.referrer.as_deref() == Some(id.as_str()))
    {
        return false;
    }
    let Ok(store) = env.kv("LINKS") else {
        return false;
    };
    if matches!(kv::get::<Faults>(&store, (mode, &id)).await, Ok(Some(_))) {
        return false;
    }
    kv::put::<Faults>(&store, (mode, &id), &1).await.is_ok()
}
