//! What every browser test shares: ChromeDriver and a headless Chromium
//! started per test, the checks run on every page visited (console errors,
//! skip link, phone layout, axe-core), and small steps (fill, click and wait
//! for the next page, log in and out).

use fantoccini::{Client, ClientBuilder, Locator, wd::WebDriverCompatibleCommand};
use serde_json::{Value, json};
use std::{
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

pub fn chromedriver_path() -> Option<String> {
    if let Ok(p) = std::env::var("CHROMEDRIVER") {
        return Some(p);
    }
    ["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"]
        .iter()
        .find(|p| std::path::Path::new(p).exists())
        .map(|p| p.to_string())
}

pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

pub struct Driver {
    child: Child,
    _profile: tempfile::TempDir,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub async fn start_driver() -> Option<(Driver, Client)> {
    let Some(path) = chromedriver_path() else {
        assert!(
            !in_ci(),
            "CI must run the browser tests: install chromium and chromium-driver"
        );
        eprintln!("skipped: chromedriver not found (apt-get install chromium chromium-driver)");
        return None;
    };
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(path)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromedriver");
    let url = format!("http://127.0.0.1:{port}");
    let profile = tempfile::tempdir().unwrap();
    let binary = ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .iter()
        .find(|p| std::path::Path::new(p).exists())
        .copied()
        .unwrap_or("/usr/bin/chromium");
    let caps = json!({
        "browserName": "chrome",
        "goog:chromeOptions": {
            "binary": binary,
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-quic", "--no-first-run", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--window-size=1280,900", "--lang=en-GB",
                format!("--user-data-dir={}", profile.path().display()),
            ],
        },
        "goog:loggingPrefs": { "browser": "ALL" },
    });
    let caps = match caps {
        Value::Object(m) => m,
        _ => unreachable!(),
    };
    let start = Instant::now();
    let client = loop {
        match ClientBuilder::rustls()
            .unwrap()
            .capabilities(caps.clone())
            .connect(&url)
            .await
        {
            Ok(c) => break c,
            Err(e) => {
                assert!(
                    start.elapsed() < Duration::from_secs(30),
                    "cannot start a browser session: {e}"
                );
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    };
    Some((
        Driver {
            child,
            _profile: profile,
        },
        client,
    ))
}

/// ChromeDriver's browser log (console messages, failed loads, CSP reports).
#[derive(Debug)]
pub struct BrowserLog;

impl WebDriverCompatibleCommand for BrowserLog {
    fn endpoint(
        &self,
        base: &url::Url,
        session: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base.join(&format!("session/{}/se/log", session.unwrap_or_default()))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        (
            http::Method::POST,
            Some(r#"{"type":"browser"}"#.to_string()),
        )
    }
}

pub struct Checks {
    axe: Option<String>,
    pub pages: usize,
}

impl Checks {
    pub fn new() -> Self {
        let axe = std::env::var("AXE_CORE_PATH")
            .ok()
            .and_then(|p| std::fs::read_to_string(p).ok());
        if axe.is_none() {
            assert!(!in_ci(), "CI must provide axe-core (AXE_CORE_PATH)");
            eprintln!("note: AXE_CORE_PATH not set, accessibility rules not checked");
        }
        Self { axe, pages: 0 }
    }

    /// Checks every page must pass.
    pub async fn page(&mut self, c: &Client, what: &str) {
        self.pages += 1;
        // No console errors (JavaScript errors, failed resources, CSP violations).
        // A log that cannot be read fails the check: silence is no proof.
        let logs = c
            .issue_cmd(BrowserLog)
            .await
            .unwrap_or_else(|e| panic!("{what}: the browser log cannot be read: {e}"));
        let errors: Vec<&Value> = logs
            .as_array()
            .unwrap_or_else(|| panic!("{what}: the browser log is not a list: {logs}"))
            .iter()
            .filter(|e| e["level"] == "SEVERE")
            .collect();
        assert!(errors.is_empty(), "{what}: console errors: {errors:?}");
        // Keyboard: the first Tab lands on the skip link.
        c.execute(
            "document.activeElement && document.activeElement.blur(); window.scrollTo(0,0);",
            vec![],
        )
        .await
        .unwrap();
        let body = c.find(Locator::Css("body")).await.unwrap();
        body.send_keys("\u{E004}").await.unwrap();
        let focused = c
            .execute("return document.activeElement.className", vec![])
            .await
            .unwrap();
        assert_eq!(
            focused, "skip-link",
            "{what}: first Tab should reach the skip link"
        );
        // Focus is visible: the focused element draws an outline or a ring.
        let ring = c
            .execute(
                "const s = getComputedStyle(document.activeElement);
                 return (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0)
                     || s.boxShadow !== 'none'",
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(ring, json!(true), "{what}: keyboard focus is not visible");
        // One stylesheet, ours; no scripts; nothing from a CDN.
        let outside = c
            .execute(
                "const own = location.origin;
                 const sheets = [...document.querySelectorAll('link[rel=stylesheet]')];
                 const foreign = [...document.querySelectorAll('[src], link[href]')]
                   .map(e => e.src || e.href)
                   .filter(u => u && !u.startsWith(own) && !u.startsWith('data:'));
                 return { sheets: sheets.map(s => s.href), scripts: document.scripts.length,
                          foreign: foreign.filter(u => !document.querySelector(`img[src=\"${u}\"]`)) }",
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(
            outside["sheets"].as_array().map(Vec::len),
            Some(1),
            "{what}: {outside}"
        );
        assert_eq!(outside["scripts"], 0, "{what}: {outside}");
        assert_eq!(outside["foreign"], json!([]), "{what}: {outside}");
        // Every form control has a label.
        let unlabelled = c
            .execute(
                "return [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
                   .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label'))
                   .map(e => e.name)",
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(unlabelled, json!([]), "{what}: unlabelled form fields");
        // Fits a phone screen without sideways scrolling.
        c.set_window_size(375, 800).await.unwrap();
        let overflow = c
            .execute("return document.documentElement.scrollWidth - document.documentElement.clientWidth", vec![])
            .await
            .unwrap();
        assert!(
            overflow.as_i64().unwrap_or(1) <= 0,
            "{what}: wider than a phone screen by {overflow}px"
        );
        c.set_window_size(1280, 900).await.unwrap();
        // axe-core's rules, when available.
        if let Some(axe) = &self.axe {
            c.execute(axe, vec![]).await.unwrap();
            let loaded = c
                .execute("return typeof axe === 'object' && typeof axe.run", vec![])
                .await
                .unwrap();
            assert_eq!(loaded, json!("function"), "axe-core did not load");
            let result = c
                .execute_async(
                    "const done = arguments[arguments.length - 1];
                     axe.run(document, { resultTypes: ['violations'] })
                        .then(r => done(r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
                                          .map(v => v.id + ': ' + v.nodes.map(n => n.target.join(' ')).join(', '))))
                        .catch(e => done(['axe failed: ' + e]));",
                    vec![],
                )
                .await
                .unwrap();
            assert_eq!(result, json!([]), "{what}: accessibility violations");
        }
    }
}

pub async fn fill(c: &Client, name: &str, value: &str) {
    let e = c
        .find(Locator::Css(&format!("[name='{name}']")))
        .await
        .unwrap_or_else(|_| panic!("field {name}"));
    e.clear().await.ok();
    e.send_keys(value).await.unwrap();
}

/// Click something that loads a new page, and wait until that page is there
/// (a marker set on the old document disappears and the new one is loaded).
pub async fn click(c: &Client, css: &str) {
    let e = c
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|_| panic!("element {css}"));
    click_element(c, e, css).await;
}

/// The same for an element already found (`what` names it in failures).
pub async fn click_element(c: &Client, e: fantoccini::elements::Element, what: &str) {
    let css = what;
    c.execute("window.__old_page = true;", vec![])
        .await
        .unwrap();
    e.click().await.unwrap();
    let start = Instant::now();
    loop {
        let ready = c
            .execute(
                "return !window.__old_page && document.readyState === 'complete';",
                vec![],
            )
            .await
            .map(|v| v == json!(true))
            .unwrap_or(false);
        if ready {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "no new page after clicking {css}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

pub async fn text(c: &Client) -> String {
    c.find(Locator::Css("body"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

pub async fn log_in(c: &Client, base: &str, login: &str, password: &str) {
    c.goto(&format!("{base}/login")).await.unwrap();
    fill(c, "login", login).await;
    fill(c, "password", password).await;
    click(c, "main form button[type=submit]").await;
}

pub async fn log_out(c: &Client) {
    click(c, "header form[action='/logout'] button").await;
}

/// The `aria-pressed` state of the button in the form posting to `action_suffix`.
pub async fn pressed(c: &Client, action_suffix: &str) -> Option<String> {
    c.find(Locator::Css(&format!(
        "main form[action$='{action_suffix}'] button[aria-pressed]"
    )))
    .await
    .ok()?
    .attr("aria-pressed")
    .await
    .ok()?
}

/// After an action the page comes back at the post acted on (`#post-ID`),
/// where browsers also start keyboard navigation. The keyboard check wants
/// the page from its top: load the same page without the fragment.
pub async fn at_top(c: &Client) {
    let mut url = c.current_url().await.unwrap();
    url.set_fragment(None);
    c.goto(url.as_str()).await.unwrap();
}

/// Open a `<details>` disclosure (no page load).
pub async fn click_summary(c: &Client, css: &str) {
    c.find(Locator::Css(css))
        .await
        .unwrap_or_else(|_| panic!("element {css}"))
        .click()
        .await
        .unwrap();
}

/// Open every moderation disclosure on the page (no page load).
pub async fn open_group_tools(c: &Client) {
    c.execute(
        "document.querySelectorAll('details.group-mod').forEach(d => d.open = true);",
        vec![],
    )
    .await
    .unwrap();
}

/// Set a field's value directly (date and time pickers take typed keys
/// differently in each locale).
pub async fn set_value(c: &Client, name: &str, value: &str) {
    c.execute(
        "document.querySelector(`[name='${arguments[0]}']`).value = arguments[1];",
        vec![json!(name), json!(value)],
    )
    .await
    .unwrap();
}

/// Click a checkbox, radio button or `<option>` (nothing new loads).
pub async fn choose(c: &Client, css: &str) {
    c.find(Locator::Css(css))
        .await
        .unwrap_or_else(|_| panic!("element {css}"))
        .click()
        .await
        .unwrap();
}

/// Pick `value` in the `<select>` found by `css`.
pub async fn select(c: &Client, css: &str, value: &str) {
    c.find(Locator::Css(css))
        .await
        .unwrap_or_else(|_| panic!("element {css}"))
        .select_by_value(value)
        .await
        .unwrap();
}

/// Put a file from disk in the file input found by `css`.
pub async fn attach(c: &Client, css: &str, path: &std::path::Path) {
    c.find(Locator::Css(css))
        .await
        .unwrap_or_else(|_| panic!("element {css}"))
        .send_keys(path.to_str().unwrap())
        .await
        .unwrap();
}

/// The address of the page's download button.
pub async fn download_href(c: &Client) -> String {
    c.find(Locator::Css("main a[download]"))
        .await
        .unwrap()
        .attr("href")
        .await
        .unwrap()
        .unwrap()
}

/// Fetch `href` from the current page, as its download would: status,
/// Content-Type, Content-Disposition and the first 8 characters of the body.
pub async fn fetch_from_page(c: &Client, href: &str) -> Value {
    c.execute_async(
        "const done = arguments[arguments.length - 1];
         fetch(arguments[0]).then(async r => done([r.status, r.headers.get('content-type'),
             r.headers.get('content-disposition'), (await r.text()).slice(0, 8)]))
           .catch(e => done(['failed', String(e)]));",
        vec![serde_json::json!(href)],
    )
    .await
    .unwrap()
}
