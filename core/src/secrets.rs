//! Keys, ids, password hashes and signatures. Randomness always comes in as
//! bytes from the caller (the worker uses `getrandom`).

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

type HmacSha256 = Hmac<Sha256>;

const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// PBKDF2-HMAC-SHA256 rounds for link passwords. A visitor's guess costs
/// this much CPU in the worker, so it is kept modest and attempts are
/// rate-limited on top.
pub const PASSWORD_ROUNDS: u32 = 10_000;

pub fn base62(random: &[u8]) -> String {
    random
        .iter()
        .map(|b| BASE62[*b as usize % 62] as char)
        .collect()
}

/// `prefix` + 16 base62 characters, e.g. `lnk_8fJ2...`.
pub fn new_id(prefix: &str, random: &[u8; 16]) -> String {
    format!("{prefix}_{}", base62(random))
}

/// A new API key (`go2_` + 32 base62 characters).
pub fn new_api_key(random: &[u8; 32]) -> String {
    format!("go2_{}", base62(random))
}

pub fn sha256_hex(data: &[u8]) -> String {
    hex(&Sha256::digest(data))
}

pub fn hex(bytes: &[u8]) -> String {
    const H: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(H[(b >> 4) as usize] as char);
        s.push(H[(b & 15) as usize] as char);
    }
    s
}

/// Equality whose time does not depend on where the inputs differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

pub fn hmac_sha256(key: &[u8], data: &[u8]) -> [u8; 32] {
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(data);
    mac.finalize().into_bytes().into()
}

/// Webhook signature: hex HMAC-SHA256 of the raw body.
pub fn sign_hex(secret: &str, body: &[u8]) -> String {
    hex(&hmac_sha256(secret.as_bytes(), body))
}

/// `pbkdf2-sha256$<rounds>$<salt hex>$<hash hex>`
pub fn hash_password(password: &str, salt: &[u8; 16]) -> String {
    hash_password_rounds(password, salt, PASSWORD_ROUNDS)
}

fn hash_password_rounds(password: &str, salt: &[u8], rounds: u32) -> String {
    let mut out = [0u8; 32];
    pbkdf2::pbkdf2_hmac::<Sha256>(password.as_bytes(), salt, rounds, &mut out);
    format!("pbkdf2-sha256${rounds}${}${}", hex(salt), hex(&out))
}

