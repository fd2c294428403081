//! Typed ids: a `LinkId` cannot be passed where a `WorkspaceId` is meant.
//! Each is its prefixed string (`lnk_…`, `ws_…`, `grp_…`, …) on the wire, in D1 and in
//! KV (serde `transparent`), and reads as a `&str` where one is wanted.

use serde::{Deserialize, Serialize};

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $prefix:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub const PREFIX: &'static str = $prefix;

            /// A new id from 16 random bytes.
            pub fn new(random: &[u8; 16]) -> Self {
                $name(crate::secrets::new_id($prefix, random))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl std::ops::Deref for $name {
            type Target = str;
            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl From<String> for $name {
            fn from(s: String) -> Self {
                $name(s)
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                $name(s.to_string())
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }
    };
}

id_type!(
    /// `lnk_…`
    LinkId,
    "lnk"
);
id_type!(
    /// `ws_…`
    WorkspaceId,
    "ws"
);

id_type!(
    /// `blk_…`: a blocked host of the operator's blocklist.
    BlockId,
    "blk"
);

id_type!(
    /// `grp_…`
    GroupId,
    "grp"
);
id_type!(
    /// `key_…`
    ApiKeyId,
    "key"
);
id_type!(
    /// `qr_…`: a saved QR code.
    QrCodeId,
    "qr"
);
id_type!(
    /// `wh_…`
    WebhookId,
    "wh"
);
id_type!(
    /// `whd_…`: one delivery of an event to a webhook.
    DeliveryId,
    "whd"
);
id_type!(
    /// `evt_…`: a webhook event (shared by its deliveries).
    EventId,
    "evt"
);
id_type!(
    /// `dom_…`
    DomainId,
    "dom"
);
id_type!(
    /// `gal_…`
    GalleryId,
    "gal"
);
id_type!(
    /// `itm_…`
    GalleryItemId,
    "itm"
);
id_type!(
    /// `imp_…`: a CSV import.
    ImportId,
    "imp"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_their_strings_on_the_wire() {
        let id = LinkId::new(&[7; 16]);
        assert!(id.starts_with("lnk_"));
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(json, format!("\"{id}\""));
        let back: LinkId = serde_json::from_str(&json).unwrap();
        assert_eq!(back, id);
        assert_eq!(WorkspaceId::from("ws_1"), "ws_1");
    }

    #[test]
    fn each_id_starts_with_its_prefix() {
        let r = [3; 16];
        let made = [
            (LinkId::new(&r).to_string(), LinkId::PREFIX),
            (WorkspaceId::new(&r).to_string(), WorkspaceId::PREFIX),
            (GroupId::new(&r).to_string(), GroupId::PREFIX),
            (ApiKeyId::new(&r).to_string(), ApiKeyId::PREFIX),
            (QrCodeId::new(&r).to_string(), QrCodeId::PREFIX),
            (WebhookId::new(&r).to_string(), WebhookId::PREFIX),
            (DeliveryId::new(&r).to_string(), DeliveryId::PREFIX),
            (EventId::new(&r).to_string(), EventId::PREFIX),
            (DomainId::new(&r).to_string(), DomainId::PREFIX),
            (GalleryId::new(&r).to_string(), GalleryId::PREFIX),
            (GalleryItemId::new(&r).to_string(), GalleryItemId::PREFIX),
            (ImportId::new(&r).to_string(), ImportId::PREFIX),
        ];
        for (id, prefix) in made {
            assert!(id.starts_with(&format!("{prefix}_")), "{id} / {prefix}");
        }
        // The SQL that queues deliveries mints `whd_` ids itself.
        assert_eq!(DeliveryId::PREFIX, "whd");
    }
}
