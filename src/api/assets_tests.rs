//! The page's files: the Markdown renderer's are served like the rest of the page, the
//! vendored markdown-it is exactly the file README.md pins, the style sheet is whole, and
//! the page's body limits are the actor's.

use crate::test_support::{on_disk, Harness};

const FILES: [(&str, &str); 2] = [
    ("/markdown.js", "assets/web/markdown.js"),
    (
        "/vendor/markdown-it.min.js",
        "assets/web/vendor/markdown-it.min.js",
    ),
];

#[test]
fn the_markdown_scripts_are_served_like_the_page_files() {
    let mut h = Harness::new();
    for (route, file) in FILES {
        let plain = h.page_file(route);
        assert_eq!(plain.status, 200, "{route}");
        assert_eq!(plain.body, on_disk(file), "{route} is {file}");
        assert_eq!(
            plain.header("content-type"),
            Some("text/javascript; charset=utf-8")
        );
        assert!(plain
            .header("content-security-policy")
            .is_some_and(|csp| csp.contains("script-src 'self'")));
        assert_eq!(plain.header("content-encoding"), Some("gzip"));
        assert_eq!(plain.header("vary"), Some("Accept-Encoding"));
        let tag = plain.header("etag").unwrap().to_string();
        assert!(tag.starts_with('"') && tag.ends_with("-gz\""), "{tag}");
        let revisit = [
            ("Accept-Encoding", "gzip, deflate, br"),
            ("If-None-Match", &tag),
        ];
        let again = h.with_headers("GET", route, &revisit, None);
        assert_eq!((again.status, again.body.len()), (304, 0), "{route}");
        let without_gzip = h.raw("GET", route, None);
        assert_eq!(without_gzip.status, 200, "{route} without gzip");
        assert_eq!(without_gzip.header("content-encoding"), None);
        assert_eq!(without_gzip.body, on_disk(file), "{route} plain");

        let head = h.with_headers("HEAD", route, &[("Accept-Encoding", "gzip")], None);
        assert_eq!((head.status, head.body.len()), (200, 0), "HEAD {route}");
        assert_eq!(h.raw("POST", route, None).status, 405, "POST {route}");
    }
}

#[test]
fn each_page_file_is_read_from_the_package_once_and_a_revisit_reads_nothing() {
    let mut h = Harness::new();
    let store_calls = h.host.calls.get();
    let reads = |h: &Harness| h.host.file_reads.get();
    let first = h.page_file("/app.js");
    assert_eq!(first.body, on_disk("assets/web/app.js"));
    assert_eq!(reads(&h), 1, "app.js.gz read once");
    for _ in 0..3 {
        assert_eq!(h.page_file("/app.js").body, first.body);
    }
    assert_eq!(reads(&h), 1, "then served from the actor's memory");
    // The plain file is another file, read once too.
    assert_eq!(
        h.raw("GET", "/app.js", None).body,
        on_disk("assets/web/app.js")
    );
    assert_eq!(h.raw("GET", "/app.js", None).status, 200);
    assert_eq!(reads(&h), 2);
    // A revisit of a file this actor never read is a 304 without reading it.
    let style_tag = {
        let mut other = Harness::new();
        other
            .page_file("/style.css")
            .header("etag")
            .unwrap()
            .to_string()
    };
    let revisit = [
        ("Accept-Encoding", "gzip"),
        ("If-None-Match", style_tag.as_str()),
    ];
    assert_eq!(
        h.with_headers("GET", "/style.css", &revisit, None).status,
        304
    );
    assert_eq!(reads(&h), 2);
    assert_eq!(
        h.host.calls.get(),
        store_calls,
        "no store call for any of it"
    );
}

#[test]
fn a_package_without_its_page_files_says_so_and_the_api_still_works() {
    let mut h = Harness::new();
    h.host.files_gone.set(true);
    let missing = h.page_file("/app.js");
    assert_eq!(missing.status, 500);
    let error: serde_json::Value = serde_json::from_slice(&missing.body).unwrap();
    assert_eq!(error["error"]["code"], "page_file_missing");
    let message = error["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("app.js.gz") && message.contains("build the package again"),
        "{message}"
    );
    assert!(h
        .host
        .logs
        .borrow()
        .iter()
        .any(|line| line.contains("app.js.gz could not be read")));
    assert_eq!(h.raw("GET", "/api/chats", None).status, 200);
    // Once the files are back (the package rebuilt), the page is served.
    h.host.files_gone.set(false);
    assert_eq!(h.page_file("/app.js").status, 200);
}

