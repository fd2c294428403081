//! QR codes: request validation, a storable style, and rendering to SVG / PNG.
//!
//! "Parse, don't validate": the raw request ([`QrRequest`]) keeps every field
//! as an untyped JSON value so that a wrong JSON type becomes an [`ApiError`]
//! naming the field, never a serde error. [`QrStyle`] is the validated result;
//! it is reused by the saved-QR and download endpoints and serializes to the
//! API's camelCase shape for storage.
//!
//! The `qrcode` crate only provides the module matrix; both image formats are
//! drawn here:
//! * SVG: a background `<rect>` and one `<path>` in module units (horizontal
//!   runs of dark modules merged into one sub-path each).
//! * PNG: a 1-bit palette image, exactly `size`×`size` pixels, every module
//!   the same whole number of pixels (`size / modules`, the largest that
//!   fits); the remainder (fewer pixels than modules) widens the quiet zone
//!   so the code stays centred (see [`png_layout`]).
//!
//! Every `size` from [`MIN_SIZE`] to [`MAX_SIZE`] is drawn at exactly that
//! size whenever every module (quiet zone included) gets at least
//! [`MIN_MODULE_PX`] pixel; only a code too wide for that is refused, with
//! a validation error on `size` that states the minimum. Below
//! [`RECOMMENDED_MODULE_PX`] pixels per module the image is still drawn,
//! with [`RenderedQr::small_module_warning`] set.
//!
//! Rounded modules (`cornerRadius` > 0) round only *outer* corners of *data*
//! modules: a corner is rounded when both modules sharing it along an edge
//! (the horizontal and the vertical neighbour) are light. Isolated modules
//! become circles at 50 % while runs stay connected. Function patterns
//! (finders, alignment and timing patterns, format/version info) stay
//! square: decoders locate the grid from them, and rounding them made
//! large codes (version 20+) fail to decode at radius ≥ 25 in our tests.

use std::fmt::{self, Write as _};

use qrcode::bits::Bits;
use qrcode::types::{QrError, Version};
use qrcode::QrCode;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::ApiError;

/// Longest accepted `url` (characters).
pub const MAX_DATA_CHARS: usize = 2048;
/// Smallest image edge in pixels.
pub const MIN_SIZE: u32 = 64;
/// Largest image edge in pixels.
pub const MAX_SIZE: u32 = 2048;
/// Default image edge in pixels.
pub const DEFAULT_SIZE: u32 = 256;
/// Largest `cornerRadius` (percent of a module).
pub const MAX_CORNER_RADIUS: u8 = 50;
/// Light modules around the code on each side.
pub const QUIET_ZONE: usize = 4;
/// Pixels each module (quiet zone included) needs at least, so
/// `size >= MIN_MODULE_PX * (modules + 2 * QUIET_ZONE)`; a smaller `size`
/// is refused. Must be >= 1.
pub const MIN_MODULE_PX: u32 = 1;
/// Below this many pixels per module (quiet zone included) the code is
/// drawn but flagged ([`RenderedQr::small_module_warning`]): decoders read
/// a 1-px grid on a screen, but a phone camera looking at a printed or
/// resampled image needs about 2 px per module (measured with rqrr on
/// resampled images: from 2 px up every code decodes, at 1.0–2.0 px only
/// ~0–60 %).
pub const RECOMMENDED_MODULE_PX: u32 = 2;
/// Below this WCAG contrast ratio the colours are refused (hard to scan).
pub const MIN_CONTRAST_RATIO: f64 = 2.5;
/// Below this WCAG contrast ratio (but at least [`MIN_CONTRAST_RATIO`]) the
/// code is rendered with [`RenderedQr::low_contrast_warning`] set.
pub const WARN_CONTRAST_RATIO: f64 = 4.5;

const SVG_CONTENT_TYPE: &str = "image/svg+xml";
const PNG_CONTENT_TYPE: &str = "image/png";

// ---------------------------------------------------------------------------
// Colour
// ---------------------------------------------------------------------------

/// An sRGB colour; serializes as `"#RRGGBB"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Color {
    pub r: u8,
    pub g: u8,
    pub b: u8,
}

impl Color {
    pub const BLACK: Color = Color::rgb(0, 0, 0);
    pub const WHITE: Color = Color::rgb(255, 255, 255);

    pub const fn rgb(r: u8, g: u8, b: u8) -> Color {
        Color { r, g, b }
    }

    /// `#RGB` or `#RRGGBB`, hex digits in any case. Nothing else (no names,
    /// no alpha, no surrounding whitespace).
    pub fn parse(s: &str) -> Option<Color> {
        let hex = s.strip_prefix('#')?;
        if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let digit = |i: usize| u8::from_str_radix(&hex[i..i + 1], 16).ok();
        match hex.len() {
            3 => Some(Color::rgb(digit(0)? * 17, digit(1)? * 17, digit(2)? * 17)),
            6 => {
                let byte = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).ok();
                Some(Color::rgb(byte(0)?, byte(2)?, byte(4)?))
            }
            _ => None,
        }
    }

    /// `#RRGGBB`, upper-case.
    pub fn to_hex(&self) -> String {
        format!("#{:02X}{:02X}{:02X}", self.r, self.g, self.b)
    }

    /// WCAG 2.x relative luminance, 0.0 (black) ..= 1.0 (white).
    pub fn relative_luminance(&self) -> f64 {
        fn channel(c: u8) -> f64 {
            let c = f64::from(c) / 255.0;
            if c <= 0.04045 {
                c / 12.92
            } else {
                ((c + 0.055) / 1.055).powf(2.4)
            }
        }
        0.2126 * channel(self.r) + 0.7152 * channel(self.g) + 0.0722 * channel(self.b)
    }
}

impl fmt::Display for Color {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl Serialize for Color {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

impl<'de> Deserialize<'de> for Color {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Color::parse(&s).ok_or_else(|| {
            serde::de::Error::custom(format!("invalid colour {s:?}, expected #RGB or #RRGGBB"))
        })
    }
}

/// WCAG contrast ratio between two colours, 1.0 ..= 21.0 (order-independent).
pub fn contrast_ratio(fg: Color, bg: Color) -> f64 {
    let (a, b) = (fg.relative_luminance(), bg.relative_luminance());
    let (light, dark) = if a >= b { (a, b) } else { (b, a) };
    (light + 0.05) / (dark + 0.05)
}

// ---------------------------------------------------------------------------
// Error correction level & format
// ---------------------------------------------------------------------------

/// Error-correction level; serializes as `"L" | "M" | "Q" | "H"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum EcLevel {
    /// ~7 % of the code can be restored.
    L,
    /// ~15 %.
    #[default]
    M,
    /// ~25 %.
    Q,
    /// ~30 %.
    H,
}

impl EcLevel {
    pub const ALL: [EcLevel; 4] = [EcLevel::L, EcLevel::M, EcLevel::Q, EcLevel::H];

    /// `L`, `M`, `Q` or `H` (case-insensitive).
    pub fn parse(s: &str) -> Option<EcLevel> {
        match s {
            "L" | "l" => Some(EcLevel::L),
            "M" | "m" => Some(EcLevel::M),
            "Q" | "q" => Some(EcLevel::Q),
            "H" | "h" => Some(EcLevel::H),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            EcLevel::L => "L",
            EcLevel::M => "M",
            EcLevel::Q => "Q",
            EcLevel::H => "H",
        }
    }

    /// Most bytes of 8-bit text a (version 40) code holds at this level.
    /// Purely numeric / upper-case alphanumeric ASCII can hold more.
    pub fn max_bytes(self) -> usize {
        match self {
            EcLevel::L => 2953,
            EcLevel::M => 2331,
            EcLevel::Q => 1663,
            EcLevel::H => 1273,
        }
    }

    fn to_qrcode(self) -> qrcode::EcLevel {
        match self {
            EcLevel::L => qrcode::EcLevel::L,
            EcLevel::M => qrcode::EcLevel::M,
            EcLevel::Q => qrcode::EcLevel::Q,
            EcLevel::H => qrcode::EcLevel::H,
        }
    }
}

impl fmt::Display for EcLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Output format; serializes as `"svg" | "png"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum QrFormat {
    #[default]
    Svg,
    Png,
}

impl QrFormat {
    /// `svg` or `png` (case-insensitive).
    pub fn parse(s: &str) -> Option<QrFormat> {
        if s.eq_ignore_ascii_case("svg") {
            Some(QrFormat::Svg)
        } else if s.eq_ignore_ascii_case("png") {
            Some(QrFormat::Png)
        } else {
            None
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            QrFormat::Svg => "svg",
            QrFormat::Png => "png",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            QrFormat::Svg => SVG_CONTENT_TYPE,
            QrFormat::Png => PNG_CONTENT_TYPE,
        }
    }

    /// File extension without the dot (for `Content-Disposition`).
    pub fn extension(self) -> &'static str {
        self.as_str()
    }
}

impl fmt::Display for QrFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

// ---------------------------------------------------------------------------
// Style
// ---------------------------------------------------------------------------

/// Validated look of a QR code. Serializes to (and deserializes from, with
/// full validation) `{"size", "foregroundColor", "backgroundColor",
/// "cornerRadius", "errorCorrection", "format"}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(
    rename_all = "camelCase",
    try_from = "serde_json::Map<String, serde_json::Value>"
)]
pub struct QrStyle {
    /// Image edge in pixels, [`MIN_SIZE`]..=[`MAX_SIZE`].
    pub size: u32,
    #[serde(rename = "foregroundColor")]
    pub fg: Color,
    #[serde(rename = "backgroundColor")]
    pub bg: Color,
    /// Percent of a module, 0..=[`MAX_CORNER_RADIUS`].
    pub corner_radius: u8,
    #[serde(rename = "errorCorrection")]
    pub ec: EcLevel,
    pub format: QrFormat,
}

