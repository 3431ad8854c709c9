//! Compresses the page's files once, at build time, so the actor can answer browsers
//! that accept gzip with a smaller body at no cost per request (src/http.rs `asset`).
//! flate2's gzip header carries no time and no file name, so the output is the same on
//! every machine.

use std::io::Write;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = std::path::PathBuf::from(std::env::var_os("OUT_DIR").ok_or("cargo sets OUT_DIR")?);
    println!("cargo:rerun-if-changed=assets/web");
    for name in [
        "index.html",
        "search.js",
        "app.js",
        "tree.js",
        "transfer.js",
        "style.css",
        "markdown.js",
        "vendor/markdown-it.min.js",
    ] {
        let path = std::path::Path::new("assets/web").join(name);
        println!("cargo:rerun-if-changed={}", path.display());
        let text = std::fs::read(&path)?;
        let mut gz = flate2::GzBuilder::new()
            .operating_system(255)
            .write(Vec::new(), flate2::Compression::best());
        gz.write_all(&text)?;
        // A name in a subdirectory (vendor/...) keeps it under OUT_DIR too.
        let gz_path = out.join(format!("{name}.gz"));
        if let Some(dir) = gz_path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(gz_path, gz.finish()?)?;
    }
    Ok(())
}
