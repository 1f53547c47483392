//! `autolearn serve`'s local sign-in, as `make demo`'s printed URL is used: the dashboard link
//! without a session goes through the local issuer (keys generated at start) and comes back to
//! the page with the session cookie; the local admin token still works for scripts.

mod common;

use autolearn_testkit::fresh_store;
use reqwest::redirect::Policy;

/// One hop, with the cookies collected so far; answers (status, location, set-cookies, body).
async fn hop(http: &reqwest::Client, url: &str, jar: &mut Vec<String>) -> (u16, Option<String>, String) {
    let mut request = http.get(url);
    if !jar.is_empty() {
        request = request.header("cookie", jar.join("; "));
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let location = response.headers().get("location").map(|value| value.to_str().unwrap().to_owned());
    for cookie in response.headers().get_all("set-cookie") {
        let pair = cookie.to_str().unwrap().split(';').next().unwrap().to_owned();
        let name = pair.split('=').next().unwrap().to_owned();
        jar.retain(|kept| !kept.starts_with(&format!("{name}=")));
        if !pair.ends_with('=') {
            jar.push(pair);
        }
    }
    (status, location, response.text().await.unwrap())
}

#[tokio::test]
async fn the_printed_dashboard_url_signs_the_local_admin_in_and_lands_on_the_page() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (issuer, sign_in) = autolearn_runner::local_sign_in(&base);
    let mut services = common::offline_services();
    services.store = fresh_store().await;
    services.admin.admins.admin_group = dashboard_api::DEFAULT_ADMIN_GROUP.into();
    services.admin.admins.local_admin_token = Some("local-token-0123456789".into());
    services.admin.sign_in = Some(sign_in);
    let app = autolearn_runner::all_routes(&services).into_router().merge(issuer.router());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let http = reqwest::Client::builder().redirect(Policy::none()).build().unwrap();
    let mut jar = Vec::new();
    let mut url = format!("{base}/admin/ai/learning?days=90");
    let mut visited = Vec::new();
    let body = loop {
        let (status, location, body) = hop(&http, &url, &mut jar).await;
        visited.push(format!("{status} {}", url.split('?').next().unwrap().trim_start_matches(&base)));
        match location {
            Some(next) if status == 303 => {
                url = if next.starts_with('/') { format!("{base}{next}") } else { next };
            }
            // The callback's page moves on by itself to the page asked for.
            _ if url.contains("/admin/callback") => {
                assert!(body.contains("href=\"/admin/ai/learning?days=90\""), "{body}");
                url = format!("{base}/admin/ai/learning?days=90");
            }
            _ => break body,
        }
        assert!(visited.len() < 8, "{visited:?}");
    };
    assert_eq!(
        visited,
        [
            "303 /admin/ai/learning",
            "303 /admin/login",
            "303 /local-oidc/authorize",
            "200 /admin/callback",
            "200 /admin/ai/learning",
        ]
    );
    assert!(body.contains("<h1>Learning dashboard</h1>") && body.contains("name=\"csrf\""), "{body}");
    assert!(jar.iter().any(|cookie| cookie.starts_with("__Host-autolearn-session=")), "{jar:?}");

    // Scripts keep the local admin token.
    let reply = http
        .get(format!("{base}/v1/learning/dashboard?days=7"))
        .bearer_auth("local-token-0123456789")
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 200);
}