impl Default for QrStyle {
    fn default() -> Self {
        QrStyle {
            size: DEFAULT_SIZE,
            fg: Color::BLACK,
            bg: Color::WHITE,
            corner_radius: 0,
            ec: EcLevel::M,
            format: QrFormat::Svg,
        }
    }
}

impl QrStyle {
    /// Reads the style fields (`size`, `foregroundColor`, `backgroundColor`,
    /// `cornerRadius`, `errorCorrection`, `format`) of a JSON object; other
    /// keys (`url`, `name`, `linkId`, …) are ignored. Missing or `null`
    /// fields take their defaults.
    pub fn from_json(obj: &Map<String, Value>) -> Result<QrStyle, ApiError> {
        parse_style(|key| obj.get(key))
    }

    /// The style as a JSON object (the storage / API shape).
    pub fn to_json(&self) -> Value {
        serde_json::json!({
            "size": self.size,
            "foregroundColor": self.fg.to_hex(),
            "backgroundColor": self.bg.to_hex(),
            "cornerRadius": self.corner_radius,
            "errorCorrection": self.ec.as_str(),
            "format": self.format.as_str(),
        })
    }

    /// Applies the download endpoint's `?format=&size=` query parameters.
    /// `None` or an empty string keeps the stored value.
    pub fn with_query(
        mut self,
        format: Option<&str>,
        size: Option<&str>,
    ) -> Result<QrStyle, ApiError> {
        if let Some(f) = format.filter(|f| !f.is_empty()) {
            self.format = QrFormat::parse(f).ok_or_else(bad_format)?;
        }
        if let Some(s) = size.filter(|s| !s.is_empty()) {
            let n = s.trim().parse::<i64>().map_err(|_| bad_size())?;
            self.size = check_size(n)?;
        }
        self.validate()?;
        Ok(self)
    }

    /// Checks every invariant (the fields are public): size and radius
    /// ranges, and the colour contrast rules.
    pub fn validate(&self) -> Result<(), ApiError> {
        check_size(i64::from(self.size))?;
        if self.corner_radius > MAX_CORNER_RADIUS {
            return Err(bad_radius());
        }
        check_contrast(self.fg, self.bg)
    }

    /// WCAG contrast ratio between foreground and background.
    pub fn contrast_ratio(&self) -> f64 {
        contrast_ratio(self.fg, self.bg)
    }

    /// Contrast is acceptable but below [`WARN_CONTRAST_RATIO`].
    pub fn low_contrast_warning(&self) -> bool {
        self.contrast_ratio() < WARN_CONTRAST_RATIO
    }
}

impl TryFrom<Map<String, Value>> for QrStyle {
    type Error = ApiError;

    fn try_from(obj: Map<String, Value>) -> Result<Self, Self::Error> {
        QrStyle::from_json(&obj)
    }
}

fn bad_size() -> ApiError {
    ApiError::validation(
        "size",
        format!("must be an integer from {MIN_SIZE} to {MAX_SIZE} (pixels)"),
    )
}

fn bad_radius() -> ApiError {
    ApiError::validation(
        "cornerRadius",
        format!("must be an integer from 0 to {MAX_CORNER_RADIUS} (percent of a module)"),
    )
}

fn bad_color(field: &str) -> ApiError {
    ApiError::validation(field, "must be a hex colour like #1A365D or #FFF")
}

fn bad_ec() -> ApiError {
    ApiError::validation(
        "errorCorrection",
        "must be one of \"L\", \"M\", \"Q\", \"H\"",
    )
}

fn bad_format() -> ApiError {
    ApiError::validation("format", "must be \"svg\" or \"png\"")
}

fn check_size(n: i64) -> Result<u32, ApiError> {
    if (i64::from(MIN_SIZE)..=i64::from(MAX_SIZE)).contains(&n) {
        Ok(n as u32)
    } else {
        Err(bad_size())
    }
}

fn check_contrast(fg: Color, bg: Color) -> Result<(), ApiError> {
    let ratio = contrast_ratio(fg, bg);
    if ratio < MIN_CONTRAST_RATIO {
        return Err(ApiError::validation(
            "foregroundColor",
            format!(
                "contrast with backgroundColor is {ratio:.2}:1; at least {MIN_CONTRAST_RATIO}:1 is needed for the code to scan"
            ),
        ));
    }
    if fg.relative_luminance() >= bg.relative_luminance() {
        return Err(ApiError::validation(
            "foregroundColor",
            "must be darker than backgroundColor (inverted QR codes do not scan on many phones)",
        ));
    }
    Ok(())
}

/// A JSON integer (an integral float such as `512.0` is accepted too).
fn json_int(v: &Value) -> Option<i64> {
    let n = v.as_number()?;
    n.as_i64().or_else(|| {
        n.as_f64()
            .filter(|f| f.fract() == 0.0 && f.abs() < 1e15)
            .map(|f| f as i64)
    })
}

fn json_str(v: &Value) -> Option<&str> {
    v.as_str()
}

/// `get` returns the raw value of a camelCase field; `null` means absent.
fn parse_style<'a>(get: impl Fn(&str) -> Option<&'a Value>) -> Result<QrStyle, ApiError> {
    let field = |key: &str| get(key).filter(|v| !v.is_null());
    let mut style = QrStyle::default();
    if let Some(v) = field("size") {
        style.size = check_size(json_int(v).ok_or_else(bad_size)?)?;
    }
    if let Some(v) = field("foregroundColor") {
        style.fg = json_str(v)
            .and_then(Color::parse)
            .ok_or_else(|| bad_color("foregroundColor"))?;
    }
    if let Some(v) = field("backgroundColor") {
        style.bg = json_str(v)
            .and_then(Color::parse)
            .ok_or_else(|| bad_color("backgroundColor"))?;
    }
    if let Some(v) = field("cornerRadius") {
        style.corner_radius = json_int(v)
            .filter(|r| (0..=i64::from(MAX_CORNER_RADIUS)).contains(r))
            .ok_or_else(bad_radius)? as u8;
    }
    if let Some(v) = field("errorCorrection") {
        style.ec = json_str(v).and_then(EcLevel::parse).ok_or_else(bad_ec)?;
    }
    if let Some(v) = field("format") {
        style.format = json_str(v)
            .and_then(QrFormat::parse)
            .ok_or_else(bad_format)?;
    }
    style.validate()?;
    Ok(style)
}

/// Validates the `url` field: a non-blank string of at most
/// [`MAX_DATA_CHARS`] characters (any text; it is encoded as given).
pub fn parse_url_field(v: Option<&Value>) -> Result<String, ApiError> {
    let s = match v {
        None | Some(Value::Null) => return Err(ApiError::validation("url", "is required")),
        Some(Value::String(s)) => s,
        Some(_) => return Err(ApiError::validation("url", "must be a string")),
    };
    if s.trim().is_empty() {
        return Err(ApiError::validation("url", "must not be empty"));
    }
    if s.chars().count() > MAX_DATA_CHARS {
        return Err(ApiError::validation(
            "url",
            format!("must be at most {MAX_DATA_CHARS} characters"),
        ));
    }
    Ok(s.clone())
}

// ---------------------------------------------------------------------------
// Request
// ---------------------------------------------------------------------------

/// Raw body of `POST /api/v1/qr/generate`. Every field is untyped so that
/// wrong JSON types become validation errors naming the field. Unknown
/// fields are ignored.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QrRequest {
    pub url: Option<Value>,
    pub size: Option<Value>,
    pub foreground_color: Option<Value>,
    pub background_color: Option<Value>,
    pub corner_radius: Option<Value>,
    pub error_correction: Option<Value>,
    pub format: Option<Value>,
}

/// A [`QrRequest`] whose fields are individually valid. Whether the data fits
/// at the chosen level and size is known only when encoding ([`render`],
/// [`check_fits`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidQrRequest {
    pub url: String,
    pub style: QrStyle,
}

impl QrRequest {
    /// Field validation, `url` first, then the style fields.
    pub fn validate(&self) -> Result<ValidQrRequest, ApiError> {
        let url = parse_url_field(self.url.as_ref())?;
        let style = self.style()?;
        Ok(ValidQrRequest { url, style })
    }

