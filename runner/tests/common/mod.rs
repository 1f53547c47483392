//! Shared by the runner's tests: the services with clients that are never called.

use autolearn_bus::EventBus;
use autolearn_model::Store;
use autolearn_runner::Services;
use autolearn_web::signature::WebhookAuth;
use autolearn_web::webhook::WebhookConfig;

/// Building the routers needs clients, not connections.
pub fn offline_services() -> Services {
    let dynamodb = aws_sdk_dynamodb::Config::builder()
        .behavior_version(aws_sdk_dynamodb::config::BehaviorVersion::latest())
        .build();
    let eventbridge = aws_sdk_eventbridge::Config::builder()
        .behavior_version(aws_sdk_eventbridge::config::BehaviorVersion::latest())
        .build();
    Services {
        store: Store::new(aws_sdk_dynamodb::Client::from_conf(dynamodb), "unused"),
        bus: EventBus::new(aws_sdk_eventbridge::Client::from_conf(eventbridge), "unused"),
        webhook: WebhookConfig {
            auth: WebhookAuth::new("unused-secret-0123456789"),
            max_body_bytes: 1024,
            dates: Default::default(),
        },
        edit_threshold: 0.2,
        admin: dashboard_api::AdminAuth {
            admins: dashboard_api::Admins { admin_group: "admins".into(), local_admin_token: None },
            sign_in: None,
        },
        cors_origin: None,
        promotion: Default::default(),
    }
}
