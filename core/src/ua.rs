//! Small user-agent classifier for the redirect hot path.
//!
//! Plain substring checks only (no `regex`, no allocation): the worker runs
//! in wasm where code size and per-request latency matter more than catching
//! every exotic browser. The three classifications (device, OS, browser) are
//! computed independently of `is_bot`, so a crawler that announces a phone
//! (Googlebot smartphone) still reports `Mobile`/`Android`; callers that care
//! about humans should check `is_bot` first.
//!
//! Known limitation: iPadOS 13+ Safari (and Chrome/Firefox on iPadOS in
//! their default "desktop site" mode) send a Macintosh UA that is
//! byte-for-byte a macOS one, so those iPads classify as desktop macOS.

use serde::{Deserialize, Serialize};

/// Form factor of the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Device {
    Desktop,
    Mobile,
    Tablet,
}

/// Operating system family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Os {
    Ios,
    Android,
    Windows,
    Macos,
    Linux,
    Chromeos,
    Other,
}

/// Browser family. Unbranded Chromium forks (Brave, Vivaldi, Silk, Android
/// WebView, ...) report `Chrome`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Browser {
    Chrome,
    Safari,
    Firefox,
    Edge,
    Opera,
    Samsung,
    Wechat,
    Other,
}

impl Device {
    /// Same spelling as the serde representation.
    pub fn as_str(self) -> &'static str {
        match self {
            Device::Desktop => "desktop",
            Device::Mobile => "mobile",
            Device::Tablet => "tablet",
        }
    }

    /// Inverse of [`Device::as_str`]; exact lowercase match, like serde.
    pub fn parse(s: &str) -> Option<Device> {
        match s {
            "desktop" => Some(Device::Desktop),
            "mobile" => Some(Device::Mobile),
            "tablet" => Some(Device::Tablet),
            _ => None,
        }
    }
}

impl Os {
    /// Same spelling as the serde representation.
    pub fn as_str(self) -> &'static str {
        match self {
            Os::Ios => "ios",
            Os::Android => "android",
            Os::Windows => "windows",
            Os::Macos => "macos",
            Os::Linux => "linux",
            Os::Chromeos => "chromeos",
            Os::Other => "other",
        }
    }
}

impl Browser {
    /// Same spelling as the serde representation.
    pub fn as_str(self) -> &'static str {
        match self {
            Browser::Chrome => "chrome",
            Browser::Safari => "safari",
            Browser::Firefox => "firefox",
            Browser::Edge => "edge",
            Browser::Opera => "opera",
            Browser::Samsung => "samsung",
            Browser::Wechat => "wechat",
            Browser::Other => "other",
        }
    }
}

/// Result of [`parse`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UserAgent {
    pub device: Device,
    pub os: Os,
    pub browser: Browser,
    /// Crawler, link-preview fetcher, HTTP library/CLI, headless browser or
    /// empty UA.
    pub is_bot: bool,
    /// WeChat in-app browser (`MicroMessenger`).
    pub is_wechat: bool,
}

/// Declares the tokens [`parse`] looks for: an enum naming each and the
/// bytes it matches, in one list.
macro_rules! tokens {
    ($($name:ident = $text:literal,)*) => {
        /// A token [`parse`] asks about (case-sensitive, as browsers send it).
        #[derive(Debug, Clone, Copy)]
        enum Tok { $($name,)* }
        const TOKENS: &[&[u8]] = &[$($text.as_bytes(),)*];
        #[cfg(test)]
        const ALL_TOKS: &[Tok] = &[$(Tok::$name,)*];
    };
}

