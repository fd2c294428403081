//! Links in and out as CSV: a small RFC 4180 reader, the import's column
//! mapping (ours, and Bitly's export as it is), and the export's lines
//! (every field through the formula-injection guard of `stats::csv_field`).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::{ApiError, ApiResult};
use crate::ids::LinkId;
use crate::link::Link;
use crate::stats::csv_field;
use crate::time::format_rfc3339;

/// Data rows an import may have (the header not counted).
pub const MAX_IMPORT_ROWS: usize = 10_000;
/// Bytes an import body may have.
pub const MAX_IMPORT_BYTES: usize = 5 * 1024 * 1024;
/// Rows per stored chunk, and per JOBS message.
pub const CHUNK_ROWS: usize = 100;
/// Bytes of mapped rows per stored chunk (a D1 row holds at most 2 MB).
pub const CHUNK_BYTES: usize = 1024 * 1024;
/// Characters a cell may have: no link field takes more (a whole link
/// body is at most 64 KiB).
pub const MAX_CELL: usize = 64 * 1024;

/// Splits RFC 4180 text into records: fields separated by `,`, records by
/// CRLF or LF, `"` quoting (with `""` for a quote) around fields that hold
/// separators or line breaks. A leading BOM is dropped, blank lines are
/// skipped. Stops with an error past `max_records`.
pub fn parse(text: &str, max_records: usize) -> ApiResult<Vec<Vec<String>>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut records: Vec<Vec<String>> = Vec::new();
    let mut record: Vec<String> = Vec::new();
    let mut field = String::new();
    let mut chars = text.chars().peekable();
    let mut quoted = false;
    // Whether the current field began with a quote (then text after its
    // closing quote is an error, as RFC 4180 allows none).
    let mut was_quoted = false;
    let mut line = 1usize;
    let bad = |line: usize, m: &str| ApiError::validation("body", format!("line {line}: {m}"));
    let mut end_record = |record: &mut Vec<String>, field: &mut String| -> ApiResult<()> {
        record.push(std::mem::take(field));
        let r = std::mem::take(record);
        if r.len() == 1 && r[0].is_empty() {
            return Ok(()); // a blank line
        }
        if records.len() >= max_records {
            return Err(ApiError::validation(
                "body",
                format!(
                    "at most {} data rows (plus the header row)",
                    max_records - 1
                ),
            ));
        }
        records.push(r);
        Ok(())
    };
    while let Some(c) = chars.next() {
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => quoted = false,
                '\n' => {
                    line += 1;
                    field.push(c);
                }
                _ => field.push(c),
            }
            continue;
        }
        match c {
            '"' if field.is_empty() && !was_quoted => {
                quoted = true;
                was_quoted = true;
            }
            '"' => return Err(bad(line, "a quote inside an unquoted field")),
            ',' => {
                record.push(std::mem::take(&mut field));
                was_quoted = false;
            }
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' | '\r' => {
                end_record(&mut record, &mut field)?;
                was_quoted = false;
                line += 1;
            }
            _ if was_quoted => return Err(bad(line, "text after a closing quote")),
            _ => field.push(c),
        }
    }
    if quoted {
        return Err(bad(line, "a quoted field is not closed"));
    }
    if !field.is_empty() || !record.is_empty() {
        end_record(&mut record, &mut field)?;
    }
    Ok(records)
}

/// How a column's cells become a link field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Text,
    Int,
    Bool,
    /// `a|b` or `a, b` (the latter quoted in the file).
    Tags,
    /// A JSON object (`geoTargets`, `deviceTargets` as the export writes them).
    Object,
}

/// Where a column goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    Field(&'static str, Kind),
    /// A short link of another service (`https://bit.ly/abc`): its
    /// back-half becomes the slug when that slug is free here.
    ShortLink,
    /// Bitly's `custom_bitlinks`: custom back-halves, preferred over the
    /// generated one.
    CustomShortLinks,
    /// Read-only or foreign columns (ids, counts, dates) read and dropped.
    Ignored,
}