#[test]
fn the_page_loads_the_renderer_before_app_js_from_its_own_origin() {
    let index = String::from_utf8(on_disk("assets/web/index.html")).unwrap();
    let at = |needle: &str| index.find(needle).unwrap_or_else(|| panic!("no {needle}"));
    let vendor = at(r#"<script src="/vendor/markdown-it.min.js" defer></script>"#);
    let wrapper = at(r#"<script src="/markdown.js" defer></script>"#);
    let app = at(r#"<script src="/app.js" defer></script>"#);
    assert!(vendor < wrapper && wrapper < app);
}

#[test]
fn the_renderer_is_public_like_the_rest_of_the_page() {
    let mut h = Harness::with_env(
        r#"{"store_id":"t","require_token":true}"#,
        &[("CHAT_ACCESS_TOKEN", "correct-horse-battery-staple")],
    );
    assert_eq!(h.raw("GET", "/api/chats", None).status, 401);
    for (route, _) in FILES {
        assert_eq!(h.page_file(route).status, 200, "{route}");
    }
}

/// The vendored bundle's sha256 and version are the ones README.md ("Dependencies")
/// states, so the pin cannot drift without the README saying so.
#[test]
fn the_vendored_markdown_it_is_the_file_the_readme_pins() {
    let bundle = on_disk("assets/web/vendor/markdown-it.min.js");
    let readme = String::from_utf8(on_disk("README.md")).unwrap();
    let pinned = readme
        .lines()
        .find_map(|line| line.strip_suffix("  assets/web/vendor/markdown-it.min.js"))
        .expect("README.md states `SHA256  assets/web/vendor/markdown-it.min.js`");
    assert_eq!(
        hex(&sha256(&bundle)),
        pinned.trim(),
        "assets/web/vendor/markdown-it.min.js is not the file README.md pins"
    );
    // The bundle names its version in its first line: `/*! markdown-it 14.3.3 https://...`.
    let banner = String::from_utf8_lossy(bundle.get(..120).unwrap());
    let version = banner
        .strip_prefix("/*! markdown-it ")
        .and_then(|rest| rest.split_whitespace().next())
        .expect("markdown-it's banner");
    assert!(
        readme.contains(&format!("markdown-it {version}")),
        "README.md does not name markdown-it {version}"
    );
    let license = String::from_utf8(on_disk("assets/web/vendor/markdown-it.LICENSE")).unwrap();
    assert!(license.contains("Vitaly Puzrin") && license.contains("Permission is hereby granted"));
}

#[test]
fn sha256_matches_known_digests() {
    assert_eq!(
        hex(&sha256(b"")),
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
    assert_eq!(
        hex(&sha256(b"abc")),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
    // Two blocks: the padding spills over.
    assert_eq!(
        hex(&sha256(
            b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"
        )),
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
    );
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// FIPS 180-4 SHA-256, small enough to keep the test free of a dependency.
fn sha256(data: &[u8]) -> [u8; 32] {
    const K: [u32; 64] = [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
        0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
        0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
        0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
        0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
        0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
        0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
        0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
        0xc67178f2,
    ];
    let mut h: [u32; 8] = [
        0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab,
        0x5be0cd19,
    ];
    let mut message = data.to_vec();
    message.push(0x80);
    while message.len() % 64 != 56 {
        message.push(0);
    }
    message.extend_from_slice(&((data.len() as u64) * 8).to_be_bytes());
    for block in message.chunks(64) {
        let mut w = [0u32; 64];
        for (i, word) in block.chunks(4).enumerate() {
            w[i] = u32::from_be_bytes([word[0], word[1], word[2], word[3]]);
        }
        for i in 16..64 {
            let s0 = w[i - 15].rotate_right(7) ^ w[i - 15].rotate_right(18) ^ (w[i - 15] >> 3);
            let s1 = w[i - 2].rotate_right(17) ^ w[i - 2].rotate_right(19) ^ (w[i - 2] >> 10);
            w[i] = w[i - 16]
                .wrapping_add(s0)
                .wrapping_add(w[i - 7])
                .wrapping_add(s1);
        }
        let [mut a, mut b, mut c, mut d, mut e, mut f, mut g, mut hh] = h;
        for i in 0..64 {
            let s1 = e.rotate_right(6) ^ e.rotate_right(11) ^ e.rotate_right(25);
            let ch = (e & f) ^ (!e & g);
            let t1 = hh
                .wrapping_add(s1)
                .wrapping_add(ch)
                .wrapping_add(K[i])
                .wrapping_add(w[i]);
            let s0 = a.rotate_right(2) ^ a.rotate_right(13) ^ a.rotate_right(22);
            let maj = (a & b) ^ (a & c) ^ (b & c);
            let t2 = s0.wrapping_add(maj);
            hh = g;
            g = f;
            f = e;
            e = d.wrapping_add(t1);
            d = c;
            c = b;
            b = a;
            a = t1.wrapping_add(t2);
        }
        for (state, value) in h.iter_mut().zip([a, b, c, d, e, f, g, hh]) {
            *state = state.wrapping_add(value);
        }
    }
    let mut digest = [0u8; 32];
    for (chunk, word) in digest.chunks_mut(4).zip(h) {
        chunk.copy_from_slice(&word.to_be_bytes());
    }
    digest
}

/// The style sheet closes every rule before the next one starts. The page writes no
/// nested CSS, so a rule inside a rule is a brace lost in a merge: a browser that nests
/// would apply everything after it only inside that rule (it once left the search box,
/// the tree and the export menu unstyled).
#[test]
fn the_style_sheet_closes_every_rule() {
    let css = String::from_utf8(on_disk("assets/web/style.css")).unwrap();
    let mut open: Vec<(String, usize)> = Vec::new();
    let mut text = String::new();
    let mut rest = css.as_str();
    let mut line = 1;
    while let Some(c) = rest.chars().next() {
        if rest.starts_with("/*") {
            let end = rest.find("*/").expect("a comment closes") + 2;
            line += rest[..end].matches('\n').count();
            rest = &rest[end..];
            continue;
        }
        match c {
            '{' => {
                let selector = text.trim().to_string();
                if let Some((outer, at)) = open.last() {
                    assert!(
                        outer.starts_with('@'),
                        "style.css line {line}: {selector:?} opens inside {outer:?} (line {at}), \
                         which is never closed before it"
                    );
                }
                open.push((selector, line));
                text.clear();
            }
            '}' => {
                assert!(
                    open.pop().is_some(),
                    "style.css line {line}: a '}}' closes nothing"
                );
                text.clear();
            }
            ';' => text.clear(),
            '\n' => {
                line += 1;
                text.push(c);
            }
            _ => text.push(c),
        }
        rest = &rest[c.len_utf8()..];
    }
    assert!(open.is_empty(), "style.css ends inside {open:?}");
}

/// Every HTML, script and style file in assets/web is served, with its own bytes, and
/// everything index.html loads is one of them: a new file cannot be left out.
#[test]
fn every_page_file_is_served_and_the_page_loads_only_those() {
    let mut h = Harness::new();
    let mut pending = vec![std::path::PathBuf::from("assets/web")];
    let mut files = Vec::new();
    while let Some(dir) = pending.pop() {
        let full = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(&dir);
        for entry in std::fs::read_dir(full).unwrap() {
            let entry = entry.unwrap();
            let name = entry.file_name().into_string().unwrap();
            let path = dir.join(&name);
            if entry.file_type().unwrap().is_dir() {
                pending.push(path);
            } else if [".html", ".js", ".css"]
                .iter()
                .any(|ext| name.ends_with(ext))
            {
                files.push(path.to_str().unwrap().to_string());
            }
        }
    }
    assert!(files.len() >= 8, "{files:?}");
    for file in &files {
        let route = match file.strip_prefix("assets/web").unwrap() {
            "/index.html" => "/",
            other => other,
        };
        let served = h.page_file(route);
        assert_eq!(served.status, 200, "{file} is not served at {route}");
        assert_eq!(served.body, on_disk(file), "{route} is not {file}");
    }
    let index = String::from_utf8(on_disk("assets/web/index.html")).unwrap();
    for attr in ["src=\"", "href=\""] {
        for found in index.split(attr).skip(1) {
            let target = found.split('"').next().unwrap();
            if target.starts_with('/') {
                assert_eq!(h.page_file(target).status, 200, "index.html loads {target}");
            }
        }
    }
}

/// The value of `const NAME = A * B ...;` in a page script.
fn page_constant(script: &str, name: &str) -> Option<usize> {
    let start = script.find(&format!("const {name} = "))? + name.len() + 9;
    let expression = script.get(start..)?.split(';').next()?;
    expression
        .split('*')
        .map(|factor| factor.trim().parse::<usize>().ok())
        .product()
}

#[test]
fn the_page_knows_the_actors_body_limits() {
    let app = include_str!("../../assets/web/app.js");
    let transfer = include_str!("../../assets/web/transfer.js");
    assert_eq!(
        page_constant(app, "MAX_BODY_BYTES"),
        Some(crate::http::MAX_BODY_BYTES)
    );
    assert_eq!(
        page_constant(transfer, "MAX_IMPORT_BYTES"),
        Some(crate::http::MAX_IMPORT_BYTES)
    );
}