tokens! {
    MicroMessenger = "MicroMessenger",
    WindowsPhone = "Windows Phone",
    Iphone = "iPhone",
    Ipad = "iPad",
    Ipod = "iPod",
    CpuOs = "CPU OS",
    LikeMacOsX = "like Mac OS X",
    Mobile = "Mobile",
    Android = "Android",
    Windows = "Windows",
    CrOs = "CrOS",
    Macintosh = "Macintosh",
    MacOsX = "Mac OS X",
    Linux = "Linux",
    X11 = "X11",
    Tablet = "Tablet",
    Kindle = "Kindle",
    Silk = "Silk/",
    Mobi = "Mobi",
    Edg = "Edg/",
    EdgA = "EdgA/",
    EdgiOs = "EdgiOS/",
    Edge = "Edge/",
    Opr = "OPR/",
    Opera = "Opera",
    OpiOs = "OPiOS/",
    SamsungBrowser = "SamsungBrowser",
    Firefox = "Firefox/",
    FxiOs = "FxiOS/",
    Chrome = "Chrome/",
    CriOs = "CriOS/",
    Chromium = "Chromium",
    Safari = "Safari/",
    Version = "Version/",
}

/// For each byte, the tokens that start with it (a bit per token).
const STARTING_WITH: [u64; 256] = {
    assert!(TOKENS.len() <= 64);
    let mut table = [0u64; 256];
    let mut t = 0;
    while t < TOKENS.len() {
        table[TOKENS[t][0] as usize] |= 1 << t;
        t += 1;
    }
    table
};

/// The tokens found in a UA.
#[derive(Clone, Copy)]
struct Seen(u64);

impl Seen {
    /// One pass over the UA, comparing at each byte only the tokens that
    /// start with it and are not found yet: a few dozen `str::contains`
    /// would each build a searcher and scan the UA again.
    fn scan(ua: &str) -> Seen {
        let hay = ua.as_bytes();
        let mut seen = 0u64;
        for i in 0..hay.len() {
            let mut cands = STARTING_WITH[hay[i] as usize] & !seen;
            while cands != 0 {
                let t = cands.trailing_zeros() as usize;
                if hay[i..].starts_with(TOKENS[t]) {
                    seen |= 1 << t;
                }
                cands &= cands - 1;
            }
        }
        Seen(seen)
    }

    fn has(self, t: Tok) -> bool {
        self.0 & (1 << t as u32) != 0
    }
}

/// Classify a `User-Agent` header value. Never panics, never allocates.
pub fn parse(ua: &str) -> UserAgent {
    let seen = Seen::scan(ua);
    let has = |t: Tok| seen.has(t);
    let is_wechat = has(Tok::MicroMessenger);

    // Windows Phone first: its UAs also claim Android and even "iPhone".
    let os = if has(Tok::WindowsPhone) {
        Os::Windows
    } else if has(Tok::Iphone)
        || has(Tok::Ipad)
        || has(Tok::Ipod)
        || ((has(Tok::CpuOs) || has(Tok::LikeMacOsX)) && has(Tok::Mobile))
    {
        // Before Macos: iOS UAs say "like Mac OS X".
        Os::Ios
    } else if has(Tok::Android) {
        // Before Linux: Android UAs say "Linux; Android".
        Os::Android
    } else if has(Tok::Windows) {
        Os::Windows
    } else if has(Tok::CrOs) {
        // Before Linux: ChromeOS UAs say "X11; CrOS".
        Os::Chromeos
    } else if has(Tok::Macintosh) || has(Tok::MacOsX) {
        Os::Macos
    } else if has(Tok::Linux) || has(Tok::X11) {
        Os::Linux
    } else {
        Os::Other
    };

    let device = if has(Tok::Ipad) || has(Tok::Tablet) || has(Tok::Kindle) || has(Tok::Silk) {
        Device::Tablet
    } else if has(Tok::Iphone) || has(Tok::Ipod) || has(Tok::WindowsPhone) || has(Tok::Mobi) {
        // "Mobi" also covers Android phones ("Mobile Safari", "; Mobile;").
        Device::Mobile
    } else if os == Os::Android {
        // Google's convention: Android without a "Mobile" token is a tablet.
        Device::Tablet
    } else {
        Device::Desktop
    };

    // Most specific first: Edge/Opera/Samsung/WeChat UAs also carry
    // "Chrome/" and "Safari/", and Chrome/Firefox on iOS carry "Safari/".
    let browser = if is_wechat {
        Browser::Wechat
    } else if has(Tok::Edg) || has(Tok::EdgA) || has(Tok::EdgiOs) || has(Tok::Edge) {
        Browser::Edge
    } else if has(Tok::Opr) || has(Tok::Opera) || has(Tok::OpiOs) {
        Browser::Opera
    } else if has(Tok::SamsungBrowser) {
        Browser::Samsung
    } else if has(Tok::Firefox) || has(Tok::FxiOs) {
        Browser::Firefox
    } else if has(Tok::Chrome) || has(Tok::CriOs) || has(Tok::Chromium) {
        Browser::Chrome
    } else if has(Tok::Safari) && has(Tok::Version) && os != Os::Android {
        // "Version/" separates real Safari from WebKit shells; the old
        // Android stock browser looks the same but is not Safari.
        Browser::Safari
    } else {
        Browser::Other
    };

    UserAgent {
        device,
        os,
        browser,
        is_bot: is_bot(ua),
        is_wechat,
    }
}

