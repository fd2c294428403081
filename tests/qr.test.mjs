// QR codes against the built wasm worker in Miniflare: the public generator
// (the go2.gg seed's curl and Python examples, every bad input, the per-IP
// rate limit), saved QR configs (CRUD, download, tenancy) and a scan of a
// link's QR code going through the redirect. Every image is decoded here
// (PNG with pngjs, SVG rasterised below) and read back with jsQR, as a phone
// would. Nothing may ever answer 5xx.
import { test, before, after, describe } from "node:test";
import assert from "node:assert/strict";
import jsQR from "jsqr";
import { PNG } from "pngjs";
import { startWorker, expectError, inThisMinute, BASE } from "./helpers.mjs";

const GENERATE = "/api/v1/qr/generate";
const LIMIT = 30; // GENERATE_PER_MINUTE in src/api/qr.rs
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?Z$/;
const IPHONE =
  "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";

let w;

before(async () => {
  w = await startWorker();
});

after(async () => {
  await w?.close();
});

// ---------------------------------------------------------------------------
// Image decoding
// ---------------------------------------------------------------------------

function hexRgb(hex) {
  const m = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(hex);
  assert.ok(m, `not a #RRGGBB colour: ${hex}`);
  return [1, 2, 3].map((i) => parseInt(m[i], 16));
}

/** The SVG's size, viewBox, colours and path (asserting its structure). */
function parseSvg(text) {
  const svg = /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" width="(\d+)" height="(\d+)" viewBox="0 0 (\d+) (\d+)"[^>]*>/.exec(text);
  assert.ok(svg, `unexpected SVG root: ${text.slice(0, 200)}`);
  const rect = /<rect width="(\d+)" height="(\d+)" fill="(#[0-9A-Fa-f]{6})"\/>/.exec(text);
  assert.ok(rect, "background rect");
  const paths = [...text.matchAll(/<path fill="(#[0-9A-Fa-f]{6})" d="([^"]*)"\/>/g)];
  assert.equal(paths.length, 1, "one path of modules");
  assert.ok(text.endsWith("</svg>"));
  assert.ok(!/<script|on\w+=/i.test(text), "no active content");
  return {
    width: +svg[1],
    height: +svg[2],
    viewBox: [+svg[3], +svg[4]],
    bg: rect[3],
    fg: paths[0][1],
    d: paths[0][2],
  };
}

/**
 * The path's sub-paths as module runs: each is `M x y`, then relative
 * `h`/`v` lines and clockwise quarter arcs `a r r 0 0 1 dx dy`, then `z`.
 * Returns the run's box and, per corner, the arc radius (0 = square).
 */
function pathRuns(d) {
  const tokens = d.match(/[A-Za-z]|-?(?:\d+\.?\d*|\.\d+)/g) ?? [];
  const runs = [];
  let i = 0;
  let cur = null;
  let x = 0;
  let y = 0;
  const num = () => {
    const t = tokens[i++];
    assert.ok(t !== undefined && !/[A-Za-z]/.test(t), `number expected in path at token ${i}`);
    return parseFloat(t);
  };
  const point = () => {
    cur.minX = Math.min(cur.minX, x);
    cur.maxX = Math.max(cur.maxX, x);
    cur.minY = Math.min(cur.minY, y);
    cur.maxY = Math.max(cur.maxY, y);
  };
  while (i < tokens.length) {
    const cmd = tokens[i++];
    switch (cmd) {
      case "M":
        x = num();
        y = num();
        cur = { minX: x, maxX: x, minY: y, maxY: y, tl: 0, tr: 0, br: 0, bl: 0 };
        break;
      case "h":
        x += num();
        point();
        break;
      case "v":
        y += num();
        point();
        break;
      case "a": {
        const rx = num();
        const ry = num();
        assert.equal(rx, ry, "circular arcs");
        assert.deepEqual([num(), num(), num()], [0, 0, 1], "small clockwise arcs");
        const dx = num();
        const dy = num();
        const corner = dx > 0 ? (dy > 0 ? "tr" : "tl") : dy > 0 ? "br" : "bl";
        cur[corner] = rx;
        x += dx;
        y += dy;
        point();
        break;
      }
      case "z":
        runs.push(cur);
        cur = null;
        break;
      default:
        assert.fail(`unexpected path command ${cmd}`);
    }
  }
  assert.equal(cur, null, "every sub-path is closed");
  return runs;
}

/**
 * Rasterises the SVG at its own pixel size (what a screen shows): a pixel is
 * dark when its centre lies inside a run, outside the cut-off corners.
 */
function rasteriseSvg(text) {
  const s = parseSvg(text);
  const n = s.viewBox[0];
  const W = s.width;
  const scale = W / n;
  const [br, bgG, bb] = hexRgb(s.bg);
  const [fr, fgG, fb] = hexRgb(s.fg);
  const data = new Uint8ClampedArray(W * W * 4);
  for (let p = 0; p < W * W; p++) data.set([br, bgG, bb, 255], p * 4);
  const inside = (run, mx, my) => {
    const corners = [
      [run.tl, run.minX + run.tl, run.minY + run.tl, mx < run.minX + run.tl && my < run.minY + run.tl],
      [run.tr, run.maxX - run.tr, run.minY + run.tr, mx > run.maxX - run.tr && my < run.minY + run.tr],
      [run.br, run.maxX - run.br, run.maxY - run.br, mx > run.maxX - run.br && my > run.maxY - run.br],
      [run.bl, run.minX + run.bl, run.maxY - run.bl, mx < run.minX + run.bl && my > run.maxY - run.bl],
    ];
    for (const [r, cx, cy, inBox] of corners) {
      if (r > 0 && inBox && Math.hypot(mx - cx, my - cy) > r) return false;
    }
    return true;
  };
  for (const run of pathRuns(s.d)) {
    const px0 = Math.max(0, Math.floor(run.minX * scale));
    const px1 = Math.min(W, Math.ceil(run.maxX * scale));
    const py0 = Math.max(0, Math.floor(run.minY * scale));
    const py1 = Math.min(W, Math.ceil(run.maxY * scale));
    for (let py = py0; py < py1; py++) {
      const my = (py + 0.5) / scale;
      if (my < run.minY || my > run.maxY) continue;
      for (let px = px0; px < px1; px++) {
        const mx = (px + 0.5) / scale;
        if (mx < run.minX || mx > run.maxX || !inside(run, mx, my)) continue;
        data.set([fr, fgG, fb, 255], (py * W + px) * 4);
      }
    }
  }
  return { data, width: W, height: W, svg: s };
}

