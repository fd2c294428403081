//! Messages on the jobs Queue: background work too big for one request,
//! done in bounded chunks that each enqueue the next (resumable: a
//! redelivered message redoes an idempotent chunk).

use serde::{Deserialize, Serialize};

use crate::ids::BlockId;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Job {
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
    fn jobs_round_trip_with_their_tag() {
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
