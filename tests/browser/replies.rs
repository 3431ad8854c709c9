//! Replies: one in progress with Stop, Markdown rendering with its HTML kept as text, and a
//! failed reply that says why, also after a reload.

use crate::common::browser::{Browser, MESSAGES};
use crate::common::fake_openai::FakeOpenAi;
use crate::common::{self, free_port, package_manifest, wait_until, Client, Theater};
use serde_json::json;
use std::time::Duration;

#[test]
#[ignore = "needs Theater 0.2.1, Chromium and the built package; run scripts/test"]
fn a_reply_in_progress_shows_and_can_be_stopped() {
    const KEY: &str = "sk-browser-test-key-0123456789";
    let manifest = package_manifest();
    let fake = FakeOpenAi::start(KEY);
    let base_url = fake.base_url();
    let mut theater = Theater::start(&[("OPENAI_API_KEY", KEY), ("OPENAI_BASE_URL", &base_url)]);
    let port = free_port();
    theater.start_actor(
        &manifest,
        &json!({ "port": port, "store_id": "browser-workers" }),
    );
    let client = Client::new(port);
    client.wait_ready(&theater);
    let chat = client.expect(
        201,
        "POST",
        "/api/chats",
        Some(json!({ "title": "Held", "provider": "openai", "model": "fake-hold" })),
    );
    let id = chat["id"].as_str().unwrap();

    let browser = Browser::start();
    browser.goto(&format!("http://127.0.0.1:{port}/#{id}"));
    browser.wait_for(
        "the page to load",
        "return document.body.dataset.ready === '1';",
    );
    browser.type_into("[data-testid=composer]", "Think hard\u{E007}");
    browser.wait_for(
        "the progress indicator with Stop",
        "return !!document.querySelector('[data-testid=thinking] [data-testid=stop]');",
    );
    wait_until(
        "the worker never reached the provider",
        Duration::from_secs(30),
        || fake.holding() == 1,
        || theater.server_log(),
    );
    // The page stays usable: the sidebar still lists and opens chats.
    assert!(
        browser.eval("return document.querySelectorAll('[data-testid=chat-item]').length;")
            == json!(1)
    );
    browser.screenshot("generating");
    browser.click("[data-testid=stop]");
    browser.wait_for(
        "the indicator to go",
        "return !document.querySelector('[data-testid=thinking]');",
    );
    let shown = browser.eval(MESSAGES);
    assert_eq!(shown, json!([["user", "Think hard"]]));
    assert_eq!(
        client.expect(200, "GET", &format!("/api/generation?chat={id}"), None)["generation"]
            ["status"],
        "stopped"
    );
    // The question left without an answer says so, and offers to get one.
    browser.wait_for(
        "the unanswered question's notice",
        "const n = document.querySelector('[data-testid=unanswered]'); \
         return !!n && n.textContent.includes('No reply to this message yet');",
    );

    // Once the provider answers, the asked-for reply arrives by itself (socket or poll).
    fake.release();
    browser.click("[data-testid=ask-reply]");
    browser.wait_for(
        "the reply to the stopped question",
        "return document.querySelectorAll('[data-testid=message][data-role=assistant]').length === 1 \
           && !document.querySelector('[data-testid=unanswered]');",
    );
    let shown = browser.eval(MESSAGES);
    assert!(
        shown[1][1].as_str().unwrap().contains("Think hard"),
        "{shown}"
    );
    browser.type_into("[data-testid=composer]", "Now answer\u{E007}");
    browser.wait_for(
        "the reply",
        "return document.querySelectorAll('[data-testid=message][data-role=assistant]').length === 2;",
    );
    let shown = browser.eval(MESSAGES);
    assert_eq!(shown[2], json!(["user", "Now answer"]));
    assert!(
        shown[3][1].as_str().unwrap().contains("Now answer"),
        "{shown}"
    );
    // The stopped generation's late answer was dropped, not shown.
    assert_eq!(shown.as_array().unwrap().len(), 4);
    assert_eq!(
        browser.eval("return !!document.querySelector('[data-testid=unanswered]');"),
        json!(false)
    );
}

