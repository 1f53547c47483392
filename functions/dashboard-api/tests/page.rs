//! `GET /admin/ai/learning`: the server-rendered page, its Content-Security-Policy, escaping of
//! customer text, the review forms, and a real headless Chromium loading it.

mod common;

use std::process::Stdio;

use autolearn_model::{Counter, Evidence, EvidenceKind, UsageCounts};
use autolearn_testkit::fixtures;
use autolearn_testkit::http::send;
use base64::Engine;
use chrono::{Duration, Utc};
use common::*;
use sha2::{Digest, Sha256};

const XSS: &str =
    "<script>document.title='pwned';alert(1)</script><img src=x onerror=\"document.title='pwned'\">";
const XSS_EXAMPLE: &str = "\"><svg onload=alert(2)>";

async fn seed(dash: &Dash) {
    let today = today();
    dash.add(
        today - Duration::days(2),
        0,
        &[
            (Counter::Executions, 10),
            (Counter::Matched, 7),
            (Counter::Gaps, 3),
            (Counter::Skill("pricing".into()), 4),
            (Counter::PlaybookEntry("pb-1".into()), 2),
            (Counter::Sent, 5),
            (Counter::Unedited, 3),
            (Counter::LightlyEdited, 1),
            (Counter::Rewritten, 1),
            (Counter::EditDistanceMicros, 900_000),
        ],
    )
    .await;
    dash.add(
        today,
        1,
        &[(Counter::Executions, 5), (Counter::Matched, 5), (Counter::Sent, 2), (Counter::Unedited, 2)],
    )
    .await;
    let at = Utc::now() - Duration::days(1);
    let mut intent = fixtures::intent("intent-maint", "MAINTENANCE_REQUEST", at);
    intent.usage = UsageCounts { hit_count: 6, sent_count: 5, unedited_count: 4 };
    dash.store.create(&intent).await.unwrap();
    dash.store.create(&fixtures::playbook_entry("pb-1", at)).await.unwrap();
    let mut proposal = fixtures::proposal("p-xss", "session-1", at);
    proposal.proposal.examples.push(XSS_EXAMPLE.into());
    proposal.proposal.evidence.push(Evidence {
        kind: EvidenceKind::SimilarMessage,
        note: None,
        edit: None,
        conversation_id: "conv-evil".into(),
        id: "exec-evil".into(),
        text: Some(XSS.into()),
        score: Some(0.91),
    });
    dash.store.create(&proposal).await.unwrap();
}

fn style_of(html: &str) -> &str {
    let start = html.find("<style>").expect("a style element") + "<style>".len();
    let end = html[start..].find("</style>").expect("style closes") + start;
    &html[start..end]
}

