//! Fault injection under the AWS SDK: an HTTP client that wraps the real one and answers some
//! requests itself the way AWS does when it refuses them, so the code under test meets
//! DynamoDB's transaction conflicts and throttling, SES and EventBridge failures, on the
//! emulator (which applies requests one at a time and never refuses them on its own).
//!
//! It sits below the SDK's interceptors and retry loop, where AWS itself would be: a refused
//! request never reaches the emulator (a cancelled transaction applies nothing), and the SDK
//! classifies and retries the injected answers exactly as it would the real ones. An interceptor
//! could only rewrite a request that still goes out, or an answer to a request that was applied.
//! A "lost answer" fault does the opposite: the request is applied and its answer replaced by a
//! 500, as when a connection drops after DynamoDB committed.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use aws_sdk_dynamodb::config::http::{HttpRequest, HttpResponse};
use aws_sdk_dynamodb::config::{RuntimeComponents, SharedHttpClient};
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpConnector,
    http_client_fn,
};
use aws_smithy_types::body::SdkBody;

/// What a request may meet, each with its probability in [0, 1] (drawn independently per
/// attempt, in this order: the first that fires wins).
#[derive(Debug, Clone, Copy, Default)]
pub struct FaultRates {
    /// DynamoDB TransactWriteItems cancelled with `TransactionConflict` on one action.
    pub transaction_conflict: f64,
    /// DynamoDB TransactWriteItems refused with `ThrottlingException`.
    pub transaction_throttled: f64,
    /// DynamoDB TransactWriteItems applied, but its answer lost (a 500 in its place).
    pub transaction_answer_lost: f64,
    /// SESv2 SendEmail refused (a 500 `InternalFailure` on every attempt while set).
    pub send_email: f64,
    /// EventBridge PutEvents answered with the entry failed (`InternalFailure`).
    pub put_events: f64,
}

/// How many faults of each kind were injected.
#[derive(Debug, Default)]
pub struct Injected {
    pub conflicts: AtomicUsize,
    pub throttles: AtomicUsize,
    pub lost_answers: AtomicUsize,
    pub send_email: AtomicUsize,
    pub put_events: AtomicUsize,
}

impl Injected {
    pub fn conflicts(&self) -> usize {
        self.conflicts.load(Ordering::SeqCst)
    }
    pub fn throttles(&self) -> usize {
        self.throttles.load(Ordering::SeqCst)
    }
    pub fn lost_answers(&self) -> usize {
        self.lost_answers.load(Ordering::SeqCst)
    }
    pub fn send_email(&self) -> usize {
        self.send_email.load(Ordering::SeqCst)
    }
    pub fn put_events(&self) -> usize {
        self.put_events.load(Ordering::SeqCst)
    }
}

/// The faults a set of clients meets; rates can change while the clients are in use.
#[derive(Debug, Clone, Default)]
pub struct Faults {
    rates: Arc<std::sync::RwLock<FaultRates>>,
    pub injected: Arc<Injected>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Fault {
    Conflict,
    Throttle,
    LoseAnswer,
    SendEmail,
    PutEvents,
}

impl Faults {
    pub fn new(rates: FaultRates) -> Self {
        Self { rates: Arc::new(std::sync::RwLock::new(rates)), injected: Arc::default() }
    }

    pub fn set(&self, rates: FaultRates) {
        *self.rates.write().expect("fault rates lock") = rates;
    }

    pub fn rates(&self) -> FaultRates {
        *self.rates.read().expect("fault rates lock")
    }

    /// An HTTP client for SDK configs: `inner` with these faults.
    pub fn http_client(&self, inner: SharedHttpClient) -> SharedHttpClient {
        let faults = self.clone();
        http_client_fn(move |settings: &HttpConnectorSettings, components: &RuntimeComponents| {
            SharedHttpConnector::new(FaultyConnector {
                inner: inner.http_connector(settings, components),
                faults: faults.clone(),
            })
        })
    }

    /// The SDK config of the emulator, with these faults under every client made from it (over
    /// the functions' HTTP client, here on plain http: the emulator listens on http://127.0.0.1).
    pub async fn sdk_config(&self) -> aws_config::SdkConfig {
        let config = crate::sdk_config().await;
        let inner = autolearn_web::aws::http_client();
        config.into_builder().http_client(self.http_client(inner)).build()
    }

