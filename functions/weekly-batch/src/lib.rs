//! The weekly-batch function: triggered by the EventBridge weekly schedule, by the
//! `BatchLearningRequested` event (the manual trigger) and by its own
//! `BatchContinuationRequested` event. `main.rs` only wires [`handle`] to `lambda_runtime`;
//! the local runner's `autolearn batch` calls the same handler.

mod analysis;
pub mod embeddings;
mod experiments;
mod feedback_set;
pub mod handoff;
pub mod outbox;
pub mod report;
mod report_data;
mod report_once;
pub mod run;

use autolearn_bus::{EVENT_BUS_NAME, EventBus, PublishError};
use autolearn_learning::proposals::ExpiryConfig;
use autolearn_model::PromotionConfig;
use autolearn_model::{SessionType, Store};
use autolearn_web::{ConfigError, config, promotion};
use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;

pub use run::{BatchOutcome, StopPolicy};

pub const SERVICE: &str = "weekly-batch";

pub const SENDER_EMAIL: &str = "SENDER_EMAIL";
pub const ADMIN_EMAILS: &str = "ADMIN_EMAILS";
pub const DASHBOARD_URL: &str = "DASHBOARD_URL";
/// How many days back the cross-conversation search looks for similar messages (not the
/// period a run studies, which is always the 7 days before its trigger).
pub const LOOKBACK_DAYS: &str = "LOOKBACK_DAYS";
pub const DEFAULT_LOOKBACK_DAYS: u32 = 90;
pub const MAX_LOOKBACK_DAYS: u32 = 365;

/// Every environment variable `Config::from_env` reads; the template test checks that
/// `infra/template.yaml` sets each of them for this function.
pub const ENV_VARS: &[&str] = &[
    config::TABLE_NAME,
    config::RETENTION_DAYS,
    EVENT_BUS_NAME,
    SENDER_EMAIL,
    ADMIN_EMAILS,
    DASHBOARD_URL,
    LOOKBACK_DAYS,
    promotion::PROMOTE_MIN_APPROVAL,
    promotion::PROMOTE_MIN_HITS,
    promotion::DEMOTE_MAX_APPROVAL,
    promotion::DEMOTE_MIN_HITS,
    promotion::PROMOTION_GUARD,
    promotion::PROMOTION_BASELINE_PRIOR,
    handoff::ANALYST,
    embeddings::EMBEDDINGS,
    embeddings::EMBEDDINGS_MODEL_ID,
    embeddings::EMBEDDINGS_MAX_MESSAGES,
];

/// `local@domain`, neither part empty nor holding `@`, whitespace or (when `commas` is
/// false) a comma.
fn is_address(value: &str, commas: bool) -> bool {
    let plain = |part: &str| {
        !part.is_empty() && !part.contains(|c: char| c == '@' || c.is_whitespace() || (!commas && c == ','))
    };
    value.split_once('@').is_some_and(|(local, domain)| plain(local) && plain(domain))
}

/// `SENDER_EMAIL`: one email address.
pub fn parse_sender_email(raw: &str) -> Result<String, ConfigError> {
    let sender = raw.trim();
    if !is_address(sender, true) {
        return Err(ConfigError::Invalid {
            name: SENDER_EMAIL,
            why: format!("{raw:?} is not an email address"),
        });
    }
    Ok(sender.to_owned())
}

/// `ADMIN_EMAILS`: one or more email addresses, separated by commas (spaces around them allowed).
pub fn parse_admin_emails(raw: &str) -> Result<Vec<String>, ConfigError> {
    let recipients: Vec<String> = raw.split(',').map(|address| address.trim().to_owned()).collect();
    if let Some(bad) = recipients.iter().find(|address| !is_address(address, false)) {
        return Err(ConfigError::Invalid {
            name: ADMIN_EMAILS,
            why: format!("{bad:?} is not an email address"),
        });
    }
    Ok(recipients)
}

/// `DASHBOARD_URL`: the dashboard's base URL, `http://` or `https://` and no whitespace.
pub fn parse_dashboard_url(raw: &str) -> Result<String, ConfigError> {
    let url = raw.trim();
    let rest = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://"));
    if !rest.is_some_and(|rest| !rest.is_empty() && !rest.contains(char::is_whitespace)) {
        return Err(ConfigError::Invalid {
            name: DASHBOARD_URL,
            why: format!("{raw:?} is not an http(s) URL"),
        });
    }
    Ok(url.to_owned())
}

/// `LOOKBACK_DAYS`: a whole number of days from 7 (the period itself) to 365.
pub fn parse_lookback_days(raw: &str) -> Result<u32, ConfigError> {
    config::parse_whole_in(LOOKBACK_DAYS, raw, 7..=MAX_LOOKBACK_DAYS)
}

/// What a run needs besides its clients.
#[derive(Debug, Clone)]
pub struct Settings {
    /// How far back the cross-conversation search looks (`LOOKBACK_DAYS`, default 90 days).
    pub lookback_days: u32,
    /// The dashboard's review page, linked from the report.
    pub review_url: String,
    pub promotion: PromotionConfig,
    pub expiry: ExpiryConfig,
}

