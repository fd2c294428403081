//! Messages on the events Queue. The redirect produces clicks; the
//! consumer turns them into analytics (and, later, webhook deliveries).

use crate::ids::{LinkId, WorkspaceId};
use serde::{Deserialize, Serialize};

/// One served redirect. `id` is minted by the redirect, so a message the
/// Queue delivers twice carries the same id and is counted once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClickEvent {
    pub id: String,
    pub link_id: LinkId,
    pub workspace_id: WorkspaceId,
    /// ms since the epoch.
    pub ts: i64,
    /// ISO country from `cf.country`, when known.
    pub country: Option<String>,
    pub device: String,
    pub os: String,
    pub browser: String,
    /// Referrer host only (never the full URL).
    pub referrer: Option<String>,
    pub bot: bool,
    /// Keyed, daily-rotating hash of IP + UA; never the raw IP.
    pub visitor: String,
    /// The visit came from a saved QR code's scan URL.
    pub qr: bool,
    /// The link has `webhook: true`: send a `click` webhook with `scene`.
    #[serde(default)]
    pub webhook: bool,
    #[serde(default)]
    pub scene: String,
    /// The A/B variant (index into the link's `testVariants`) that chose
    /// the target; none when the link has no test or a target won.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum QueueMessage {
    Click(ClickEvent),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn click_round_trips_with_its_tag() {
        let c = ClickEvent {
            id: "evt_1".into(),
            link_id: "lnk_1".into(),
            workspace_id: "ws_1".into(),
            ts: 1,
            country: Some("DE".into()),
            device: "mobile".into(),
            os: "ios".into(),
            browser: "safari".into(),
            referrer: Some("news.ycombinator.com".into()),
            bot: false,
            visitor: "abc".into(),
            qr: false,
            webhook: false,
            scene: String::new(),
            variant: Some(1),
        };
        let s = serde_json::to_string(&QueueMessage::Click(c.clone())).unwrap();
        assert!(s.contains(r#""type":"click""#));
        assert_eq!(
            serde_json::from_str::<QueueMessage>(&s).unwrap(),
            QueueMessage::Click(c)
        );
    }
}
