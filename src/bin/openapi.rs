//! Writes the OpenAPI document (`edgelink::openapi`) to the path given, by
//! default `public/api/v1/openapi.json` (served as a static asset). Native
//! only: the wasm never carries the document.

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    let out = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "public/api/v1/openapi.json".into());
    let doc = edgelink::openapi::document().unwrap_or_else(|e| {
        eprintln!("openapi: {e}");
        std::process::exit(1);
    });
    let path = std::path::Path::new(&out);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).expect("create the output directory");
    }
    let text = serde_json::to_string_pretty(&doc).expect("serialise");
    std::fs::write(path, text + "\n").expect("write the document");
}

#[cfg(target_arch = "wasm32")]
fn main() {}