/// Configuration, read and validated once at cold start.
#[derive(Debug, Clone)]
pub struct Config {
    pub table_name: String,
    pub event_bus_name: String,
    pub sender: String,
    pub recipients: Vec<String>,
    pub settings: Settings,
    /// Who words the proposals (`ANALYST`): the rules, or a model through the proposal-analyst
    /// function.
    pub analyst: autolearn_model::AnalystKind,
    pub embeddings: embeddings::EmbeddingsSettings,
    /// How long proposals and their references (customer text) are kept (`RETENTION_DAYS`).
    pub retention: autolearn_model::Retention,
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        let recipients = parse_admin_emails(&config::required(ADMIN_EMAILS)?)?;
        let dashboard = parse_dashboard_url(&config::required(DASHBOARD_URL)?)?;
        Ok(Self {
            table_name: config::required(config::TABLE_NAME)?,
            event_bus_name: config::required(EVENT_BUS_NAME)?,
            sender: parse_sender_email(&config::required(SENDER_EMAIL)?)?,
            recipients,
            settings: Settings::from_env(&dashboard)?,
            analyst: handoff::analyst_from_env()?,
            embeddings: embeddings::EmbeddingsSettings::from_env()?,
            retention: config::retention()?,
        })
    }
}

impl Settings {
    /// The learning settings from the environment (`LOOKBACK_DAYS` and the promotion rules),
    /// with the review page under `dashboard_url`. The local runner reads them the same way.
    pub fn from_env(dashboard_url: &str) -> Result<Self, ConfigError> {
        let lookback_days = config::optional_with(LOOKBACK_DAYS, DEFAULT_LOOKBACK_DAYS, parse_lookback_days)?;
        Ok(Self {
            lookback_days,
            review_url: review_url(dashboard_url),
            promotion: promotion::from_env()?,
            expiry: ExpiryConfig::default(),
        })
    }
}

/// The review page linked from the report, under the dashboard's base URL.
pub fn review_url(dashboard: &str) -> String {
    format!("{}/admin/ai/learning", dashboard.trim_end_matches('/'))
}

/// Sends the report through SESv2.
#[derive(Debug, Clone)]
pub struct Mailer {
    pub client: aws_sdk_sesv2::Client,
    pub sender: String,
    pub recipients: Vec<String>,
}

impl Mailer {
    /// Sends one email with both parts; returns SES's message id.
    pub async fn send(&self, report: &report::RenderedReport) -> Result<String, BatchError> {
        use aws_sdk_sesv2::types::{Body, Content, Destination, EmailContent, Message};
        let content = |data: &str| Content::builder().data(data).charset("UTF-8").build();
        let message = Message::builder()
            .subject(content(&report.subject).map_err(|e| BatchError::Email(e.to_string()))?)
            .body(
                Body::builder()
                    .html(content(&report.html).map_err(|e| BatchError::Email(e.to_string()))?)
                    .text(content(&report.text).map_err(|e| BatchError::Email(e.to_string()))?)
                    .build(),
            )
            .build();
        let output = self
            .client
            .send_email()
            .from_email_address(&self.sender)
            .destination(Destination::builder().set_to_addresses(Some(self.recipients.clone())).build())
            .content(EmailContent::builder().simple(message).build())
            .send()
            .await
            .map_err(|error| BatchError::Email(aws_sdk_sesv2::Error::from(error).to_string()))?;
        output.message_id.ok_or_else(|| BatchError::Email("SES returned no message id".into()))
    }
}

/// The clients and settings of a run.
#[derive(Debug, Clone)]
pub struct Deps {
    pub store: Store,
    pub bus: EventBus,
    pub mailer: Mailer,
    pub settings: Settings,
    /// Who words the proposals (`ANALYST`): the rules, or a model through the proposal-analyst
    /// function ([`handoff`]).
    pub analyst: autolearn_model::AnalystKind,
    /// Who gives gap discovery sentence embeddings (`EMBEDDINGS`): nobody, or a model on Bedrock.
    pub embedder: embeddings::Embedder,
}

/// The parts of an EventBridge event the batch reads.
#[derive(Debug, Clone, Deserialize)]
pub struct TriggerEvent {
    #[serde(rename = "detail-type", default)]
    pub detail_type: String,
    pub time: DateTime<Utc>,
    #[serde(default)]
    pub detail: TriggerDetail,
}

/// A continuation or a manual trigger names the period; the schedule leaves it to the event time.
/// The analyst's failure (Lambda's on-failure destination) carries the request it failed on.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TriggerDetail {
    pub period_end: Option<DateTime<Utc>>,
    #[serde(default)]
    pub request_payload: Option<Box<TriggerEvent>>,
}

