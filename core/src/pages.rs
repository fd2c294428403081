//! The visitor-facing pages of the redirect: small, self-contained HTML
//! (inline CSS, no external assets), readable on a phone, never indexed.

use crate::link::Preview;
use crate::redirect::Decision;

/// Escapes text for HTML element content and quoted attributes.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "*{box-sizing:border-box}body{margin:0;min-height:100vh;display:flex;align-items:center;justify-content:center;background:#f4f5f7;color:#1f2933;font:16px/1.5 -apple-system,BlinkMacSystemFont,'Segoe UI',Roboto,sans-serif;padding:16px}main{background:#fff;max-width:420px;width:100%;padding:28px 24px;border-radius:14px;box-shadow:0 2px 12px rgba(0,0,0,.08);text-align:center}h1{font-size:22px;margin:0 0 8px}p{margin:8px 0;color:#52606d}.code{font-size:13px;letter-spacing:.08em;color:#9aa5b1;text-transform:uppercase}input{width:100%;padding:12px;font-size:16px;border:1px solid #cbd2d9;border-radius:8px;margin:12px 0}button{width:100%;padding:12px;font-size:16px;border:0;border-radius:8px;background:#2563eb;color:#fff}.err{color:#c81e1e}.link{word-break:break-all;background:#f4f5f7;padding:10px;border-radius:8px;font-family:monospace;font-size:14px;user-select:all}";

/// The shared layout of error pages: the status code as a small label
/// above the heading. `body` is trusted HTML built by this module.
pub fn layout(code: u16, title: &str, body: &str) -> String {
    page(Some(code), title, body)
}

/// The layout without a status label, for pages that are not errors (the
/// password form, WeChat's open-in-browser page).
fn page(code: Option<u16>, title: &str, body: &str) -> String {
    page_with_head(code, title, "", body)
}

/// `head` is trusted HTML built by this module (escaped values only).
fn page_with_head(code: Option<u16>, title: &str, head: &str, body: &str) -> String {
    let label = code
        .map(|c| format!("<div class=\"code\">{c}</div>"))
        .unwrap_or_default();
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
<meta name=\"robots\" content=\"noindex,nofollow\"><title>{t}</title>{head}<style>{STYLE}</style></head>\
<body><main>{label}<h1>{t}</h1>{body}</main></body></html>",
        t = escape(title)
    )
}

pub fn not_found() -> String {
    layout(
        404,
        "Link not found",
        "<p>This short link does not exist. Check the address and try again.</p>",
    )
}

pub fn too_many_attempts() -> String {
    layout(
        429,
        "Too many attempts",
        "<p>Too many wrong passwords. Wait a minute and try again.</p>",
    )
}

pub fn password_form(wrong: bool) -> String {
    let err = if wrong {
        "<p class=\"err\" role=\"alert\">Wrong password. Try again.</p>"
    } else {
        ""
    };
    page(
        None,
        "Password required",
        &format!(
            "<p>This link is protected. Enter the password to continue.</p>{err}\
<form method=\"post\"><input type=\"password\" name=\"password\" autocomplete=\"current-password\" \
placeholder=\"Password\" required autofocus aria-label=\"Password\"><button type=\"submit\">Continue</button></form>"
        ),
    )
}

pub fn open_in_browser(short_url: &str) -> String {
    let u = escape(short_url);
    page(
        None,
        "Open in your browser",
        &format!(
            "<p>WeChat cannot open this link. Tap <b>···</b> in the top right corner and choose \
<b>Open in Browser</b>, or copy the link below.</p><p>请点击右上角 <b>···</b>,选择「在浏览器中打开」,或复制下方链接。</p>\
<p class=\"link\">{u}</p>"
        ),
    )
}

/// The social card a link-preview crawler gets: Open Graph and Twitter
/// card tags (every value escaped), a canonical link to the destination,
/// noindex (the short link is not a page of its own).
pub fn preview_card(p: &Preview, destination: &str) -> String {
    let meta = |attr: &str, name: &str, value: &str| {
        format!("<meta {attr}=\"{name}\" content=\"{}\">", escape(value))
    };
    let mut head = format!("<link rel=\"canonical\" href=\"{}\">", escape(destination));
    head.push_str(&meta("property", "og:type", "website"));
    head.push_str(&meta("property", "og:url", destination));
    head.push_str(&meta("property", "og:title", &p.title));
    head.push_str(&meta("name", "twitter:title", &p.title));
    if let Some(d) = &p.description {
        head.push_str(&meta("name", "description", d));
        head.push_str(&meta("property", "og:description", d));
        head.push_str(&meta("name", "twitter:description", d));
    }
    let card = match &p.image {
        Some(img) => {
            head.push_str(&meta("property", "og:image", img));
            head.push_str(&meta("name", "twitter:image", img));
            "summary_large_image"
        }
        None => "summary",
    };
    head.push_str(&meta("name", "twitter:card", card));
    let description = p
        .description
        .as_deref()
        .map(|d| format!("<p>{}</p>", escape(d)))
        .unwrap_or_default();
    let d = escape(destination);
    page_with_head(
        None,
        &p.title,
        &head,
        &format!("{description}<p class=\"link\"><a href=\"{d}\" rel=\"nofollow\">{d}</a></p>"),
    )
}

