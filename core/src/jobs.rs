//! Messages on the JOBS Queue: background work too big for one request,
//! done in bounded steps that resume after a crash (consumed in
//! `src/jobs.rs`).

use crate::ids::ImportId;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Job {
    /// Process chunk `chunk` (100 rows) of a CSV import; the next chunk's
    /// message is sent once this one has committed.
    Import { import_id: ImportId, chunk: u32 },
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
    }
}