/// The period a trigger studies: the 7 days before the event's time (or the continued
/// period), so a redelivery of the same event studies the same data.
pub fn period_of(event: &TriggerEvent) -> (DateTime<Utc>, DateTime<Utc>) {
    // A continuation names the period it continues; a manual trigger the period it coalesced
    // into (the start of its hour), so that triggers within one hour make one session.
    let end = match event.detail_type.as_str() {
        // The analyst's failure carries the batch's own request, which names the period.
        "BatchContinuationRequested" | "BatchLearningRequested" | "WordingRequested" => {
            event.detail.period_end.unwrap_or(event.time)
        }
        handoff::ANALYST_FAILED => match &event.detail.request_payload {
            Some(request) => return period_of(request),
            None => event.time,
        },
        _ => event.time,
    };
    (end - Duration::days(7), end)
}

#[derive(Debug, thiserror::Error)]
pub enum BatchError {
    #[error(transparent)]
    Store(#[from] autolearn_model::StoreError),
    #[error(transparent)]
    Publish(#[from] PublishError),
    #[error("cannot render the report: {0}")]
    Render(#[from] askama::Error),
    #[error("cannot send the report: {0}")]
    Email(String),
    #[error("the session disappeared while the batch was resuming it")]
    SessionVanished,
    /// Another run holds the period's session (until `until`, epoch milliseconds): this one
    /// did nothing. An error, so that a retry of the trigger resumes the session if its holder
    /// died.
    #[error("another run holds session {session_id} until {until} (epoch ms)")]
    Leased { session_id: String, until: i64 },
    /// This run's lease was taken over (it outlived its deadline): it stopped writing.
    #[error("the lease on session {session_id} was taken over by another run")]
    LeaseLost { session_id: String },
}

/// Runs (or continues) the batch for the trigger's period.
pub async fn handle(deps: &Deps, event: TriggerEvent, stop: StopPolicy) -> Result<BatchOutcome, BatchError> {
    let (start, end) = period_of(&event);
    let session_type =
        if event.detail_type == "Scheduled Event" { SessionType::Batch } else { SessionType::Manual };
    tracing::info!(detail_type = %event.detail_type, %start, %end, "batch triggered");
    // Every trigger first puts the events the bus refused earlier (the webhooks' outbox).
    // Boxed: inlined, the handler's future overflows the compiler's layout recursion limit.
    let drained = Box::pin(outbox::drain(&deps.store, &deps.bus)).await?;
    if drained > 0 {
        tracing::info!(drained, "outbox events put on the bus");
    }
    let trigger = if event.detail_type == handoff::ANALYST_FAILED {
        run::Trigger::AnalystFailed
    } else {
        run::Trigger::Batch
    };
    run::run(deps, start, end, session_type, stop, trigger).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scheduled_sample_event_studies_the_week_before_it() {
        let event: TriggerEvent =
            serde_json::from_str(include_str!("../../../events/weekly-schedule.json")).unwrap();
        let (start, end) = period_of(&event);
        assert_eq!(end.to_rfc3339(), "2026-11-16T08:00:00+00:00");
        assert_eq!(start.to_rfc3339(), "2026-11-09T08:00:00+00:00");
    }

    #[test]
    fn a_manual_trigger_studies_the_period_it_names() {
        let event: TriggerEvent = serde_json::from_value(serde_json::json!({
            "detail-type": "BatchLearningRequested",
            "time": "2026-11-16T08:14:03Z",
            "detail": {"requestedBy": "admin", "periodStart": "2026-11-09T08:00:00Z", "periodEnd": "2026-11-16T08:00:00Z"}
        }))
        .unwrap();
        assert_eq!(period_of(&event).1.to_rfc3339(), "2026-11-16T08:00:00+00:00");
    }

    #[test]
    fn the_analysts_failure_continues_the_period_of_its_request() {
        let event: TriggerEvent = serde_json::from_value(serde_json::json!({
            "detail-type": "Lambda Function Invocation Result - Failure",
            "time": "2026-11-16T08:31:00Z",
            "detail": {"requestPayload": {
                "detail-type": "WordingRequested",
                "time": "2026-11-16T08:14:00Z",
                "detail": {"sessionId": "s", "periodStart": "2026-11-09T08:00:00Z", "periodEnd": "2026-11-16T08:00:00Z"}
            }}
        }))
        .unwrap();
        assert_eq!(period_of(&event).1.to_rfc3339(), "2026-11-16T08:00:00+00:00");
    }

    #[test]
    fn a_continuation_keeps_its_period() {
        let event: TriggerEvent = serde_json::from_value(serde_json::json!({
            "detail-type": "BatchContinuationRequested",
            "time": "2026-11-16T08:14:00Z",
            "detail": {"sessionId": "s", "periodStart": "2026-11-09T08:00:00Z", "periodEnd": "2026-11-16T08:00:00Z"}
        }))
        .unwrap();
        assert_eq!(period_of(&event).1.to_rfc3339(), "2026-11-16T08:00:00+00:00");
    }
}
