//! Test support: AWS clients pointed at the project's moto server, and a fresh table per test.
//!
//! `make test` (through `scripts/with-moto.sh`) starts moto on a free loopback port and exports
//! `AWS_ENDPOINT_URL`; every test gets its own table, identity and bus names, so tests run in
//! parallel against one server without resets.

use autolearn_model::{Store, TableDefinition};
use aws_config::{BehaviorVersion, Region, SdkConfig};

/// The endpoint of the local emulator. Panics with the fix when it is not set, since no test
/// here may reach real AWS.
pub fn endpoint() -> String {
    std::env::var("AWS_ENDPOINT_URL").unwrap_or_else(|_| {
        panic!(
            "AWS_ENDPOINT_URL is not set: run the tests with `make test` (or \
             `scripts/with-moto.sh cargo test`), which starts the local moto server"
        )
    })
}

/// SDK config for the emulator: dummy credentials, fixed region.
pub async fn sdk_config() -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(endpoint())
        .region(Region::new("us-east-1"))
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
            "testing",
            "testing",
            None,
            None,
            "autolearn-tests",
        ))
        .load()
        .await
}

/// A name no other test uses.
pub fn unique_name(prefix: &str) -> String {
    format!("{prefix}-{}", ulid::Ulid::new().to_string().to_lowercase())
}

/// A store over a fresh table created from `infra/template.yaml`.
pub async fn fresh_store() -> Store {
    let config = sdk_config().await;
    let client = aws_sdk_dynamodb::Client::new(&config);
    let table = unique_name("autolearn-test");
    TableDefinition::from_embedded_template()
        .expect("template table definition")
        .create(&client, &table)
        .await
        .expect("create table on moto");
    Store::new(client, table)
}

/// Sample entities for tests, with plausible values a test overrides where it matters.
pub mod fixtures {
    use autolearn_model::*;
    use chrono::{DateTime, TimeZone, Utc};

    /// A fixed moment, so tests do not depend on the clock.
    pub fn monday_9am() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 16, 9, 0, 0).unwrap()
    }

    pub fn execution(id: &str, conversation: &str, at: DateTime<Utc>) -> Execution {
        Execution {
            execution_id: id.into(),
            conversation_id: conversation.into(),
            contact_id: Some("contact-1".into()),
            message: InboundMessage {
                message_id: format!("msg-{id}"),
                body: "Hi, is the 2-bed on Elm Street still available for a showing Saturday?".into(),
                received_at: at,
            },
            intent: Some(MatchedIntent { name: "SHOWING_REQUEST".into(), dynamic_intent_id: None }),
            skill: Some("schedule_showing".into()),
            playbook_entry_ids: vec![],
            draft_reply: Some("I'd be happy to help with that! The unit is available.".into()),
            status: ExecutionStatus::Success,
            created_at: at,
        }
    }

    pub fn feedback(execution: &Execution, at: DateTime<Utc>) -> DraftFeedback {
        DraftFeedback {
            feedback_id: format!("fb-{}", execution.execution_id),
            execution_id: execution.execution_id.clone(),
            conversation_id: execution.conversation_id.clone(),
            intent_name: Some(execution.intent_name().to_owned()),
            dynamic_intent_id: None,
            original_draft: execution.draft_reply.clone().unwrap_or_default(),
            sent_version: "Let me check availability and get back to you today.".into(),
            edit_distance: 0.71,
            diff_summary: "Rewrote the reply".into(),
            reason_codes: vec!["phrases_removed".into()],
            analyzed: false,
            learning_session_id: None,
            sent_at: at,
            created_at: at,
        }
    }

    pub fn intent(id: &str, name: &str, at: DateTime<Utc>) -> DynamicIntent {
        DynamicIntent {
            intent_id: id.into(),
            name: name.into(),
            description: format!("Messages about {name}"),
            examples: vec!["my sink is leaking".into()],
            keywords: vec!["leak".into(), "repair".into()],
            active: true,
            experimental: true,
            usage: UsageCounts::default(),
            promoted_at: None,
            deactivated_at: None,
            source_proposal_id: None,
            created_at: at,
        }
    }

    pub fn playbook_entry(id: &str, at: DateTime<Utc>) -> PlaybookEntry {
        PlaybookEntry {
            entry_id: id.into(),
            intent_name: Some("SHOWING_REQUEST".into()),
            text: "Offer two concrete showing times.".into(),
            active: true,
            experimental: false,
            usage: UsageCounts::default(),
            promoted_at: None,
            deactivated_at: None,
            source_proposal_id: None,
            created_at: at,
        }
    }

    pub fn session(id: &str, at: DateTime<Utc>) -> LearningSession {
        LearningSession {
            session_id: id.into(),
            session_type: SessionType::Batch,
            period_start: at - chrono::Duration::days(7),
            period_end: at,
            status: SessionStatus::Running,
            summary: None,
            stats: Default::default(),
            proposal_ids: vec![],
            report_message_id: None,
            created_at: at,
            updated_at: at,
        }
    }

    pub fn proposal(id: &str, session_id: &str, at: DateTime<Utc>) -> LearningProposal {
        LearningProposal {
            proposal_id: id.into(),
            session_id: session_id.into(),
            kind: ProposalKind::NewIntent,
            status: ProposalStatus::Pending,
            title: "New intent MAINTENANCE_REQUEST".into(),
            intent_name: Some("MAINTENANCE_REQUEST".into()),
            description: "Tenants reporting something broken".into(),
            examples: vec!["the heater is broken".into()],
            keywords: vec!["broken".into()],
            playbook_text: None,
            confidence: Confidence::Medium,
            impact: 12,
            evidence: vec![Evidence {
                conversation_id: "c-9".into(),
                execution_id: None,
                text: "my heater is broken, call me at [phone]".into(),
                similarity: Some(0.8),
            }],
            fingerprint: format!("new_intent:{id}"),
            created_at: at,
            decided_at: None,
            decided_by: None,
            note: None,
        }
    }
}