    /// The style fields only.
    pub fn style(&self) -> Result<QrStyle, ApiError> {
        parse_style(|key| match key {
            "size" => self.size.as_ref(),
            "foregroundColor" => self.foreground_color.as_ref(),
            "backgroundColor" => self.background_color.as_ref(),
            "cornerRadius" => self.corner_radius.as_ref(),
            "errorCorrection" => self.error_correction.as_ref(),
            "format" => self.format.as_ref(),
            _ => None,
        })
    }
}

/// `POST /api/v1/qr/generate` in one call: validate, encode, render.
pub fn generate(req: &QrRequest) -> Result<RenderedQr, ApiError> {
    let valid = req.validate()?;
    render(&valid.url, &valid.style)
}

// ---------------------------------------------------------------------------
// Encoding
// ---------------------------------------------------------------------------

/// Dark/light modules including the quiet zone, row-major, `n`×`n`.
struct Matrix {
    n: usize,
    dark: Vec<bool>,
    /// Finder, alignment and timing patterns (and format/version info).
    functional: Vec<bool>,
}

impl Matrix {
    fn from_code(code: &QrCode) -> Matrix {
        let w = code.width();
        let n = w + 2 * QUIET_ZONE;
        let mut dark = vec![false; n * n];
        let mut functional = vec![false; n * n];
        for (i, c) in code.to_colors().into_iter().enumerate() {
            let (x, y) = (i % w, i / w);
            let j = (y + QUIET_ZONE) * n + x + QUIET_ZONE;
            dark[j] = c == qrcode::Color::Dark;
            functional[j] = code.is_functional(x, y);
        }
        Matrix {
            n,
            dark,
            functional,
        }
    }

    fn is_dark(&self, x: usize, y: usize) -> bool {
        x < self.n && y < self.n && self.dark[y * self.n + x]
    }

    /// Like `is_dark`, with `x` / `y` possibly one step outside.
    fn is_dark_at(&self, x: isize, y: isize) -> bool {
        x >= 0 && y >= 0 && self.is_dark(x as usize, y as usize)
    }

    /// Which corners of dark module (x, y) are rounded: `[tl, tr, br, bl]`.
    /// A corner of a data module is rounded when both neighbours touching it
    /// along an edge are light; function-pattern modules stay square.
    fn round_corners(&self, x: usize, y: usize) -> [bool; 4] {
        if self.functional[y * self.n + x] {
            return [false; 4];
        }
        let (x, y) = (x as isize, y as isize);
        let left = !self.is_dark_at(x - 1, y);
        let right = !self.is_dark_at(x + 1, y);
        let up = !self.is_dark_at(x, y - 1);
        let down = !self.is_dark_at(x, y + 1);
        [left && up, right && up, right && down, left && down]
    }
}

/// Encodes `data`. ASCII uses the crate's optimal segmentation (numeric /
/// alphanumeric / byte); anything else is one UTF-8 byte segment, because
/// the optimiser would otherwise misread UTF-8 sequences as Shift-JIS Kanji.
fn encode(data: &str, ec: EcLevel) -> Result<QrCode, ApiError> {
    let level = ec.to_qrcode();
    let result = if data.is_ascii() {
        QrCode::with_error_correction_level(data.as_bytes(), level)
    } else {
        encode_bytes(data.as_bytes(), level)
    };
    result.map_err(|e| match e {
        QrError::DataTooLong => ApiError::validation(
            "url",
            format!(
                "is too long for error-correction level {ec}: a QR code holds at most {} bytes of text at this level (this is {} bytes); shorten it or use a lower errorCorrection",
                ec.max_bytes(),
                data.len()
            ),
        ),
        _ => ApiError::validation("url", "cannot be encoded as a QR code"),
    })
}

fn encode_bytes(data: &[u8], level: qrcode::EcLevel) -> Result<QrCode, QrError> {
    for v in 1..=40 {
        let mut bits = Bits::new(Version::Normal(v));
        match bits
            .push_byte_data(data)
            .and_then(|()| bits.push_terminator(level))
        {
            Ok(()) => return QrCode::with_bits(bits, level),
            Err(QrError::DataTooLong) => continue,
            Err(e) => return Err(e),
        }
    }
    Err(QrError::DataTooLong)
}

/// Encodes and applies the minimum-size rule: every module (quiet zone
/// included) needs at least [`MIN_MODULE_PX`] pixels.
fn prepare(data: &str, style: &QrStyle) -> Result<Matrix, ApiError> {
    style.validate()?;
    let matrix = Matrix::from_code(&encode(data, style.ec)?);
    let min = min_size_for_modules(matrix.n);
    if style.size < min {
        return Err(ApiError::validation(
            "size",
            format!(
                "must be at least {min} px for this URL at error-correction level {}: the code is {} modules wide including the quiet zone and each module needs at least {MIN_MODULE_PX} px (phones read it reliably from {} px)",
                style.ec,
                matrix.n,
                recommended_size_for_modules(matrix.n)
            ),
        ));
    }
    Ok(matrix)
}

fn min_size_for_modules(n: usize) -> u32 {
    (n as u32 * MIN_MODULE_PX).max(MIN_SIZE)
}

fn recommended_size_for_modules(n: usize) -> u32 {
    (n as u32 * RECOMMENDED_MODULE_PX).max(MIN_SIZE)
}

/// Smallest `size` (px) that can render `data` at `ec`:
/// [`MIN_MODULE_PX`] × (modules + 2 × [`QUIET_ZONE`]), and at least
/// [`MIN_SIZE`].
pub fn min_size(data: &str, ec: EcLevel) -> Result<u32, ApiError> {
    let code = encode(data, ec)?;
    Ok(min_size_for_modules(code.width() + 2 * QUIET_ZONE))
}

/// Where the code goes in a `size`-px PNG: every module is `module_px`
/// pixels (the largest whole number that fits), and the code starts
/// `offset` px from the left and top edge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PngLayout {
    pub module_px: u32,
    pub offset: u32,
}

/// The PNG layout of a code `modules` wide (quiet zone included) in a
/// `size`×`size` image: `module_px = size / modules`, and the remainder
/// split as extra quiet zone, the odd pixel (if any) going right and
/// bottom. `None` when the code does not fit at one pixel per module.
pub fn png_layout(size: u32, modules: u32) -> Option<PngLayout> {
    if modules == 0 || size < modules {
        return None;
    }
    let module_px = size / modules;
    Some(PngLayout {
        module_px,
        offset: (size - module_px * modules) / 2,
    })
}

/// What [`check_fits`] learnt about a code that fits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fit {
    /// Modules across, quiet zone included.
    pub modules: u32,
    /// Fewer than [`RECOMMENDED_MODULE_PX`] px per module at this size.
    pub small_module_warning: bool,
    /// The smallest size with [`RECOMMENDED_MODULE_PX`] px per module (and
    /// at least [`MIN_SIZE`]).
    pub recommended_min_size: u32,
}

impl Fit {
    fn of(n: usize, size: u32) -> Fit {
        let recommended_min_size = recommended_size_for_modules(n);
        Fit {
            modules: n as u32,
            small_module_warning: size < recommended_min_size,
            recommended_min_size,
        }
    }
}

/// Checks without rendering that `data` fits at `style.ec` and `style.size`
/// (used when saving a QR config). Same errors as [`render`].
pub fn check_fits(data: &str, style: &QrStyle) -> Result<Fit, ApiError> {
    prepare(data, style).map(|m| Fit::of(m.n, style.size))
}

// ---------------------------------------------------------------------------
// Rendering
// ---------------------------------------------------------------------------

/// A rendered image, ready to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedQr {
    pub bytes: Vec<u8>,
    /// `image/svg+xml` or `image/png`.
    pub content_type: &'static str,
    /// Contrast is between [`MIN_CONTRAST_RATIO`] and [`WARN_CONTRAST_RATIO`].
    pub low_contrast_warning: bool,
    /// Modules (quiet zone included) get fewer than
    /// [`RECOMMENDED_MODULE_PX`] px each: many phones read it poorly.
    pub small_module_warning: bool,
    /// The smallest `size` giving [`RECOMMENDED_MODULE_PX`] px per module.
    pub recommended_min_size: u32,
}

/// Encodes `data` and draws it in `style`. Errors: `url` too long for the
/// error-correction level, `size` too small for the code, or any style
/// invariant broken.
pub fn render(data: &str, style: &QrStyle) -> Result<RenderedQr, ApiError> {
    let matrix = prepare(data, style)?;
    let fit = Fit::of(matrix.n, style.size);
    let bytes = match style.format {
        QrFormat::Svg => render_svg(&matrix, style).into_bytes(),
        QrFormat::Png => render_png(&matrix, style)?,
    };
    Ok(RenderedQr {
        bytes,
        content_type: style.format.content_type(),
        low_contrast_warning: style.low_contrast_warning(),
        small_module_warning: fit.small_module_warning,
        recommended_min_size: fit.recommended_min_size,
    })
}

