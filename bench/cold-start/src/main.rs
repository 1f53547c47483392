//! Cold start of each Lambda function as Lambda sees it, against a minimal `lambda_runtime`
//! function (`cold-start-hello`) built in the same run with the same profile.
//!
//! This process serves the Lambda Runtime API on a loopback port (the `/next`, `/response`,
//! `/error` and `/init/error` routes a runtime client calls) and, for every cold start, starts the
//! function's binary with `AWS_LAMBDA_RUNTIME_API` pointing at it and the environment its
//! configuration needs. Two times are taken from the spawn:
//!
//! - **first `/next`**: the process has read its configuration, built its clients and router
//!   and asks for work (what Lambda bills as init);
//! - **first invocation**: the answer to one event has arrived. The HTTP functions get an API
//!   Gateway v2 `GET /health` (`events/get-health.json`) and must answer the health route's JSON as
//!   text, not base64 (what `autolearn_web::lambda` hands to API Gateway); the weekly batch gets a trigger without
//!   a time, which it refuses on `/error` after deserializing it, because any event it accepts
//!   runs the batch against DynamoDB.
//!
//! Nothing reaches AWS: credentials are in the environment (as Lambda passes them), the SDK
//! endpoint is a closed loopback port, and the keys the functions read from Secrets Manager when
//! deployed are given as values (`WEBHOOK_SECRET`, `SESSION_KEY`), their local alternative. A
//! round of every function runs first unrecorded (page cache), then `--runs` rounds, functions
//! interleaved so that load on the machine spreads over all of them alike. Medians, and the
//! ratio of each to the hello function's.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use clap::Parser;
use tokio::sync::oneshot;

#[derive(Parser)]
#[command(about = "Cold start of each function's release binary against a hello function")]
struct Args {
    /// The directory of the release binaries (`$CARGO_TARGET_DIR/release`).
    #[arg(long)]
    bin_dir: PathBuf,
    /// Recorded cold starts per function.
    #[arg(long, default_value_t = 20)]
    runs: usize,
    /// Where each function's stdout and stderr go (`NAME.log`).
    #[arg(long)]
    log_dir: PathBuf,
    /// Extra environment for every function, `NAME=VALUE` (repeatable).
    #[arg(long = "env", value_parser = parse_env)]
    extra_env: Vec<(String, String)>,
    /// Only these functions (repeatable; the hello function always runs).
    #[arg(long)]
    only: Vec<String>,
}

fn parse_env(raw: &str) -> Result<(String, String), String> {
    let (name, value) = raw.split_once('=').ok_or("expected NAME=VALUE")?;
    Ok((name.to_owned(), value.to_owned()))
}

const HEALTH_EVENT: &str = include_str!("../../../events/get-health.json");
/// Without `time` (the batch) or a `sessionId` in its detail (the analyst) a trigger does not
/// deserialize: the runtime reports it on `/error`.
const REFUSED_TRIGGER: &str = r#"{"detail-type":"Cold start probe","source":"autolearn.bench","detail":{}}"#;

/// The environment of every function, as Lambda sets it, and what the project's template sets
/// for all of them.
const COMMON_ENV: &[(&str, &str)] = &[
    ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "512"),
    ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST"),
    ("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/cold-start-bench"),
    ("AWS_LAMBDA_LOG_STREAM_NAME", "cold-start-bench"),
    ("AWS_REGION", "us-east-1"),
    ("AWS_DEFAULT_REGION", "us-east-1"),
    ("AWS_ACCESS_KEY_ID", "AKIDCOLDSTARTBENCH"),
    ("AWS_SECRET_ACCESS_KEY", "cold-start-bench"),
    ("AWS_SESSION_TOKEN", "cold-start-bench"),
    // Nothing listens there: a call to AWS during the measured path fails instead of waiting.
    ("AWS_ENDPOINT_URL", "http://127.0.0.1:9"),
    ("AWS_EC2_METADATA_DISABLED", "true"),
    ("RUST_LOG", "info"),
    ("TABLE_NAME", "autolearn-bench"),
    ("EVENT_BUS_NAME", "autolearn-bench"),
];