/** PNG size from IHDR, and its RGBA pixels. */
function readPng(buf) {
  assert.deepEqual([...buf.subarray(0, 8)], [137, 80, 78, 71, 13, 10, 26, 10], "PNG signature");
  assert.equal(buf.subarray(12, 16).toString("latin1"), "IHDR");
  const ihdr = { width: buf.readUInt32BE(16), height: buf.readUInt32BE(20) };
  const png = PNG.sync.read(buf);
  assert.equal(png.width, ihdr.width);
  assert.equal(png.height, ihdr.height);
  return {
    ...ihdr,
    data: new Uint8ClampedArray(png.data.buffer, png.data.byteOffset, png.data.length),
  };
}

/** Decodes a QR image (SVG or PNG bytes) to the UTF-8 text it holds. */
function decode(bytes, contentType) {
  const img = contentType.startsWith("image/png") ? readPng(bytes) : rasteriseSvg(bytes.toString("utf8"));
  const code = jsQR(img.data, img.width, img.height, { inversionAttempts: "dontInvert" });
  assert.ok(code, `no QR code found in the ${contentType} image`);
  return Buffer.from(code.binaryData).toString("utf8");
}

// ---------------------------------------------------------------------------
// HTTP helpers
// ---------------------------------------------------------------------------

let ipCounter = 0;
/** A fresh client IP, so that tests do not share a rate-limit window. */
const nextIp = () => `198.51.100.${++ipCounter}`;

/** Raw response with the body as a Buffer. */
async function fetchBytes(path, init = {}) {
  const res = await w.fetch(path, init);
  const bytes = Buffer.from(await res.arrayBuffer());
  assert.ok(res.status < 500, `${init.method ?? "GET"} ${path} answered ${res.status}: ${bytes.toString()}`);
  let body;
  if ((res.headers.get("content-type") ?? "").startsWith("application/json")) body = JSON.parse(bytes.toString());
  return { status: res.status, headers: res.headers, bytes, body, text: bytes.toString() };
}

/** `POST /api/v1/qr/generate` with a JSON body (or `raw`), no key. */
function generate(body, { ip = nextIp(), raw, headers = {} } = {}) {
  const h = { "Content-Type": "application/json", ...headers };
  if (ip !== null) h["CF-Connecting-IP"] = ip;
  return fetchBytes(GENERATE, {
    method: "POST",
    headers: h,
    body: raw !== undefined ? raw : JSON.stringify(body),
  });
}

function expectImage(r, contentType) {
  assert.equal(r.status, 200, r.text.slice(0, 500));
  assert.equal(r.headers.get("content-type"), contentType);
  return r;
}