/// Lowercase needles matched case-insensitively anywhere in the UA, grouped
/// by first byte so [`is_bot`] can scan the UA once and only compare the
/// needles that could start at each position. Named crawlers whose UA
/// already contains "bot"/"spider"/"crawl" (Googlebot, Baiduspider, Sogou web
/// spider, 360Spider, Bytespider, ...) are covered by the generic tokens;
/// "sogou"/"yandex" alone are NOT listed because the Sogou and Yandex
/// browsers are real browsers. "bot" itself is handled separately (see
/// [`is_bot`]).
///
/// Generic crawler vocabulary: crawl, spider, slurp, preview
/// (SkypeUriPreview, generic "link preview" fetchers). Link-preview fetchers
/// without a generic token: facebookexternalhit, whatsapp (WhatsApp has no
/// in-app browser: this is the preview fetcher), slack-imgproxy, embedly,
/// vkshare, iframely, mastodon. HTTP libraries, CLI tools,
/// headless/automation browsers: everything else.
fn bot_needles(first: u8) -> &'static [&'static [u8]] {
    match first {
        b'a' => &[b"aiohttp", b"axios/"],
        b'c' => &[b"crawl", b"curl/"],
        b'e' => &[b"embedly"],
        b'f' => &[b"facebookexternalhit"],
        b'g' => &[b"go-http-client"],
        b'h' => &[b"headlesschrome"],
        b'i' => &[b"iframely"],
        b'j' => &[b"java/"],
        b'l' => &[b"libwww-perl", b"lighthouse"],
        b'm' => &[b"mastodon"],
        b'n' => &[b"node-fetch"],
        b'o' => &[b"okhttp"],
        b'p' => &[
            b"preview",
            b"python-requests",
            b"python-urllib",
            b"python-httpx",
            b"phantomjs",
        ],
        b's' => &[b"spider", b"slurp", b"slack-imgproxy", b"scrapy"],
        b'u' => &[b"undici"],
        b'v' => &[b"vkshare"],
        b'w' => &[b"whatsapp", b"wget"],
        _ => &[],
    }
}

fn is_bot(ua: &str) -> bool {
    if ua.trim().is_empty() {
        return true; // real browsers always send a UA
    }
    // One pass over the UA: at each byte, compare only the needles that
    // start with that (lowercased) byte.
    let hay = ua.as_bytes();
    (0..hay.len()).any(|i| {
        let first = hay[i].to_ascii_lowercase();
        let rest = &hay[i..];
        if first == b'b' {
            // "bot" anywhere (Googlebot, bingbot, GPTBot, .../robots URLs)
            // except in the phone brand "CUBOT", which shows up in real
            // Android UAs.
            if starts_with_ci(rest, b"bot")
                && !(i >= 2 && hay[i - 2..i].eq_ignore_ascii_case(b"cu"))
            {
                return true;
            }
        }
        bot_needles(first).iter().any(|n| starts_with_ci(rest, n))
    })
}