const WEBHOOK_SECRET: (&str, &str) = ("WEBHOOK_SECRET", "cold-start-bench-webhook-secret");

/// How a first invocation ends when the function works.
#[derive(Clone, Copy)]
enum Expect {
    /// A response with `statusCode` 200.
    Ok200,
    /// A response with `statusCode` 200 and, as text (not base64), the health route's JSON.
    Health,
    /// An invocation error (the refused trigger).
    Error,
}

struct Target {
    name: &'static str,
    event: &'static str,
    expect: Expect,
    env: &'static [(&'static str, &'static str)],
}

const HELLO: &str = "cold-start-hello";

const TARGETS: &[Target] = &[
    Target { name: HELLO, event: HEALTH_EVENT, expect: Expect::Ok200, env: &[] },
    Target { name: "intent-tracker", event: HEALTH_EVENT, expect: Expect::Health, env: &[WEBHOOK_SECRET] },
    Target { name: "feedback-webhook", event: HEALTH_EVENT, expect: Expect::Health, env: &[WEBHOOK_SECRET] },
    Target {
        name: "dashboard-api",
        event: HEALTH_EVENT,
        expect: Expect::Health,
        env: &[
            ("OIDC_ISSUER", "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_BENCH"),
            ("OIDC_CLIENT_ID", "cold-start-bench"),
            ("SESSION_KEY", "cold-start-bench-session-key-0123456789abcdef"),
        ],
    },
    Target { name: "customer-data-api", event: HEALTH_EVENT, expect: Expect::Health, env: &[] },
    Target {
        name: "proposal-analyst",
        event: REFUSED_TRIGGER,
        expect: Expect::Error,
        env: &[("BEDROCK_MODEL_ID", "amazon.nova-lite-v1:0")],
    },
    Target {
        name: "weekly-batch",
        event: REFUSED_TRIGGER,
        expect: Expect::Error,
        env: &[
            ("SENDER_EMAIL", "autolearn@example.com"),
            ("ADMIN_EMAILS", "admin@example.com"),
            ("DASHBOARD_URL", "https://dashboard.example.com/admin/ai/learning"),
        ],
    },
];

/// How the first invocation ended, as the runtime client reported it.
enum Outcome {
    Response(Bytes),
    Error(Bytes),
}

/// The runtime API's side of one cold start.
struct Probe {
    event: Bytes,
    polls: AtomicUsize,
    /// Ends the polls after the first, once the cold start is measured.
    stopped: tokio::sync::Notify,
    first_poll: Mutex<Option<oneshot::Sender<Instant>>>,
    done: Mutex<Option<oneshot::Sender<(Instant, Outcome)>>>,
    init_error: Mutex<Option<Bytes>>,
}

impl Probe {
    fn finish(&self, outcome: Outcome) {
        let now = Instant::now();
        if let Some(done) = self.done.lock().unwrap().take() {
            let _ = done.send((now, outcome));
        }
    }
}

async fn next_invocation(State(probe): State<Arc<Probe>>) -> Response {
    let now = Instant::now();
    if probe.polls.fetch_add(1, Ordering::SeqCst) > 0 {
        // One invocation per cold start: the next poll waits until the process is stopped.
        probe.stopped.notified().await;
        return StatusCode::GONE.into_response();
    }
    if let Some(first_poll) = probe.first_poll.lock().unwrap().take() {
        let _ = first_poll.send(now);
    }
    let deadline = SystemTime::now().duration_since(UNIX_EPOCH).unwrap() + Duration::from_secs(900);
    let headers = [
        ("lambda-runtime-aws-request-id", "8476a536-e9f4-11e8-9739-2dfe598c3fcd".to_owned()),
        ("lambda-runtime-deadline-ms", deadline.as_millis().to_string()),
        (
            "lambda-runtime-invoked-function-arn",
            "arn:aws:lambda:us-east-1:123456789012:function:cold-start-bench".to_owned(),
        ),
        ("lambda-runtime-trace-id", "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Sampled=0".to_owned()),
        ("content-type", "application/json".to_owned()),
    ];
    (headers, probe.event.clone()).into_response()
}