/// Writes a value given in hundredths of a module, compactly (`.5`, `-1.25`).
fn push_num(out: &mut String, hundredths: i64) {
    if hundredths < 0 {
        out.push('-');
    }
    let a = hundredths.unsigned_abs();
    let (int, frac) = (a / 100, a % 100);
    if int != 0 || frac == 0 {
        let _ = write!(out, "{int}");
    }
    if frac != 0 {
        if frac % 10 == 0 {
            let _ = write!(out, ".{}", frac / 10);
        } else {
            let _ = write!(out, ".{frac:02}");
        }
    }
}

/// Clockwise quarter arc of radius `r` to the relative point (`dx`, `dy`).
fn push_arc(d: &mut String, r: i64, dx: i64, dy: i64) {
    d.push('a');
    push_num(d, r);
    d.push(' ');
    push_num(d, r);
    d.push_str(" 0 0 1 ");
    push_num(d, dx);
    d.push(' ');
    push_num(d, dy);
}

/// One horizontal run of dark modules at (x, y), `w` long, as a clockwise
/// sub-path; `radii` = `[tl, tr, br, bl]` in hundredths of a module.
fn push_run(d: &mut String, x: usize, y: usize, w: usize, radii: [i64; 4]) {
    let (x, y, w) = (x as i64 * 100, y as i64 * 100, w as i64 * 100);
    let [tl, tr, br, bl] = radii;
    d.push('M');
    push_num(d, x + tl);
    d.push(' ');
    push_num(d, y);
    let top = w - tl - tr;
    if top != 0 {
        d.push('h');
        push_num(d, top);
    }
    if tr != 0 {
        push_arc(d, tr, tr, tr);
    }
    let right = 100 - tr - br;
    if right != 0 {
        d.push('v');
        push_num(d, right);
    }
    if br != 0 {
        push_arc(d, br, -br, br);
    }
    let bottom = w - br - bl;
    if bottom != 0 {
        d.push('h');
        push_num(d, -bottom);
    }
    if bl != 0 {
        push_arc(d, bl, -bl, -bl);
    }
    if tl != 0 {
        // Without a top-left arc, `z` draws the left edge.
        let left = 100 - bl - tl;
        if left != 0 {
            d.push('v');
            push_num(d, -left);
        }
        push_arc(d, tl, tl, -tl);
    }
    d.push('z');
}

fn render_svg(m: &Matrix, style: &QrStyle) -> String {
    let n = m.n;
    let r = i64::from(style.corner_radius);
    let mut d = String::with_capacity(n * n);
    for y in 0..n {
        let mut x = 0;
        while x < n {
            if !m.is_dark(x, y) {
                x += 1;
                continue;
            }
            let start = x;
            while x < n && m.is_dark(x, y) {
                x += 1;
            }
            let radii = if r == 0 {
                [0; 4]
            } else {
                let tl = m.round_corners(start, y)[0];
                let [_, tr, br, _] = m.round_corners(x - 1, y);
                let bl = m.round_corners(start, y)[3];
                [tl, tr, br, bl].map(|round| if round { r } else { 0 })
            };
            push_run(&mut d, start, y, x - start, radii);
        }
    }
    let crisp = if r == 0 {
        " shape-rendering=\"crispEdges\""
    } else {
        ""
    };
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{s}\" height=\"{s}\" viewBox=\"0 0 {n} {n}\"{crisp}>\
<rect width=\"{n}\" height=\"{n}\" fill=\"{bg}\"/><path fill=\"{fg}\" d=\"{d}\"/></svg>",
        s = style.size,
        bg = style.bg.to_hex(),
        fg = style.fg.to_hex(),
    )
}

fn set_bits(row: &mut [u8], from: usize, to: usize) {
    for x in from..to {
        row[x >> 3] |= 0x80 >> (x & 7);
    }
}

fn clear_bit(row: &mut [u8], x: usize) {
    row[x >> 3] &= !(0x80 >> (x & 7));
}

/// A dark module of the current module row with at least one rounded corner.
struct RoundedModule {
    x0: usize,
    corners: [bool; 4],
}

/// For each pixel row of a `k`-px module, how many pixels at each side of a
/// rounded *top* corner lie outside the arc (radius `pct` × `k`, pixel
/// centres tested). Bottom corners use the rows mirrored.
fn corner_cuts(k: usize, pct: f64) -> Vec<usize> {
    let r = pct * k as f64;
    (0..k)
        .map(|row| {
            let dy = r - (row as f64 + 0.5);
            if dy <= 0.0 {
                return 0;
            }
            // Pixel i (from the side edge) is outside iff i + 0.5 < cut.
            let cut = r - (r * r - dy * dy).max(0.0).sqrt();
            ((cut - 0.5).ceil().max(0.0) as usize).min(k)
        })
        .collect()
}

fn render_png(m: &Matrix, style: &QrStyle) -> Result<Vec<u8>, ApiError> {
    let s = style.size as usize;
    let n = m.n;
    // Every module is exactly k px (k >= MIN_MODULE_PX, see `prepare`); the
    // leftover pixels (< n) widen the quiet zone and centre the code, since
    // uneven module widths measurably hurt decoders.
    let layout = png_layout(style.size, n as u32).ok_or(ApiError::Internal)?;
    let (k, off) = (layout.module_px as usize, layout.offset as usize);
    let stride = s.div_ceil(8);
    let mut pixels = vec![0u8; stride * s];
    let mut square = vec![0u8; stride];
    let mut rounded: Vec<RoundedModule> = Vec::new();
    let cuts = corner_cuts(k, f64::from(style.corner_radius) / 100.0);

    for my in 0..n {
        square.fill(0);
        rounded.clear();
        let mut any = false;
        for mx in 0..n {
            if !m.is_dark(mx, my) {
                continue;
            }
            any = true;
            let x0 = off + mx * k;
            set_bits(&mut square, x0, x0 + k);
            if style.corner_radius > 0 {
                let corners = m.round_corners(mx, my);
                if corners.iter().any(|&c| c) {
                    rounded.push(RoundedModule { x0, corners });
                }
            }
        }
        if !any {
            continue; // already background
        }
        let y0 = off + my * k;
        for ly in 0..k {
            let y = y0 + ly;
            let row = &mut pixels[y * stride..(y + 1) * stride];
            row.copy_from_slice(&square);
            let (top, bottom) = (cuts[ly], cuts[k - 1 - ly]);
            if top == 0 && bottom == 0 {
                continue;
            }
            for rm in &rounded {
                let [tl, tr, br, bl] = rm.corners;
                for (cut, left, right) in [(top, tl, tr), (bottom, bl, br)] {
                    for i in 0..cut {
                        if left {
                            clear_bit(row, rm.x0 + i);
                        }
                        if right {
                            clear_bit(row, rm.x0 + k - 1 - i);
                        }
                    }
                }
            }
        }
    }

    let mut out = Vec::new();
    let mut enc = png::Encoder::new(&mut out, s as u32, s as u32);
    enc.set_color(png::ColorType::Indexed);
    enc.set_depth(png::BitDepth::One);
    let (bg, fg) = (style.bg, style.fg);
    enc.set_palette(vec![bg.r, bg.g, bg.b, fg.r, fg.g, fg.b]);
    enc.set_compression(png::Compression::Default);
    // Square modules: identical rows compress best unfiltered. Rounded:
    // `Up` zeroes the repeated rows and halves deflate time at equal size.
    enc.set_filter(if style.corner_radius == 0 {
        png::FilterType::NoFilter
    } else {
        png::FilterType::Up
    });
    let mut writer = enc.write_header().map_err(|_| ApiError::Internal)?;
    writer
        .write_image_data(&pixels)
        .map_err(|_| ApiError::Internal)?;
    writer.finish().map_err(|_| ApiError::Internal)?;
    Ok(out)
}

