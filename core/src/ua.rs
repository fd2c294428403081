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

/// Classify a `User-Agent` header value. Never panics, never allocates.
pub fn parse(ua: &str) -> UserAgent {
    let has = |needle: &str| ua.contains(needle);
    let is_wechat = has("MicroMessenger");

    // Windows Phone first: its UAs also claim Android and even "iPhone".
    let os = if has("Windows Phone") {
        Os::Windows
    } else if has("iPhone")
        || has("iPad")
        || has("iPod")
        || ((has("CPU OS") || has("like Mac OS X")) && has("Mobile"))
    {
        // Before Macos: iOS UAs say "like Mac OS X".
        Os::Ios
    } else if has("Android") {
        // Before Linux: Android UAs say "Linux; Android".
        Os::Android
    } else if has("Windows") {
        Os::Windows
    } else if has("CrOS") {
        // Before Linux: ChromeOS UAs say "X11; CrOS".
        Os::Chromeos
    } else if has("Macintosh") || has("Mac OS X") {
        Os::Macos
    } else if has("Linux") || has("X11") {
        Os::Linux
    } else {
        Os::Other
    };

    let device = if has("iPad") || has("Tablet") || has("Kindle") || has("Silk/") {
        Device::Tablet
    } else if has("iPhone") || has("iPod") || has("Windows Phone") || has("Mobi") {
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
    } else if has("Edg/") || has("EdgA/") || has("EdgiOS/") || has("Edge/") {
        Browser::Edge
    } else if has("OPR/") || has("Opera") || has("OPiOS/") {
        Browser::Opera
    } else if has("SamsungBrowser") {
        Browser::Samsung
    } else if has("Firefox/") || has("FxiOS/") {
        Browser::Firefox
    } else if has("Chrome/") || has("CriOS/") || has("Chromium") {
        Browser::Chrome
    } else if has("Safari/") && has("Version/") && os != Os::Android {
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

    /// (ua, device, os, browser, is_bot, is_wechat)
    type Row = (&'static str, Device, Os, Browser, bool, bool);

    #[rustfmt::skip]
    const ROWS: &[Row] = &[
        // ---- Desktop browsers ----
        ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
            D::Desktop, O::Windows, B::Chrome, false, false),
        ("Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0",
            D::Desktop, O::Windows, B::Firefox, false, false),
        ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.0.0",
            D::Desktop, O::Windows, B::Edge, false, false),
        ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/70.0.3538.102 Safari/537.36 Edge/18.19045",
            D::Desktop, O::Windows, B::Edge, false, false),
        ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/123.0.0.0 Safari/537.36 OPR/109.0.0.0",
            D::Desktop, O::Windows, B::Opera, false, false),
        ("Mozilla/5.0 (Windows NT 6.1; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/109.0.0.0 Safari/537.36",
            D::Desktop, O::Windows, B::Chrome, false, false),
        ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
            D::Desktop, O::Macos, B::Chrome, false, false),
        ("Mozilla/5.0 (Macintosh; Intel Mac OS X 14.4; rv:125.0) Gecko/20100101 Firefox/125.0",
            D::Desktop, O::Macos, B::Firefox, false, false),
        // Also what iPadOS 13+ Safari sends: indistinguishable, so desktop/macOS.
        ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Safari/605.1.15",
            D::Desktop, O::Macos, B::Safari, false, false),
        ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.0.0",
            D::Desktop, O::Macos, B::Edge, false, false),
        ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/123.0.0.0 Safari/537.36 OPR/109.0.0.0",
            D::Desktop, O::Macos, B::Opera, false, false),
        ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
            D::Desktop, O::Linux, B::Chrome, false, false),
        ("Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
            D::Desktop, O::Linux, B::Firefox, false, false),
        ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.0.0",
            D::Desktop, O::Linux, B::Edge, false, false),
        ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/123.0.0.0 Safari/537.36 OPR/109.0.0.0",
            D::Desktop, O::Linux, B::Opera, false, false),
        ("Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
            D::Desktop, O::Chromeos, B::Chrome, false, false),
        ("Mozilla/5.0 (Windows NT 10.0; WOW64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/81.0.4044.138 Safari/537.36 NetType/WIFI MicroMessenger/7.0.20.1781(0x6700143B) WindowsWechat(0x63090a13) XWEB/9129 Flue",
            D::Desktop, O::Windows, B::Wechat, false, true),
        // ---- iOS ----
        ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Mobile/15E148 Safari/604.1",
            D::Mobile, O::Ios, B::Safari, false, false),
        ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/124.0.6367.88 Mobile/15E148 Safari/604.1",
            D::Mobile, O::Ios, B::Chrome, false, false),
        ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) FxiOS/125.0 Mobile/15E148 Safari/605.1.15",
            D::Mobile, O::Ios, B::Firefox, false, false),
        ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 EdgiOS/124.0.2478.50 Mobile/15E148 Safari/604.1",
            D::Mobile, O::Ios, B::Edge, false, false),
        ("Mozilla/5.0 (iPhone; CPU iPhone OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.0 OPiOS/16.0.14.122053 Mobile/15E148 Safari/9537.53",
            D::Mobile, O::Ios, B::Opera, false, false),
        ("Mozilla/5.0 (iPod touch; CPU iPhone OS 15_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/15.6 Mobile/15E148 Safari/604.1",
            D::Mobile, O::Ios, B::Safari, false, false),
        ("Mozilla/5.0 (iPad; CPU OS 12_5_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/12.1.2 Mobile/15E148 Safari/604.1",
            D::Tablet, O::Ios, B::Safari, false, false),
        ("Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/124.0.6367.88 Mobile/15E148 Safari/604.1",
            D::Tablet, O::Ios, B::Chrome, false, false),
        ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.48(0x18003030) NetType/WIFI Language/zh_CN",
            D::Mobile, O::Ios, B::Wechat, false, true),
        // In-app WebView without "Safari/": a human, but no known browser.
        ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 [FBAN/FBIOS;FBAV/459.0.0.38.108;FBDV/iPhone15,2;FBMD/iPhone;FBSN/iOS;FBSV/17.4.1;FBSS/3;FBID/phone;FBLC/en_US;FBOP/5]",
            D::Mobile, O::Ios, B::Other, false, false),
        // ---- Android ----
        ("Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36",
            D::Mobile, O::Android, B::Chrome, false, false),
        ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.82 Mobile Safari/537.36",
            D::Mobile, O::Android, B::Chrome, false, false),
        ("Mozilla/5.0 (Linux; Android 14; SM-S928B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/24.0 Chrome/117.0.0.0 Mobile Safari/537.36",
            D::Mobile, O::Android, B::Samsung, false, false),
        ("Mozilla/5.0 (Linux; Android 13; SM-X910) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/23.0 Chrome/115.0.0.0 Safari/537.36",
            D::Tablet, O::Android, B::Samsung, false, false),
        ("Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
            D::Tablet, O::Android, B::Chrome, false, false),
        ("Mozilla/5.0 (Android 14; Mobile; rv:125.0) Gecko/125.0 Firefox/125.0",
            D::Mobile, O::Android, B::Firefox, false, false),
        ("Mozilla/5.0 (Android 14; Tablet; rv:125.0) Gecko/125.0 Firefox/125.0",
            D::Tablet, O::Android, B::Firefox, false, false),
        ("Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36 EdgA/124.0.2478.64",
            D::Mobile, O::Android, B::Edge, false, false),
        ("Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/123.0.0.0 Mobile Safari/537.36 OPR/81.3.4292.78882",
            D::Mobile, O::Android, B::Opera, false, false),
        ("Mozilla/5.0 (Linux; Android 9; KFTRWI) AppleWebKit/537.36 (KHTML, like Gecko) Silk/124.2.1 like Chrome/124.0.6367.82 Safari/537.36",
            D::Tablet, O::Android, B::Chrome, false, false),
        ("Mozilla/5.0 (Linux; Android 13; SM-A536B Build/TP1A.220624.014; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/124.0.6367.82 Mobile Safari/537.36",
            D::Mobile, O::Android, B::Chrome, false, false),
        ("Mozilla/5.0 (Linux; Android 14; SM-S918B Build/UP1A.231005.007; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/124.0.6367.82 Mobile Safari/537.36 [FB_IAB/FB4A;FBAV/460.0.0.48.109;]",
            D::Mobile, O::Android, B::Chrome, false, false),
        ("Mozilla/5.0 (Linux; Android 13; V2148A Build/TP1A.220624.014; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/116.0.0.0 Mobile Safari/537.36 XWEB/1160065 MMWEBSDK/20231202 MMWEBID/2247 MicroMessenger/8.0.47.2560(0x28002F35) WeChat/arm64 Weixin NetType/WIFI Language/zh_CN ABI/arm64",
            D::Mobile, O::Android, B::Wechat, false, true),
        // Phone brand containing "bot" must not trip the generic token.
        ("Mozilla/5.0 (Linux; Android 10; CUBOT X30) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36",
            D::Mobile, O::Android, B::Chrome, false, false),
        // Old Android stock browser: "Version/… Safari/" but not Safari.
        ("Mozilla/5.0 (Linux; U; Android 4.0.3; ko-kr; LG-L160L Build/IML74K) AppleWebkit/534.30 (KHTML, like Gecko) Version/4.0 Mobile Safari/534.30",
            D::Mobile, O::Android, B::Other, false, false),
        // Windows Phone also claims Android and Mobile Safari.
        ("Mozilla/5.0 (Windows Phone 10.0; Android 6.0.1; Microsoft; RM-1152) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/52.0.2743.116 Mobile Safari/537.36 Edge/15.15254",
            D::Mobile, O::Windows, B::Edge, false, false),
        // ---- Search-engine crawlers ----
        ("Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; Googlebot/2.1; +http://www.google.com/bot.html) Chrome/124.0.6367.118 Safari/537.36",
            D::Desktop, O::Other, B::Chrome, true, false),
        ("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
            D::Desktop, O::Other, B::Other, true, false),
        ("Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.118 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
            D::Mobile, O::Android, B::Chrome, true, false),
        ("Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm) Chrome/116.0.1938.76 Safari/537.36",
            D::Desktop, O::Other, B::Chrome, true, false),
        ("Mozilla/5.0 (compatible; Baiduspider/2.0; +http://www.baidu.com/search/spider.html)",
            D::Desktop, O::Other, B::Other, true, false),
        ("Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)",
            D::Desktop, O::Other, B::Other, true, false),
        ("DuckDuckBot/1.1; (+http://duckduckgo.com/duckduckbot.html)",
            D::Desktop, O::Other, B::Other, true, false),
        ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/13.1.1 Safari/605.1.15 (Applebot/0.1; +http://www.apple.com/go/applebot)",
            D::Desktop, O::Macos, B::Safari, true, false),
        ("Sogou web spider/4.0(+http://www.sogou.com/docs/help/webmasters.htm#07)",
            D::Desktop, O::Other, B::Other, true, false),
        ("Mozilla/5.0 (Linux; Android 5.0) AppleWebKit/537.36 (KHTML, like Gecko) Mobile Safari/537.36 (compatible; Bytespider; spider-feedback@bytedance.com)",
            D::Mobile, O::Android, B::Other, true, false),
        ("Mozilla/5.0 (compatible; Yahoo! Slurp; http://help.yahoo.com/help/us/ysearch/slurp)",
            D::Desktop, O::Other, B::Other, true, false),
        ("Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
            D::Desktop, O::Other, B::Other, true, false),
        ("Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.0; +https://openai.com/gptbot)",
            D::Desktop, O::Other, B::Other, true, false),
        // ---- Link-preview fetchers ----
        ("facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
            D::Desktop, O::Other, B::Other, true, false),
        ("Twitterbot/1.0", D::Desktop, O::Other, B::Other, true, false),
        ("Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
            D::Desktop, O::Other, B::Other, true, false),
        ("Slack-ImgProxy (+https://api.slack.com/robots)",
            D::Desktop, O::Other, B::Other, true, false),
        ("LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)",
            D::Desktop, O::Other, B::Other, true, false),
        ("WhatsApp/2.23.20.0 A", D::Desktop, O::Other, B::Other, true, false),
        ("TelegramBot (like TwitterBot)", D::Desktop, O::Other, B::Other, true, false),
        ("Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)",
            D::Desktop, O::Other, B::Other, true, false),
        ("Mozilla/5.0 (compatible; Pinterestbot/1.0; +http://www.pinterest.com/bot.html)",
            D::Desktop, O::Other, B::Other, true, false),
        ("Mozilla/5.0 (compatible; redditbot/1.0; +http://www.reddit.com/feedback)",
            D::Desktop, O::Other, B::Other, true, false),
        ("Mozilla/5.0 (Windows NT 6.1; WOW64) SkypeUriPreview Preview/0.5 skype-url-preview@microsoft.com",
            D::Desktop, O::Windows, B::Other, true, false),
        ("http.rb/5.1.1 (Mastodon/4.2.8; +https://mastodon.social/)",
            D::Desktop, O::Other, B::Other, true, false),
        ("Mozilla/5.0 (compatible; vkShare; +http://vk.com/dev/Share)",
            D::Desktop, O::Other, B::Other, true, false),
        // ---- HTTP libraries, CLI tools, headless browsers ----
        ("curl/8.5.0", D::Desktop, O::Other, B::Other, true, false),
        ("Wget/1.21.4", D::Desktop, O::Other, B::Other, true, false),
        ("python-requests/2.31.0", D::Desktop, O::Other, B::Other, true, false),
        ("Python-urllib/3.11", D::Desktop, O::Other, B::Other, true, false),
        ("Python/3.12 aiohttp/3.9.3", D::Desktop, O::Other, B::Other, true, false),
        ("Go-http-client/1.1", D::Desktop, O::Other, B::Other, true, false),
        ("Java/17.0.10", D::Desktop, O::Other, B::Other, true, false),
        ("okhttp/4.12.0", D::Desktop, O::Other, B::Other, true, false),
        ("axios/1.6.8", D::Desktop, O::Other, B::Other, true, false),
        ("node-fetch/1.0 (+https://github.com/bitinn/node-fetch)",
            D::Desktop, O::Other, B::Other, true, false),
        ("undici", D::Desktop, O::Other, B::Other, true, false),
        ("libwww-perl/6.72", D::Desktop, O::Other, B::Other, true, false),
        ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/124.0.6367.60 Safari/537.36",
            D::Desktop, O::Linux, B::Chrome, true, false),
        ("Mozilla/5.0 (Unknown; Linux x86_64) AppleWebKit/538.1 (KHTML, like Gecko) PhantomJS/2.1.1 Safari/538.1",
            D::Desktop, O::Linux, B::Other, true, false),
        ("Mozilla/5.0 (Linux; Android 11; moto g power (2022)) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0.0.0 Mobile Safari/537.36 Chrome-Lighthouse",
            D::Mobile, O::Android, B::Chrome, true, false),
        // ---- Empty ----
        ("", D::Desktop, O::Other, B::Other, true, false),
        ("   \t", D::Desktop, O::Other, B::Other, true, false),
    ];

    #[test]
    fn table() {
        assert!(ROWS.len() >= 45);
        for &(ua, device, os, browser, is_bot, is_wechat) in ROWS {
            let want = UserAgent {
                device,
                os,
                browser,
                is_bot,
                is_wechat,
            };
            assert_eq!(parse(ua), want, "UA: {ua:?}");
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

    #[test]
    fn names_round_trip_and_match_serde() {
        for d in [D::Desktop, D::Mobile, D::Tablet] {
            assert_eq!(Device::parse(d.as_str()), Some(d));
            assert_eq!(
                serde_json::to_string(&d).unwrap(),
                format!("\"{}\"", d.as_str())
            );
        }
        assert_eq!(Device::parse("Mobile"), None);
        assert_eq!(Device::parse("phone"), None);
        for o in [
            O::Ios,
            O::Android,
            O::Windows,
            O::Macos,
            O::Linux,
            O::Chromeos,
            O::Other,
        ] {
            assert_eq!(
                serde_json::to_string(&o).unwrap(),
                format!("\"{}\"", o.as_str())
            );
        }
        for b in [
            B::Chrome,
            B::Safari,
            B::Firefox,
            B::Edge,
            B::Opera,
            B::Samsung,
            B::Wechat,
            B::Other,
        ] {
            assert_eq!(
                serde_json::to_string(&b).unwrap(),
                format!("\"{}\"", b.as_str())
            );
            let back: Browser = serde_json::from_str(&format!("\"{}\"", b.as_str())).unwrap();
            assert_eq!(back, b);
        }
    }
}
