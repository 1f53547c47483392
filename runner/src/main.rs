//! `autolearn`: the local runner. `serve` serves every HTTP route on 127.0.0.1; `batch` runs the
//! weekly batch once.

use std::net::SocketAddr;

use autolearn_model::{Store, TableDefinition};
use autolearn_web::{config, telemetry};
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "autolearn", about = "autolearn's local runner")]
struct Cli {
    /// The DynamoDB table.
    #[arg(long, env = config::TABLE_NAME, default_value = "autolearn")]
    table: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve every HTTP route on 127.0.0.1.
    Serve {
        /// Port to listen on (0 picks a free one).
        #[arg(long, default_value_t = 8080)]
        port: u16,
        /// Create the table from infra/template.yaml first if it does not exist.
        #[arg(long)]
        create_table: bool,
    },
    /// Run the weekly batch once, for the 7 days before now (or before --at).
    Batch {
        /// The trigger time (RFC 3339); defaults to now.
        #[arg(long)]
        at: Option<chrono::DateTime<chrono::Utc>>,
    },
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    telemetry::init();
    let cli = Cli::parse();
    let aws = aws_config::load_from_env().await;
    let client = aws_sdk_dynamodb::Client::new(&aws);
    let store = Store::new(client.clone(), cli.table.clone());
    match cli.command {
        Command::Serve { port, create_table } => {
            if create_table {
                ensure_table(&client, &cli.table).await?;
            }
            let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], port))).await?;
            let address = listener.local_addr()?;
            // Printed on stdout so scripts can read the URL; logs go to the JSON log stream.
            println!("autolearn serving on http://{address}");
            let app = autolearn_runner::all_routes(store).into_router();
            axum::serve(listener, app).with_graceful_shutdown(shutdown()).await?;
        }
        Command::Batch { at } => {
            let event = weekly_batch::TriggerEvent {
                detail_type: "BatchLearningRequested".into(),
                time: at.unwrap_or_else(chrono::Utc::now),
            };
            let outcome = weekly_batch::handle(&store, event).await?;
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

async fn shutdown() {
    let _ = tokio::signal::ctrl_c().await;
}
