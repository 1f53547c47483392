use autolearn_bus::EventBus;
use autolearn_model::Store;
use autolearn_web::{routes::health, telemetry};
use feedback_webhook::{AppState, Config, SERVICE, routes};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    telemetry::init();
    // Credentials and region from the variables Lambda sets: no provider chain to link or load.
    let aws = autolearn_web::aws::from_lambda_env()?;
    let config = Config::load(&aws).await?;
    let state = AppState {
        store: Store::new(aws_sdk_dynamodb::Client::new(&aws), config.table_name)
            .with_retention(config.retention),
        bus: EventBus::new(aws_sdk_eventbridge::Client::new(&aws), config.event_bus_name),
        webhook: config.webhook,
        edit_threshold: config.edit_threshold,
    };
    autolearn_web::lambda::serve(routes(state).merge(health(SERVICE)).into_router()).await
}
