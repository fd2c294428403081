//! `imports`, `import_chunks`, `import_rows`: CSV imports (src/imports.rs).