// ---------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn luma(c: Color) -> u8 {
        ((299 * u32::from(c.r) + 587 * u32::from(c.g) + 114 * u32::from(c.b)) / 1000) as u8
    }

    /// Decodes a greyscale buffer with rqrr; exactly one code expected.
    fn decode_grey(w: usize, h: usize, grey: &[u8]) -> String {
        let mut img = rqrr::PreparedImage::prepare_from_greyscale(w, h, |x, y| grey[y * w + x]);
        let grids = img.detect_grids();
        assert_eq!(
            grids.len(),
            1,
            "expected exactly one QR code in the {w}x{h} image"
        );
        let (_meta, content) = grids[0].decode().expect("rqrr decode");
        content
    }

    /// PNG bytes → (width, height, grey pixels).
    fn png_to_grey(bytes: &[u8]) -> (usize, usize, Vec<u8>) {
        let mut dec = png::Decoder::new(bytes);
        dec.set_transformations(png::Transformations::EXPAND);
        let mut reader = dec.read_info().expect("png header");
        let mut buf = vec![0; reader.output_buffer_size()];
        let info = reader.next_frame(&mut buf).expect("png frame");
        let (w, h) = (info.width as usize, info.height as usize);
        assert_eq!(info.bit_depth, png::BitDepth::Eight);
        let channels = match info.color_type {
            png::ColorType::Rgb => 3,
            png::ColorType::Rgba => 4,
            other => panic!("unexpected colour type {other:?}"),
        };
        let grey = (0..w * h)
            .map(|i| {
                let p = &buf[i * channels..];
                luma(Color::rgb(p[0], p[1], p[2]))
            })
            .collect();
        (w, h, grey)
    }

    fn decode_png(bytes: &[u8], size: u32) -> String {
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
        let (w, h, grey) = png_to_grey(bytes);
        assert_eq!((w, h), (size as usize, size as usize));
        decode_grey(w, h, &grey)
    }

    // --- a tiny SVG rasteriser for our own output -----------------------

    fn attr<'a>(tag: &'a str, name: &str) -> &'a str {
        let key = format!(" {name}=\"");
        let start = tag
            .find(&key)
            .unwrap_or_else(|| panic!("no {name} in {tag}"))
            + key.len();
        let len = tag[start..].find('"').unwrap();
        &tag[start..start + len]
    }

    fn element<'a>(svg: &'a str, name: &str) -> &'a str {
        let open = format!("<{name} ");
        assert_eq!(svg.matches(&open).count(), 1, "exactly one <{name}>");
        let start = svg.find(&open).unwrap();
        let end = start + svg[start..].find('>').unwrap();
        &svg[start..=end]
    }

    enum Tok {
        Cmd(char),
        Num(f64),
    }

    fn tokenize(d: &str) -> Vec<Tok> {
        let mut toks = Vec::new();
        let b = d.as_bytes();
        let mut i = 0;
        while i < b.len() {
            let c = b[i] as char;
            if c.is_ascii_alphabetic() {
                toks.push(Tok::Cmd(c));
                i += 1;
            } else if c == ' ' || c == ',' {
                i += 1;
            } else {
                let start = i;
                if c == '-' {
                    i += 1;
                }
                let mut dot = false;
                while i < b.len() && (b[i].is_ascii_digit() || (b[i] == b'.' && !dot)) {
                    dot |= b[i] == b'.';
                    i += 1;
                }
                toks.push(Tok::Num(d[start..i].parse().unwrap()));
            }
        }
        toks
    }

    /// Sub-paths of `d` (M, h, v, a, z only) as polygons; arcs sampled.
    fn path_polygons(d: &str) -> Vec<Vec<(f64, f64)>> {
        let toks = tokenize(d);
        let mut polys = Vec::new();
        let mut cur: Vec<(f64, f64)> = Vec::new();
        let (mut px, mut py) = (0.0, 0.0);
        let mut i = 0;
        let num = |i: &mut usize| -> f64 {
            match toks[*i] {
                Tok::Num(v) => {
                    *i += 1;
                    v
                }
                Tok::Cmd(c) => panic!("expected a number, got {c}"),
            }
        };
        while i < toks.len() {
            let Tok::Cmd(c) = toks[i] else {
                panic!("expected a command")
            };
            i += 1;
            match c {
                'M' => {
                    px = num(&mut i);
                    py = num(&mut i);
                    cur.push((px, py));
                }
                'h' => {
                    px += num(&mut i);
                    cur.push((px, py));
                }
                'v' => {
                    py += num(&mut i);
                    cur.push((px, py));
                }
                'a' => {
                    let rx = num(&mut i);
                    let ry = num(&mut i);
                    let (rot, large, sweep) = (num(&mut i), num(&mut i), num(&mut i));
                    assert_eq!((rx, rot, large, sweep), (ry, 0.0, 0.0, 1.0));
                    let (dx, dy) = (num(&mut i), num(&mut i));
                    // SVG arc centre (F.6.5) for a circle, small arc, sweep 1.
                    let len = (dx * dx + dy * dy).sqrt();
                    let hh = (rx * rx - len * len / 4.0).max(0.0).sqrt();
                    let (cx, cy) = (px + dx / 2.0 - hh * dy / len, py + dy / 2.0 + hh * dx / len);
                    let a0 = (py - cy).atan2(px - cx);
                    let mut a1 = (py + dy - cy).atan2(px + dx - cx);
                    if a1 < a0 {
                        a1 += std::f64::consts::TAU;
                    }
                    for k in 1..=8 {
                        let a = a0 + (a1 - a0) * f64::from(k) / 8.0;
                        cur.push((cx + rx * a.cos(), cy + rx * a.sin()));
                    }
                    px += dx;
                    py += dy;
                }
                'z' => polys.push(std::mem::take(&mut cur)),
                other => panic!("unexpected path command {other}"),
            }
        }
        assert!(cur.is_empty(), "unterminated sub-path");
        polys
    }

    fn inside(poly: &[(f64, f64)], x: f64, y: f64) -> bool {
        let mut inside = false;
        let mut j = poly.len() - 1;
        for i in 0..poly.len() {
            let ((xi, yi), (xj, yj)) = (poly[i], poly[j]);
            if (yi > y) != (yj > y) && x < (xj - xi) * (y - yi) / (yj - yi) + xi {
                inside = !inside;
            }
            j = i;
        }
        inside
    }

    /// Rasterises our SVG at `scale` px per module; returns the decoded text.
    fn decode_svg(svg: &str, style: &QrStyle) -> String {
        assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
        assert!(svg.ends_with("</svg>"));
        let root = element(svg, "svg");
        let size = style.size.to_string();
        assert_eq!(attr(root, "width"), size);
        assert_eq!(attr(root, "height"), size);
        let vb: Vec<usize> = attr(root, "viewBox")
            .split(' ')
            .map(|v| v.parse().unwrap())
            .collect();
        assert_eq!(&vb[..2], &[0, 0]);
        assert_eq!(vb[2], vb[3]);
        let n = vb[2];
        assert_eq!(
            root.contains("shape-rendering=\"crispEdges\""),
            style.corner_radius == 0
        );
        let rect = element(svg, "rect");
        assert_eq!(attr(rect, "width"), n.to_string());
        assert_eq!(attr(rect, "height"), n.to_string());
        let bg = Color::parse(attr(rect, "fill")).unwrap();
        let path = element(svg, "path");
        let fg = Color::parse(attr(path, "fill")).unwrap();
        assert_eq!((fg, bg), (style.fg, style.bg));

        let scale = (1200 / n).clamp(3, 8);
        let px = n * scale;
        let mut grey = vec![luma(bg); px * px];
        for poly in path_polygons(attr(path, "d")) {
            let (mut x0, mut y0, mut x1, mut y1) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
            for &(x, y) in &poly {
                (x0, y0, x1, y1) = (x0.min(x), y0.min(y), x1.max(x), y1.max(y));
            }
            let s = scale as f64;
            for py in (y0 * s).floor() as usize..((y1 * s).ceil() as usize).min(px) {
                for qx in (x0 * s).floor() as usize..((x1 * s).ceil() as usize).min(px) {
                    let (mx, my) = ((qx as f64 + 0.5) / s, (py as f64 + 0.5) / s);
                    if inside(&poly, mx, my) {
                        grey[py * px + qx] = luma(fg);
                    }
                }
            }
        }
        decode_grey(px, px, &grey)
    }

    /// Renders and decodes in `style.format`; returns the decoded text.
    fn roundtrip(data: &str, style: &QrStyle) -> String {
        let out = render(data, style).unwrap_or_else(|e| panic!("render failed: {e}"));
        assert_eq!(out.content_type, style.format.content_type());
        match style.format {
            QrFormat::Png => decode_png(&out.bytes, style.size),
            QrFormat::Svg => decode_svg(std::str::from_utf8(&out.bytes).unwrap(), style),
        }
    }

    fn assert_roundtrip(data: &str, style: &QrStyle) {
        assert_eq!(roundtrip(data, style), data, "style {style:?}");
    }

    fn style(size: u32, ec: EcLevel, corner_radius: u8, format: QrFormat) -> QrStyle {
        QrStyle {
            size,
            ec,
            corner_radius,
            format,
            ..QrStyle::default()
        }
    }

    fn field_of(r: Result<impl fmt::Debug, ApiError>) -> String {
        match r {
            Err(e) => {
                assert_eq!(e.status(), 400);
                e.field().expect("error names a field").to_string()
            }
            Ok(v) => panic!("expected an error, got {v:?}"),
        }
    }

    fn req(v: Value) -> QrRequest {
        serde_json::from_value(v).expect("any JSON object deserializes")
    }

    const URL: &str = "https://go2.gg/abc123?utm_source=qr";

    // --- rendering ------------------------------------------------------

    #[test]
    fn png_every_ec_level_and_radius_decodes() {
        for ec in EcLevel::ALL {
            for r in [0, 10, 25, 50] {
                assert_roundtrip(URL, &style(512, ec, r, QrFormat::Png));
            }
        }
    }

    #[test]
    fn svg_every_ec_level_and_radius_decodes() {
        for ec in EcLevel::ALL {
            for r in [0, 10, 25, 50] {
                assert_roundtrip(URL, &style(512, ec, r, QrFormat::Svg));
            }
        }
    }

    #[test]
    fn png_every_size_decodes() {
        for (data, size) in [
            ("go2.gg/x", 64),
            (URL, 128),
            (URL, 256),
            (URL, 512),
            (URL, 1024),
            (URL, 2048),
        ] {
            for ec in [EcLevel::L, EcLevel::M] {
                for r in [0, 25, 50] {
                    assert_roundtrip(data, &style(size, ec, r, QrFormat::Png));
                }
            }
        }
        for size in [100, 256, 777, 1000, 2048] {
            assert_roundtrip(URL, &style(size, EcLevel::H, 10, QrFormat::Png));
        }
        // A stride of 7 px over the whole range covers every module width
        // and many remainders.
        for size in (64..=2048).step_by(7) {
            let s = style(size, EcLevel::M, 25, QrFormat::Png);
            assert_roundtrip("https://go2.gg/x", &s);
        }
    }

    #[test]
    fn rounded_medium_code_decodes_across_sizes() {
        let data = filler(300);
        // From 2 px per module: below, rounding has no pixels to work with.
        let min = 2 * modules_of(&data, EcLevel::Q);
        for size in (min..=2048).step_by(37) {
            for r in [25, 50] {
                assert_roundtrip(&data, &style(size, EcLevel::Q, r, QrFormat::Png));
            }
        }
    }

    #[test]
    fn colours_decode_in_both_formats() {
        let pairs = [
            ("#1a365d", "#FFFFFF"),
            ("#000", "#fff"),
            ("#8B0000", "#FFFFE0"),
            ("#888888", "#FFFFFF"), // warning-level contrast still scans
        ];
        for (fg, bg) in pairs {
            for format in [QrFormat::Png, QrFormat::Svg] {
                for r in [0, 25] {
                    let s = QrStyle {
                        fg: Color::parse(fg).unwrap(),
                        bg: Color::parse(bg).unwrap(),
                        ..style(400, EcLevel::Q, r, format)
                    };
                    assert_roundtrip(URL, &s);
                }
            }
        }
    }

    #[test]
    fn minimum_size_decodes() {
        // 64 px with short data that fits a version-1 code (29 modules).
        for (data, ec) in [("go2.gg/x", EcLevel::M), ("https://go2.gg/a", EcLevel::L)] {
            assert_eq!(min_size(data, ec).unwrap(), 64);
            for r in [0, 50] {
                assert_roundtrip(data, &style(64, ec, r, QrFormat::Png));
            }
        }
        // Exactly 1 px per module (the minimum), just above, just below and
        // at 2 px, and just below 3.
        for (len, ec) in [(40, EcLevel::M), (300, EcLevel::M), (1000, EcLevel::L)] {
            let data = filler(len);
            let min = min_size(&data, ec).unwrap();
            let n = Matrix::from_code(&encode(&data, ec).unwrap()).n as u32;
            assert_eq!(min, n.max(64));
            for size in [min, min + 1, 2 * n - 1, 2 * n, 3 * n - 1] {
                for r in [0, 50] {
                    let s = style(size, ec, r, QrFormat::Png);
                    if size >= 2 * n {
                        assert_roundtrip(&data, &s);
                        continue;
                    }
                    // rqrr misreads 1-px modules (jsQR reads them as drawn,
                    // see tests/qr.test.mjs): check the pixels against the
                    // matrix, and decode a whole-pixel magnification.
                    let out = render(&data, &s).unwrap();
                    let (w, _, grey) = png_to_grey(&out.bytes);
                    assert_eq!(w, size as usize);
                    let m = Matrix::from_code(&encode(&data, ec).unwrap());
                    let off = (size - n) as usize / 2;
                    for y in 0..w {
                        for x in 0..w {
                            let (mx, my) = (x.wrapping_sub(off), y.wrapping_sub(off));
                            assert_eq!(grey[y * w + x] == 0, m.is_dark(mx, my), "{x},{y}");
                        }
                    }
                    let f = 3;
                    let big: Vec<u8> = (0..w * f * w * f)
                        .map(|i| grey[(i / (w * f) / f) * w + (i % (w * f)) / f])
                        .collect();
                    assert_eq!(decode_grey(w * f, w * f, &big), data);
                }
            }
        }
    }

    #[test]
    fn too_small_size_names_size_and_the_minimum() {
        let long = format!("https://example.com/{}", "a".repeat(300));
        let min = min_size(&long, EcLevel::H).unwrap();
        assert!(min > 64);
        let err = render(&long, &style(64, EcLevel::H, 0, QrFormat::Png)).unwrap_err();
        assert_eq!(err.field(), Some("size"));
        assert!(
            err.message().contains(&format!("at least {min} px")),
            "{err}"
        );
        let n = Matrix::from_code(&encode(&long, EcLevel::H).unwrap()).n as u32;
        assert_eq!(min, n);
        assert!(render(&long, &style(min, EcLevel::H, 0, QrFormat::Svg)).is_ok());
        assert_eq!(
            field_of(check_fits(
                &long,
                &style(min - 1, EcLevel::H, 0, QrFormat::Svg)
            )),
            "size"
        );
    }

    /// Width and height from a PNG's IHDR.
    fn png_dims(bytes: &[u8]) -> (u32, u32) {
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
        assert_eq!(&bytes[12..16], b"IHDR");
        let be = |i: usize| u32::from_be_bytes(bytes[i..i + 4].try_into().unwrap());
        (be(16), be(20))
    }

    fn modules_of(data: &str, ec: EcLevel) -> u32 {
        Matrix::from_code(&encode(data, ec).unwrap()).n as u32
    }

    #[test]
    fn png_layout_uses_the_largest_module_and_centres_the_rest() {
        for n in [29, 33, 61, 64, 65, 97, 185] {
            for size in MIN_SIZE..=MAX_SIZE {
                let Some(l) = png_layout(size, n) else {
                    assert!(size < n, "{size} px, {n} modules");
                    continue;
                };
                let (k, off) = (l.module_px, l.offset);
                assert!(k >= 1 && k * n <= size && (k + 1) * n > size, "{size}/{n}");
                let right = size - off - k * n;
                assert!(
                    right == off || right == off + 1,
                    "{size}/{n}: {off} {right}"
                );
            }
        }
        assert_eq!(png_layout(96, 97), None);
        assert_eq!(
            png_layout(97, 97),
            Some(PngLayout {
                module_px: 1,
                offset: 0
            })
        );
        assert_eq!(
            png_layout(64, 33),
            Some(PngLayout {
                module_px: 1,
                offset: 15
            })
        );
        assert_eq!(
            png_layout(2048, 33),
            Some(PngLayout {
                module_px: 62,
                offset: 1
            })
        );
        assert_eq!(png_layout(64, 0), None);
    }

    #[test]
    fn a_short_url_is_exactly_every_size_from_64_to_2048() {
        let data = "https://example.com";
        let n = modules_of(data, EcLevel::M);
        assert_eq!(n, 33, "version 2");
        for size in MIN_SIZE..=MAX_SIZE {
            let png = render(data, &style(size, EcLevel::M, 0, QrFormat::Png)).unwrap();
            assert_eq!(png_dims(&png.bytes), (size, size));
            assert_eq!(png.small_module_warning, size < 2 * n, "{size}");
            assert_eq!(png.recommended_min_size, 66);
            let svg = render(data, &style(size, EcLevel::M, 0, QrFormat::Svg)).unwrap();
            let svg = String::from_utf8(svg.bytes).unwrap();
            let head = format!("width=\"{size}\" height=\"{size}\" viewBox=\"0 0 {n} {n}\"");
            assert!(svg.contains(&head), "{size}");
        }
    }

    #[test]
    fn png_code_is_centred_in_the_extra_quiet_zone() {
        let data = "https://example.com";
        let n = modules_of(data, EcLevel::M) as usize;
        let sizes = (64..=300).chain([511, 512, 1000, 1023, 2047, 2048]);
        for size in sizes {
            let out = render(data, &style(size, EcLevel::M, 0, QrFormat::Png)).unwrap();
            let (w, h, grey) = png_to_grey(&out.bytes);
            assert_eq!((w, h), (size as usize, size as usize));
            let dark = |x: usize, y: usize| grey[y * w + x] < 128;
            let cols: Vec<usize> = (0..w).filter(|&x| (0..h).any(|y| dark(x, y))).collect();
            let rows: Vec<usize> = (0..h).filter(|&y| (0..w).any(|x| dark(x, y))).collect();
            let k = size as usize / n;
            let off = (size as usize - k * n) / 2;
            // The finder patterns touch the quiet zone on every side.
            for dim in [&cols, &rows] {
                let (first, last) = (dim[0], *dim.last().unwrap());
                assert_eq!(first, off + QUIET_ZONE * k, "{size}");
                let (before, after) = (first, w - 1 - last);
                assert!(
                    after == before || after == before + 1,
                    "{size}: {before} {after}"
                );
            }
        }
    }

    #[test]
    fn refused_only_below_one_pixel_per_module_warned_below_two() {
        let long = filler(300);
        let n = modules_of(&long, EcLevel::H);
        assert_eq!(n, 97, "version 18");
        for format in [QrFormat::Png, QrFormat::Svg] {
            let at = |size| render(&long, &style(size, EcLevel::H, 0, format));
            let e = at(n - 1).unwrap_err();
            assert_eq!(e.field(), Some("size"));
            assert!(e.message().contains("at least 97 px"), "{e}");
            assert_eq!(
                field_of(check_fits(&long, &style(64, EcLevel::H, 0, format))),
                "size"
            );
            for (size, warn) in [(n, true), (120, true), (2 * n - 1, true), (2 * n, false)] {
                let out = at(size).unwrap();
                assert_eq!(out.small_module_warning, warn, "{size}");
                assert_eq!(out.recommended_min_size, 2 * n);
                let fit = check_fits(&long, &style(size, EcLevel::H, 0, format)).unwrap();
                assert_eq!(fit.small_module_warning, warn);
                assert_eq!((fit.modules, fit.recommended_min_size), (n, 2 * n));
            }
        }
        // Versions 1..=9 (up to 61 modules with the quiet zone) fit at 64;
        // the first URL that needs version 10 (65 modules) does not.
        let len = (30..400)
            .find(|&len| modules_of(&filler(len), EcLevel::M) > 61)
            .unwrap();
        let (v9, v10) = (filler(len - 1), filler(len));
        assert_eq!(modules_of(&v9, EcLevel::M), 61);
        assert!(render(&v9, &style(64, EcLevel::M, 0, QrFormat::Png)).is_ok());
        assert_eq!(modules_of(&v10, EcLevel::M), 65);
        assert_eq!(min_size(&v10, EcLevel::M).unwrap(), 65);
        assert_eq!(
            field_of(render(&v10, &style(64, EcLevel::M, 0, QrFormat::Png))),
            "size"
        );
        assert!(render(&v10, &style(65, EcLevel::M, 0, QrFormat::Png)).is_ok());
    }

    fn filler(len: usize) -> String {
        let prefix = "https://example.com/";
        format!(
            "{prefix}{}",
            &"abcdefghij".repeat(300)[..len - prefix.len()]
        )
    }

    #[test]
    fn capacity_limit_per_level() {
        for ec in EcLevel::ALL {
            let max = ec.max_bytes();
            let s = style(1024, ec, 0, QrFormat::Svg);
            assert!(
                check_fits(&filler(max), &s).is_ok(),
                "{ec} should hold {max}"
            );
            let err = check_fits(&filler(max + 1), &s).unwrap_err();
            assert_eq!(err.field(), Some("url"));
            assert!(
                err.message()
                    .contains("too long for error-correction level"),
                "{err}"
            );
            assert!(err.message().contains(ec.as_str()));
        }
    }

    #[test]
    fn long_urls_near_capacity_decode() {
        let l = filler(1000);
        assert_roundtrip(&l, &style(1024, EcLevel::L, 0, QrFormat::Png));
        assert_roundtrip(&l, &style(1024, EcLevel::L, 25, QrFormat::Svg));
        let h = filler(EcLevel::H.max_bytes());
        assert_roundtrip(&h, &style(1024, EcLevel::H, 0, QrFormat::Png));
        assert_roundtrip(&h, &style(2048, EcLevel::H, 50, QrFormat::Png));
        assert_roundtrip(&h, &style(1024, EcLevel::H, 0, QrFormat::Svg));
        // Through the request path: one byte over is a `url` error.
        let over = filler(EcLevel::H.max_bytes() + 1);
        let r = req(json!({"url": over, "errorCorrection": "H", "size": 2048}));
        assert_eq!(field_of(generate(&r)), "url");
    }

    #[test]
    fn non_ascii_text_round_trips_as_utf8() {
        for data in [
            "https://例え.jp/パス?q=日本語",
            "https://münchen.de/straße",
            "😀 emoji",
        ] {
            assert_roundtrip(data, &style(512, EcLevel::M, 0, QrFormat::Png));
        }
        let too_long = "é".repeat(MAX_DATA_CHARS); // 4096 bytes
        assert_eq!(
            field_of(render(
                &too_long,
                &style(2048, EcLevel::L, 0, QrFormat::Png)
            )),
            "url"
        );
    }

    #[test]
    fn documented_examples_decode() {
        let r = req(
            json!({"url":"https://go2.gg/my-link","size":512,"foregroundColor":"#1a365d","backgroundColor":"#FFFFFF","cornerRadius":10,"errorCorrection":"H","format":"svg"}),
        );
        let v = r.validate().unwrap();
        assert_eq!(v.style.fg, Color::rgb(0x1a, 0x36, 0x5d));
        let out = generate(&r).unwrap();
        assert_eq!(out.content_type, "image/svg+xml");
        assert!(!out.low_contrast_warning);
        let svg = String::from_utf8(out.bytes).unwrap();
        assert!(svg.contains("width=\"512\" height=\"512\""));
        assert_eq!(decode_svg(&svg, &v.style), "https://go2.gg/my-link");

        let r = req(json!({"url":"https://example.com","format":"png","size":1024}));
        let out = generate(&r).unwrap();
        assert_eq!(out.content_type, "image/png");
        assert_eq!(decode_png(&out.bytes, 1024), "https://example.com");
    }

    #[test]
    fn svg_is_compact_and_well_formed() {
        let data = "https://go2.gg/x";
        let n = Matrix::from_code(&encode(data, EcLevel::M).unwrap()).n;
        let out = render(data, &style(256, EcLevel::M, 0, QrFormat::Svg)).unwrap();
        assert_eq!(out.content_type, "image/svg+xml");
        let svg = String::from_utf8(out.bytes).unwrap();
        let head = format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"256\" height=\"256\" \
             viewBox=\"0 0 {n} {n}\" shape-rendering=\"crispEdges\">\
             <rect width=\"{n}\" height=\"{n}\" fill=\"#FFFFFF\"/>\
             <path fill=\"#000000\" d=\"M4 4h7v1h-7z"
        );
        assert!(svg.starts_with(&head), "{svg}");
        assert!(svg.len() < 3000, "svg is {} bytes", svg.len());
        // Rounded: arcs, no crispEdges.
        let out = render(data, &style(256, EcLevel::M, 50, QrFormat::Svg)).unwrap();
        let svg = String::from_utf8(out.bytes).unwrap();
        assert!(svg.contains("a.5 .5 0 0 1 .5 .5"), "{svg}");
        assert!(!svg.contains("crispEdges"));
        // Finder patterns stay square.
        assert!(svg.contains("d=\"M4 4h7v1h-7z"), "{svg}");
    }

    #[test]
    fn number_formatting() {
        let f = |v| {
            let mut s = String::new();
            push_num(&mut s, v);
            s
        };
        assert_eq!(f(0), "0");
        assert_eq!(f(400), "4");
        assert_eq!(f(50), ".5");
        assert_eq!(f(-50), "-.5");
        assert_eq!(f(7), ".07");
        assert_eq!(f(-1325), "-13.25");
        assert_eq!(f(1310), "13.1");
    }

    #[test]
    fn png_is_one_bit_palette() {
        let s = QrStyle {
            fg: Color::parse("#1a365d").unwrap(),
            ..style(300, EcLevel::M, 0, QrFormat::Png)
        };
        let out = render(URL, &s).unwrap();
        let reader = png::Decoder::new(&out.bytes[..]).read_info().unwrap();
        let info = reader.info();
        assert_eq!((info.width, info.height), (300, 300));
        assert_eq!(info.color_type, png::ColorType::Indexed);
        assert_eq!(info.bit_depth, png::BitDepth::One);
        assert_eq!(
            info.palette.as_deref(),
            Some(&[0xFF, 0xFF, 0xFF, 0x1A, 0x36, 0x5D][..])
        );
        // Uniform modules: k = 300 / n px each, centred; the quiet zone is
        // background and the finder pattern starts right after it.
        let n = Matrix::from_code(&encode(URL, EcLevel::M).unwrap()).n;
        let k = 300 / n;
        let first = (300 - k * n) / 2 + 4 * k;
        let (w, _, grey) = png_to_grey(&out.bytes);
        assert!(grey[..first * w].iter().all(|&p| p == 255));
        let dark = luma(s.fg);
        let row = &grey[first * w..(first + 1) * w];
        assert!(row[..first].iter().all(|&p| p == 255));
        assert!(row[first..first + 7 * k].iter().all(|&p| p == dark));
        assert_eq!(row[first + 7 * k], 255);
    }

    #[test]
    #[allow(clippy::disallowed_methods)] // timing only, native test
    fn timing_2048_png() {
        let s = style(2048, EcLevel::M, 0, QrFormat::Png);
        let r = style(2048, EcLevel::H, 50, QrFormat::Png);
        let long = filler(1000);
        for (name, data, st) in [
            ("short, square", URL, s),
            ("short, radius 50, H", URL, r),
            ("1000 chars, square", long.as_str(), s),
            (
                "1000 chars, radius 50",
                long.as_str(),
                QrStyle {
                    ec: EcLevel::M,
                    ..r
                },
            ),
        ] {
            render(data, &st).unwrap(); // warm-up
            let t = std::time::Instant::now();
            let out = render(data, &st).unwrap();
            println!(
                "2048px PNG ({name}): {:?}, {} bytes",
                t.elapsed(),
                out.bytes.len()
            );
        }
    }

    // --- contrast -------------------------------------------------------

    #[test]
    fn contrast_ratio_matches_wcag() {
        assert!((contrast_ratio(Color::BLACK, Color::WHITE) - 21.0).abs() < 1e-9);
        assert!((contrast_ratio(Color::WHITE, Color::BLACK) - 21.0).abs() < 1e-9);
        assert!((contrast_ratio(Color::WHITE, Color::WHITE) - 1.0).abs() < 1e-9);
        // #767676 on white is the classic 4.54:1.
        let r = contrast_ratio(Color::parse("#767676").unwrap(), Color::WHITE);
        assert!((r - 4.54).abs() < 0.01, "{r}");
    }

    #[test]
    fn contrast_rules() {
        let low =
            req(json!({"url": URL, "foregroundColor": "#777777", "backgroundColor": "#888888"}));
        assert_eq!(field_of(low.validate()), "foregroundColor");
        let inverted =
            req(json!({"url": URL, "foregroundColor": "#FFFFFF", "backgroundColor": "#000000"}));
        let err = inverted.validate().unwrap_err();
        assert_eq!(err.field(), Some("foregroundColor"));
        assert!(err.message().contains("darker"));
        let warn = req(json!({"url": URL, "foregroundColor": "#888888"}));
        let out = generate(&warn).unwrap();
        assert!(out.low_contrast_warning);
        let fine = req(json!({"url": URL, "foregroundColor": "#555555"}));
        assert!(!generate(&fine).unwrap().low_contrast_warning);
    }

    // --- validation -----------------------------------------------------

    #[test]
    fn defaults() {
        let v = req(json!({"url": "x"})).validate().unwrap();
        assert_eq!(v.url, "x");
        assert_eq!(v.style, QrStyle::default());
        assert_eq!(
            v.style.to_json(),
            json!({"size": 256, "foregroundColor": "#000000", "backgroundColor": "#FFFFFF",
                   "cornerRadius": 0, "errorCorrection": "M", "format": "svg"})
        );
        // null = default; unknown fields ignored; integral floats accepted.
        let v = req(json!({"url": "x", "size": 512.0, "format": null, "name": "n", "linkId": 3}))
            .validate()
            .unwrap();
        assert_eq!((v.style.size, v.style.format), (512, QrFormat::Svg));
    }

    #[test]
    fn bad_inputs_name_their_field() {
        let mut cases = vec![
            (json!({}), "url"),
            (json!({"url": null}), "url"),
            (json!({"url": ""}), "url"),
            (json!({"url": "   "}), "url"),
            (json!({"url": 42}), "url"),
            (json!({"url": "a".repeat(2049)}), "url"),
            (json!({"url": URL, "size": 63}), "size"),
            (json!({"url": URL, "size": 2049}), "size"),
            (json!({"url": URL, "size": "big"}), "size"),
            (json!({"url": URL, "size": "512"}), "size"),
            (json!({"url": URL, "size": 1.5}), "size"),
            (json!({"url": URL, "size": -256}), "size"),
            (json!({"url": URL, "size": u64::MAX}), "size"),
            (json!({"url": URL, "size": [512]}), "size"),
            (json!({"url": URL, "cornerRadius": -1}), "cornerRadius"),
            (json!({"url": URL, "cornerRadius": 51}), "cornerRadius"),
            (json!({"url": URL, "cornerRadius": "10"}), "cornerRadius"),
            (json!({"url": URL, "cornerRadius": 2.5}), "cornerRadius"),
            (
                json!({"url": URL, "errorCorrection": "X"}),
                "errorCorrection",
            ),
            (json!({"url": URL, "errorCorrection": 5}), "errorCorrection"),
            (
                json!({"url": URL, "errorCorrection": "LOW"}),
                "errorCorrection",
            ),
            (json!({"url": URL, "format": "gif"}), "format"),
            (json!({"url": URL, "format": true}), "format"),
            (
                json!({"url": URL, "foregroundColor": "#777777", "backgroundColor": "#888888"}),
                "foregroundColor",
            ),
        ];
        for field in ["foregroundColor", "backgroundColor"] {
            for bad in [
                json!("red"),
                json!("#12345"),
                json!("#GGGGGG"),
                json!(123),
                json!("000000"),
                json!("#0000000"),
            ] {
                let mut body = json!({ "url": URL });
                body[field] = bad;
                cases.push((body, field));
            }
        }
        for (body, field) in cases {
            let r = req(body.clone());
            let err = r.validate().unwrap_err();
            assert_eq!(err.field(), Some(field), "{body}: {err}");
            assert_eq!(err.code(), "VALIDATION_ERROR");
            assert_eq!(generate(&r).unwrap_err(), err);
        }
        let ok = req(json!({"url": "a".repeat(2048), "errorCorrection": "l"}));
        assert!(ok.validate().is_ok());
    }

    #[test]
    fn colour_parsing() {
        assert_eq!(Color::parse("#fff"), Some(Color::WHITE));
        assert_eq!(Color::parse("#1A365d"), Some(Color::rgb(0x1a, 0x36, 0x5d)));
        assert_eq!(Color::parse("#abc"), Some(Color::rgb(0xaa, 0xbb, 0xcc)));
        for bad in [
            "", "#", "fff", "#ffff", "#12345", "#GGG", " #fff", "#fff ", "#+12345", "#ééé",
        ] {
            assert_eq!(Color::parse(bad), None, "{bad:?}");
        }
        assert_eq!(Color::rgb(0x1a, 0x36, 0x5d).to_hex(), "#1A365D");
    }

    #[test]
    fn enum_parsing() {
        assert_eq!(EcLevel::parse("h"), Some(EcLevel::H));
        assert_eq!(EcLevel::parse("X"), None);
        assert_eq!(QrFormat::parse("PNG"), Some(QrFormat::Png));
        assert_eq!(QrFormat::parse("gif"), None);
        assert_eq!(QrFormat::Png.content_type(), "image/png");
    }

    // --- style reuse ----------------------------------------------------

    #[test]
    fn style_serde_round_trip_and_validation() {
        let s = QrStyle {
            size: 512,
            fg: Color::parse("#1a365d").unwrap(),
            bg: Color::WHITE,
            corner_radius: 10,
            ec: EcLevel::H,
            format: QrFormat::Png,
        };
        let v = serde_json::to_value(s).unwrap();
        assert_eq!(
            v,
            json!({"size": 512, "foregroundColor": "#1A365D", "backgroundColor": "#FFFFFF",
                   "cornerRadius": 10, "errorCorrection": "H", "format": "png"})
        );
        assert_eq!(v, s.to_json());
        assert_eq!(serde_json::from_value::<QrStyle>(v).unwrap(), s);
        // Deserializing validates.
        let e = serde_json::from_value::<QrStyle>(json!({"size": 10})).unwrap_err();
        assert!(e.to_string().contains("size"), "{e}");
        assert!(serde_json::from_value::<QrStyle>(json!([1])).is_err());
        // from_json on a saved-config body ignores other keys.
        let body = json!({"name": "Flyer", "linkId": "abc", "cornerRadius": 25, "format": "png"});
        let s = QrStyle::from_json(body.as_object().unwrap()).unwrap();
        assert_eq!(
            (s.corner_radius, s.format, s.size),
            (25, QrFormat::Png, 256)
        );
        let body = json!({"name": "Flyer", "cornerRadius": 99});
        assert_eq!(
            field_of(QrStyle::from_json(body.as_object().unwrap())),
            "cornerRadius"
        );
    }

    #[test]
    fn download_query_overrides() {
        let s = QrStyle::default();
        let d = s.with_query(Some("png"), Some("1024")).unwrap();
        assert_eq!((d.format, d.size), (QrFormat::Png, 1024));
        assert_eq!(s.with_query(None, None).unwrap(), s);
        assert_eq!(s.with_query(Some(""), Some("")).unwrap(), s);
        assert_eq!(field_of(s.with_query(Some("gif"), None)), "format");
        assert_eq!(field_of(s.with_query(None, Some("big"))), "size");
        assert_eq!(field_of(s.with_query(None, Some("4096"))), "size");
        assert_eq!(field_of(s.with_query(None, Some("1.5"))), "size");
    }

    #[test]
    fn render_rechecks_public_fields() {
        let s = QrStyle {
            corner_radius: 80,
            ..QrStyle::default()
        };
        assert_eq!(field_of(render(URL, &s)), "cornerRadius");
        let s = QrStyle {
            size: 10,
            ..QrStyle::default()
        };
        assert_eq!(field_of(render(URL, &s)), "size");
        let s = QrStyle {
            fg: Color::WHITE,
            ..QrStyle::default()
        };
        assert_eq!(field_of(render(URL, &s)), "foregroundColor");
    }
}