#[test]
#[ignore = "needs Theater 0.2.1, Chromium and the built package; run scripts/test"]
fn a_reply_renders_as_markdown_and_its_html_stays_text() {
    const KEY: &str = "sk-browser-markdown-key-0123456789";
    let (fake, theater, client, port) = common::serve_with_fake_openai(KEY, "browser-markdown");
    // `fake-echo` answers with the user's message verbatim: the test writes the reply.
    let chat = client.expect(
        201,
        "POST",
        "/api/chats",
        Some(json!({ "title": "Markdown", "provider": "openai", "model": "fake-echo" })),
    );
    let id = chat["id"].as_str().unwrap().to_string();
    // An image on a server the test watches: the page must never fetch it.
    let pixel = format!("http://127.0.0.1:{}/pixel.png", fake.port);
    let long_line = format!("let long = \"{}\";", "x".repeat(400));
    let reply = format!(
        "Here is a list:\n\
         \n\
         - first item\n\
         - second item\n\
         \n\
         | Name | Value |\n\
         |------|------:|\n\
         | a    | 1     |\n\
         \n\
         ```rust\n\
         fn main() {{\n    println!(\"hi <b>\");\n}}\n\
         {long_line}\n\
         ```\n\
         \n\
         Hostile: <img src=x onerror=\"document.body.dataset.pwned='img'\"> and \
         <script>document.body.dataset.pwned='script'</script>\n\
         \n\
         [click me](javascript:document.body.dataset.pwned=1) and \
         <javascript:document.body.dataset.pwned=2> and [data](data:text/html,<b>x</b>)\n\
         \n\
         raw <b>html</b> and <a href=\"javascript:document.body.dataset.pwned='a'\">a link</a>\n\
         \n\
         ![tracker]({pixel})\n\
         \n\
         [safe](https://example.com/docs)\n"
    );
    client.expect(
        201,
        "POST",
        &format!("/api/messages?chat={id}"),
        Some(json!({ "content": reply })),
    );
    client.expect(202, "POST", &format!("/api/reply?chat={id}"), None);
    wait_until(
        "the fake model's reply",
        Duration::from_secs(30),
        || client.history(&id).len() == 2,
        || theater.server_log(),
    );

    let browser = Browser::start();
    browser.goto(&format!("http://127.0.0.1:{port}/#{id}"));
    browser.wait_for(
        "the page to load",
        "return document.body.dataset.ready === '1';",
    );
    browser.wait_for(
        "the reply",
        "return !!document.querySelector('[data-testid=message][data-role=assistant] .md');",
    );
    assert_eq!(
        browser.eval(
            "return [typeof window.markdownit, typeof window.renderMarkdown, \
             !!document.querySelector('[data-testid=message][data-role=assistant] .md-plain')];"
        ),
        json!(["function", "function", false]),
        "markdown-it loaded under the page's CSP"
    );

    // What a user sees: a list, a table, a labelled code block with Copy.
    let seen = browser.eval(
        "const c = document.querySelector('[data-testid=message][data-role=assistant] [data-testid=message-content]'); \
         const code = c.querySelector('.md-code'); \
         return { \
           items: Array.from(c.querySelectorAll('ul > li')).map(li => li.textContent), \
           headers: Array.from(c.querySelectorAll('table thead th')).map(th => th.textContent), \
           cells: Array.from(c.querySelectorAll('table tbody td')).map(td => td.textContent), \
           right: c.querySelector('table tbody td:last-child').className, \
           lang: code && code.querySelector('[data-testid=code-lang]').textContent, \
           copy: code && code.querySelector('button[data-testid=copy-code]').textContent, \
           code: code && code.querySelector('pre > code').textContent, \
           text: c.textContent };",
    );
    assert_eq!(seen["items"], json!(["first item", "second item"]));
    assert_eq!(seen["headers"], json!(["Name", "Value"]));
    assert_eq!(seen["cells"], json!(["a", "1"]));
    assert_eq!(seen["right"], "md-align-right");
    assert_eq!(seen["lang"], "rust");
    assert_eq!(seen["copy"], "Copy");
    assert_eq!(
        seen["code"],
        format!("fn main() {{\n    println!(\"hi <b>\");\n}}\n{long_line}\n")
    );
    // The hostile parts are there, as the text the model wrote.
    let text = seen["text"].as_str().unwrap();
    for shown in [
        "<img src=x onerror=\"document.body.dataset.pwned='img'\">",
        "<script>document.body.dataset.pwned='script'</script>",
        "[click me](javascript:document.body.dataset.pwned=1)",
        "<javascript:document.body.dataset.pwned=2>",
        "[data](data:text/html,<b>x</b>)",
        "raw <b>html</b> and",
        "<a href=\"javascript:document.body.dataset.pwned='a'\">a link</a>",
    ] {
        assert!(
            text.contains(shown),
            "{shown:?} is not shown as text in {text:?}"
        );
    }
    // ... and none of it is an element, a script, a live link or a loaded image.
    let inert = browser.eval(
        "const m = document.querySelector('[data-testid=messages]'); \
         return { \
           pwned: document.body.dataset.pwned || null, \
           elements: m.querySelectorAll('img, script, iframe, object, embed, b, [style], [onerror]').length, \
           bad_links: document.querySelectorAll('a[href^=javascript i], a[href^=data i], a[href^=vbscript i]').length, \
           links: Array.from(m.querySelectorAll('a')).map(a => [a.getAttribute('href'), a.textContent, a.target, a.rel]), \
           images: performance.getEntriesByType('resource').filter(r => r.name.includes('pixel')).length };",
    );
    assert_eq!(inert["pwned"], json!(null), "{inert}");
    assert_eq!(inert["elements"], 0, "{inert}");
    assert_eq!(inert["bad_links"], 0, "{inert}");
    assert_eq!(inert["images"], 0, "{inert}");
    let rel = "noopener noreferrer nofollow";
    assert_eq!(
        inert["links"],
        json!([
            [pixel, "Image: tracker", "_blank", rel],
            ["https://example.com/docs", "safe", "_blank", rel]
        ])
    );
    assert!(
        fake.requests().iter().all(|r| !r.target.contains("pixel")),
        "the page fetched the image"
    );

    // The user's own message is plain text, exactly as typed.
    let user = browser.eval(
        "const c = document.querySelector('[data-testid=message][data-role=user] [data-testid=message-content]'); \
         return [c.textContent, c.querySelectorAll('*').length, getComputedStyle(c).whiteSpace];",
    );
    assert_eq!(user, json!([reply, 0, "pre-wrap"]));

    // A long code line scrolls inside its block; the page does not widen.
    let layout = browser.eval(
        "const pre = document.querySelector('.md-code pre'); \
         const msg = document.querySelector('[data-testid=message][data-role=assistant]'); \
         const bubble = msg.querySelector('.bubble'); \
         return { scrolls: pre.scrollWidth > pre.clientWidth, \
                  bubble_right: bubble.getBoundingClientRect().right, \
                  msg_right: msg.getBoundingClientRect().right, \
                  doc_width: document.documentElement.scrollWidth, window: window.innerWidth };",
    );
    assert_eq!(layout["scrolls"], true, "{layout}");
    assert!(
        layout["bubble_right"].as_f64() <= layout["msg_right"].as_f64().map(|r| r + 1.0),
        "{layout}"
    );
    assert!(
        layout["doc_width"].as_f64() <= layout["window"].as_f64(),
        "{layout}"
    );
    browser.eval("document.querySelector('.md-code').scrollIntoView();");
    browser.screenshot("markdown");
    browser.color_scheme("dark");
    browser.screenshot("markdown-dark");
    browser.color_scheme("light");

    // Copy puts the code on the clipboard (or the textarea fallback) and says so.
    browser.click("[data-testid=copy-code]");
    let copied = browser.wait_for(
        "the Copy button to answer",
        "const b = document.querySelector('[data-testid=copy-code]'); \
         return b.textContent !== 'Copy' && b.textContent;",
    );
    assert_eq!(copied, "Copied");
    browser.wait_for(
        "the Copy button to reset",
        "return document.querySelector('[data-testid=copy-code]').textContent === 'Copy';",
    );

    // Without markdown-it (it failed to load), a reply is plain text.
    browser.eval(
        "window.markdownit = undefined; const s = document.createElement('script'); \
         s.src = '/markdown.js?again'; s.onload = () => { document.body.dataset.reloaded = '1'; }; \
         document.head.append(s);",
    );
    browser.wait_for(
        "markdown.js to load again",
        "return document.body.dataset.reloaded === '1';",
    );
    let fallback = browser.eval(
        "const d = window.renderMarkdown('- **not** a list <b>x</b>'); \
         return [d.className, d.textContent, d.children.length];",
    );
    assert_eq!(
        fallback,
        json!(["md md-plain", "- **not** a list <b>x</b>", 0])
    );
}

