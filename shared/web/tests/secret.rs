//! The webhook key read from Secrets Manager at cold start, on the project's moto server: the
//! current version and, during a rotation, the previous one verify requests.

use autolearn_web::signature::{SIGNATURE_HEADER, TIMESTAMP_HEADER, WebhookAuth};
use autolearn_web::webhook::{WebhookSecret, webhook_auth};
use axum::http::{HeaderMap, HeaderValue};
use chrono::Utc;

async fn sdk_config() -> aws_config::SdkConfig {
    let endpoint = std::env::var("AWS_ENDPOINT_URL")
        .expect("AWS_ENDPOINT_URL is not set: run the tests with `scripts/with-moto.sh cargo test`");
    autolearn_web::aws::defaults()
        .endpoint_url(endpoint)
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_secretsmanager::config::Credentials::new(
            "testing", "testing", None, None, "tests",
        ))
        .load()
        .await
}

fn signed(key: &str, body: &[u8]) -> HeaderMap {
    let timestamp = Utc::now().timestamp();
    let mut headers = HeaderMap::new();
    headers.insert(TIMESTAMP_HEADER, HeaderValue::from_str(&timestamp.to_string()).unwrap());
    headers.insert(
        SIGNATURE_HEADER,
        HeaderValue::from_str(&WebhookAuth::new(key).sign(timestamp, body)).unwrap(),
    );
    headers
}

#[tokio::test]
async fn the_current_and_previous_versions_of_the_secret_verify_after_a_rotation() {
    let aws = sdk_config().await;
    let client = aws_sdk_secretsmanager::Client::new(&aws);
    let name = format!("autolearn-webhook-{}", Utc::now().timestamp_nanos_opt().unwrap());
    let created =
        client.create_secret().name(&name).secret_string("first-key-0123456789").send().await.unwrap();
    let arn = created.arn.unwrap();

    // Before any rotation there is no previous version: the current key alone verifies.
    let auth = webhook_auth(WebhookSecret::SecretsManager { id: arn.clone() }, &aws).await.unwrap();
    let body = br#"{"executionId":"e1"}"#;
    assert!(auth.verify(&signed("first-key-0123456789", body), body, Utc::now()).is_ok());

    client.put_secret_value().secret_id(&arn).secret_string("second-key-0123456789").send().await.unwrap();
    let rotating = webhook_auth(WebhookSecret::SecretsManager { id: name.clone() }, &aws).await.unwrap();
    for key in ["second-key-0123456789", "first-key-0123456789"] {
        assert!(rotating.verify(&signed(key, body), body, Utc::now()).is_ok(), "{key}");
    }
    assert!(rotating.verify(&signed("some-other-key-0123456789", body), body, Utc::now()).is_err());

    let missing = webhook_auth(WebhookSecret::SecretsManager { id: format!("{name}-missing") }, &aws).await;
    let error = missing.unwrap_err().to_string();
    assert!(error.contains("WEBHOOK_SECRET_ID"), "{error}");
}

#[tokio::test]
async fn a_key_source_reads_the_secret_and_refuses_a_short_key_naming_its_variable() {
    use autolearn_web::secret::KeySource;
    let aws = sdk_config().await;
    let client = aws_sdk_secretsmanager::Client::new(&aws);
    let name = format!("autolearn-session-{}", Utc::now().timestamp_nanos_opt().unwrap());
    client
        .create_secret()
        .name(&name)
        .secret_string("session-key-0123456789-abcdefghij")
        .send()
        .await
        .unwrap();
    let versions =
        KeySource::SecretsManager { id: name.clone() }.read(&aws, "SESSION_KEY_SECRET_ID").await.unwrap();
    assert_eq!(versions.current, "session-key-0123456789-abcdefghij");
    assert_eq!(versions.previous, None);

    client.put_secret_value().secret_id(&name).secret_string("short").send().await.unwrap();
    let error = KeySource::SecretsManager { id: name }.read(&aws, "SESSION_KEY_SECRET_ID").await.unwrap_err();
    assert!(error.to_string().contains("SESSION_KEY_SECRET_ID"), "{error}");
    // The key itself is never printed.
    assert_eq!(format!("{:?}", KeySource::Value("a-local-key-0123456789".into())), "KeySource::Value(..)");
}

/// The functions' SDK config on Lambda's variables, with `AWS_ENDPOINT_URL` pointing at the
/// emulator: the functions' HTTP client and credentials reach it.
#[tokio::test]
async fn the_lambda_config_reads_and_writes_through_aws_endpoint_url() {
    let endpoint = std::env::var("AWS_ENDPOINT_URL")
        .expect("AWS_ENDPOINT_URL is not set: run the tests with `scripts/with-moto.sh cargo test`");
    let vars = |name: &str| match name {
        "AWS_REGION" => Some("us-east-1".to_owned()),
        "AWS_ACCESS_KEY_ID" => Some("testing".to_owned()),
        "AWS_SECRET_ACCESS_KEY" => Some("testing".to_owned()),
        "AWS_SESSION_TOKEN" => Some("testing-session".to_owned()),
        "AWS_ENDPOINT_URL" => Some(endpoint.clone()),
        _ => None,
    };
    let aws = autolearn_web::aws::from_vars(vars).unwrap();
    assert_eq!(aws.region().map(|region| region.as_ref()), Some("us-east-1"));
    assert_eq!(aws.endpoint_url(), Some(endpoint.as_str()));
    let client = aws_sdk_secretsmanager::Client::new(&aws);
    let name = format!("autolearn-lambda-config-{}", Utc::now().timestamp_nanos_opt().unwrap());
    client.create_secret().name(&name).secret_string("value-0123456789").send().await.unwrap();
    let read = client.get_secret_value().secret_id(&name).send().await.unwrap();
    assert_eq!(read.secret_string(), Some("value-0123456789"));
}

#[test]
fn the_lambda_config_needs_the_credentials_and_region_lambda_sets() {
    use autolearn_web::ConfigError;
    let only =
        |set: &'static [&'static str]| move |name: &str| set.contains(&name).then(|| "value".to_owned());
    let missing = |set| autolearn_web::aws::from_vars(only(set)).unwrap_err();
    assert_eq!(missing(&["AWS_REGION"]), ConfigError::Missing("AWS_ACCESS_KEY_ID"));
    assert_eq!(missing(&["AWS_REGION", "AWS_ACCESS_KEY_ID"]), ConfigError::Missing("AWS_SECRET_ACCESS_KEY"));
    assert_eq!(missing(&["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"]), ConfigError::Missing("AWS_REGION"));
    // Without a session token or an endpoint: long-term keys, AWS's own endpoints.
    let aws =
        autolearn_web::aws::from_vars(only(&["AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"]))
            .unwrap();
    assert_eq!(aws.endpoint_url(), None);
    assert!(aws.credentials_provider().is_some());
}
