//! The local runner: every HTTP route of every function on one loopback port, and the batch on
//! demand, against the local emulator (or any endpoint the AWS SDK is pointed at).

use autolearn_bus::EventBus;
use autolearn_model::Store;
use autolearn_web::RouteTable;
use autolearn_web::routes::health;
use autolearn_web::webhook::WebhookConfig;

/// Where `autolearn serve` serves its local OpenID Connect issuer.
pub const LOCAL_ISSUER_PATH: &str = "/local-oidc";
/// The local issuer's sign-in client.
pub const LOCAL_CLIENT_ID: &str = "autolearn-local";

/// What the local runner hands to every function.
#[derive(Debug, Clone)]
pub struct Services {
    pub store: Store,
    pub bus: EventBus,
    pub webhook: WebhookConfig,
    pub edit_threshold: f64,
    /// Who may use the admin routes: locally, the bearer token in `local_admin_token`.
    pub admin: dashboard_api::AdminAuth,
    pub cors_origin: Option<axum::http::HeaderValue>,
    /// The promotion rules the dashboard previews (read from the environment, as the batch does).
    pub promotion: autolearn_model::PromotionConfig,
}

/// Each HTTP function's name with its own routes (without health), built as its Lambda builds
/// them. The template test checks these against `infra/template.yaml`.
pub fn function_routes(services: &Services) -> Vec<(&'static str, RouteTable)> {
    let Services { store, bus, webhook, edit_threshold, admin, cors_origin, promotion } = services.clone();
    vec![
        (
            intent_tracker::SERVICE,
            intent_tracker::routes(intent_tracker::AppState {
                store: store.clone(),
                webhook: webhook.clone(),
            }),
        ),
        (
            feedback_webhook::SERVICE,
            feedback_webhook::routes(feedback_webhook::AppState {
                store: store.clone(),
                bus: bus.clone(),
                webhook,
                edit_threshold,
            }),
        ),
        (
            customer_data_api::SERVICE,
            customer_data_api::routes(customer_data_api::AppState {
                store: store.clone(),
                bus: bus.clone(),
                admins: admin.admins.clone(),
                cors_origin: cors_origin.clone(),
            }),
        ),
        (
            dashboard_api::SERVICE,
            dashboard_api::routes(dashboard_api::AppState {
                store,
                bus,
                auth: admin,
                cors_origin,
                promotion,
            }),
        ),
    ]
}

/// Every route of every API function, plus one health route, as one table.
pub fn all_routes(services: &Services) -> RouteTable {
    function_routes(services)
        .into_iter()
        .fold(health("autolearn-local"), |all, (_, routes)| all.merge(routes))
}

/// The local issuer at `{base}/local-oidc` (keys generated now, signing in the local admin) and
/// the dashboard's sign-in against it (client `autolearn-local`, a session key generated now):
/// `autolearn serve` serves the issuer's routes beside the functions'.
pub fn local_sign_in(
    base: &str,
) -> (dashboard_api::local_oidc::LocalIssuer, std::sync::Arc<dashboard_api::SignIn>) {
    let issuer = dashboard_api::local_oidc::LocalIssuer::new(
        format!("{base}{LOCAL_ISSUER_PATH}"),
        dashboard_api::DEFAULT_ADMIN_GROUP,
    );
    let settings = dashboard_api::oidc::OidcSettings {
        expect: dashboard_api::oidc::Expectations {
            issuer: issuer.issuer.clone(),
            audiences: vec![LOCAL_CLIENT_ID.to_owned()],
            groups_claim: dashboard_api::GROUPS_CLAIM.to_owned(),
            admin_group: dashboard_api::DEFAULT_ADMIN_GROUP.to_owned(),
        },
        client_id: LOCAL_CLIENT_ID.to_owned(),
        scopes: dashboard_api::SCOPES.to_owned(),
    };
    let sign_in = dashboard_api::SignIn {
        provider: dashboard_api::oidc::OidcProvider::new(settings),
        key: dashboard_api::session::SessionKey::generate(),
    };
    (issuer, std::sync::Arc::new(sign_in))
}

/// A batch run to its end, locally: where the deployed batch hands the session to the
/// proposal-analyst function through the bus (`awaitingAnalyst`), the runner calls the analyst's
/// handler itself (the local bus has no rules), then continues the batch as the analyst's
/// `BatchContinuationRequested` would. `analyst` is `None` with `ANALYST=rules`.
pub async fn run_batch(
    deps: &weekly_batch::Deps,
    analyst: Option<&proposal_analyst::Deps>,
    event: weekly_batch::TriggerEvent,
) -> Result<weekly_batch::BatchOutcome, Box<dyn std::error::Error>> {
    let mut event = event;
    loop {
        let outcome = weekly_batch::handle(deps, event, Default::default()).await?;
        let (autolearn_model::BatchStatus::AwaitingAnalyst, Some(analyst)) = (outcome.status, analyst) else {
            return Ok(outcome);
        };
        let request = autolearn_bus::WordingRequested {
            session_id: outcome.session_id.clone(),
            period_start: outcome.period_start,
            period_end: outcome.period_end,
        };
        proposal_analyst::handle(analyst, request).await?;
        event = weekly_batch::TriggerEvent {
            detail_type: "BatchContinuationRequested".into(),
            time: chrono::Utc::now(),
            detail: weekly_batch::TriggerDetail {
                period_end: Some(outcome.period_end),
                request_payload: None,
            },
        };
    }
}

/// What `autolearn backfill-masked` did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Backfilled {
    pub executions_read: u64,
    pub executions_quoted: u64,
    pub feedback_read: u64,
    pub feedback_masked: u64,
}

/// Stores the masked forms that the intent tracker and the webhook store since they mask where
/// text comes in (docs/migrations.md) on the items stored before: the quoted form of every
/// execution of the `days` days up to `today` (the batch's look-back), and the masked draft and
/// reply of the feedback still queued for a batch. Conditional writes: what has its form, or
/// was erased meanwhile, is left alone, so a rerun (or one racing the functions) changes
/// nothing twice.
pub async fn backfill_masked(
    store: &Store,
    today: chrono::NaiveDate,
    days: u32,
) -> Result<Backfilled, autolearn_model::StoreError> {
    use autolearn_learning::text::{mask_personal_data, masked_own_words};
    let mut done = Backfilled::default();
    for back in 0..days {
        let day = today - chrono::Duration::days(i64::from(back));
        let executions = autolearn_model::all_pages(|cursor| async move {
            store.executions_of_day(day, cursor.as_deref(), 500).await
        })
        .await?;
        for execution in executions {
            done.executions_read += 1;
            if execution.message.quoted.is_some() || execution.erased_at.is_some() {
                continue;
            }
            let quoted = masked_own_words(&execution.message.body);
            if store.set_message_quoted(&execution.execution_id, &quoted).await? {
                done.executions_quoted += 1;
            }
        }
    }
    let queued = autolearn_model::all_pages(|cursor| async move {
        store.unanalyzed_feedback(cursor.as_deref(), 500).await
    })
    .await?;
    for feedback in queued {
        done.feedback_read += 1;
        if feedback.masked_draft.is_some() {
            continue;
        }
        let (draft, sent) =
            (mask_personal_data(&feedback.original_draft), mask_personal_data(&feedback.sent_version));
        if store.set_feedback_masked(&feedback.execution_id, &draft, &sent).await? {
            done.feedback_masked += 1;
        }
    }
    Ok(done)
}
