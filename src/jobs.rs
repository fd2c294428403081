//! The jobs Queue consumer: decodes each `edgelink_core::jobs::Job` and
//! hands it to its feature module. A job that fails is retried by the
//! Queue (max_retries, then the dead-letter queue); every job is a bounded,
//! idempotent chunk, so a retry redoes nothing twice.

use edgelink_core::jobs::Job;
use worker::{console_error, Env, MessageBatch, MessageExt};

use crate::config::Config;
use crate::http::Ctx;

pub async fn consume(
    batch: MessageBatch<serde_json::Value>,
    env: Env,
    cfg: &std::rc::Rc<Config>,
) -> worker::Result<()> {
    for msg in batch.raw_iter() {
        let job = crate::http::js_json(&msg.body())
            .ok_or_else(|| "body is not JSON-serialisable".to_string())
            .and_then(|t| serde_json::from_str::<Job>(&t).map_err(|e| e.to_string()));
        let job = match job {
            Ok(j) => j,
            Err(e) => {
                console_error!("jobs: poison message {} dropped: {e}", msg.id());
                msg.ack();
                continue;
            }
        };
        let ctx = Ctx {
            env: env.clone(),
            config: cfg.clone(),
            now: worker::Date::now().as_millis() as i64,
            short_domain: cfg.short_domain.clone(),
            scheme: cfg.short_scheme.clone(),
        };
        let result = match &job {
            Job::BlockHost { block, cursor } => {
                crate::blocklist::block_chunk(&ctx, block, cursor.as_deref()).await
            }
            Job::UnblockHost { block } => crate::blocklist::unblock_chunk(&ctx, block).await,
        };
        match result {
            Ok(()) => msg.ack(),
            Err(e) => {
                console_error!("jobs: {job:?} failed, will retry: {e}");
                msg.retry();
            }
        }
    }
    Ok(())
}