/// The page for every non-redirect decision; `None` for a redirect and
/// for [`Decision::Preview`] (the link's card: [`preview_card`]).
pub fn for_decision(d: &Decision, short_url: &str) -> Option<String> {
    Some(match d {
        Decision::Banned => layout(
            451,
            "Link unavailable",
            "<p>This link has been disabled for violating the terms of service.</p>",
        ),
        Decision::Suspended => layout(
            410,
            "Link disabled",
            "<p>The owner of this link has disabled it.</p>",
        ),
        Decision::Expired => layout(410, "Link expired", "<p>This link has expired.</p>"),
        Decision::LimitReached => layout(
            410,
            "Link expired",
            "<p>This link has reached its click limit.</p>",
        ),
        Decision::PasswordRequired { wrong } => password_form(*wrong),
        Decision::OpenInBrowser => open_in_browser(short_url),
        Decision::BotBlocked => layout(
            403,
            "Not available to bots",
            "<p>This link is only available to people.</p>",
        ),
        Decision::Redirect { .. } | Decision::Preview => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_everything_that_matters() {
        assert_eq!(
            escape(r#"<a href="x">'&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }

    #[test]
    fn preview_card_escapes_every_value() {
        let evil = "<script>\"&'";
        let p = Preview {
            title: format!("T{evil}"),
            description: Some(format!("D{evil}")),
            image: Some("https://img.example/a.png?x=1&y=\"".into()),
        };
        let page = preview_card(&p, "https://example.com/?a=1&b=<x>");
        assert!(
            !page.contains("<script>") && !page.contains("\"&'"),
            "{page}"
        );
        let esc = "&lt;script&gt;&quot;&amp;&#39;";
        for tag in [
            format!("<meta property=\"og:title\" content=\"T{esc}\">"),
            format!("<meta name=\"twitter:title\" content=\"T{esc}\">"),
            format!("<meta property=\"og:description\" content=\"D{esc}\">"),
            format!("<meta name=\"twitter:description\" content=\"D{esc}\">"),
            "<meta property=\"og:image\" content=\"https://img.example/a.png?x=1&amp;y=&quot;\">"
                .into(),
            "<meta name=\"twitter:card\" content=\"summary_large_image\">".into(),
            "<link rel=\"canonical\" href=\"https://example.com/?a=1&amp;b=&lt;x&gt;\">".into(),
            "<meta name=\"robots\" content=\"noindex,nofollow\">".into(),
        ] {
            assert!(page.contains(&tag), "{tag} in {page}");
        }
        let bare = preview_card(
            &Preview {
                title: "t".into(),
                description: None,
                image: None,
            },
            "https://e.com",
        );
        assert!(bare.contains("content=\"summary\"") && !bare.contains("og:image"));
    }

    /// The decisions answered with an error page (status label shown).
    fn error_decisions() -> [Decision; 5] {
        [
            Decision::Banned,
            Decision::Suspended,
            Decision::Expired,
            Decision::LimitReached,
            Decision::BotBlocked,
        ]
    }

    #[test]
    fn pages_are_noindex_self_contained_and_escaped() {
        let page = open_in_browser("http://s.io/<script>");
        assert!(page.contains("noindex"));
        assert!(page.contains("&lt;script&gt;") && !page.contains("<script>"));
        assert!(!page.contains("http-equiv") && !page.contains("src=") && !page.contains("<link"));
        for d in error_decisions() {
            let p = for_decision(&d, "x").unwrap();
            assert!(p.contains(&d.status().to_string()) && p.contains("viewport"));
        }
        assert!(for_decision(
            &Decision::Redirect {
                location: "x".into(),
                variant: None,
            },
            "x"
        )
        .is_none());
        assert!(password_form(true).contains("Wrong password"));
        assert!(!password_form(false).contains("Wrong password"));
    }

    #[test]
    fn only_error_pages_carry_the_status_label() {
        let label = |p: &str| p.contains("<div class=\"code\">");
        for p in [
            password_form(false),
            password_form(true),
            open_in_browser("http://s.io/x"),
            for_decision(&Decision::PasswordRequired { wrong: false }, "x").unwrap(),
            for_decision(&Decision::OpenInBrowser, "x").unwrap(),
        ] {
            assert!(!label(&p), "{p}");
            assert!(!p.contains(">200<") && !p.contains(">401<"), "{p}");
            assert!(p.contains("<main><h1>"), "{p}");
        }
        for d in error_decisions() {
            let p = for_decision(&d, "x").unwrap();
            let code = d.status();
            assert!(
                p.contains(&format!("<main><div class=\"code\">{code}</div><h1>")),
                "{p}"
            );
        }
        assert!(not_found().contains("<div class=\"code\">404</div>"));
        assert!(too_many_attempts().contains("<div class=\"code\">429</div>"));
    }
}
