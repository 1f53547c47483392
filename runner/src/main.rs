//! `autolearn`: the local runner. `serve` serves every HTTP route on 127.0.0.1; `batch` runs the
//! weekly batch once.
//!
//! Its options are the deployed functions' environment variables (each flag also reads its
//! variable), checked by the functions' own parsers, with local defaults; the batch's learning
//! settings and the promotion rules are read by the functions' own `from_env`.

use std::net::SocketAddr;

use autolearn_bus::EventBus;
use autolearn_model::{Store, TableDefinition};
use autolearn_web::admin::{Admins, DEFAULT_ADMIN_GROUP};
use autolearn_web::signature::WebhookAuth;
use autolearn_web::webhook::{self, WebhookConfig};
use autolearn_web::{config, cors, telemetry};
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "autolearn", about = "autolearn's local runner")]
struct Cli {
    /// The DynamoDB table.
    #[arg(long, env = config::TABLE_NAME, default_value = "autolearn")]
    table: String,
    /// The shared secret of the signed webhooks (local default; never use it in AWS).
    #[arg(long, env = webhook::WEBHOOK_SECRET, default_value = "autolearn-local-webhook-secret", hide_env_values = true)]
    webhook_secret: String,
    /// The EventBridge bus autolearn publishes to.
    #[arg(long, env = autolearn_bus::EVENT_BUS_NAME, default_value = "autolearn")]
    event_bus: String,
    /// Normalized edit distance above which a send counts as rewritten (checked as the
    /// feedback webhook checks it).
    #[arg(long, env = feedback_webhook::EDIT_THRESHOLD, default_value_t = feedback_webhook::DEFAULT_EDIT_THRESHOLD,
          value_parser = |raw: &str| feedback_webhook::parse_edit_threshold(raw))]
    edit_threshold: f64,
    /// The sender of the weekly report (an SES identity; created locally).
    #[arg(long, env = weekly_batch::SENDER_EMAIL, default_value = "autolearn@example.com",
          value_parser = |raw: &str| weekly_batch::parse_sender_email(raw))]
    sender: String,
    /// Comma-separated recipients of the weekly report.
    #[arg(long, env = weekly_batch::ADMIN_EMAILS, default_value = "admin@example.com",
          value_parser = |raw: &str| weekly_batch::parse_admin_emails(raw).map(Recipients))]
    admin_emails: Recipients,
    /// Base URL of the dashboard, linked from the report.
    #[arg(long, env = weekly_batch::DASHBOARD_URL, default_value = "http://127.0.0.1:8080",
          value_parser = |raw: &str| weekly_batch::parse_dashboard_url(raw))]
    dashboard_url: String,
    /// The bearer token the admin routes accept locally (instead of API Gateway's JWT claims).
    #[arg(long, env = "LOCAL_ADMIN_TOKEN", default_value = "autolearn-local-admin", hide_env_values = true)]
    admin_token: String,
    /// Origin of a dashboard front end allowed by CORS (checked as the dashboard checks it).
    #[arg(long, env = cors::CORS_ORIGIN, value_parser = |raw: &str| cors::parse_origin(raw))]
    cors_origin: Option<axum::http::HeaderValue>,
    /// Largest accepted webhook body, in bytes (checked as the webhooks check it).
    #[arg(long, env = webhook::MAX_BODY_BYTES, default_value_t = webhook::DEFAULT_MAX_BODY_BYTES,
          value_parser = |raw: &str| webhook::parse_max_body_bytes(raw))]
    max_body_bytes: usize,
    /// Days back a reported `createdAt` / `sentAt` may lie (the webhooks accept 30; the demo
    /// replays weeks of history and raises it).
    #[arg(long, default_value_t = autolearn_web::bounds::DEFAULT_MAX_AGE_DAYS)]
    max_date_age_days: i64,
    #[command(subcommand)]
    command: Command,
}

/// The report's recipients, parsed from one comma-separated value (a `Vec` field would make
/// clap expect the flag once per address).
#[derive(Clone)]
struct Recipients(Vec<String>);