/// A failed reply says why, and still says it after a reload: the page asks the server
/// how the chat's last reply ended, rather than only noting that none came.
#[test]
#[ignore = "needs Theater 0.2.1, Chromium and the built package; run scripts/test"]
fn a_failed_reply_says_why_after_a_reload_too() {
    const KEY: &str = "sk-browser-test-key-0123456789";
    let (_fake, _theater, client, port) = common::serve_with_fake_openai(KEY, "browser-failed");
    let chat = client.expect(
        201,
        "POST",
        "/api/chats",
        Some(json!({ "title": "Failing", "provider": "openai", "model": "fake-500" })),
    );
    let id = chat["id"].as_str().unwrap();
    let url = format!("http://127.0.0.1:{port}/#{id}");
    const NOTICE: &str = "const e = document.querySelector('[data-testid=error] .notice-text'); \
        return [e ? e.textContent : null, !!document.querySelector('[data-testid=retry]'), \
                !!document.querySelector('[data-testid=unanswered]')];";

    let browser = Browser::start();
    browser.goto(&url);
    browser.wait_for(
        "the page to load",
        "return document.body.dataset.ready === '1';",
    );
    browser.type_into("[data-testid=composer]", "Hello\u{E007}");
    browser.wait_for(
        "the failure",
        "return !!document.querySelector('[data-testid=error]');",
    );
    let seen = browser.eval(NOTICE);
    assert_eq!(
        (seen[1].clone(), seen[2].clone()),
        (json!(true), json!(false)),
        "{seen}"
    );
    // The server's reason, starting the sentence after "No reply.".
    assert_eq!(
        seen[0],
        json!("No reply. The provider failed (500): The server had an error"),
    );

    browser.goto(&format!("http://127.0.0.1:{port}/?again#{id}"));
    browser.wait_for(
        "the page to load again",
        "return document.body.dataset.ready === '1' \
           && document.querySelectorAll('[data-testid=message]').length === 1;",
    );
    browser.wait_for(
        "the failure again",
        "return !!document.querySelector('[data-testid=error]');",
    );
    assert_eq!(browser.eval(NOTICE), seen);
}
