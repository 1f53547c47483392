use autolearn_bus::EventBus;
use autolearn_model::Store;
use autolearn_web::telemetry;
use lambda_runtime::{LambdaEvent, service_fn};
use proposal_analyst::{BedrockAnalyst, Config, Deps, WordingEvent, handle};

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
        model: BedrockAnalyst::new(
            &aws,
            &config.analyst.model_id,
            config.analyst.max_calls,
            config.analyst.max_tokens,
        ),
    };
    let deps = &deps;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<WordingEvent>| async move {
        handle(deps, event.payload.detail).await.map_err(lambda_runtime::Error::from)
    }))
    .await
}
