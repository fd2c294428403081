//! ISO 3166-1 alpha-2 country codes, as Cloudflare reports them in `cf.country`.

use crate::error::ApiError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CountryCode([u8; 2]);

impl CountryCode {
    /// Two ASCII letters, any case; stored upper-case.
    pub fn parse(s: &str) -> Option<CountryCode> {
        let b = s.as_bytes();
        (b.len() == 2 && b.iter().all(u8::is_ascii_alphabetic))
            .then(|| CountryCode([b[0].to_ascii_uppercase(), b[1].to_ascii_uppercase()]))
    }

    pub fn parse_field(s: &str, field: &str) -> Result<CountryCode, ApiError> {
        CountryCode::parse(s).ok_or_else(|| {
            ApiError::validation(field, format!("'{s}' is not a two-letter ISO country code"))
        })
    }

    pub fn as_str(&self) -> &str {
        // Only ASCII letters are ever stored.
        std::str::from_utf8(&self.0).unwrap_or("XX")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_two_letters() {
        assert_eq!(CountryCode::parse("us").unwrap().as_str(), "US");
        assert_eq!(CountryCode::parse("GB").unwrap().as_str(), "GB");
        for bad in ["", "U", "USA", "1A", "ü", "U "] {
            assert!(CountryCode::parse(bad).is_none(), "{bad}");
        }
        assert_eq!(
            CountryCode::parse_field("USA", "geoTargets")
                .unwrap_err()
                .field(),
            Some("geoTargets")
        );
    }
}
