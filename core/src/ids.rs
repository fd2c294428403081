//! Typed ids: a `LinkId` cannot be passed where a `WorkspaceId` is meant.
//! Each is its prefixed string (`lnk_…`, `ws_…`) on the wire, in D1 and in
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
}