#[derive(Subcommand)]
enum Command {
    /// Serve every HTTP route on 127.0.0.1.
    Serve {
        /// Port to listen on (0 picks a free one).
        #[arg(long, default_value_t = 8080)]
        port: u16,
        /// Create the table (from infra/template.yaml) and the event bus first if missing.
        #[arg(long)]
        create_resources: bool,
    },
    /// Cluster messages: JSON lines {"id", "conversationId", "text"} on stdin (each may add
    /// an "embedding": [numbers], compared where two messages have one), one
    /// {"id", "cluster"} line per input on stdout (cluster is null when left unclustered).
    Cluster,
    /// Nearest neighbours: the same input, one {"id", "neighbors": [ids, best first]} line each.
    Similar {
        /// Neighbours per message.
        #[arg(long, default_value_t = 10)]
        k: usize,
    },
    /// Store the masked forms of text stored before the functions masked it where it comes in
    /// (docs/migrations.md): the quoted form of the executions of the last --days days, the
    /// masked draft and reply of the feedback still queued. Safe to rerun.
    BackfillMasked {
        /// Days back from today (the batch's look-back is 90, plus its week).
        #[arg(long, default_value_t = 97)]
        days: u32,
    },
    /// Run the weekly batch once, for the 7 days before now (or before --at).
    Batch {
        /// The trigger time (RFC 3339); defaults to now.
        #[arg(long)]
        at: Option<chrono::DateTime<chrono::Utc>>,
    },
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    telemetry::init();
    match run(Cli::parse()).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            // Display, not Debug: the message names the problem (e.g. the bad input line).
            eprintln!("autolearn: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<(), Box<dyn std::error::Error>> {
    match cli.command {
        // The corpus tools need no AWS at all.
        Command::Cluster => {
            let (stdin, stdout) = (std::io::stdin().lock(), std::io::stdout().lock());
            autolearn_learning::cli::run_cluster_cli(
                stdin,
                std::io::BufWriter::new(stdout),
                std::io::stderr(),
            )?;
        }
        Command::Similar { k } => {
            let (stdin, stdout) = (std::io::stdin().lock(), std::io::stdout().lock());
            autolearn_learning::cli::run_similar_cli(
                k,
                stdin,
                std::io::BufWriter::new(stdout),
                std::io::stderr(),
            )?;
        }
        Command::Serve { port, create_resources } => {
            let aws = autolearn_web::aws::load_from_env().await;
            let client = aws_sdk_dynamodb::Client::new(&aws);
            let events = aws_sdk_eventbridge::Client::new(&aws);
            if create_resources {
                ensure_table(&client, &cli.table).await?;
                ensure_bus(&events, &cli.event_bus).await?;
            }
            let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], port))).await?;
            let address = listener.local_addr()?;
            // People sign in against a local OpenID Connect issuer with keys generated now,
            // served on the same port, exactly as against Cognito in AWS.
            let (issuer, sign_in) = autolearn_runner::local_sign_in(&format!("http://{address}"));
            // Printed on stdout so scripts can read the URL; logs go to the JSON log stream.
            println!("autolearn serving on http://{address}");
            let webhook = WebhookConfig {
                auth: WebhookAuth::new(cli.webhook_secret),
                max_body_bytes: cli.max_body_bytes,
                dates: autolearn_web::bounds::DateWindow {
                    max_age: chrono::Duration::days(cli.max_date_age_days),
                    ..Default::default()
                },
            };
            let services = autolearn_runner::Services {
                // RETENTION_DAYS, read as the deployed functions read it.
                store: Store::new(client, cli.table).with_retention(autolearn_web::config::retention()?),
                bus: EventBus::new(events, cli.event_bus),
                webhook,
                edit_threshold: cli.edit_threshold,
                admin: dashboard_api::AdminAuth {
                    admins: Admins {
                        admin_group: DEFAULT_ADMIN_GROUP.into(),
                        local_admin_token: Some(cli.admin_token),
                    },
                    sign_in: Some(sign_in),
                },
                cors_origin: cli.cors_origin,
                promotion: autolearn_web::promotion::from_env()?,
            };
            let app = autolearn_runner::all_routes(&services).into_router().merge(issuer.router());
            axum::serve(listener, app).with_graceful_shutdown(shutdown()).await?;
        }
        Command::BackfillMasked { days } => {
            let aws = autolearn_web::aws::load_from_env().await;
            let store = Store::new(aws_sdk_dynamodb::Client::new(&aws), cli.table);
            let done =
                autolearn_runner::backfill_masked(&store, chrono::Utc::now().date_naive(), days).await?;
            println!("{}", serde_json::to_string_pretty(&done)?);
        }
        Command::Batch { at } => {
            let aws = autolearn_web::aws::load_from_env().await;
            let ses = aws_sdk_sesv2::Client::new(&aws);
            ensure_sender(&ses, &cli.sender).await?;
            let deps = weekly_batch::Deps {
                store: Store::new(aws_sdk_dynamodb::Client::new(&aws), cli.table)
                    .with_retention(autolearn_web::config::retention()?),
                bus: EventBus::new(aws_sdk_eventbridge::Client::new(&aws), cli.event_bus),
                mailer: weekly_batch::Mailer {
                    client: ses,
                    sender: cli.sender,
                    recipients: cli.admin_emails.0,
                },
                // LOOKBACK_DAYS and the promotion rules, read as the deployed function reads them.
                settings: weekly_batch::Settings::from_env(&cli.dashboard_url)?,
                // ANALYST likewise (rules unless ANALYST=bedrock).
                analyst: weekly_batch::handoff::analyst_from_env()?,
                // EMBEDDINGS and its budget likewise (none unless EMBEDDINGS=bedrock).
                embedder: weekly_batch::embeddings::Embedder::new(
                    &weekly_batch::embeddings::EmbeddingsSettings::from_env()?,
                    &aws,
                ),
            };
            // With ANALYST=bedrock, the proposal-analyst function as deployed: BEDROCK_MODEL_ID
            // and its limits read as it reads them.
            let analyst = match deps.analyst {
                autolearn_model::AnalystKind::Rules => None,
                autolearn_model::AnalystKind::Bedrock => {
                    let settings = proposal_analyst::AnalystSettings::from_env()?;
                    Some(proposal_analyst::Deps {
                        store: deps.store.clone(),
                        bus: deps.bus.clone(),
                        model: proposal_analyst::BedrockAnalyst::new(
                            &aws,
                            &settings.model_id,
                            settings.max_calls,
                            settings.max_tokens,
                        ),
                    })
                }
            };
            let event = weekly_batch::TriggerEvent {
                detail_type: "BatchLearningRequested".into(),
                time: at.unwrap_or_else(chrono::Utc::now),
                detail: Default::default(),
            };
            let outcome = autolearn_runner::run_batch(&deps, analyst.as_ref(), event).await?;
            println!("{}", serde_json::to_string_pretty(&outcome)?);
        }
    }
    Ok(())
}

async fn ensure_table(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
) -> Result<(), Box<dyn std::error::Error>> {
    if client.describe_table().table_name(table).send().await.is_ok() {
        return Ok(());
    }
    TableDefinition::from_embedded_template()?.create(client, table).await?;
    Ok(())
}

async fn ensure_bus(
    events: &aws_sdk_eventbridge::Client,
    bus: &str,
) -> Result<(), Box<dyn std::error::Error>> {
    if events.describe_event_bus().name(bus).send().await.is_ok() {
        return Ok(());
    }
    events.create_event_bus().name(bus).send().await?;
    Ok(())
}

/// SES only sends from a verified identity; locally the emulator verifies on creation.
async fn ensure_sender(ses: &aws_sdk_sesv2::Client, sender: &str) -> Result<(), Box<dyn std::error::Error>> {
    if ses.get_email_identity().email_identity(sender).send().await.is_ok() {
        return Ok(());
    }
    ses.create_email_identity().email_identity(sender).send().await?;
    Ok(())
}

async fn shutdown() {
    let _ = tokio::signal::ctrl_c().await;
}
