//! Messages on the JOBS Queue: background work too big for one request,
//! done in bounded steps that each enqueue the next and resume after a
//! crash (a redelivered message redoes an idempotent step). Consumed in
//! `src/jobs.rs`.

use crate::ids::{BlockId, ImportId};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Job {
    /// Process chunk `chunk` (100 rows) of a CSV import; the next chunk's
    /// message is sent once this one has committed.
    Import { import_id: ImportId, chunk: u32 },
    /// Ban every link with a URL on the blocked host, scanning links by id
    /// after `cursor` (`None`: from the start).
    BlockHost {
        block: BlockId,
        #[serde(default)]
        cursor: Option<String>,
    },
    /// Lift the bans that block set (the block row is gone by then).
    UnblockHost { block: BlockId },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jobs_keep_their_wire_shape() {
        let j = Job::Import {
            import_id: "imp_1".into(),
            chunk: 3,
        };
        let s = serde_json::to_string(&j).unwrap();
        assert_eq!(s, r#"{"type":"import","import_id":"imp_1","chunk":3}"#);
        assert_eq!(serde_json::from_str::<Job>(&s).unwrap(), j);
        let j = Job::BlockHost {
            block: "blk_1".into(),
            cursor: Some("lnk_9".into()),
        };
        let s = serde_json::to_string(&j).unwrap();
        assert_eq!(
            s,
            r#"{"type":"block_host","block":"blk_1","cursor":"lnk_9"}"#
        );
        assert_eq!(serde_json::from_str::<Job>(&s).unwrap(), j);
        let u: Job = serde_json::from_str(r#"{"type":"unblock_host","block":"blk_2"}"#).unwrap();
        assert_eq!(
            u,
            Job::UnblockHost {
                block: "blk_2".into()
            }
        );
        assert!(serde_json::from_str::<Job>(r#"{"type":"nope"}"#).is_err());
    }
}