    fn choose(&self, request: &HttpRequest) -> Option<Fault> {
        let rates = self.rates();
        let target = request.headers().get("x-amz-target").unwrap_or_default();
        let roll = |rate: f64| rate > 0.0 && fastrand::f64() < rate;
        if target.ends_with(".TransactWriteItems") {
            if roll(rates.transaction_conflict) {
                return Some(Fault::Conflict);
            }
            if roll(rates.transaction_throttled) {
                return Some(Fault::Throttle);
            }
            if roll(rates.transaction_answer_lost) {
                return Some(Fault::LoseAnswer);
            }
        } else if target.ends_with(".PutEvents") {
            if roll(rates.put_events) {
                return Some(Fault::PutEvents);
            }
        } else if request.uri().contains("/v2/email/outbound-emails") && roll(rates.send_email) {
            return Some(Fault::SendEmail);
        }
        None
    }
}

#[derive(Debug)]
struct FaultyConnector {
    inner: SharedHttpConnector,
    faults: Faults,
}

fn json_response(status: u16, body: String) -> HttpResponse {
    let mut response = HttpResponse::new(status.try_into().expect("valid status"), SdkBody::from(body));
    response.headers_mut().insert("content-type", "application/x-amz-json-1.0");
    response
}

/// A TransactionCanceledException with one reason per action of the request, one of them a
/// conflict, as DynamoDB answers when another transaction holds one of the items.
fn cancelled(request: &HttpRequest) -> HttpResponse {
    let actions = request
        .body()
        .bytes()
        .and_then(|bytes| serde_json::from_slice::<serde_json::Value>(bytes).ok())
        .and_then(|body| body["TransactItems"].as_array().map(Vec::len))
        .unwrap_or(1)
        .max(1);
    let conflicted = fastrand::usize(0..actions);
    let reasons: Vec<serde_json::Value> = (0..actions)
        .map(|i| {
            if i == conflicted {
                serde_json::json!({"Code": "TransactionConflict", "Message": "Transaction is ongoing for the item"})
            } else {
                serde_json::json!({"Code": "None"})
            }
        })
        .collect();
    let codes: Vec<&str> =
        (0..actions).map(|i| if i == conflicted { "TransactionConflict" } else { "None" }).collect();
    json_response(
        400,
        serde_json::json!({
            "__type": "com.amazonaws.dynamodb.v20120810#TransactionCanceledException",
            "Message": format!(
                "Transaction cancelled, please refer cancellation reasons for specific reasons [{}]",
                codes.join(", ")
            ),
            "CancellationReasons": reasons,
        })
        .to_string(),
    )
}

impl HttpConnector for FaultyConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let injected = &self.faults.injected;
        match self.faults.choose(&request) {
            None => self.inner.call(request),
            Some(Fault::Conflict) => {
                injected.conflicts.fetch_add(1, Ordering::SeqCst);
                HttpConnectorFuture::ready(Ok(cancelled(&request)))
            }
            Some(Fault::Throttle) => {
                injected.throttles.fetch_add(1, Ordering::SeqCst);
                HttpConnectorFuture::ready(Ok(json_response(
                    400,
                    serde_json::json!({
                        "__type": "com.amazonaws.dynamodb.v20120810#ThrottlingException",
                        "message": "Rate of requests exceeds the allowed throughput."
                    })
                    .to_string(),
                )))
            }
            Some(Fault::LoseAnswer) => {
                injected.lost_answers.fetch_add(1, Ordering::SeqCst);
                let applied = self.inner.call(request);
                HttpConnectorFuture::new(async move {
                    applied.await?;
                    Ok(json_response(
                        500,
                        serde_json::json!({
                            "__type": "com.amazonaws.dynamodb.v20120810#InternalServerError",
                            "message": "Internal server error"
                        })
                        .to_string(),
                    ))
                })
            }
            Some(Fault::SendEmail) => {
                injected.send_email.fetch_add(1, Ordering::SeqCst);
                let mut response = HttpResponse::new(
                    500.try_into().expect("valid status"),
                    SdkBody::from(r#"{"message":"injected failure"}"#),
                );
                response.headers_mut().insert("content-type", "application/json");
                response.headers_mut().insert("x-amzn-errortype", "InternalFailure");
                HttpConnectorFuture::ready(Ok(response))
            }
            Some(Fault::PutEvents) => {
                injected.put_events.fetch_add(1, Ordering::SeqCst);
                let mut response = HttpResponse::new(
                    200.try_into().expect("valid status"),
                    SdkBody::from(
                        serde_json::json!({
                            "FailedEntryCount": 1,
                            "Entries": [{"ErrorCode": "InternalFailure", "ErrorMessage": "injected failure"}]
                        })
                        .to_string(),
                    ),
                );
                response.headers_mut().insert("content-type", "application/x-amz-json-1.1");
                HttpConnectorFuture::ready(Ok(response))
            }
        }
    }
}