function expectField(r, field, status = 400, code = "VALIDATION_ERROR") {
  const e = expectError(assert, r, status, code);
  assert.equal(e.field, field, r.text);
  return e;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------
// POST /api/v1/qr/generate
// ---------------------------------------------------------------------------

describe("generate: the seed's examples", () => {
  test("SVG example (512, #1a365d on #FFFFFF, cornerRadius 10, H) scans back to its URL", async () => {
    // Exactly the seed's curl: -H "Content-Type: application/json" -d '{...}'
    const r = await generate({
      url: "https://go2.gg/my-link",
      size: 512,
      foregroundColor: "#1a365d",
      backgroundColor: "#FFFFFF",
      cornerRadius: 10,
      errorCorrection: "H",
      format: "svg",
    });
    expectImage(r, "image/svg+xml");
    assert.equal(r.headers.get("cache-control"), "public, max-age=86400");
    assert.equal(r.headers.get("x-content-type-options"), "nosniff");
    assert.equal(r.headers.get("x-qr-contrast-warning"), null);
    assert.equal(r.headers.get("x-ratelimit-limit"), String(LIMIT));
    const svg = parseSvg(r.text);
    assert.equal(svg.width, 512);
    assert.equal(svg.height, 512);
    assert.equal(svg.viewBox[0], svg.viewBox[1]);
    // Module units: 17 + 4 × version modules plus a 4-module quiet zone each side.
    const version = (svg.viewBox[0] - 8 - 17) / 4;
    assert.ok(Number.isInteger(version) && version >= 1 && version <= 40, `viewBox ${svg.viewBox}`);
    assert.equal(svg.fg, "#1A365D");
    assert.equal(svg.bg, "#FFFFFF");
    assert.match(svg.d, /a\.1 \.1 0 0 1 /, "rounded corners at 10 % of a module");
    assert.equal(decode(r.bytes, "image/svg+xml"), "https://go2.gg/my-link");
  });

  test("PNG example (1024) is exactly 1024×1024 and scans back", async () => {
    const r = await generate({ url: "https://example.com", format: "png", size: 1024 });
    expectImage(r, "image/png");
    assert.equal(r.headers.get("cache-control"), "public, max-age=86400");
    const png = readPng(r.bytes);
    assert.equal(png.width, 1024);
    assert.equal(png.height, 1024);
    assert.equal(decode(r.bytes, "image/png"), "https://example.com");
  });

  test("the Python example (a shortUrl, 512, png) scans back", async () => {
    const url = `${BASE}/my-product`;
    const r = await generate({ url, size: 512, format: "png" });
    expectImage(r, "image/png");
    assert.equal(readPng(r.bytes).width, 512);
    assert.equal(decode(r.bytes, "image/png"), url);
  });

  test("generation is deterministic (hence cacheable)", async () => {
    const body = { url: "https://example.com/d", format: "png", size: 300 };
    const a = await generate(body);
    const b = await generate(body);
    assert.ok(a.bytes.equals(b.bytes));
  });
});

describe("generate: defaults and options", () => {
  test("only a url: SVG, 256 px, black on white", async () => {
    const r = await generate({ url: "https://example.com/defaults" });
    expectImage(r, "image/svg+xml");
    const svg = parseSvg(r.text);
    assert.equal(svg.width, 256);
    assert.equal(svg.height, 256);
    assert.equal(svg.fg, "#000000");
    assert.equal(svg.bg, "#FFFFFF");
    assert.match(r.text, /shape-rendering="crispEdges"/);
    assert.equal(decode(r.bytes, "image/svg+xml"), "https://example.com/defaults");
  });

  test("no key needed; a bogus Authorization header is ignored", async () => {
    const r = await generate({ url: "https://example.com/k" }, { headers: { Authorization: "Bearer nope" } });
    expectImage(r, "image/svg+xml");
  });

  test("null style fields take their defaults", async () => {
    const r = await generate({ url: "https://example.com/n", size: null, format: null, foregroundColor: null });
    expectImage(r, "image/svg+xml");
    assert.equal(parseSvg(r.text).width, 256);
  });

  for (const ec of ["L", "M", "Q", "H"]) {
    for (const format of ["svg", "png"]) {
      test(`errorCorrection ${ec}, ${format}, cornerRadius 50 scans back`, async () => {
        const url = `https://example.com/ec/${ec}?f=${format}`;
        const r = await generate({ url, errorCorrection: ec, format, cornerRadius: 50, size: 400 });
        expectImage(r, `image/${format === "svg" ? "svg+xml" : "png"}`);
        assert.equal(decode(r.bytes, r.headers.get("content-type")), url);
      });
    }
  }

  test("case-insensitive enums, #RGB colours, integral floats", async () => {
    const r = await generate(undefined, {
      raw: '{"url": "https://example.com/case", "format": "PNG", "errorCorrection": "q", "foregroundColor": "#036", "backgroundColor": "#fff", "size": 320.0}',
    });
    expectImage(r, "image/png");
    assert.equal(readPng(r.bytes).width, 320);
    assert.equal(decode(r.bytes, "image/png"), "https://example.com/case");
  });

  test("non-ASCII text is encoded as UTF-8", async () => {
    const url = "https://example.com/路径?q=ünïcødé";
    const r = await generate({ url, format: "png", size: 512 });
    expectImage(r, "image/png");
    assert.equal(decode(r.bytes, "image/png"), url);
  });

  test("a 2048-character URL at level L fits and scans back", async () => {
    const url = "https://example.com/" + "a".repeat(2048 - 20);
    assert.equal(url.length, 2048);
    const r = await generate({ url, errorCorrection: "L", format: "png", size: 1480 });
    expectImage(r, "image/png");
    assert.equal(decode(r.bytes, "image/png"), url);
  });

  test("sizes 64 and 2048 are accepted", async () => {
    const small = await generate({ url: "https://e.co", size: 64, format: "png", errorCorrection: "L" });
    expectImage(small, "image/png");
    assert.equal(readPng(small.bytes).width, 64);
    const big = await generate({ url: "https://e.co/big", size: 2048, format: "png" });
    expectImage(big, "image/png");
    assert.equal(readPng(big.bytes).width, 2048);
    assert.equal(decode(big.bytes, "image/png"), "https://e.co/big");
  });

  test("low but scannable contrast answers with a warning header", async () => {
    const r = await generate({
      url: "https://example.com/grey",
      foregroundColor: "#888888",
      backgroundColor: "#FFFFFF",
      format: "png",
      size: 400,
    });
    expectImage(r, "image/png");
    assert.equal(r.headers.get("x-qr-contrast-warning"), "low");
    const ratio = parseFloat(r.headers.get("x-qr-contrast-ratio"));
    assert.ok(ratio >= 2.5 && ratio < 4.5, `ratio ${ratio}`);
    assert.equal(decode(r.bytes, "image/png"), "https://example.com/grey");
  });
});

describe("generate: every documented size (64–2048)", () => {
  // https://example.com is a version-2 code: 25 modules + 8 of quiet zone.
  const SHORT = "https://example.com";
  const SHORT_MODULES = 33;
  // 300 characters at level H: version 18, 89 + 8 = 97 modules.
  const LONG = "https://example.com/" + "x".repeat(280);
  const LONG_MODULES = 97;
  assert.equal(LONG.length, 300);

  /** Checks the size-warning headers: present below 2 px per module. */
  function expectSizeWarning(r, modules, size) {
    if (size < 2 * modules) {
      assert.equal(r.headers.get("x-qr-size-warning"), "small", `${size} px`);
      assert.equal(r.headers.get("x-qr-recommended-min-size"), String(Math.max(64, 2 * modules)));
    } else {
      assert.equal(r.headers.get("x-qr-size-warning"), null, `${size} px`);
      assert.equal(r.headers.get("x-qr-recommended-min-size"), null);
    }
  }

  const cases = [
    ["a short URL", SHORT, "M", SHORT_MODULES, [64, 65, 100, 257, 2048]],
    ["a 300-character URL at level H", LONG, "H", LONG_MODULES, [120, 257, 2048]],
  ];
  for (const [name, url, errorCorrection, modules, sizes] of cases) {
    for (const size of sizes) {
      test(`${name}: PNG at ${size} px is exactly ${size}×${size}, centred, and scans back`, async () => {
        const r = await generate({ url, errorCorrection, format: "png", size });
        expectImage(r, "image/png");
        expectSizeWarning(r, modules, size);
        const png = readPng(r.bytes);
        assert.deepEqual([png.width, png.height], [size, size]);
        // Whole-pixel modules, the remainder split as extra quiet zone.
        const k = Math.floor(size / modules);
        const off = Math.floor((size - k * modules) / 2);
        const dark = (x, y) => png.data[(y * size + x) * 4] < 128;
        const cols = [];
        for (let x = 0; x < size; x++) {
          for (let y = 0; y < size; y++) {
            if (dark(x, y)) {
              cols.push(x);
              break;
            }
          }
        }
        assert.equal(cols[0], off + 4 * k, "the finder starts after the quiet zone");
        const right = size - 1 - cols.at(-1);
        assert.ok(right === cols[0] || right === cols[0] + 1, `left ${cols[0]}, right ${right}`);
        assert.equal(decode(r.bytes, "image/png"), url);
      });

      test(`${name}: SVG at ${size} px declares ${size}×${size} over the module grid`, async () => {
        const r = await generate({ url, errorCorrection, format: "svg", size });
        expectImage(r, "image/svg+xml");
        expectSizeWarning(r, modules, size);
        const svg = parseSvg(r.text);
        assert.deepEqual([svg.width, svg.height], [size, size]);
        assert.deepEqual(svg.viewBox, [modules, modules]);
        // Rasterised at its own size by the naive sampler above (no
        // anti-aliasing), fractional modules come out 2 or 3 px wide, which
        // jsQR misreads below about 3 px per module: decode from there.
        if (size >= 3 * modules) assert.equal(decode(r.bytes, "image/svg+xml"), url);
      });
    }
  }

  test("every size from 64 to 2048 px is accepted for a short URL (a sample of them, both formats)", async () => {
    for (const size of [64, 66, 67, 99, 128, 255, 256, 511, 1000, 1023, 1999, 2047, 2048]) {
      for (const format of ["png", "svg"]) {
        const r = await generate({ url: SHORT, format, size });
        expectImage(r, format === "png" ? "image/png" : "image/svg+xml");
        const got = format === "png" ? readPng(r.bytes).width : parseSvg(r.text).width;
        assert.equal(got, size);
      }
    }
  });

  test("only a code that does not fit at 1 px per module is refused: 400 naming size and the minimum", async () => {
    const ok = await generate({ url: LONG, errorCorrection: "H", format: "png", size: LONG_MODULES });
    expectImage(ok, "image/png");
    expectSizeWarning(ok, LONG_MODULES, LONG_MODULES);
    assert.equal(readPng(ok.bytes).width, LONG_MODULES);
    for (const [size, format] of [[LONG_MODULES - 1, "png"], [64, "svg"]]) {
      const e = expectField(await generate({ url: LONG, errorCorrection: "H", format, size }), "size");
      assert.match(e.message, /size/);
      assert.match(e.message, new RegExp(`at least ${LONG_MODULES} px`), e.message);
    }
  });
});

describe("generate: bad input → 4xx in the envelope, naming the field", () => {
  const url = "https://example.com/bad";
  const cases = [
    ["url missing", {}, "url"],
    ["url null", { url: null }, "url"],
    ["url empty", { url: "" }, "url"],
    ["url blank", { url: "   " }, "url"],
    ["url a number", { url: 123 }, "url"],
    ["url an array", { url: ["https://example.com"] }, "url"],
    ["url 2049 chars", { url: "https://example.com/" + "a".repeat(2049 - 20) }, "url"],
    ["url too long for level H", { url: "https://example.com/" + "a".repeat(1400), errorCorrection: "H", size: 2048 }, "url"],
    ["size 63", { url, size: 63 }, "size"],
    ["size 2049", { url, size: 2049 }, "size"],
    ["size 0", { url, size: 0 }, "size"],
    ["size -256", { url, size: -256 }, "size"],
    ["size \"big\"", { url, size: "big" }, "size"],
    ["size \"512\" (a string)", { url, size: "512" }, "size"],
    ["size 1.5", { url, size: 1.5 }, "size"],
    ["size 1e300", { url, size: 1e300 }, "size"],
    ["size too small for the code", { url: "https://example.com/" + "x".repeat(300), size: 64 }, "size"],
    ["foregroundColor \"red\"", { url, foregroundColor: "red" }, "foregroundColor"],
    ["foregroundColor \"#12345\"", { url, foregroundColor: "#12345" }, "foregroundColor"],
    ["foregroundColor 123", { url, foregroundColor: 123 }, "foregroundColor"],
    ["foregroundColor with alpha", { url, foregroundColor: "#000000FF" }, "foregroundColor"],
    ["backgroundColor \"white\"", { url, backgroundColor: "white" }, "backgroundColor"],
    ["backgroundColor \"#GGGGGG\"", { url, backgroundColor: "#GGGGGG" }, "backgroundColor"],
    ["cornerRadius -1", { url, cornerRadius: -1 }, "cornerRadius"],
    ["cornerRadius 51", { url, cornerRadius: 51 }, "cornerRadius"],
    ["cornerRadius \"10\"", { url, cornerRadius: "10" }, "cornerRadius"],
    ["cornerRadius 2.5", { url, cornerRadius: 2.5 }, "cornerRadius"],
    ["errorCorrection \"X\"", { url, errorCorrection: "X" }, "errorCorrection"],
    ["errorCorrection 1", { url, errorCorrection: 1 }, "errorCorrection"],
    ["format \"gif\"", { url, format: "gif" }, "format"],
    ["format true", { url, format: true }, "format"],
    ["contrast too low (#CCCCCC on #FFFFFF)", { url, foregroundColor: "#CCCCCC", backgroundColor: "#FFFFFF" }, "foregroundColor"],
    ["same colours", { url, foregroundColor: "#1A365D", backgroundColor: "#1a365d" }, "foregroundColor"],
    ["inverted (light on dark)", { url, foregroundColor: "#FFFFFF", backgroundColor: "#000000" }, "foregroundColor"],
  ];
  for (const [name, body, field] of cases) {
    test(name, async () => {
      const e = expectField(await generate(body), field);
      assert.ok(e.message.includes(field), e.message);
    });
  }

  const rawCases = [
    ["malformed JSON", '{"url": "https://example.com"'],
    ["not JSON at all", "url=https://example.com"],
    ["an array", '["https://example.com"]'],
    ["a string", '"https://example.com"'],
    ["null", "null"],
    ["an empty body", ""],
  ];
  for (const [name, raw] of rawCases) {
    test(`body: ${name}`, async () => {
      expectField(await generate(undefined, { raw }), "body");
    });
  }

  test("a body over 64 KiB → 413 PAYLOAD_TOO_LARGE", async () => {
    const raw = JSON.stringify({ url: "https://example.com", pad: "x".repeat(65 * 1024) });
    expectError(assert, await generate(undefined, { raw }), 413, "PAYLOAD_TOO_LARGE");
  });

  test("a form body → 415", async () => {
    const r = await generate(undefined, {
      raw: "url=https://example.com",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
    });
    expectError(assert, r, 415, "UNSUPPORTED_MEDIA_TYPE");
  });

  test("another method on the path → 405", async () => {
    const r = await fetchBytes(GENERATE, { method: "GET", headers: { "CF-Connecting-IP": nextIp() } });
    expectError(assert, r, 405, "METHOD_NOT_ALLOWED");
  });
});

describe("generate: rate limit per client IP", () => {
  test(`request ${LIMIT + 1} from one IP → 429 with Retry-After; another IP still passes`, async () => {
    // Fixed one-minute windows: a pinned clock keeps the burst in one.
    const t = inThisMinute();
    const headers = { "X-Test-Now": String(t) };
    const ip = "203.0.113.77";
    for (let i = 1; i <= LIMIT; i++) {
      const r = await generate({ url: `https://example.com/${i}` }, { ip, headers });
      expectImage(r, "image/svg+xml");
      assert.equal(r.headers.get("x-ratelimit-limit"), String(LIMIT));
      assert.equal(r.headers.get("x-ratelimit-remaining"), String(LIMIT - i));
    }
    const limited = await generate({ url: "https://example.com/over" }, { ip, headers });
    expectError(assert, limited, 429, "RATE_LIMITED");
    const retry = Number(limited.headers.get("retry-after"));
    assert.ok(Number.isInteger(retry) && retry >= 1 && retry <= 60, `Retry-After ${retry}`);
    assert.equal(limited.headers.get("x-ratelimit-limit"), String(LIMIT));
    assert.equal(limited.headers.get("x-ratelimit-remaining"), "0");
    const reset = Number(limited.headers.get("x-ratelimit-reset"));
    const now = t / 1000;
    assert.ok(reset > now - 1 && reset <= now + 61, `X-RateLimit-Reset ${reset}`);
    // Bad requests from that IP are refused by the limit too (counted first).
    expectError(assert, await generate({}, { ip, headers }), 429, "RATE_LIMITED");

    const other = await generate({ url: "https://example.com/other" }, { ip: "203.0.113.78", headers });
    expectImage(other, "image/svg+xml");
    assert.equal(other.headers.get("x-ratelimit-remaining"), String(LIMIT - 1));
  });

  test("requests without CF-Connecting-IP share one bucket", async () => {
    const headers = { "X-Test-Now": String(inThisMinute()) };
    const a = await generate({ url: "https://example.com/anon" }, { ip: null, headers });
    const b = await generate({ url: "https://example.com/anon" }, { ip: null, headers });
    expectImage(a, "image/svg+xml");
    expectImage(b, "image/svg+xml");
    assert.equal(Number(b.headers.get("x-ratelimit-remaining")), Number(a.headers.get("x-ratelimit-remaining")) - 1);
  });

  test("the IP is stored only as a hash", async () => {
    const { results } = await w.db.prepare("SELECT bucket FROM rate_limits WHERE bucket LIKE 'qrip:%'").all();
    assert.ok(results.length > 0);
    for (const { bucket } of results) {
      assert.match(bucket, /^qrip:([0-9a-f]{64}|unknown)$/);
    }
  });
});

// ---------------------------------------------------------------------------
// Saved QR codes
// ---------------------------------------------------------------------------

describe("saved QR codes", () => {
  let key; // business plan: this file sends more than 60 requests a minute
  let readKey;
  let otherKey;
  let link;
  let otherLink;

  const api = async (method, path, opts = {}) => {
    const r = await w.api(method, path, { key, ...opts });
    assert.ok(r.status < 500, `${method} ${path} answered ${r.status}: ${r.text}`);
    return r;
  };
  const createQr = async (body, opts = {}) => {
    const r = await api("POST", "/api/v1/qr", { body, ...opts });
    assert.equal(r.status, 201, r.text);
    assert.equal(r.body.success, true);
    return r.body.data;
  };
  const download = (id, query = "", k = key) =>
    fetchBytes(`/api/v1/qr/${id}/download${query}`, { headers: { Authorization: `Bearer ${k}` } });

  before(async () => {
    ({ key } = await w.workspace("QR Co", "business"));
    ({ key: otherKey } = await w.workspace("Other Co", "business"));
    const rk = await w.api("POST", "/api/v1/keys", { key, body: { name: "reader", scopes: ["read"] } });
    assert.equal(rk.status, 201, rk.text);
    readKey = rk.body.data.key;
    const l = await api("POST", "/api/v1/links", {
      body: { destinationUrl: "https://example.com/landing?ref=card", slug: "qr-card" },
    });
    assert.equal(l.status, 201, l.text);
    link = l.body.data;
    const ol = await w.api("POST", "/api/v1/links", {
      key: otherKey,
      body: { destinationUrl: "https://example.org/theirs", slug: "theirs" },
    });
    assert.equal(ol.status, 201, ol.text);
    otherLink = ol.body.data;
  });

  test("create with a url: the saved shape with default style", async () => {
    const d = await createQr({ name: "Plain", url: "https://example.com/plain" });
    assert.match(d.id, /^qr_[0-9A-Za-z]+$/);
    assert.equal(d.name, "Plain");
    assert.equal(d.url, "https://example.com/plain");
    assert.equal(d.linkId, null);
    assert.equal(d.shortUrl, null);
    assert.equal(d.size, 256);
    assert.equal(d.foregroundColor, "#000000");
    assert.equal(d.backgroundColor, "#FFFFFF");
    assert.equal(d.cornerRadius, 0);
    assert.equal(d.errorCorrection, "M");
    assert.equal(d.format, "svg");
    assert.match(d.createdAt, ISO);
    assert.equal(d.updatedAt, d.createdAt);
    const got = await api("GET", `/api/v1/qr/${d.id}`);
    assert.equal(got.status, 200);
    assert.deepEqual(got.body.data, d);
  });

  test("create with style fields stores them normalised", async () => {
    const d = await createQr({
      name: "Styled",
      url: "https://example.com/styled",
      size: 512,
      foregroundColor: "#1a365d",
      backgroundColor: "#fff",
      cornerRadius: 10,
      errorCorrection: "h",
      format: "PNG",
    });
    assert.deepEqual(
      [d.size, d.foregroundColor, d.backgroundColor, d.cornerRadius, d.errorCorrection, d.format],
      [512, "#1A365D", "#FFFFFF", 10, "H", "png"],
    );
  });

  test("create with linkId encodes the link's shortUrl?qr=1", async () => {
    const d = await createQr({ name: "Card", linkId: link.id, format: "png", size: 400 });
    assert.equal(d.linkId, link.id);
    assert.equal(d.shortUrl, link.shortUrl);
    assert.equal(d.url, `${link.shortUrl}?qr=1`);
    const img = await download(d.id);
    expectImage(img, "image/png");
    assert.equal(decode(img.bytes, "image/png"), `${BASE}/qr-card?qr=1`);
  });

  test("the seed's body (name, url and linkId): the link decides what is encoded", async () => {
    const body = { name: "Business Card QR", url: "https://go2.gg/contact", linkId: link.id };
    const d = await createQr(body);
    assert.equal(d.name, "Business Card QR");
    assert.equal(d.linkId, link.id);
    assert.equal(d.url, `${link.shortUrl}?qr=1`);
    // With the seed's placeholder id (no such link here): a clear 400.
    const r = await api("POST", "/api/v1/qr", { body: { ...body, linkId: "lnk_abc123" } });
    expectField(r, "linkId");
  });

  test("create: bad input names the field", async () => {
    const url = "https://example.com/x";
    const cases = [
      [{ name: "No data" }, "url"],
      [{ name: "Nulls", url: null, linkId: null }, "url"],
      [{ url }, "name"],
      [{ name: "", url }, "name"],
      [{ name: 5, url }, "name"],
      [{ name: "x".repeat(101), url }, "name"],
      [{ name: "U", url: "" }, "url"],
      [{ name: "U", url: 42 }, "url"],
      [{ name: "U", url: "https://e.com/" + "a".repeat(2040) }, "url"],
      [{ name: "L", linkId: 123 }, "linkId"],
      [{ name: "L", linkId: "" }, "linkId"],
      [{ name: "L", linkId: "lnk_nope" }, "linkId"],
      [{ name: "L", linkId: otherLink.id }, "linkId"],
      [{ name: "S", url, size: 63 }, "size"],
      [{ name: "S", url, size: "big" }, "size"],
      [{ name: "S", url: "https://example.com/" + "x".repeat(300), size: 64 }, "size"],
      [{ name: "C", url, foregroundColor: "red" }, "foregroundColor"],
      [{ name: "C", url, backgroundColor: "#12345" }, "backgroundColor"],
      [{ name: "C", url, foregroundColor: "#EEEEEE" }, "foregroundColor"],
      [{ name: "R", url, cornerRadius: 51 }, "cornerRadius"],
      [{ name: "E", url, errorCorrection: "X" }, "errorCorrection"],
      [{ name: "F", url, format: "gif" }, "format"],
      [{ name: "T", url, colour: "#000000" }, "colour"],
    ];
    for (const [body, field] of cases) {
      expectField(await api("POST", "/api/v1/qr", { body }), field);
    }
    expectField(await api("POST", "/api/v1/qr", { raw: "{nope", headers: { "Content-Type": "application/json" } }), "body");
    expectField(await api("POST", "/api/v1/qr", { raw: "[]", headers: { "Content-Type": "application/json" } }), "body");
    const big = JSON.stringify({ name: "Big", url, pad: "x".repeat(70_000) });
    expectError(assert, await api("POST", "/api/v1/qr", { raw: big, headers: { "Content-Type": "application/json" } }), 413, "PAYLOAD_TOO_LARGE");
  });

  test("a low-contrast style is saved with a warning header", async () => {
    const r = await api("POST", "/api/v1/qr", {
      body: { name: "Grey", url: "https://example.com/g", foregroundColor: "#888888" },
    });
    assert.equal(r.status, 201, r.text);
    assert.equal(r.headers.get("x-qr-contrast-warning"), "low");
    const img = await download(r.body.data.id, "?format=png&size=300");
    assert.equal(img.headers.get("x-qr-contrast-warning"), "low");
  });

  test("keys: none → 401, read-only cannot write but can read", async () => {
    expectError(assert, await w.api("GET", "/api/v1/qr"), 401, "UNAUTHORIZED");
    expectError(assert, await w.api("POST", "/api/v1/qr", { body: { name: "x", url: "https://e.com" } }), 401, "UNAUTHORIZED");
    const r = await w.api("POST", "/api/v1/qr", { key: readKey, body: { name: "RO", url: "https://example.com/ro" } });
    expectError(assert, r, 403, "FORBIDDEN");
    const d = await createQr({ name: "Readable", url: "https://example.com/readable" });
    assert.equal((await w.api("GET", `/api/v1/qr/${d.id}`, { key: readKey })).status, 200);
    assert.equal((await w.api("GET", "/api/v1/qr", { key: readKey })).status, 200);
    expectImage(await download(d.id, "", readKey), "image/svg+xml");
    expectError(assert, await w.api("PATCH", `/api/v1/qr/${d.id}`, { key: readKey, body: { name: "n" } }), 403, "FORBIDDEN");
    expectError(assert, await w.api("DELETE", `/api/v1/qr/${d.id}`, { key: readKey }), 403, "FORBIDDEN");
  });

  test("list: paginated, newest first, with meta; linkId filter", async () => {
    const { key: k } = await w.workspace("Lister", "business");
    const l = await w.api("POST", "/api/v1/links", { key: k, body: { destinationUrl: "https://example.com/l" } });
    const ids = [];
    for (let i = 0; i < 5; i++) {
      const body = i % 2 ? { name: `Q${i}`, linkId: l.body.data.id } : { name: `Q${i}`, url: `https://example.com/${i}` };
      const r = await w.api("POST", "/api/v1/qr", { key: k, body });
      assert.equal(r.status, 201, r.text);
      ids.push(r.body.data.id);
      await sleep(5); // distinct createdAt
    }
    const p1 = await w.api("GET", "/api/v1/qr?perPage=2", { key: k });
    assert.equal(p1.status, 200, p1.text);
    assert.equal(p1.body.success, true);
    assert.deepEqual(p1.body.meta, { page: 1, perPage: 2, total: 5, totalPages: 3 });
    assert.deepEqual(p1.body.data.map((q) => q.id), [ids[4], ids[3]]);
    const p3 = await w.api("GET", "/api/v1/qr?perPage=2&page=3", { key: k });
    assert.deepEqual(p3.body.data.map((q) => q.id), [ids[0]]);
    const all = await w.api("GET", "/api/v1/qr", { key: k });
    assert.deepEqual(all.body.meta, { page: 1, perPage: 20, total: 5, totalPages: 1 });
    assert.equal(all.body.data[0].name, "Q4");
    assert.ok("foregroundColor" in all.body.data[0]);
    const tied = await w.api("GET", `/api/v1/qr?linkId=${l.body.data.id}`, { key: k });
    assert.deepEqual(tied.body.data.map((q) => q.id), [ids[3], ids[1]]);
    assert.equal(tied.body.meta.total, 2);
    expectField(await w.api("GET", "/api/v1/qr?perPage=101", { key: k }), "perPage");
    expectField(await w.api("GET", "/api/v1/qr?page=0", { key: k }), "page");
  });

  test("PATCH name and style; null resets a field; bad input names the field", async () => {
    const d = await createQr({ name: "Before", url: "https://example.com/p", cornerRadius: 20 });
    await sleep(5);
    const r = await api("PATCH", `/api/v1/qr/${d.id}`, {
      body: { name: "After", size: 600, foregroundColor: "#1a365d", format: "png", cornerRadius: null },
    });
    assert.equal(r.status, 200, r.text);
    const u = r.body.data;
    assert.equal(u.id, d.id);
    assert.equal(u.name, "After");
    assert.equal(u.size, 600);
    assert.equal(u.foregroundColor, "#1A365D");
    assert.equal(u.backgroundColor, "#FFFFFF");
    assert.equal(u.format, "png");
    assert.equal(u.cornerRadius, 0);
    assert.equal(u.url, "https://example.com/p");
    assert.equal(u.createdAt, d.createdAt);
    assert.ok(Date.parse(u.updatedAt) > Date.parse(d.updatedAt));
    assert.deepEqual((await api("GET", `/api/v1/qr/${d.id}`)).body.data, u);

    const img = await download(d.id);
    expectImage(img, "image/png");
    assert.equal(readPng(img.bytes).width, 600);
    assert.equal(decode(img.bytes, "image/png"), "https://example.com/p");

    const u2 = await api("PATCH", `/api/v1/qr/${d.id}`, { body: { url: "https://example.com/p2" } });
    assert.equal(u2.body.data.url, "https://example.com/p2");

    for (const [body, field] of [
      [{ size: 5000 }, "size"],
      [{ foregroundColor: "blue" }, "foregroundColor"],
      [{ backgroundColor: "#1A365D" }, "foregroundColor"], // contrast with the stored fg
      [{ name: "" }, "name"],
      [{ name: null }, "name"],
      [{ url: null }, "url"], // no link: the url is required
      [{ url: "" }, "url"],
      [{ linkId: "lnk_nope" }, "linkId"],
      [{ linkId: otherLink.id }, "linkId"],
      [{ format: "jpeg" }, "format"],
      [{ nope: 1 }, "nope"],
    ]) {
      expectField(await api("PATCH", `/api/v1/qr/${d.id}`, { body }), field);
    }
    // Nothing of the refused patches was stored.
    const after = (await api("GET", `/api/v1/qr/${d.id}`)).body.data;
    assert.equal(after.size, 600);
    assert.equal(after.name, "After");
  });

  test("PATCH linkId ties a QR to a link (and null unties it)", async () => {
    const d = await createQr({ name: "Later", url: "https://example.com/later" });
    const tied = await api("PATCH", `/api/v1/qr/${d.id}`, { body: { linkId: link.id } });
    assert.equal(tied.status, 200, tied.text);
    assert.equal(tied.body.data.linkId, link.id);
    assert.equal(tied.body.data.url, `${link.shortUrl}?qr=1`);
    const untied = await api("PATCH", `/api/v1/qr/${d.id}`, { body: { linkId: null } });
    assert.equal(untied.body.data.linkId, null);
    assert.equal(untied.body.data.shortUrl, null);
    assert.equal(untied.body.data.url, "https://example.com/later");
    // Without a link a QR needs its url.
    expectField(await api("PATCH", `/api/v1/qr/${d.id}`, { body: { url: null } }), "url");
    // A link-only QR cannot drop its link without a url, but can with one.
    const only = await createQr({ name: "Only link", linkId: link.id });
    expectField(await api("PATCH", `/api/v1/qr/${only.id}`, { body: { linkId: null } }), "url");
    const swapped = await api("PATCH", `/api/v1/qr/${only.id}`, { body: { linkId: null, url: "https://example.com/own" } });
    assert.equal(swapped.status, 200, swapped.text);
    assert.equal(swapped.body.data.url, "https://example.com/own");
    // And a tied QR may clear its url.
    const cleared = await api("PATCH", `/api/v1/qr/${only.id}`, { body: { linkId: link.id, url: null } });
    assert.equal(cleared.status, 200, cleared.text);
    assert.equal(cleared.body.data.url, `${link.shortUrl}?qr=1`);
  });

  test("download: stored style, ?format and ?size overrides, headers", async () => {
    const d = await createQr({
      name: "DL",
      url: "https://example.com/download",
      foregroundColor: "#1a365d",
      cornerRadius: 25,
      size: 512,
    });
    const svg = await download(d.id);
    expectImage(svg, "image/svg+xml");
    assert.equal(svg.headers.get("cache-control"), "private, max-age=0");
    assert.equal(svg.headers.get("content-disposition"), 'inline; filename="qr.svg"');
    const parsed = parseSvg(svg.text);
    assert.equal(parsed.width, 512);
    assert.equal(parsed.fg, "#1A365D");
    assert.equal(decode(svg.bytes, "image/svg+xml"), "https://example.com/download");

    const png = await download(d.id, "?format=png&size=300");
    expectImage(png, "image/png");
    assert.equal(png.headers.get("content-disposition"), 'inline; filename="qr.png"');
    assert.equal(png.headers.get("cache-control"), "private, max-age=0");
    const img = readPng(png.bytes);
    assert.deepEqual([img.width, img.height], [300, 300]);
    assert.equal(decode(png.bytes, "image/png"), "https://example.com/download");

    const svgSized = await download(d.id, "?format=svg&size=1000");
    assert.equal(parseSvg(svgSized.text).width, 1000);
    // The seed's download: ?format=svg
    expectImage(await download(d.id, "?format=svg"), "image/svg+xml");
    // Empty parameters keep the stored values.
    assert.equal(parseSvg((await download(d.id, "?format=&size=")).text).width, 512);

    expectField(await download(d.id, "?format=gif"), "format");
    expectField(await download(d.id, "?size=10"), "size");
    expectField(await download(d.id, "?size=abc"), "size");
    expectField(await download(d.id, "?size=99999"), "size");
    // Stored style unchanged by the overrides.
    assert.equal((await api("GET", `/api/v1/qr/${d.id}`)).body.data.format, "svg");
  });

  test("saved QRs follow the size rules: saved and downloaded at any size the code fits, warned below 2 px per module", async () => {
    const url = "https://example.com/" + "x".repeat(280); // 97 modules at H
    const r = await api("POST", "/api/v1/qr", { body: { name: "Dense", url, errorCorrection: "H", format: "png", size: 120 } });
    assert.equal(r.status, 201, r.text);
    assert.equal(r.headers.get("x-qr-size-warning"), "small");
    assert.equal(r.headers.get("x-qr-recommended-min-size"), "194");
    const id = r.body.data.id;
    const small = await download(id);
    expectImage(small, "image/png");
    assert.equal(small.headers.get("x-qr-size-warning"), "small");
    assert.equal(readPng(small.bytes).width, 120);
    assert.equal(decode(small.bytes, "image/png"), url);
    for (const size of [257, 2048]) {
      const big = await download(id, `?size=${size}`);
      expectImage(big, "image/png");
      assert.equal(big.headers.get("x-qr-size-warning"), null);
      assert.equal(readPng(big.bytes).width, size);
      assert.equal(decode(big.bytes, "image/png"), url);
    }
    const svg = await download(id, "?format=svg&size=97");
    expectImage(svg, "image/svg+xml");
    assert.equal(parseSvg(svg.text).width, 97);
    const e = expectField(await download(id, "?size=96"), "size");
    assert.match(e.message, /at least 97 px/);
    // PATCH to a size that gives 2 px per module drops the warning.
    const p = await api("PATCH", `/api/v1/qr/${id}`, { body: { size: 194 } });
    assert.equal(p.status, 200, p.text);
    assert.equal(p.headers.get("x-qr-size-warning"), null);
    // A short URL at 64 px.
    const s = await createQr({ name: "Tiny", url: "https://example.com", format: "png", size: 64 });
    const tiny = await download(s.id);
    assert.equal(readPng(tiny.bytes).width, 64);
    assert.equal(tiny.headers.get("x-qr-size-warning"), "small");
    assert.equal(decode(tiny.bytes, "image/png"), "https://example.com");
  });

  test("another workspace: 404 on get, patch, delete, download; its list excludes them", async () => {
    const d = await createQr({ name: "Mine", url: "https://example.com/mine" });
    const opts = { key: otherKey };
    expectError(assert, await w.api("GET", `/api/v1/qr/${d.id}`, opts), 404, "NOT_FOUND");
    expectError(assert, await w.api("PATCH", `/api/v1/qr/${d.id}`, { ...opts, body: { name: "Theirs" } }), 404, "NOT_FOUND");
    expectError(assert, await w.api("DELETE", `/api/v1/qr/${d.id}`, opts), 404, "NOT_FOUND");
    expectError(assert, await download(d.id, "", otherKey), 404, "NOT_FOUND");
    const list = await w.api("GET", "/api/v1/qr", opts);
    assert.equal(list.status, 200);
    assert.deepEqual(list.body.data, []);
    assert.equal(list.body.meta.total, 0);
    // Still intact for its owner.
    assert.equal((await api("GET", `/api/v1/qr/${d.id}`)).body.data.name, "Mine");
  });

  test("DELETE → 204, then 404 everywhere", async () => {
    const d = await createQr({ name: "Doomed", url: "https://example.com/doomed" });
    const r = await api("DELETE", `/api/v1/qr/${d.id}`);
    assert.equal(r.status, 204);
    assert.equal(r.text, "");
    expectError(assert, await api("GET", `/api/v1/qr/${d.id}`), 404, "NOT_FOUND");
    expectError(assert, await api("DELETE", `/api/v1/qr/${d.id}`), 404, "NOT_FOUND");
    expectError(assert, await api("PATCH", `/api/v1/qr/${d.id}`, { body: { name: "x" } }), 404, "NOT_FOUND");
    expectError(assert, await download(d.id), 404, "NOT_FOUND");
    expectError(assert, await api("GET", "/api/v1/qr/qr_doesnotexist"), 404, "NOT_FOUND");
  });

  test("unknown sub-path → 404, wrong method → 405", async () => {
    expectError(assert, await api("GET", "/api/v1/qr/x/y"), 404, "NOT_FOUND");
    expectError(assert, await api("PUT", "/api/v1/qr"), 405, "METHOD_NOT_ALLOWED");
    expectError(assert, await api("POST", "/api/v1/qr/x/download"), 405, "METHOD_NOT_ALLOWED");
  });

  test("a link's QR follows the link's slug, and falls back to its URL when the link is gone", async () => {
    const l = await api("POST", "/api/v1/links", { body: { destinationUrl: "https://example.com/moving", slug: "old-slug" } });
    assert.equal(l.status, 201, l.text);
    const d = await createQr({ name: "Mover", linkId: l.body.data.id, url: "https://example.com/fallback" });
    assert.equal(d.url, `${BASE}/old-slug?qr=1`);
    const bare = await createQr({ name: "Bare", linkId: l.body.data.id });
    const p = await api("PATCH", `/api/v1/links/${l.body.data.id}`, { body: { slug: "new-slug" } });
    assert.equal(p.status, 200, p.text);
    const moved = (await api("GET", `/api/v1/qr/${d.id}`)).body.data;
    assert.equal(moved.url, `${BASE}/new-slug?qr=1`);
    assert.equal(moved.shortUrl, `${BASE}/new-slug`);
    assert.equal(decode((await download(d.id, "?format=png&size=400")).bytes, "image/png"), `${BASE}/new-slug?qr=1`);
    assert.equal((await api("DELETE", `/api/v1/links/${l.body.data.id}`)).status, 204);
    const orphan = (await api("GET", `/api/v1/qr/${d.id}`)).body.data;
    assert.equal(orphan.url, "https://example.com/fallback");
    assert.equal(orphan.shortUrl, null);
    assert.equal(orphan.linkId, l.body.data.id);
    // Without a url it keeps rendering the link's last saved short URL.
    const bareOrphan = (await api("GET", `/api/v1/qr/${bare.id}`)).body.data;
    assert.equal(bareOrphan.url, `${BASE}/old-slug?qr=1`);
    expectImage(await download(bare.id), "image/svg+xml");
  });

  // -------------------------------------------------------------------------
  // Scan tracking
  // -------------------------------------------------------------------------

  /** QR scans in a stats answer, whichever breakdown it carries. */
  function qrScans(stats) {
    const count = (row) => row.clicks ?? row.count ?? row.value ?? 0;
    if (Array.isArray(stats.bySource)) {
      const row = stats.bySource.find((r) => [r.source, r.name, r.key, r.value].includes("qr"));
      return row ? count(row) : 0;
    }
    if (stats.bySource && typeof stats.bySource === "object") return stats.bySource.qr ?? 0;
    if (typeof stats.byQr === "number") return stats.byQr;
    if (Array.isArray(stats.byQr)) {
      const row = stats.byQr.find((r) => r.qr === true || r.source === "qr" || r.name === "qr");
      return row ? count(row) : 0;
    }
    if (stats.byQr && typeof stats.byQr === "object") return stats.byQr.qr ?? stats.byQr.scans ?? 0;
    if (typeof stats.qrScans === "number") return stats.qrScans;
    return undefined;
  }

  test("a scan: the decoded URL redirects without the marker and counts as a QR scan", async () => {
    const d = await createQr({ name: "Scan me", linkId: link.id, format: "png", size: 512 });
    const img = await download(d.id);
    const scanned = decode(img.bytes, "image/png");
    assert.equal(scanned, `${BASE}/qr-card?qr=1`);

    // A phone opens it.
    const res = await w.fetch(scanned, { headers: { "User-Agent": IPHONE, "CF-Connecting-IP": "192.0.2.10" } });
    assert.equal(res.status, 302);
    const location = new URL(res.headers.get("location"));
    assert.equal(location.origin + location.pathname, "https://example.com/landing");
    assert.equal(location.searchParams.get("ref"), "card");
    assert.equal(location.searchParams.has("qr"), false, `marker forwarded: ${location}`);
    await res.arrayBuffer();

    // A plain visit of the same link (not a scan).
    const plain = await w.fetch(link.shortUrl, { headers: { "User-Agent": IPHONE, "CF-Connecting-IP": "192.0.2.11" } });
    assert.equal(plain.status, 302);
    assert.equal(new URL(plain.headers.get("location")).searchParams.has("qr"), false);
    await plain.arrayBuffer();

    // The analytics consumer drains the clicks; the stats tell the scan apart.
    let stats;
    const end = Date.now() + 10_000;
    for (;;) {
      const r = await api("GET", `/api/v1/links/${link.id}/stats`);
      assert.equal(r.status, 200, r.text);
      stats = r.body.data;
      if ((stats.totalClicks >= 2 && qrScans(stats) >= 1) || Date.now() > end) break;
      await sleep(200);
    }
    assert.notEqual(qrScans(stats), undefined, `stats carry no QR/source breakdown: ${JSON.stringify(stats)}`);
    assert.equal(stats.totalClicks, 2, JSON.stringify(stats));
    assert.equal(qrScans(stats), 1, JSON.stringify(stats));
  });
});
