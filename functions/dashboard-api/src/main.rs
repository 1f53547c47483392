use autolearn_bus::EventBus;
use autolearn_model::Store;
use autolearn_web::telemetry;
use dashboard_api::{AdminAuth, Admins, AppState, Config, SignIn, oidc::OidcProvider, router};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    telemetry::init();
    let config = Config::from_env()?;
    // Credentials and region from the variables Lambda sets: no provider chain to link or load.
    let aws = autolearn_web::aws::from_lambda_env()?;
    let session_key = config.session_key(&aws).await?;
    let state = AppState {
        store: Store::new(aws_sdk_dynamodb::Client::new(&aws), config.table_name)
            .with_retention(config.retention),
        bus: EventBus::new(aws_sdk_eventbridge::Client::new(&aws), config.event_bus_name),
        // In Lambda: the JWT authorizer's claims, bearer JWTs and sessions of the configured
        // issuer; never a local token.
        auth: AdminAuth {
            admins: Admins { admin_group: config.admin_group, local_admin_token: None },
            sign_in: Some(std::sync::Arc::new(SignIn {
                provider: OidcProvider::new(config.oidc),
                key: session_key,
            })),
        },
        cors_origin: config.cors_origin,
        promotion: config.promotion,
    };
    autolearn_web::lambda::serve(router(state)).await
}
