//! The simulator's only way in: autolearn's HTTP API (signed webhooks, admin routes with the
//! local bearer token) and the emulator's own data API for reading sent emails back.

use std::time::Duration;

use autolearn_web::signature::{SIGNATURE_HEADER, TIMESTAMP_HEADER, WebhookAuth};
use reqwest::{Method, StatusCode};
use serde_json::Value;

pub type Error = Box<dyn std::error::Error + Send + Sync>;

#[derive(Clone)]
pub struct Api {
    http: reqwest::Client,
    base: String,
    admin_token: String,
    auth: WebhookAuth,
}

impl Api {
    pub fn new(base: &str, admin_token: &str, webhook_secret: &str) -> Result<Self, Error> {
        let http = reqwest::Client::builder().timeout(Duration::from_secs(60)).build()?;
        Ok(Self {
            http,
            base: base.trim_end_matches('/').to_owned(),
            admin_token: admin_token.to_owned(),
            auth: WebhookAuth::new(webhook_secret),
        })
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    /// POSTs a signed webhook body (timestamped with the real clock, as the server checks);
    /// retried on transport errors and 5xx (the routes are idempotent).
    pub async fn signed(&self, path: &str, body: &Value) -> Result<Value, Error> {
        let bytes = serde_json::to_vec(body)?;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let timestamp = chrono::Utc::now().timestamp();
            let result = self
                .http
                .post(format!("{}{path}", self.base))
                .header("content-type", "application/json")
                .header(TIMESTAMP_HEADER, timestamp.to_string())
                .header(SIGNATURE_HEADER, self.auth.sign(timestamp, &bytes))
                .body(bytes.clone())
                .send()
                .await;
            match answer(result).await {
                Err(Failure::Retry(why)) if attempt < 6 => {
                    tokio::time::sleep(Duration::from_millis(100 * attempt)).await;
                    let _ = why;
                }
                Err(failure) => return Err(format!("POST {path}: {failure}").into()),
                Ok(value) => return Ok(value),
            }
        }
    }

    /// An admin request with the local bearer token.
    pub async fn admin(&self, method: Method, path: &str, body: Option<&Value>) -> Result<Value, Error> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let mut request = self
                .http
                .request(method.clone(), format!("{}{path}", self.base))
                .bearer_auth(&self.admin_token);
            if let Some(body) = body {
                request = request.json(body);
            }
            match answer(request.send().await).await {
                Err(Failure::Retry(_)) if attempt < 6 && method == Method::GET => {
                    tokio::time::sleep(Duration::from_millis(100 * attempt)).await;
                }
                Err(failure) => return Err(format!("{method} {path}: {failure}").into()),
                Ok(value) => return Ok(value),
            }
        }
    }

    /// Every SES message the emulator holds from `sender`, oldest first.
    pub async fn sent_emails(&self, aws_endpoint: &str, sender: &str) -> Result<Vec<Value>, Error> {
        let url = format!("{}/moto-api/data.json", aws_endpoint.trim_end_matches('/'));
        let data: Value = self.http.get(url).send().await?.error_for_status()?.json().await?;
        let mut found = Vec::new();
        collect_messages(&data["ses"], sender, &mut found);
        Ok(found)
    }
}

enum Failure {
    Retry(String),
    Final(String),
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Retry(why) | Failure::Final(why) => f.write_str(why),
        }
    }
}

async fn answer(result: reqwest::Result<reqwest::Response>) -> Result<Value, Failure> {
    let response = result.map_err(|error| Failure::Retry(error.to_string()))?;
    let status = response.status();
    let text = response.text().await.map_err(|error| Failure::Retry(error.to_string()))?;
    if status.is_success() {
        return serde_json::from_str(&text)
            .map_err(|error| Failure::Final(format!("{status}: {error}: {text}")));
    }
    let why = format!("{status}: {text}");
    if status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS {
        Err(Failure::Retry(why))
    } else {
        Err(Failure::Final(why))
    }
}

/// SES messages in the emulator's data dump: objects whose `source` is the sender.
fn collect_messages(value: &Value, sender: &str, found: &mut Vec<Value>) {
    match value {
        Value::Object(map) => {
            if map.get("source").and_then(Value::as_str) == Some(sender) {
                found.push(value.clone());
                return;
            }
            map.values().for_each(|v| collect_messages(v, sender, found));
        }
        Value::Array(items) => items.iter().for_each(|v| collect_messages(v, sender, found)),
        _ => {}
    }
}