/// Fetchers that exist to unfurl a shared link into a card (lowercase,
/// matched case-insensitively): they get a link's `preview` page. Search
/// crawlers (Googlebot, bingbot, ...) and HTTP libraries are not here.
/// Every one is also a bot for [`is_bot`]: "bot" (Twitterbot, LinkedInBot,
/// Discordbot, TelegramBot, Applebot, redditbot, Pinterestbot), "preview"
/// (SkypeUriPreview) or its own needle; Bluesky's "Cardyb" is the one
/// that is not.
pub const LINK_PREVIEW_AGENTS: &[&str] = &[
    "facebookexternalhit",
    "facebookcatalog",
    "twitterbot",
    "linkedinbot",
    "slackbot-linkexpanding",
    "slack-imgproxy",
    "discordbot",
    "whatsapp",
    "telegrambot",
    "applebot",
    // Not "pinterest" alone: Pinterest's in-app browser says "[Pinterest/iOS]".
    "pinterestbot",
    "pinterest/0.",
    "embedly",
    "iframely",
    "vkshare",
    "mastodon",
    "skypeuripreview",
    "redditbot",
    "cardyb",
];

/// A link-preview fetcher (see [`LINK_PREVIEW_AGENTS`]). Only asked for
/// links that have a preview card, so other redirects never pay for it.
pub fn is_link_preview(ua: &str) -> bool {
    let hay = ua.as_bytes();
    (0..hay.len()).any(|i| {
        let first = hay[i].to_ascii_lowercase();
        LINK_PREVIEW_AGENTS
            .iter()
            .any(|n| n.as_bytes()[0] == first && starts_with_ci(&hay[i..], n.as_bytes()))
    })
}

/// ASCII case-insensitive prefix test; `needle` must be lowercase.
/// Byte-wise so it never allocates and cannot split a UTF-8 char.
fn starts_with_ci(hay: &[u8], needle: &[u8]) -> bool {
    hay.len() >= needle.len() && hay[..needle.len()].eq_ignore_ascii_case(needle)
}

#[cfg(test)]
mod tests {
    use super::*;
    use Browser as B;
    use Device as D;
    use Os as O;

    /// `ua_cases.jsonl`: real user agents and what they must read as, one
    /// `[ua, device, os, browser, is_bot, is_wechat]` a line (data, so the
    /// table is not code).
    fn rows() -> Vec<(String, UserAgent)> {
        include_str!("ua_cases.jsonl")
            .lines()
            .filter(|l| !l.starts_with("//") && !l.trim().is_empty())
            .map(|l| {
                let (ua, device, os, browser, is_bot, is_wechat): (String, D, O, B, bool, bool) =
                    serde_json::from_str(l).expect(l);
                let want = UserAgent {
                    device,
                    os,
                    browser,
                    is_bot,
                    is_wechat,
                };
                (ua, want)
            })
            .collect()
    }

    #[test]
    fn table() {
        let rows = rows();
        assert!(rows.len() >= 45);
        for (ua, want) in rows {
            assert_eq!(parse(&ua), want, "UA: {ua:?}");
        }
    }

    #[test]
    fn odd_input_never_panics() {
        let long = "A".repeat(10_000);
        let long_bot = format!("{}bot", "é".repeat(5_000));
        let inputs = [
            "Mozilla/5.0",
            "Mozilla/5.0 ()",
            "Mozilla",
            "bo",
            "cu",
            "cubot",
            "Android",
            "iPad",
            "日本語のユーザーエージェント",
            "Mozilla/5.0 (iPhone; 🤖) Mobi",
            "\u{0}\u{1}\u{7f}",
            long.as_str(),
            long_bot.as_str(),
        ];
        for ua in inputs {
            let _ = parse(ua);
        }
        assert!(!parse(&long).is_bot);
        assert!(parse(&long_bot).is_bot);
        assert!(!parse("cubot").is_bot);
        assert!(parse("Mozilla/5.0").browser == B::Other);
    }