/// Header names, compared lower-cased without `_`, `-` or spaces.
const COLUMNS: &[(&str, Target)] = &[
    (
        "destinationurl",
        Target::Field("destinationUrl", Kind::Text),
    ),
    ("url", Target::Field("destinationUrl", Kind::Text)),
    ("longurl", Target::Field("destinationUrl", Kind::Text)),
    ("slug", Target::Field("slug", Kind::Text)),
    ("domain", Target::Field("domain", Kind::Text)),
    ("title", Target::Field("title", Kind::Text)),
    ("description", Target::Field("description", Kind::Text)),
    ("tags", Target::Field("tags", Kind::Tags)),
    ("expiresat", Target::Field("expiresAt", Kind::Text)),
    ("clicklimit", Target::Field("clickLimit", Kind::Int)),
    ("groupid", Target::Field("groupId", Kind::Text)),
    ("archived", Target::Field("archived", Kind::Bool)),
    ("suspended", Target::Field("suspended", Kind::Bool)),
    ("iosurl", Target::Field("iosUrl", Kind::Text)),
    ("androidurl", Target::Field("androidUrl", Kind::Text)),
    ("geotargets", Target::Field("geoTargets", Kind::Object)),
    (
        "devicetargets",
        Target::Field("deviceTargets", Kind::Object),
    ),
    ("utmsource", Target::Field("utmSource", Kind::Text)),
    ("utmmedium", Target::Field("utmMedium", Kind::Text)),
    ("utmcampaign", Target::Field("utmCampaign", Kind::Text)),
    ("utmterm", Target::Field("utmTerm", Kind::Text)),
    ("utmcontent", Target::Field("utmContent", Kind::Text)),
    (
        "escapefromwechat",
        Target::Field("escapeFromWechat", Kind::Bool),
    ),
    (
        "advancedbotdetection",
        Target::Field("advancedBotDetection", Kind::Bool),
    ),
    ("webhook", Target::Field("webhook", Kind::Bool)),
    ("webhookscene", Target::Field("webhookScene", Kind::Text)),
    // Bitly's export: `link` is the bitlink, `id` the same without scheme.
    ("link", Target::ShortLink),
    ("bitlink", Target::ShortLink),
    ("custombitlinks", Target::CustomShortLinks),
    // Ours (export.csv) and Bitly's read-only columns.
    ("id", Target::ShortLink),
    ("shorturl", Target::Ignored),
    ("clickcount", Target::Ignored),
    ("createdat", Target::Ignored),
    ("updatedat", Target::Ignored),
    ("haspassword", Target::Ignored),
    ("banned", Target::Ignored),
    ("groupguid", Target::Ignored),
];

fn normalise(name: &str) -> String {
    name.trim()
        .chars()
        .filter(|c| !matches!(c, '_' | '-' | ' '))
        .flat_map(char::to_lowercase)
        .collect()
}

/// One data row, mapped: the link fields as a create body would carry
/// them (validated later, by `LinkPatch::parse`, so a bad cell fails its
/// row with the API's own message) and a back-half to try as the slug.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImportRow {
    /// The spreadsheet row: the header is row 1.
    pub row: usize,
    pub fields: Map<String, Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preferred_slug: Option<String>,
}

/// A parsed upload: its rows and the header columns it did not use.
#[derive(Debug, Clone, PartialEq)]
pub struct Import {
    pub rows: Vec<ImportRow>,
    pub ignored_columns: Vec<String>,
}

