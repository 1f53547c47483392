//! Logging: JSON lines on stdout (what Lambda's JSON log format expects), filtered by
//! `RUST_LOG`. Customer text is never passed to a log call anywhere in the project.
//!
//! `RUST_LOG` (the template's `LogLevel`) sets the level of autolearn's own code only: the
//! runtime, HTTP and AWS SDK crates stay at `info` whatever it says, because at `debug` and
//! `trace` they log raw events, request and response bodies (customer text) and credentials.
//!
//! Release builds (what Lambda runs) go further: `tracing`'s `release_max_level_info` compiles
//! every `debug` and `trace` event out, of every crate, so those can be switched on by no
//! setting, and their code and strings are not shipped (118-131 kB per function; numbers:
//! docs/performance.md). autolearn's own code logs at `info` and above only, so the template
//! offers `error`, `warn` and `info`. Debug builds (tests, the local runner) keep them all.
//!
//! The filter is a [`Targets`] (`level` or `target=level`, comma-separated), not an `EnvFilter`:
//! a level is all the template sets, and `EnvFilter`'s span and field filters would link a regex
//! engine with its Unicode tables into every function.

use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// Crates whose debug and trace logs carry raw events, bodies or tokens: pinned at `info`.
pub const PINNED_AT_INFO: &[&str] = &[
    "lambda_runtime",
    "lambda_runtime_api_client",
    "lambda_http",
    "aws_lambda_events",
    "aws_config",
    "aws_runtime",
    "aws_sigv4",
    "aws_smithy_runtime",
    "aws_smithy_runtime_api",
    "aws_smithy_http",
    "aws_smithy_http_client",
    "aws_smithy_types",
    "aws_sdk_dynamodb",
    "aws_sdk_eventbridge",
    "aws_sdk_sesv2",
    "aws_sdk_sqs",
    "aws_sdk_sts",
    "aws_sdk_sso",
    "aws_sdk_ssooidc",
    "hyper",
    "hyper_util",
    "h2",
    "rustls",
    "tower",
    "tower_http",
    "axum",
    "reqwest",
];

/// The filter for `rust_log` (the value of `RUST_LOG`; `info` when absent or unreadable), with
/// [`PINNED_AT_INFO`] added last so that no directive of `rust_log` overrides them.
pub fn filter(rust_log: Option<&str>) -> Targets {
    let filter = rust_log
        .and_then(|directives| directives.parse::<Targets>().ok())
        .unwrap_or_else(|| Targets::new().with_default(LevelFilter::INFO));
    // A directive for a target already listed replaces it.
    filter.with_targets(PINNED_AT_INFO.iter().map(|target| (*target, LevelFilter::INFO)))
}

pub fn init() {
    let rust_log = std::env::var("RUST_LOG").ok();
    // Ignore the error of a second init (tests, the local runner): the first one wins.
    let _ = tracing_subscriber::fmt()
        .json()
        .with_current_span(false)
        .with_target(false)
        .without_time()
        // The builder's own filter (INFO by default) would cap what the filter below allows.
        .with_max_level(LevelFilter::TRACE)
        .finish()
        .with(filter(rust_log.as_deref()))
        .try_init();
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    use super::*;

    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl Write for Captured {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// What reaches the log under `rust_log` from a debug and an info event of `target`.
    fn logged(rust_log: &str) -> String {
        let captured = Captured::default();
        let writer = captured.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_max_level(LevelFilter::TRACE)
            .finish()
            .with(filter(Some(rust_log)));
        tracing::subscriber::with_default(subscriber, || {
            tracing::debug!(target: "aws_smithy_runtime::client::orchestrator", "sdk-debug");
            tracing::trace!(target: "lambda_runtime", "runtime-trace");
            tracing::info!(target: "aws_smithy_runtime", "sdk-info");
            tracing::debug!(target: "weekly_batch::run", "own-debug");
        });
        String::from_utf8(captured.0.lock().unwrap().clone()).unwrap()
    }

    #[test]
    fn debug_and_trace_raise_our_level_but_not_the_runtime_and_sdk_crates() {
        for rust_log in ["trace", "debug", "aws_smithy_runtime=trace,lambda_runtime=trace,debug"] {
            let out = logged(rust_log);
            assert!(out.contains("own-debug"), "{rust_log}: our debug logs are on");
            assert!(out.contains("sdk-info"), "{rust_log}: the SDK still logs at info");
            assert!(!out.contains("sdk-debug") && !out.contains("runtime-trace"), "{rust_log}: {out}");
        }
        let quiet = logged("warn");
        assert!(!quiet.contains("own-debug"));
    }
}
