use autolearn_model::Store;
use autolearn_web::{routes::health, telemetry};
use intent_tracker::{AppState, Config, SERVICE, routes};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    telemetry::init();
    // Credentials and region from the variables Lambda sets: no provider chain to link or load.
    let aws = autolearn_web::aws::from_lambda_env()?;
    let config = Config::load(&aws).await?;
    let store =
        Store::new(aws_sdk_dynamodb::Client::new(&aws), config.table_name).with_retention(config.retention);
    let app = routes(AppState { store, webhook: config.webhook }).merge(health(SERVICE)).into_router();
    autolearn_web::lambda::serve(app).await
}