/// Reads an upload: a header row naming the columns, then up to
/// [`MAX_IMPORT_ROWS`] rows. Errors name the header or the body.
pub fn read_import(text: &str) -> ApiResult<Import> {
    let mut records = parse(text, MAX_IMPORT_ROWS + 1)?.into_iter();
    let header = records.next().ok_or_else(|| {
        ApiError::validation("body", "the CSV is empty: a header row is required")
    })?;
    let mut targets = Vec::with_capacity(header.len());
    let mut ignored = Vec::new();
    let mut seen: Vec<(&str, &str)> = Vec::new();
    for name in &header {
        let target = COLUMNS
            .iter()
            .find(|(n, _)| *n == normalise(name))
            .map(|(_, t)| *t);
        if let Some(Target::Field(f, _)) = target {
            if let Some((other, _)) = seen.iter().find(|(_, g)| *g == f) {
                return Err(ApiError::validation(
                    "header",
                    format!("columns '{other}' and '{name}' both give {f}"),
                ));
            }
            seen.push((name, f));
        }
        if target.is_none() {
            ignored.push(name.trim().to_string());
        }
        targets.push(target.unwrap_or(Target::Ignored));
    }
    if !seen.iter().any(|(_, f)| *f == "destinationUrl") {
        return Err(ApiError::validation(
            "header",
            "a header row with a destinationUrl (or url, long_url) column is required",
        ));
    }
    let mut rows = Vec::new();
    for (i, cells) in records.enumerate() {
        if cells.iter().any(|c| c.chars().count() > MAX_CELL) {
            return Err(ApiError::validation(
                "body",
                format!("row {}: a cell has more than {MAX_CELL} characters", i + 2),
            ));
        }
        rows.push(map_row(i + 2, &targets, &cells));
    }
    Ok(Import {
        rows,
        ignored_columns: ignored,
    })
}

/// Undoes the export's formula guard: a `'` put before `= + - @` (and tab
/// or CR) comes off again, so an exported title imports as it was.
fn unguard(s: &str) -> &str {
    match s.strip_prefix('\'') {
        Some(rest) if rest.starts_with(['=', '+', '-', '@', '\t', '\r']) => rest,
        _ => s,
    }
}

fn cell_value(kind: Kind, s: &str) -> Value {
    match kind {
        Kind::Text => Value::String(s.to_string()),
        // Anything unreadable stays text: the link parser then names the field.
        Kind::Int => s
            .parse::<i64>()
            .map(Value::from)
            .unwrap_or_else(|_| Value::String(s.to_string())),
        Kind::Bool => match s.to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" => Value::Bool(true),
            "false" | "0" | "no" => Value::Bool(false),
            _ => Value::String(s.to_string()),
        },
        Kind::Tags => Value::Array(
            s.split(['|', ','])
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(|t| Value::String(unguard(t).to_string()))
                .collect(),
        ),
        Kind::Object => match serde_json::from_str::<Value>(s) {
            Ok(v @ Value::Object(_)) => v,
            _ => Value::String(s.to_string()),
        },
    }
}

/// The back-half of a short link (`https://bit.ly/abc`, `bit.ly/abc`).
pub fn back_half(s: &str) -> Option<String> {
    let s = s.trim();
    let rest = crate::url::split_scheme(s).map_or(s, |(_, r)| r);
    let (host, path) = rest.split_once('/')?;
    let path = path
        .split(['?', '#'])
        .next()
        .unwrap_or("")
        .trim_matches('/');
    (!host.is_empty() && !path.is_empty() && !path.contains('/')).then(|| path.to_string())
}

fn map_row(row: usize, targets: &[Target], cells: &[String]) -> ImportRow {
    let mut fields = Map::new();
    let (mut custom, mut link) = (None, None);
    for (target, cell) in targets.iter().zip(cells) {
        let cell = unguard(cell.trim());
        if cell.is_empty() {
            continue;
        }
        match *target {
            Target::Field(name, kind) => {
                fields.insert(name.to_string(), cell_value(kind, cell));
            }
            Target::ShortLink => link = link.or_else(|| back_half(cell)),
            Target::CustomShortLinks => {
                custom =
                    custom.or_else(|| cell.split(['|', ',', ' ']).filter_map(back_half).next());
            }
            Target::Ignored => {}
        }
    }
    ImportRow {
        row,
        preferred_slug: if fields.contains_key("slug") {
            None
        } else {
            custom.or(link)
        },
        fields,
    }
}

