//! The abuse guard's worker side: the checks a link write makes (blocked
//! hosts, self-loops) and the jobs that ban and unban the links of a
//! blocked host, in bounded chunks (src/jobs.rs runs them). Nothing here
//! is on the redirect's path: a ban reaches it as the KV record's `ban`.

use edgelink_core::blocklist as core_blocklist;
use edgelink_core::ids::{BlockId, LinkId};
use edgelink_core::jobs::Job;
use edgelink_core::link::Link;
use edgelink_core::ApiResult;

use crate::http::Ctx;
use crate::store::{blocklist as store, links, records};

/// Links scanned (block) or lifted (unblock) per Queue message: a few D1
/// statements and up to this many KV writes, well inside one invocation.
pub const CHUNK: i64 = 100;

/// Puts a job on the JOBS queue.
pub async fn enqueue(ctx: &Ctx, job: &Job) -> ApiResult<()> {
    let queue = ctx
        .env
        .queue("JOBS")
        .map_err(crate::http::internal("JOBS binding"))?;
    queue
        .send(job)
        .await
        .map_err(crate::http::internal("JOBS send"))
}

/// One chunk of a block: bans the links among the next [`CHUNK`] (by id,
/// every workspace) with a URL on the host, then queues the next chunk.
/// Idempotent: a redelivered chunk finds its links banned already and only
/// rewrites their KV records again.
pub async fn block_chunk(ctx: &Ctx, block: &BlockId, cursor: Option<&str>) -> ApiResult<()> {
    let db = ctx.db()?;
    // Unblocked meanwhile: the unblock job lifts what was banned.
    let Some(b) = store::get(&db, block).await? else {
        return Ok(());
    };
    let after = cursor.unwrap_or("");
    let scanned = links::scan(&db, after, CHUNK).await?;
    let hits: Vec<&LinkId> = scanned
        .iter()
        .filter(|l| {
            !l.banned && core_blocklist::first_blocked(l, std::slice::from_ref(&b.host)).is_some()
        })
        .map(|l| &l.id)
        .collect();
    let newly = if hits.is_empty() {
        Vec::new()
    } else {
        store::ban(&db, &hits, block, ctx.now).await?
    };
    if let Some(last) = scanned.last() {
        // Every link of this window this block banned, now or in an
        // earlier delivery of the same chunk that died before its KV writes.
        let banned = links::banned_by(&db, block, after, Some(&last.id), CHUNK).await?;
        let kv = ctx.kv()?;
        for link in &banned {
            records::put(&kv, link).await?;
        }
        for link in banned.iter().filter(|l| newly.contains(&l.id)) {
            let data = link.to_json(&ctx.scheme);
            crate::webhooks::emit(ctx, &link.workspace_id, "link.updated", data).await;
        }
    }
    if !newly.is_empty() && store::get(&db, block).await?.is_none() {
        // Unblocked while this chunk ran: its unblock job may have come and
        // gone, so the bans just set need one of their own.
        enqueue(
            ctx,
            &Job::UnblockHost {
                block: block.clone(),
            },
        )
        .await?;
        return Ok(());
    }
    if scanned.len() as i64 == CHUNK {
        let next = scanned.last().map(|l| l.id.to_string());
        enqueue(
            ctx,
            &Job::BlockHost {
                block: block.clone(),
                cursor: next,
            },
        )
        .await?;
    }
    Ok(())
}

/// One chunk of an unblock (the block row is deleted already): lifts up to
/// [`CHUNK`] of the bans this block set, KV first so a retry redoes any
/// record not yet rewritten; a link another block still matches stays
/// banned on that block's account. Queues the next chunk while any remain.
pub async fn unblock_chunk(ctx: &Ctx, block: &BlockId) -> ApiResult<()> {
    let db = ctx.db()?;
    let banned = links::banned_by(&db, block, "", None, CHUNK).await?;
    if banned.is_empty() {
        return Ok(());
    }
    let candidates: Vec<String> = {
        let mut c: Vec<String> = banned
            .iter()
            .flat_map(core_blocklist::link_candidates)
            .collect();
        c.sort_unstable();
        c.dedup();
        c
    };
    let others = store::matching(&db, &candidates).await?;
    let kv = ctx.kv()?;
    let mut free: Vec<&Link> = Vec::new();
    for link in &banned {
        let still = others
            .iter()
            .find(|p| core_blocklist::first_blocked(link, std::slice::from_ref(&p.host)).is_some());
        match still {
            Some(p) => store::hand_over(&db, &link.id, block, &p.id).await?,
            None => {
                let mut unbanned = link.clone();
                unbanned.banned = false;
                records::put(&kv, &unbanned).await?;
                free.push(link);
            }
        }
    }
    let ids: Vec<&LinkId> = free.iter().map(|l| &l.id).collect();
    let lifted = if ids.is_empty() {
        Vec::new()
    } else {
        store::lift(&db, &ids, block, ctx.now).await?
    };
    for link in free.into_iter().filter(|l| lifted.contains(&l.id)) {
        let mut l = link.clone();
        l.banned = false;
        l.updated_at = ctx.now;
        let data = l.to_json(&ctx.scheme);
        crate::webhooks::emit(ctx, &l.workspace_id, "link.updated", data).await;
    }
    if banned.len() as i64 == CHUNK {
        enqueue(
            ctx,
            &Job::UnblockHost {
                block: block.clone(),
            },
        )
        .await?;
    }
    Ok(())
}
