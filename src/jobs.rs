//! The JOBS Queue consumer: decodes each `edgelink_core::jobs::Job` and
//! hands it to its feature module. Every job is a bounded, idempotent step
//! (an import chunk, a chunk of blocklist bans), so a retry by the Queue
//! (max_retries, then the dead-letter queue) redoes nothing twice.

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
                console_error!(
                    "jobs: poison message {} acknowledged and dropped: {e}",
                    msg.id()
                );
                msg.ack();
                continue;
            }
        };
        match &job {
            Job::Import { import_id, chunk } => {
                match crate::imports::process(&env, cfg, import_id, *chunk as i64).await {
                    Ok(()) => msg.ack(),
                    Err(e) => {
                        console_error!("jobs: import {import_id} chunk {chunk} failed: {e:?}");
                        // A failure the import records as final is acked;
                        // anything else is retried by the Queue.
                        if crate::imports::failed(&env, import_id, &e).await {
                            msg.ack();
                        } else {
                            msg.retry();
                        }
                    }
                }
            }
            Job::BlockHost { block, cursor } => {
                let ctx = background_ctx(&env, cfg);
                let r = crate::blocklist::block_chunk(&ctx, block, cursor.as_deref()).await;
                ack_or_retry(&msg, &job, r);
            }
            Job::UnblockHost { block } => {
                let r = crate::blocklist::unblock_chunk(&background_ctx(&env, cfg), block).await;
                ack_or_retry(&msg, &job, r);
            }
        }
    }
    Ok(())
}

/// A handler context for work with no request: the clock is the wall's.
fn background_ctx(env: &Env, cfg: &std::rc::Rc<Config>) -> Ctx {
    Ctx {
        env: env.clone(),
        config: cfg.clone(),
        now: worker::Date::now().as_millis() as i64,
        short_domain: cfg.short_domain.clone(),
        scheme: cfg.short_scheme.clone(),
    }
}

fn ack_or_retry<E: std::fmt::Display>(msg: &worker::RawMessage, job: &Job, r: Result<(), E>) {
    match r {
        Ok(()) => msg.ack(),
        Err(e) => {
            console_error!("jobs: {job:?} failed, will retry: {e}");
            msg.retry();
        }
    }
}
