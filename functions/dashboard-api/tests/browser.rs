//! A real headless Chromium, driven over the DevTools protocol, signs in through the login flow
//! against a local issuer whose keys this test generates (served as `localhost`, another site
//! than the dashboard on 127.0.0.1, so the issuer's redirect back is cross-site as with
//! Cognito), lands on the page the link asked for, applies a proposal with the page's own form
//! and sees it applied. Then a page of another site posts the same form, with the session's
//! real token, and is refused. No network beyond loopback.

mod common;

use std::process::Stdio;
use std::time::Duration;

use autolearn_model::ProposalStatus;
use autolearn_testkit::fixtures;
use axum::response::Html;
use axum::routing::get;
use chrono::Utc;
use common::*;
use dashboard_api::session::SessionKey;
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio_tungstenite::tungstenite::Message;

const CHROMIUM: &str = "/usr/bin/chromium";
/// A bound on each wait, so that a broken flow fails instead of hanging (not a speed check).
const PATIENCE: Duration = Duration::from_secs(60);

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A DevTools client attached to one page.
struct Browser {
    socket: Socket,
    next_id: u64,
    session: String,
    _process: tokio::process::Child,
    profile: std::path::PathBuf,
}

impl Browser {
    async fn launch() -> Self {
        assert!(
            std::path::Path::new(CHROMIUM).exists(),
            "{CHROMIUM} is missing: run scripts/install-chromium.sh (make test does) to install Debian's chromium"
        );
        let profile = std::env::temp_dir().join(autolearn_testkit::unique_name("chromium-signin"));
        std::fs::create_dir_all(&profile).unwrap();
        let mut process = tokio::process::Command::new(CHROMIUM)
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
                "--remote-debugging-port=0",
            ])
            .arg(format!("--user-data-dir={}", profile.display()))
            .arg("about:blank")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("chromium starts");
        let mut lines = BufReader::new(process.stderr.take().unwrap()).lines();
        let endpoint = tokio::time::timeout(PATIENCE, async {
            while let Some(line) = lines.next_line().await.unwrap() {
                if let Some(url) = line.strip_prefix("DevTools listening on ") {
                    return url.trim().to_owned();
                }
            }
            panic!("chromium exited without a DevTools endpoint");
        })
        .await
        .expect("chromium announced its DevTools endpoint");
        // Keep draining its log so that it never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        let (socket, _) =
            tokio_tungstenite::connect_async(endpoint.as_str()).await.expect("DevTools connects");
        let mut browser = Self { socket, next_id: 0, session: String::new(), _process: process, profile };
        let target = browser.call(None, "Target.createTarget", json!({"url": "about:blank"})).await;
        let attached = browser
            .call(None, "Target.attachToTarget", json!({"targetId": target["targetId"], "flatten": true}))
            .await;
        browser.session = attached["sessionId"].as_str().unwrap().to_owned();
        browser
    }

    /// One DevTools command; its result (events in between are skipped).
    async fn call(&mut self, session: Option<&str>, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let mut command = json!({"id": id, "method": method, "params": params});
        if let Some(session) = session {
            command["sessionId"] = json!(session);
        }
        self.socket.send(Message::Text(command.to_string().into())).await.unwrap();
        loop {
            let message = tokio::time::timeout(PATIENCE, self.socket.next())
                .await
                .expect("DevTools answered")
                .expect("the DevTools socket is open")
                .unwrap();
            let Message::Text(text) = message else { continue };
            let reply: Value = serde_json::from_str(text.as_str()).unwrap();
            if reply["id"] == json!(id) {
                if let Some(error) = reply.get("error") {
                    return json!({"error": error});
                }
                return reply["result"].clone();
            }
        }
    }

    async fn page(&mut self, method: &str, params: Value) -> Value {
        let session = self.session.clone();
        self.call(Some(&session), method, params).await
    }

    /// Evaluates `expression` in the page; `None` while a navigation replaces the document.
    async fn eval(&mut self, expression: &str) -> Option<Value> {
        let result =
            self.page("Runtime.evaluate", json!({"expression": expression, "returnByValue": true})).await;
        if result.get("error").is_some() || result.get("exceptionDetails").is_some() {
            return None;
        }
        Some(result["result"]["value"].clone())
    }

    /// Waits until `condition` (a JS expression) holds in a fully loaded document.
    async fn wait_for(&mut self, condition: &str) {
        let expression = format!("document.readyState === 'complete' && !!({condition})");
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            if self.eval(&expression).await == Some(json!(true)) {
                return;
            }
            if tokio::time::Instant::now() > deadline {
                let now = self.eval("location.href + ' ' + document.body.innerText").await;
                panic!("waited in vain for {condition}; the page is {now:?}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn navigate(&mut self, url: &str) {
        let result = self.page("Page.navigate", json!({"url": url})).await;
        assert!(
            result.get("errorText").is_none() && result.get("error").is_none(),
            "navigate {url}: {result}"
        );
    }

    async fn text(&mut self, expression: &str) -> String {
        self.eval(expression).await.and_then(|value| value.as_str().map(str::to_owned)).unwrap_or_default()
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

/// A page of another site that posts the dashboard's apply form as soon as it loads.
fn evil_page(action: &str, csrf: &str) -> String {
    format!(
        "<!DOCTYPE html><html><body><form method=\"post\" action=\"{action}\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\"><button>Win a prize</button></form>\
         <script>document.forms[0].submit()</script></body></html>"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_signs_in_applies_with_the_form_and_another_site_cannot() {
    // The other site: the issuer (keys generated here) and a page that posts our form, which it
    // is told about once the dashboard's address and the session's token are known.
    let evil: std::sync::Arc<std::sync::Mutex<String>> = Default::default();
    let served = evil.clone();
    let other_site = axum::Router::new().route(
        "/evil",
        get(move || {
            let page = served.lock().unwrap().clone();
            async move { Html(page) }
        }),
    );
    let issuer = serve_issuer("localhost", other_site).await;
    let dash = Dash::with_sign_in(&issuer, SessionKey::generate()).await;
    for id in ["p-apply", "p-evil"] {
        dash.store.create(&fixtures::proposal(id, "session-1", Utc::now())).await.unwrap();
    }
    let address = serve_router(dash.router.clone()).await;
    let site = format!("http://{address}");
    let mut browser = Browser::launch().await;

    // The emailed link: no session yet, so the login flow runs (the dashboard, the issuer on
    // another site, the callback) and lands on the page the link named.
    let link = format!("{site}/admin/ai/learning?days=14");
    browser.navigate(&link).await;
    browser
        .wait_for(&format!("location.href === '{link}' && document.getElementById('pending-proposals')"))
        .await;
    let cookies = browser.page("Network.getCookies", json!({"urls": [site.clone()]})).await;
    let session = cookies["cookies"]
        .as_array()
        .unwrap()
        .iter()
        .find(|cookie| cookie["name"] == "__Host-autolearn-session")
        .unwrap_or_else(|| panic!("no session cookie in {cookies}"))
        .clone();
    assert_eq!(
        (session["httpOnly"].clone(), session["secure"].clone()),
        (json!(true), json!(true)),
        "{session}"
    );
    assert_eq!(session["sameSite"], "Strict", "{session}");
    assert!(!browser.text("document.title").await.is_empty());
    assert!(
        browser.eval("!!document.querySelector('form[action=\"/admin/logout\"]')").await == Some(json!(true))
    );

    // Apply with the page's own form.
    let apply = "form[action=\"/admin/ai/learning/proposals/p-apply/apply\"]";
    let token = browser.text(&format!("document.querySelector('{apply} input[name=csrf]').value")).await;
    assert!(token.len() >= 32, "the form carries the session's token: {token:?}");
    browser.eval(&format!("document.querySelector('{apply} button').click(), true")).await;
    browser
        .wait_for(&format!(
            "location.href === '{site}/admin/ai/learning' && !document.querySelector('{apply}')"
        ))
        .await;
    assert_eq!(dash.store.proposal("p-apply").await.unwrap().unwrap().status, ProposalStatus::Applied);
    let evil_form = "form[action=\"/admin/ai/learning/proposals/p-evil/apply\"]";
    assert!(browser.eval(&format!("!!document.querySelector('{evil_form}')")).await == Some(json!(true)));

    // Another site posts the same form, even with the session's real token: refused (the
    // SameSite=Strict cookie does not go along, and the origin checks would refuse it if it did).
    let action = format!("{site}/admin/ai/learning/proposals/p-evil/apply");
    *evil.lock().unwrap() = evil_page(&action, &token);
    let other = issuer.issuer.replace("/oidc", "/evil");
    browser.navigate(&other).await;
    browser.wait_for(&format!("location.href === '{action}'")).await;
    let answer = browser.text("document.body.innerText").await;
    assert!(answer.contains("an admin identity is required"), "{answer}");
    assert_eq!(dash.store.proposal("p-evil").await.unwrap().unwrap().status, ProposalStatus::Pending);

    // Back on the dashboard the session still works, and its form still applies.
    browser.navigate(&format!("{site}/admin/ai/learning")).await;
    browser.wait_for(&format!("document.querySelector('{evil_form}')")).await;
}