#[tokio::test]
async fn the_page_escapes_customer_text_and_runs_no_script() {
    let dash = Dash::new().await;
    seed(&dash).await;
    let reply = dash.admin("GET", "/admin/ai/learning?days=14", "").await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.headers["content-type"], "text/html; charset=utf-8");
    let html = &reply.text;

    for section in
        ["learning-health", "active-config", "pending-proposals", "feedback-timeline", "experiments"]
    {
        assert!(html.contains(&format!("<section id=\"{section}\"")), "section {section} missing");
    }
    for chart in ["chart-quality", "chart-gaps", "chart-edits"] {
        assert!(html.contains(&format!("<svg id=\"{chart}\"")), "chart {chart} missing");
    }
    assert!(html.contains("<svg class=\"bar progress\""), "experiment progress bars missing");
    for metric in
        ["intent-coverage", "draft-accuracy", "learning-velocity", "skill-utilization", "playbook-hit-rate"]
    {
        assert!(html.contains(&format!("id=\"metric-{metric}\"")), "metric {metric} missing");
    }
    // Coverage 12 of 15.
    assert!(html.contains("<strong id=\"coverage-score\">80.0%</strong>"));

    // Customer text is escaped, never markup.
    let escaped = "&#60;script&#62;document.title=&#39;pwned&#39;;alert(1)&#60;/script&#62;\
                   &#60;img src=x onerror=&#34;document.title=&#39;pwned&#39;&#34;&#62;";
    assert!(html.contains(escaped), "escaped payload not found");
    assert!(!html.contains("<script"), "a script element in the page");
    assert!(!html.contains("<img"), "an img element in the page");
    assert!(!html.contains("<svg onload"), "the example broke out");

    // The policy: nothing but the page's own style (by hash), data: images and forms to itself.
    let csp = reply.headers["content-security-policy"].to_str().unwrap();
    let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(style_of(html).as_bytes()));
    assert_eq!(
        csp,
        format!(
            "default-src 'none'; style-src 'sha256-{hash}'; img-src data:; form-action 'self'; \
             frame-ancestors 'none'; base-uri 'none'"
        )
    );
    assert!(!csp.contains("unsafe") && !csp.contains("script-src"));
    assert_eq!(reply.headers["x-content-type-options"], "nosniff");
    assert_eq!(reply.headers["cache-control"], "no-store");
    // Same-origin referrers only: other sites learn nothing, and the page's form posts carry
    // their real Origin (no-referrer would make it `null`, which the cookie checks refuse).
    assert_eq!(reply.headers["referrer-policy"], "same-origin");
    // The forms post to this page's review routes.
    assert!(html.contains("action=\"/admin/ai/learning/proposals/p-xss/apply\""));
    assert!(html.contains("action=\"/admin/ai/learning/proposals/p-xss/reject\""));
}

#[tokio::test]
async fn the_review_forms_decide_and_redirect_back() {
    let dash = Dash::new().await;
    seed(&dash).await;
    let mut request =
        event("POST", "/admin/ai/learning/proposals/p-xss/reject", "note=dup+of+MAINT", Some(admin_claims()));
    request.headers_mut().insert("content-type", "application/x-www-form-urlencoded".parse().unwrap());
    request.headers_mut().insert("sec-fetch-site", "cross-site".parse().unwrap());
    let reply = send(&dash.router, request).await;
    assert_eq!(reply.status, 403, "{}", reply.text);

    let mut request =
        event("POST", "/admin/ai/learning/proposals/p-xss/reject", "note=dup+of+MAINT", Some(admin_claims()));
    request.headers_mut().insert("content-type", "application/x-www-form-urlencoded".parse().unwrap());
    request.headers_mut().insert("sec-fetch-site", "same-origin".parse().unwrap());
    let reply = send(&dash.router, request).await;
    assert_eq!(reply.status, 303, "{}", reply.text);
    assert_eq!(reply.headers["location"], "/admin/ai/learning");
    let stored = dash.store.proposal("p-xss").await.unwrap().unwrap();
    assert_eq!(stored.status, autolearn_model::ProposalStatus::Rejected);
    assert_eq!(stored.note.as_deref(), Some("dup of MAINT"));
    let page = dash.admin("GET", "/admin/ai/learning", "").await;
    assert!(page.text.contains("Nothing waiting for review."));
}

const CHROMIUM: &str = "/usr/bin/chromium";

