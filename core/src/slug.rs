//! Short-link slugs: the path segment a visitor types.

use crate::error::ApiError;

pub const MAX_SLUG_LEN: usize = 100;
/// No 0/O/o, 1/l/I: a slug read aloud or off a poster is typed right.
pub const SLUG_ALPHABET: &[u8] = b"23456789abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ";
pub const GENERATED_LEN: usize = 7;

/// Paths the platform itself serves, plus names that would confuse users.
pub const RESERVED: &[&str] = &[
    "api",
    "bio",
    "qr",
    "dashboard",
    "admin",
    "login",
    "logout",
    "signup",
    "register",
    "settings",
    "static",
    "assets",
    "public",
    "docs",
    "help",
    "support",
    "app",
    "www",
    "v1",
    "v2",
    "_",
    "favicon.ico",
    "robots.txt",
    "sitemap.xml",
    "health",
    "status",
    "openapi.json",
    ".well-known",
];

/// A slug that is syntactically valid and not reserved. Case-sensitive, as
/// in Bitly and Shlink; reserved names are matched case-insensitively.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Slug(String);

impl Slug {
    /// Checks the characters only (what a redirect may look up).
    pub fn parse_path(s: &str) -> Option<Slug> {
        let ok = !s.is_empty()
            && s.len() <= MAX_SLUG_LEN
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
            && !s.starts_with('.');
        ok.then(|| Slug(s.to_string()))
    }

    /// A slug a user asks for: valid characters and not reserved.
    pub fn parse(s: &str) -> Result<Slug, ApiError> {
        if s.is_empty() {
            return Err(ApiError::validation("slug", "must not be empty"));
        }
        if s.len() > MAX_SLUG_LEN {
            return Err(ApiError::validation(
                "slug",
                format!("must be at most {MAX_SLUG_LEN} characters"),
            ));
        }
        let slug = Slug::parse_path(s).ok_or_else(|| {
            ApiError::validation(
                "slug",
                "may contain only letters, digits, '-', '_' and '.' (not first)",
            )
        })?;
        if is_reserved(s) {
            return Err(ApiError::SlugReserved(format!(
                "The slug '{s}' is reserved"
            )));
        }
        Ok(slug)
    }

    /// A fresh random slug from `GENERATED_LEN` random bytes' worth of input.
    pub fn generate(random: &[u8]) -> Slug {
        let n = SLUG_ALPHABET.len();
        let s: String = random
            .iter()
            .take(GENERATED_LEN)
            .map(|b| SLUG_ALPHABET[*b as usize % n] as char)
            .collect();
        Slug(s)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

pub fn is_reserved(s: &str) -> bool {
    RESERVED.iter().any(|r| r.eq_ignore_ascii_case(s))
}

impl std::fmt::Display for Slug {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_normal_slugs() {
        for s in [
            "my-link",
            "summer_sale",
            "a",
            "A1.b",
            "q1-2025",
            &"x".repeat(100),
        ] {
            assert_eq!(Slug::parse(s).unwrap().as_str(), s);
        }
    }

    #[test]
    fn rejects_bad_slugs() {
        for s in [
            "",
            "a b",
            "a/b",
            "ünï",
            ".hidden",
            "a?b",
            "a#b",
            &"x".repeat(101),
        ] {
            assert!(
                matches!(Slug::parse(s), Err(ApiError::Validation { ref field, .. }) if field == "slug"),
                "{s}"
            );
        }
    }

    #[test]
    fn reserved_is_case_insensitive() {
        for s in ["api", "API", "Bio", "qr", "dashboard"] {
            assert!(
                matches!(Slug::parse(s), Err(ApiError::SlugReserved(_))),
                "{s}"
            );
        }
    }

    #[test]
    fn generated_slugs_use_the_unambiguous_alphabet() {
        let bytes: Vec<u8> = (0..=255).collect();
        for chunk in bytes.chunks(GENERATED_LEN) {
            let s = Slug::generate(chunk);
            assert!(s.as_str().bytes().all(|b| SLUG_ALPHABET.contains(&b)));
            assert!(!s.as_str().contains(['0', 'O', 'o', '1', 'l', 'I']));
            assert!(Slug::parse(s.as_str()).is_ok());
        }
        assert_eq!(Slug::generate(&[0; 7]).as_str().len(), GENERATED_LEN);
    }
}
