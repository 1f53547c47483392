use autolearn_bus::EventBus;
use autolearn_model::Store;
use autolearn_web::telemetry;
use customer_data_api::{AppState, Config, router};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    telemetry::init();
    let config = Config::from_env()?;
    // Credentials and region from the variables Lambda sets: no provider chain to link or load.
    let aws = autolearn_web::aws::from_lambda_env()?;
    let state = AppState {
        store: Store::new(aws_sdk_dynamodb::Client::new(&aws), config.table_name)
            .with_retention(config.retention),
        bus: EventBus::new(aws_sdk_eventbridge::Client::new(&aws), config.event_bus_name),
        admins: config.admins,
        cors_origin: config.cors_origin,
    };
    autolearn_web::lambda::serve(router(state)).await
}
