//! Logging: JSON lines on stdout (what Lambda's JSON log format expects), filtered by
//! `RUST_LOG`. Customer text is never passed to a log call anywhere in the project.

pub fn init() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // Ignore the error of a second init (tests, the local runner): the first one wins.
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_current_span(false)
        .with_target(false)
        .without_time()
        .try_init();
}