/// Serves the router on a loopback port, the way `autolearn serve` does, with the local admin
/// token (a layer adds the header, as the admin's browser session would).
async fn serve(dash: &Dash, token: &'static str) -> std::net::SocketAddr {
    let router = dash.router.clone().layer(axum::middleware::map_request(
        move |mut request: axum::http::Request<axum::body::Body>| async move {
            request.headers_mut().insert("authorization", format!("Bearer {token}").parse().unwrap());
            request
        },
    ));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    address
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn headless_chromium_shows_the_page_and_the_payload_as_text() {
    assert!(
        std::path::Path::new(CHROMIUM).exists(),
        "{CHROMIUM} is missing: run scripts/install-chromium.sh (make test does) to install Debian's chromium"
    );
    let token = "browser-test-token-0123456789";
    let dash = Dash::with_token(Some(token)).await;
    seed(&dash).await;
    let address = serve(&dash, token).await;
    let url = format!("http://{address}/admin/ai/learning?days=14");
    let profile = std::env::temp_dir().join(autolearn_testkit::unique_name("chromium-profile"));
    let screenshot = profile.join("page.png");
    std::fs::create_dir_all(&profile).unwrap();
    let chromium = |extra: Vec<String>| {
        let mut command = tokio::process::Command::new(CHROMIUM);
        command
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-extensions",
                "--no-first-run",
                "--no-default-browser-check",
                "--enable-logging=stderr",
                "--v=0",
                "--virtual-time-budget=3000",
            ])
            .arg(format!("--user-data-dir={}", profile.display()))
            .args(extra)
            .arg(&url)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        command
    };
    let output = tokio::time::timeout(
        std::time::Duration::from_secs(90),
        chromium(vec!["--dump-dom".into()]).output(),
    )
    .await
    .expect("chromium finished in time")
    .expect("chromium runs");
    let dom = String::from_utf8_lossy(&output.stdout);
    let log = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success() && dom.contains("</html>"), "chromium failed: {log}");

    // The page as the browser built it: five sections, the charts, the proposal's buttons.
    for section in
        ["learning-health", "active-config", "pending-proposals", "feedback-timeline", "experiments"]
    {
        assert!(
            dom.contains(&format!("<section id=\"{section}\"")),
            "section {section} missing from the DOM"
        );
    }
    for chart in ["chart-quality", "chart-gaps", "chart-edits"] {
        assert!(dom.contains(&format!("id=\"{chart}\"")), "chart {chart} missing from the DOM");
    }
    assert!(dom.contains("<polyline class=\"line-coverage\""), "coverage line missing");
    assert!(dom.contains("class=\"seg-unedited\""), "edit bars missing");
    assert!(dom.contains("<button class=\"apply\" type=\"submit\">Apply</button>"));

    // The payload is text: the title is untouched, no element came out of it, and its text is
    // in the DOM (serialised escaped, as text nodes are).
    assert!(dom.contains("<title>Learning dashboard</title>"), "the title changed: a script ran");
    assert!(!dom.contains("pwned</title>"));
    assert!(!dom.contains("<script"), "a script element in the DOM");
    assert!(!dom.contains("<img"), "an img element in the DOM");
    assert!(!dom.contains("<svg onload"), "the example became an element");
    assert!(
        dom.contains("&lt;script&gt;document.title='pwned';alert(1)&lt;/script&gt;&lt;img src=x onerror=\"document.title='pwned'\"&gt;"),
        "the payload is not shown as text"
    );
    // The page's style passed the CSP (Chromium logs refused resources to the console).
    assert!(!log.contains("Content Security Policy"), "CSP violations: {log}");

    // A screenshot at phone width renders too.
    let output = tokio::time::timeout(
        std::time::Duration::from_secs(90),
        chromium(vec![format!("--screenshot={}", screenshot.display()), "--window-size=390,1600".into()])
            .output(),
    )
    .await
    .expect("chromium finished in time")
    .expect("chromium runs");
    assert!(output.status.success(), "screenshot failed: {}", String::from_utf8_lossy(&output.stderr));
    let png = std::fs::read(&screenshot).expect("a screenshot");
    assert!(png.starts_with(b"\x89PNG") && png.len() > 5_000, "screenshot looks empty ({} bytes)", png.len());
    // Kept for a person to look at when asked: AUTOLEARN_SCREENSHOT_DIR=/some/dir.
    if let Ok(dir) = std::env::var("AUTOLEARN_SCREENSHOT_DIR") {
        std::fs::copy(&screenshot, std::path::Path::new(&dir).join("learning-phone.png")).unwrap();
    }
    let _ = std::fs::remove_dir_all(&profile);
}