async fn invocation_response(State(probe): State<Arc<Probe>>, body: Bytes) -> StatusCode {
    probe.finish(Outcome::Response(body));
    StatusCode::ACCEPTED
}

async fn invocation_error(State(probe): State<Arc<Probe>>, body: Bytes) -> StatusCode {
    probe.finish(Outcome::Error(body));
    StatusCode::ACCEPTED
}

async fn init_error(State(probe): State<Arc<Probe>>, body: Bytes) -> StatusCode {
    *probe.init_error.lock().unwrap() = Some(body);
    StatusCode::ACCEPTED
}

fn runtime_api(probe: Arc<Probe>) -> Router {
    Router::new()
        .route("/2018-06-01/runtime/invocation/next", get(next_invocation))
        .route("/2018-06-01/runtime/invocation/{id}/response", post(invocation_response))
        .route("/2018-06-01/runtime/invocation/{id}/error", post(invocation_error))
        .route("/2018-06-01/runtime/init/error", post(init_error))
        .with_state(probe)
}

/// Spawn to first `/next`, and spawn to the first invocation's answer.
struct Sample {
    first_poll: Duration,
    first_answer: Duration,
}

async fn cold_start(
    target: &Target,
    binary: &Path,
    log: &File,
    extra_env: &[(String, String)],
) -> Result<Sample, String> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.map_err(|e| e.to_string())?;
    let address = listener.local_addr().map_err(|e| e.to_string())?;
    let (poll_tx, poll_rx) = oneshot::channel();
    let (done_tx, done_rx) = oneshot::channel();
    let probe = Arc::new(Probe {
        event: Bytes::from_static(target.event.as_bytes()),
        polls: AtomicUsize::new(0),
        stopped: tokio::sync::Notify::new(),
        first_poll: Mutex::new(Some(poll_tx)),
        done: Mutex::new(Some(done_tx)),
        init_error: Mutex::new(None),
    });
    let app = runtime_api(probe.clone());
    let server = tokio::spawn(async move { axum::serve(listener, app).await });

    let output = |log: &File| log.try_clone().map(Stdio::from).map_err(|e| e.to_string());
    let mut command = tokio::process::Command::new(binary);
    command
        .env_clear()
        .envs(COMMON_ENV.iter().copied())
        .envs(target.env.iter().copied())
        .envs(extra_env.iter().map(|(name, value)| (name, value)))
        .env("AWS_LAMBDA_FUNCTION_NAME", target.name)
        .env("AWS_LAMBDA_RUNTIME_API", address.to_string())
        .stdin(Stdio::null())
        .stdout(output(log)?)
        .stderr(output(log)?)
        .kill_on_drop(true);
    let start = Instant::now();
    let mut child = command.spawn().map_err(|e| format!("{}: {e}", binary.display()))?;
    let answered = async {
        let first_poll = poll_rx.await.map_err(|_| "no first /next".to_owned())?;
        let (end, outcome) = done_rx.await.map_err(|_| "no answer".to_owned())?;
        Ok::<_, String>((first_poll, end, outcome))
    };
    let result = tokio::time::timeout(Duration::from_secs(30), async {
        tokio::select! {
            status = child.wait() => {
                let init = probe.init_error.lock().unwrap().take();
                let init = init.map(|body| String::from_utf8_lossy(&body).into_owned()).unwrap_or_default();
                Err(format!("exited before answering ({status:?}) {init}"))
            }
            answered = answered => answered,
        }
    })
    .await
    .map_err(|_| "no answer within 30 s".to_owned())
    .and_then(|result| result);
    let _ = child.kill().await;
    probe.stopped.notify_waiters();
    server.abort();

    let (first_poll, end, outcome) = result?;
    match (target.expect, outcome) {
        (Expect::Ok200, Outcome::Response(body)) => {
            let response: serde_json::Value = serde_json::from_slice(&body).map_err(|e| e.to_string())?;
            if response["statusCode"] != 200 {
                return Err(format!("answered {response}"));
            }
        }
        (Expect::Health, Outcome::Response(body)) => {
            let response: serde_json::Value = serde_json::from_slice(&body).map_err(|e| e.to_string())?;
            // The body as API Gateway gets it from the function: JSON text, not base64.
            let health = response["body"]
                .as_str()
                .filter(|_| response["isBase64Encoded"] == false)
                .and_then(|text| serde_json::from_str::<serde_json::Value>(text).ok());
            if response["statusCode"] != 200 || health.is_none_or(|health| health["status"] != "ok") {
                return Err(format!("answered {response}"));
            }
        }
        (Expect::Error, Outcome::Error(_)) => {}
        (_, Outcome::Response(body) | Outcome::Error(body)) => {
            return Err(format!("unexpected answer: {}", String::from_utf8_lossy(&body)));
        }
    }
    Ok(Sample { first_poll: first_poll - start, first_answer: end - start })
}

