use std::time::{Duration, Instant};

use autolearn_bus::EventBus;
use autolearn_model::Store;
use autolearn_web::telemetry;
use lambda_runtime::{LambdaEvent, service_fn};
use weekly_batch::embeddings::Embedder;
use weekly_batch::{Config, Deps, Mailer, StopPolicy, TriggerEvent, handle};

/// Time kept in hand before the Lambda deadline: a step must not start with less.
const DEADLINE_MARGIN: Duration = Duration::from_secs(90);

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    telemetry::init();
    let config = Config::from_env()?;
    // Credentials and region from the variables Lambda sets: no provider chain to link or load.
    let aws = autolearn_web::aws::from_lambda_env()?;
    let deps = Deps {
        store: Store::new(aws_sdk_dynamodb::Client::new(&aws), config.table_name)
            .with_retention(config.retention),
        bus: EventBus::new(aws_sdk_eventbridge::Client::new(&aws), config.event_bus_name),
        mailer: Mailer {
            client: aws_sdk_sesv2::Client::new(&aws),
            sender: config.sender,
            recipients: config.recipients,
        },
        settings: config.settings,
        analyst: config.analyst,
        embedder: Embedder::new(&config.embeddings, &aws),
    };
    let deps = &deps;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<TriggerEvent>| async move {
        let remaining =
            event.context.deadline().duration_since(std::time::SystemTime::now()).unwrap_or_default();
        let stop = StopPolicy {
            deadline: Some(Instant::now() + remaining),
            margin: DEADLINE_MARGIN,
            crash_after: None,
        };
        handle(deps, event.payload, stop).await.map_err(lambda_runtime::Error::from)
    }))
    .await
}