pub fn verify_password(password: &str, stored: &str) -> bool {
    let parts: Vec<&str> = stored.split('$').collect();
    let [scheme, rounds, salt, hash] = parts.as_slice() else {
        return false;
    };
    let (Ok(rounds), Some(salt)) = (rounds.parse::<u32>(), unhex(salt)) else {
        return false;
    };
    if *scheme != "pbkdf2-sha256" || rounds == 0 || rounds > 1_000_000 {
        return false;
    }
    let candidate = hash_password_rounds(password, &salt, rounds);
    let candidate_hash = candidate.rsplit('$').next().unwrap_or("");
    constant_time_eq(candidate_hash.as_bytes(), hash.as_bytes())
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// Privacy-safe visitor id: keyed hash of IP + UA under a salt that
/// changes every UTC day, so visitors cannot be followed across days and
/// the raw IP is never stored. Built once per isolate: the key's HMAC pads
/// are two of the six SHA-256 blocks a hash would otherwise cost.
#[derive(Clone)]
pub struct VisitorKey(HmacSha256);

impl VisitorKey {
    pub fn new(secret: &str) -> Self {
        Self(HmacSha256::new_from_slice(secret.as_bytes()).expect("any key length"))
    }

    pub fn hash(&self, day: i64, ip: &str, ua: &str) -> String {
        let mut mac = self.0.clone();
        mac.update(&day.to_le_bytes());
        mac.update(ip.as_bytes());
        mac.update(&[0]);
        mac.update(ua.as_bytes());
        hex(&mac.finalize().into_bytes()[..12])
    }
}

/// Click event ids: a random prefix drawn once (per isolate) and a counter,
/// so a click costs no call for randomness. Unique across isolates as long
/// as their 16-character prefixes differ (about 95 random bits).
pub struct EventIds {
    prefix: String,
    next: u64,
}

impl EventIds {
    pub fn new(random: &[u8; 16]) -> Self {
        Self {
            prefix: format!("evt_{}", base62(random)),
            next: 0,
        }
    }

    /// `evt_` + the prefix + the counter in base62 (digits never collide,
    /// unlike [`base62`]'s byte mapping).
    pub fn next_id(&mut self) -> String {
        let mut id = String::with_capacity(self.prefix.len() + 11);
        id.push_str(&self.prefix);
        let mut n = self.next;
        self.next = self.next.wrapping_add(1);
        let mut digits = [0u8; 11];
        let mut i = digits.len();
        loop {
            i -= 1;
            digits[i] = BASE62[(n % 62) as usize];
            n /= 62;
            if n == 0 {
                break;
            }
        }
        id.extend(digits[i..].iter().map(|&d| d as char));
        id
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_ids_have_their_shape() {
        let k = new_api_key(&[7; 32]);
        assert!(k.starts_with("go2_") && k.len() == 36);
        let id = new_id("lnk", &[200; 16]);
        assert!(id.starts_with("lnk_") && id.len() == 20);
        assert!(id[4..].bytes().all(|b| b.is_ascii_alphanumeric()));
    }

    #[test]
    fn sha256_matches_known_vector() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn hmac_matches_rfc4231_case_2() {
        assert_eq!(
            sign_hex("Jefe", b"what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn passwords_verify_and_never_store_plaintext() {
        let h = hash_password("secure123", &[1; 16]);
        assert!(h.starts_with("pbkdf2-sha256$10000$"));
        assert!(!h.contains("secure123"));
        assert!(verify_password("secure123", &h));
        assert!(!verify_password("secure124", &h));
        assert!(!verify_password("secure123", "garbage"));
        assert!(!verify_password("x", "pbkdf2-sha256$0$00$00"));
        assert_ne!(h, hash_password("secure123", &[2; 16]), "salted");
    }

    #[test]
    fn constant_time_eq_is_eq() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }

    #[test]
    fn visitor_hash_rotates_daily_and_hides_ip() {
        let k = VisitorKey::new("s");
        let a = k.hash(1, "1.2.3.4", "ua");
        assert_eq!(a, k.hash(1, "1.2.3.4", "ua"));
        assert_ne!(a, k.hash(2, "1.2.3.4", "ua"));
        assert_ne!(a, k.hash(1, "1.2.3.5", "ua"));
        assert_ne!(a, VisitorKey::new("t").hash(1, "1.2.3.4", "ua"));
        assert!(!a.contains("1.2.3.4") && a.len() == 24);
        // The value of before the key was kept (counted visitors of the
        // day of a deployment stay the same visitors).
        let mut mac = HmacSha256::new_from_slice(b"s").unwrap();
        mac.update(&1i64.to_le_bytes());
        mac.update(b"1.2.3.4\0ua");
        assert_eq!(a, hex(&mac.finalize().into_bytes()[..12]));
    }

    #[test]
    fn event_ids_are_distinct_and_carry_the_prefix() {
        let mut ids = EventIds::new(&[7; 16]);
        let first = ids.next_id();
        assert_eq!(first, format!("evt_{}0", base62(&[7; 16])));
        let mut seen = std::collections::HashSet::from([first]);
        // 62 and 62² are where a byte-wise mapping would repeat itself.
        for _ in 1..5000 {
            assert!(seen.insert(ids.next_id()));
        }
        let mut other = EventIds::new(&[8; 16]);
        assert!(!seen.contains(&other.next_id()));
        ids.next = u64::MAX;
        assert!(ids.next_id().ends_with(&"LygHa16AHYF"[..]));
    }
}
