//! The JOBS Queue consumer: background work in bounded steps
//! (`edgelink_core::jobs::Job`), dispatched by variant to its module.

use edgelink_core::jobs::Job;
use worker::{console_error, Env, MessageBatch, MessageExt};

use crate::config::Config;

pub async fn consume(
    batch: MessageBatch<serde_json::Value>,
    env: Env,
    cfg: &Config,
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
                        if crate::imports::failed(&env, import_id, &e).await {
                            msg.ack();
                        } else {
                            msg.retry();
                        }
                    }
                }
            }
        }
    }
    Ok(())
}