/// The rows as stored chunks (JSON arrays): at most [`CHUNK_ROWS`] rows,
/// and at most [`CHUNK_BYTES`] unless a single row is larger.
pub fn chunks(rows: &[ImportRow]) -> Vec<String> {
    let mut out = Vec::new();
    let mut current: Vec<String> = Vec::new();
    let mut size = 0;
    for r in rows {
        let json = serde_json::to_string(r).unwrap_or_default();
        if !current.is_empty() && (current.len() == CHUNK_ROWS || size + json.len() > CHUNK_BYTES) {
            out.push(format!("[{}]", current.join(",")));
            current.clear();
            size = 0;
        }
        size += json.len() + 1;
        current.push(json);
    }
    if !current.is_empty() {
        out.push(format!("[{}]", current.join(",")));
    }
    out
}

/// The link id of an import's row: the same on every attempt, so a chunk
/// run twice (a retry, a message delivered twice) inserts its link once.
pub fn row_link_id(import_id: &str, row: usize) -> LinkId {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(format!("{import_id}:{row}").as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    LinkId::new(&bytes)
}

// ------------------------------------------------------------------ export

/// The export's columns: a link's settings and its click count. Every
/// writable one is read back by [`read_import`].
pub const EXPORT_HEADER: &str = "id,shortUrl,domain,slug,destinationUrl,title,description,tags,\
expiresAt,clickLimit,groupId,archived,suspended,banned,hasPassword,iosUrl,androidUrl,geoTargets,\
deviceTargets,utmSource,utmMedium,utmCampaign,utmTerm,utmContent,escapeFromWechat,\
advancedBotDetection,webhook,webhookScene,clickCount,createdAt,updatedAt\r\n";

/// One link as a line of the export.
pub fn export_line(l: &Link, scheme: &str) -> String {
    let opt = |v: &Option<String>| csv_field(v.as_deref().unwrap_or(""));
    let map = |m: &std::collections::BTreeMap<String, String>| {
        if m.is_empty() {
            String::new()
        } else {
            csv_field(&serde_json::to_string(m).unwrap_or_default())
        }
    };
    let fields = [
        csv_field(&l.id),
        csv_field(&l.short_url(scheme)),
        csv_field(&l.domain),
        csv_field(&l.slug),
        csv_field(&l.destination_url),
        opt(&l.title),
        opt(&l.description),
        csv_field(&l.tags.join("|")),
        l.expires_at.map(format_rfc3339).unwrap_or_default(),
        l.click_limit.map(|n| n.to_string()).unwrap_or_default(),
        opt(&l.group_id),
        l.archived.to_string(),
        l.suspended.to_string(),
        l.banned.to_string(),
        l.password_hash.is_some().to_string(),
        opt(&l.ios_url),
        opt(&l.android_url),
        map(&l.geo_targets),
        map(&l.device_targets),
        opt(&l.utm.source),
        opt(&l.utm.medium),
        opt(&l.utm.campaign),
        opt(&l.utm.term),
        opt(&l.utm.content),
        l.escape_from_wechat.to_string(),
        l.advanced_bot_detection.to_string(),
        l.webhook.to_string(),
        csv_field(&l.webhook_scene),
        l.click_count.to_string(),
        format_rfc3339(l.created_at),
        format_rfc3339(l.updated_at),
    ];
    let mut line = fields.join(",");
    line.push_str("\r\n");
    line
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn rfc4180_quotes_escapes_and_line_breaks() {
        let t = "a,b,c\r\n\"x, y\",\"say \"\"hi\"\"\",\"two\nlines\"\n\n1,,3";
        let r = parse(t, 10).unwrap();
        assert_eq!(
            r,
            vec![
                vec!["a", "b", "c"],
                vec!["x, y", "say \"hi\"", "two\nlines"],
                vec!["1", "", "3"],
            ]
        );
        assert_eq!(parse("\u{feff}h\n", 10).unwrap(), vec![vec!["h"]]);
        assert_eq!(parse("a,\n", 10).unwrap(), vec![vec!["a", ""]]);
    }

    #[test]
    fn malformed_csv_names_the_line() {
        let e = parse("a\n\"open", 10).unwrap_err();
        assert_eq!(e.field(), Some("body"));
        assert!(e.message().contains("line 2"), "{}", e.message());
        assert!(parse("a\nb\"c", 10).is_err());
        assert!(parse("\"a\"b", 10).is_err());
        let e = parse("h\n1\n2\n3", 3).unwrap_err();
        assert!(
            e.message().contains("at most 2 data rows"),
            "{}",
            e.message()
        );
    }

    #[test]
    fn our_columns_map_to_link_fields() {
        let t = "destinationUrl,slug,title,tags,expiresAt,groupId,Clicks\n\
                 https://e.com/a,spring,Spring,\"a, b\",2030-01-01T00:00:00Z,grp_1,5\n\
                 https://e.com/b,,,x|y|,,,\n";
        let imp = read_import(t).unwrap();
        assert_eq!(imp.ignored_columns, vec!["Clicks"]);
        assert_eq!(imp.rows.len(), 2);
        assert_eq!(imp.rows[0].row, 2);
        assert_eq!(
            Value::Object(imp.rows[0].fields.clone()),
            json!({"destinationUrl": "https://e.com/a", "slug": "spring", "title": "Spring",
                   "tags": ["a", "b"], "expiresAt": "2030-01-01T00:00:00Z", "groupId": "grp_1"})
        );
        assert_eq!(
            Value::Object(imp.rows[1].fields.clone()),
            json!({"destinationUrl": "https://e.com/b", "tags": ["x", "y"]})
        );
        // url and long_url are other names of the destination.
        for h in ["url", "long_url", "Destination URL"] {
            let imp = read_import(&format!("{h}\nhttps://e.com/\n")).unwrap();
            assert_eq!(imp.rows[0].fields["destinationUrl"], "https://e.com/");
        }
    }

    #[test]
    fn bitly_export_columns_are_understood() {
        let t = "id,link,long_url,title,created_at,archived,tags,custom_bitlinks,group_guid\n\
                 bit.ly/3xYzAbc,https://bit.ly/3xYzAbc,https://e.com/p,Promo,2024-03-01T10:00:00+0000,false,\"spring, sale\",https://bit.ly/spring-sale,Bk1a\n\
                 bit.ly/4QwErTy,https://bit.ly/4QwErTy,https://e.com/q,,2024-03-02T10:00:00+0000,true,,,Bk1a\n";
        let imp = read_import(t).unwrap();
        assert!(imp.ignored_columns.is_empty(), "{:?}", imp.ignored_columns);
        let a = &imp.rows[0];
        assert_eq!(a.fields["destinationUrl"], "https://e.com/p");
        assert_eq!(a.fields["tags"], json!(["spring", "sale"]));
        assert_eq!(a.fields["archived"], false);
        assert_eq!(a.preferred_slug.as_deref(), Some("spring-sale"));
        let b = &imp.rows[1];
        assert_eq!(b.preferred_slug.as_deref(), Some("4QwErTy"));
        assert_eq!(b.fields["archived"], true);
        assert!(!b.fields.contains_key("slug"));
    }

    #[test]
    fn bad_headers_are_refused() {
        let e = read_import("").unwrap_err();
        assert_eq!(e.field(), Some("body"));
        let e = read_import("title,slug\nx,y\n").unwrap_err();
        assert_eq!(e.field(), Some("header"));
        let e = read_import("url,long_url\na,b\n").unwrap_err();
        assert!(e.message().contains("both give destinationUrl"));
        let many = format!("url\n{}", "https://e.com/\n".repeat(MAX_IMPORT_ROWS + 1));
        assert!(read_import(&many).is_err());
        let max = format!("url\n{}", "https://e.com/\n".repeat(MAX_IMPORT_ROWS));
        assert_eq!(read_import(&max).unwrap().rows.len(), MAX_IMPORT_ROWS);
    }

    #[test]
    fn chunks_hold_100_rows_or_a_megabyte() {
        let many = format!("url\n{}", "https://e.com/\n".repeat(250));
        let rows = read_import(&many).unwrap().rows;
        let c = chunks(&rows);
        assert_eq!(c.len(), 3);
        let back: Vec<ImportRow> = serde_json::from_str(&c[2]).unwrap();
        assert_eq!(back.len(), 50);
        assert_eq!(back[0].row, 202);
        let big = format!(
            "url,title\n{}",
            format!("https://e.com/,{}\n", "t".repeat(60_000)).repeat(40)
        );
        let rows = read_import(&big).unwrap().rows;
        let c = chunks(&rows);
        assert!(
            c.iter().all(|c| c.len() <= CHUNK_BYTES),
            "{:?}",
            c.iter().map(String::len).collect::<Vec<_>>()
        );
        let n: usize = c
            .iter()
            .map(|c| serde_json::from_str::<Vec<ImportRow>>(c).unwrap().len())
            .sum();
        assert_eq!(n, 40);
        let huge = format!("url,title\nhttps://e.com/,{}\n", "t".repeat(MAX_CELL + 1));
        assert!(read_import(&huge).unwrap_err().message().contains("row 2"));
    }

    #[test]
    fn row_link_ids_are_stable_and_distinct() {
        assert_eq!(row_link_id("imp_a", 2), row_link_id("imp_a", 2));
        assert_ne!(row_link_id("imp_a", 2), row_link_id("imp_a", 3));
        assert_ne!(row_link_id("imp_a", 2), row_link_id("imp_b", 2));
        assert!(row_link_id("imp_a", 2).starts_with("lnk_"));
    }

    #[test]
    fn back_halves() {
        assert_eq!(back_half("https://bit.ly/abc").as_deref(), Some("abc"));
        assert_eq!(back_half("bit.ly/abc/").as_deref(), Some("abc"));
        assert_eq!(back_half("bit.ly/a/b"), None);
        assert_eq!(back_half("lnk_123"), None);
        assert_eq!(back_half("https://bit.ly/"), None);
    }

    #[test]
    fn export_guards_formulas_and_reads_back() {
        let l = Link {
            id: "lnk_1".into(),
            domain: "go2.gg".into(),
            slug: "s".into(),
            destination_url: "https://e.com/?a=1,2".into(),
            title: Some("=HYPERLINK(\"x\")".into()),
            tags: vec!["a".into(), "@b".into()],
            click_limit: Some(5),
            archived: true,
            click_count: 7,
            geo_targets: [("US".to_string(), "https://e.com/us".to_string())].into(),
            ..Default::default()
        };
        let line = export_line(&l, "https");
        assert!(line.contains("\"'=HYPERLINK(\"\"x\"\")\""), "{line}");
        assert!(!line.contains(",=") && !line.contains(",@"), "{line}");
        let imp = read_import(&format!("{EXPORT_HEADER}{line}")).unwrap();
        assert!(imp.ignored_columns.is_empty(), "{:?}", imp.ignored_columns);
        let f = &imp.rows[0].fields;
        assert_eq!(f["title"], "=HYPERLINK(\"x\")");
        assert_eq!(f["destinationUrl"], "https://e.com/?a=1,2");
        assert_eq!(f["tags"], json!(["a", "@b"]));
        assert_eq!(f["clickLimit"], 5);
        assert_eq!(f["archived"], true);
        assert_eq!(f["slug"], "s");
        assert_eq!(f["geoTargets"], json!({"US": "https://e.com/us"}));
        assert_eq!(imp.rows[0].preferred_slug, None);
        let patch = crate::link::LinkPatch::parse(f, true).unwrap();
        assert_eq!(patch.click_limit, Some(Some(5)));
    }
}
