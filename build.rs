//! Compresses the page's files once, at build time, so the actor can answer browsers
//! that accept gzip with a smaller body at no cost per request (src/http.rs `asset`).
//! flate2's gzip header carries no time and no file name, so the output is the same on
//! every machine.

use std::io::Write;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = std::path::PathBuf::from(std::env::var_os("OUT_DIR").ok_or("cargo sets OUT_DIR")?);
    // A directory: cargo looks at every file under it.
    println!("cargo:rerun-if-changed=assets/web");
    for name in page_files(std::path::Path::new("assets/web"))? {
        let path = std::path::Path::new("assets/web").join(&name);
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

/// Every HTML, script and style file under `dir`, by its path below it (`vendor/x.js`),
/// sorted: src/api/assets.rs serves them (a unit test checks that it serves each).
fn page_files(dir: &std::path::Path) -> std::io::Result<Vec<String>> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(next) = pending.pop() {
        for entry in std::fs::read_dir(&next)? {
            let path = entry?.path();
            if path.is_dir() {
                pending.push(path);
            } else if path
                .extension()
                .is_some_and(|ext| ext == "html" || ext == "js" || ext == "css")
            {
                if let Ok(below) = path.strip_prefix(dir) {
                    found.push(below.to_string_lossy().replace('\\', "/"));
                }
            }
        }
    }
    found.sort();
    Ok(found)
}
