use autolearn_model::Store;
use autolearn_web::telemetry;
use lambda_runtime::{LambdaEvent, service_fn};
use weekly_batch::{Config, TriggerEvent, handle};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    telemetry::init();
    let config = Config::from_env()?;
    let aws = aws_config::load_from_env().await;
    let store = Store::new(aws_sdk_dynamodb::Client::new(&aws), config.table_name);
    let store = &store;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<TriggerEvent>| async move {
        handle(store, event.payload).await.map_err(lambda_runtime::Error::from)
    }))
    .await
}