fn median(mut values: Vec<Duration>) -> Duration {
    values.sort();
    let mid = values.len() / 2;
    if values.len() % 2 == 1 { values[mid] } else { (values[mid - 1] + values[mid]) / 2 }
}

fn ms(duration: Duration) -> String {
    format!("{:.1} ms", duration.as_secs_f64() * 1000.0)
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|line| line.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), String> {
    let args = Args::parse();
    std::fs::create_dir_all(&args.log_dir).map_err(|e| e.to_string())?;
    let targets: Vec<&Target> = TARGETS
        .iter()
        .filter(|t| t.name == HELLO || args.only.is_empty() || args.only.iter().any(|name| name == t.name))
        .collect();
    let mut logs = Vec::new();
    for target in &targets {
        let path = args.log_dir.join(format!("{}.log", target.name));
        logs.push(File::create(&path).map_err(|e| format!("{}: {e}", path.display()))?);
    }
    let binaries: Vec<PathBuf> = targets.iter().map(|target| args.bin_dir.join(target.name)).collect();
    let load_before = load_average();

    let mut samples: Vec<Vec<Sample>> = targets.iter().map(|_| Vec::new()).collect();
    for round in 0..=args.runs {
        for (i, target) in targets.iter().enumerate() {
            let sample = cold_start(target, &binaries[i], &logs[i], &args.extra_env)
                .await
                .map_err(|why| format!("{} (see {}): {why}", target.name, args.log_dir.display()))?;
            // Round 0 warms the page cache and is not recorded.
            if round > 0 {
                samples[i].push(sample);
            }
        }
    }

    let medians: Vec<(Duration, Duration)> = samples
        .iter()
        .map(|runs| {
            (
                median(runs.iter().map(|s| s.first_poll).collect()),
                median(runs.iter().map(|s| s.first_answer).collect()),
            )
        })
        .collect();
    let (hello_poll, hello_answer) = medians[0];
    println!(
        "{} cold starts per function (medians), load average {load_before} before, {} after\n",
        args.runs,
        load_average()
    );
    println!(
        "| function | binary | spawn → first /next | vs hello | spawn → first invocation answered | vs hello |"
    );
    println!("|---|---:|---:|---:|---:|---:|");
    for (i, target) in targets.iter().enumerate() {
        let size = std::fs::metadata(&binaries[i]).map(|m| m.len()).unwrap_or(0);
        let (poll, answer) = medians[i];
        println!(
            "| {} | {:.2} MB | {} | {:.2}x | {} | {:.2}x |",
            target.name,
            size as f64 / 1e6,
            ms(poll),
            poll.as_secs_f64() / hello_poll.as_secs_f64(),
            ms(answer),
            answer.as_secs_f64() / hello_answer.as_secs_f64(),
        );
    }
    Ok(())
}