    /// The one-pass scan finds exactly what `str::contains` finds, token
    /// by token, on every UA of the table and some made to trip it
    /// (overlaps, a token at the very end, one cut short).
    #[test]
    fn scan_agrees_with_contains() {
        let mut uas: Vec<String> = rows().into_iter().map(|(ua, _)| ua).collect();
        uas.extend(
            [
                "",
                "Mobi",
                "Mobil",
                "MobileMobi",
                "EdgEdg/",
                "Windows PhoneWindows",
                "xlike Mac OS X",
                "Chromium/Chrome/",
                "CrOSCriOS/",
                "iPa",
                "Version/",
                "SamsungBrowse",
                "Safari/Safari/",
                "é iPhone 日本",
                "Mac OS XMac OS X",
            ]
            .map(String::from),
        );
        for ua in &uas {
            let seen = Seen::scan(ua);
            for &t in ALL_TOKS {
                let text = std::str::from_utf8(TOKENS[t as usize]).unwrap();
                assert_eq!(seen.has(t), ua.contains(text), "{t:?} in {ua:?}");
            }
        }
    }

    #[test]
    fn link_preview_fetchers() {
        for ua in [
            "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
            "Twitterbot/1.0",
            "LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)",
            "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
            "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)",
            "WhatsApp/2.23.20.0",
            "TelegramBot (like TwitterBot)",
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Safari/605.1.15 (Applebot/0.1; +http://www.apple.com/go/applebot)",
            "Pinterest/0.2 (+https://www.pinterest.com/bot.html)",
            "Mozilla/5.0 (compatible; Embedly/0.2; +http://support.embed.ly/)",
            "Mozilla/5.0 (Windows NT 6.1; WOW64) SkypeUriPreview Preview/0.5",
            "Iframely/1.3.1 (+https://iframely.com/docs/about)",
            "Mozilla/5.0 (compatible; Pinterestbot/1.0; +http://www.pinterest.com/bot.html)",
        ] {
            assert!(is_link_preview(ua), "{ua}");
            assert!(parse(ua).is_bot, "an unfurler is a bot too: {ua}");
        }
        for ua in [
            "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
            "Slackbot 1.0 (+https://api.slack.com/robots)",
            "curl/8.5.0",
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 [Pinterest/iOS]",
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36",
            "",
        ] {
            assert!(!is_link_preview(ua), "{ua}");
        }
    }

    /// `as_str` is the serde spelling, both ways.
    fn same_as_serde<T>(all: &[T], name: impl Fn(&T) -> &'static str)
    where
        T: serde::Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug,
    {
        for v in all {
            let json = format!("\"{}\"", name(v));
            assert_eq!(serde_json::to_string(v).unwrap(), json);
            assert_eq!(&serde_json::from_str::<T>(&json).unwrap(), v);
        }
    }

    #[test]
    #[rustfmt::skip] // the variant lists stay one line each
    fn names_round_trip_and_match_serde() {
        let devices = [D::Desktop, D::Mobile, D::Tablet];
        for d in devices {
            assert_eq!(Device::parse(d.as_str()), Some(d));
        }
        same_as_serde(&devices, |d| d.as_str());
        assert_eq!(Device::parse("Mobile"), None);
        assert_eq!(Device::parse("phone"), None);
        same_as_serde(&[O::Ios, O::Android, O::Windows, O::Macos, O::Linux, O::Chromeos, O::Other], |o| o.as_str());
        let browsers = [B::Chrome, B::Safari, B::Firefox, B::Edge, B::Opera, B::Samsung, B::Wechat, B::Other];
        same_as_serde(&browsers, |b| b.as_str());
    }
}
