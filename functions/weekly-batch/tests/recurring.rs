//! The batch's proposals on moto: week after week, an idea already applied is not proposed
//! again and one still pending gets the new week's support (impact, conversations, evidence)
//! instead of a second proposal or being lost; and a support-desk week's edits become one
//! amendment an admin can read (quoted text, masked before/after pairs).

mod support;

use autolearn_model::*;
use autolearn_testkit::{fixtures, sdk_config};
use chrono::Duration;
use support::{MAINTENANCE, deps, proposals_of, run_week, seed_week, week_end};

#[tokio::test]
async fn applied_ideas_stay_applied_and_pending_ones_gather_support() {
    let deps = deps().await;
    let store = &deps.store;
    seed_week(store, 0).await;
    let first = run_week(&deps, 0).await;
    let first_proposals = proposals_of(store, &first).await;
    let amendment = first_proposals
        .iter()
        .find(|stored| stored.proposal.kind == ProposalKind::PlaybookAmendment)
        .expect("an amendment from the shortened drafts")
        .clone();
    let new_intent = first_proposals
        .iter()
        .find(|stored| stored.proposal.kind == ProposalKind::NewIntent)
        .unwrap_or_else(|| {
            panic!(
                "no new intent from the maintenance requests in {:?}",
                first_proposals.iter().map(|p| &p.proposal.title).collect::<Vec<_>>()
            )
        })
        .clone();

    // The admin applies the amendment and leaves the new intent pending.
    let mut applied = amendment.clone();
    applied.status = ProposalStatus::Applied;
    let mut transaction = Transaction::new();
    transaction.decide_proposal(&applied, ProposalStatus::Pending).unwrap();
    store.commit(transaction).await.unwrap();

    seed_week(store, 1).await;
    let second = run_week(&deps, 1).await;
    let second_proposals = proposals_of(store, &second).await;
    let fingerprints: Vec<&str> = second_proposals.iter().map(|p| p.proposal.fingerprint.as_str()).collect();
    assert!(!fingerprints.contains(&amendment.proposal.fingerprint.as_str()), "applied, proposed again");
    assert!(
        second_proposals.iter().all(|p| p.proposal.kind != ProposalKind::NewIntent),
        "the maintenance intent is pending: {:?}",
        second_proposals.iter().map(|p| &p.proposal.title).collect::<Vec<_>>()
    );
    // The same week again: every idea of the first week recurs; the applied one is not proposed
    // and each one still pending is refreshed, never proposed a second time.
    for first in &first_proposals {
        assert!(!fingerprints.contains(&first.proposal.fingerprint.as_str()), "{}", first.proposal.title);
    }
    assert_eq!(second.stats.pending_proposals_refreshed as usize, first_proposals.len() - 1);

    let supported = store.proposal(&new_intent.proposal_id).await.unwrap().unwrap();
    assert_eq!(supported.status, ProposalStatus::Pending);
    assert_eq!(supported.refreshed_by, vec![second.session_id.clone()]);
    // This week's maintenance messages add to it (those the engine ties to the request).
    let added = supported.proposal.impact - new_intent.proposal.impact;
    assert!((4..=MAINTENANCE.len() as u64).contains(&added), "added {added}");
    assert!(supported.proposal.support_conversations > new_intent.proposal.support_conversations);
    assert!(
        supported.proposal.evidence.iter().any(|e| e.id.starts_with("w1-gap-")),
        "this week's messages are evidence: {:?}",
        supported.proposal.evidence.iter().map(|e| &e.id).collect::<Vec<_>>()
    );
    // What the admin reviews is unchanged.
    assert_eq!(supported.proposal.title, new_intent.proposal.title);
    assert_eq!(supported.proposal.examples, new_intent.proposal.examples);
}

/// Makes DynamoDB refuse the batch's refresh of a pending proposal (the conditional put that
/// carries `refreshedBy`) the way it does when an admin applied the proposal in the meantime:
/// the put's condition expects the status the admin left (`applied`), so the emulator cancels
/// the transaction for its condition. The emulator applies requests one at a time and never
/// races, so the race is injected here.
#[derive(Debug, Clone, Default)]
struct DecidedMeanwhile {
    refused: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl aws_sdk_dynamodb::config::Intercept for DecidedMeanwhile {
    fn name(&self) -> &'static str {
        "DecidedMeanwhile"
    }

    fn modify_before_transmit(
        &self,
        context: &mut aws_sdk_dynamodb::config::interceptors::BeforeTransmitInterceptorContextMut<'_>,
        _components: &aws_sdk_dynamodb::config::RuntimeComponents,
        _cfg: &mut aws_sdk_dynamodb::config::ConfigBag,
    ) -> Result<(), aws_sdk_dynamodb::error::BoxError> {
        let request = context.request_mut();
        if !request.headers().get("x-amz-target").is_some_and(|t| t.ends_with("TransactWriteItems")) {
            return Ok(());
        }
        let body = String::from_utf8_lossy(request.body().bytes().unwrap_or_default()).into_owned();
        let expected = r#"":from":{"S":"pending"}"#;
        if !body.contains("refreshedBy") || !body.contains(expected) {
            return Ok(());
        }
        self.refused.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        // Same length, so the request's Content-Length still holds.
        let raced = body.replace(expected, r#"":from":{"S":"applied"}"#);
        *request.body_mut() = aws_smithy_types::body::SdkBody::from(raced);
        Ok(())
    }
}

#[tokio::test]
async fn a_proposal_decided_while_the_batch_refreshes_it_keeps_the_admins_decision() {
    let mut deps = deps().await;
    seed_week(&deps.store, 0).await;
    let first = run_week(&deps, 0).await;
    let first_proposals = proposals_of(&deps.store, &first).await;
    assert!(!first_proposals.is_empty());

    // Week 2 runs on a client whose refreshes DynamoDB refuses, as under a concurrent decision.
    let injected = DecidedMeanwhile::default();
    let config =
        aws_sdk_dynamodb::config::Builder::from(&sdk_config().await).interceptor(injected.clone()).build();
    deps.store = Store::new(aws_sdk_dynamodb::Client::from_conf(config), deps.store.table_name());
    seed_week(&deps.store, 1).await;
    let second = run_week(&deps, 1).await;
    assert_eq!(second.status, SessionStatus::Completed, "a refused refresh does not stop the batch");
    assert!(injected.refused.load(std::sync::atomic::Ordering::SeqCst) > 0, "the race was injected");
    for stored in &first_proposals {
        let now = deps.store.proposal(&stored.proposal_id).await.unwrap().unwrap();
        assert_eq!(now.proposal.impact, stored.proposal.impact, "{}", stored.proposal.title);
        assert!(now.refreshed_by.is_empty());
    }
    // Nothing was proposed twice either.
    let second_proposals = proposals_of(&deps.store, &second).await;
    for stored in &first_proposals {
        assert!(second_proposals.iter().all(|p| p.proposal.fingerprint != stored.proposal.fingerprint));
    }
}

/// A week of a support desk on moto, in wording unlike the property CRM: people drop the opening
/// apology of billing drafts (which quote the customer's email address), and the classifier
/// sends parking questions to PETS, where people replace the pet answer with the parking answer
/// that PARKING's drafts give. One amendment, quoting what people removed, with masked
/// before/after pairs; nothing for PETS; and no rewritten message becomes an example of PETS.
#[tokio::test]
async fn a_support_desk_week_gives_one_amendment_with_masked_pairs_and_none_from_misrouted_messages() {
    let deps = deps().await;
    let store = &deps.store;
    let start = week_end(0) - Duration::days(7);
    let at = |i: i64| start + Duration::hours(3 + 5 * i);
    const APOLOGY: &str = "We apologize for any inconvenience this may have caused.";
    const PETS: &str = "We are pet friendly: up to two cats or dogs, with a one-time deposit of $300.";
    const PARKING: &str = "Each unit has one assigned spot in the garage; a second spot is $75 per month.";
    let seed = |id: String, intent: &str, draft: String, sent: Option<String>, i: i64| {
        let mut execution = fixtures::execution(&id, &format!("conv-{id}"), at(i));
        fixtures::set_body(&mut execution, &format!("Question {i} about {intent}"));
        execution.intent.as_mut().unwrap().name = intent.into();
        execution.draft_reply = Some(draft.clone());
        let feedback = sent.map(|sent| {
            let mut feedback = fixtures::feedback(&execution, at(i));
            fixtures::set_texts(&mut feedback, &draft, &sent);
            feedback
        });
        (execution, feedback)
    };
    let mut items = Vec::new();
    for i in 0..5 {
        let answer =
            format!("Your payment of ${i}9.00 reached us, and the receipt went to jane.doe{i}@example.com.");
        let draft = format!("Hi there, {APOLOGY} {answer}");
        items.push(seed(format!("billing-{i}"), "BILLING", draft, Some(format!("Hi there, {answer}")), i));
    }
    for i in 0..4 {
        items.push(seed(format!("parking-{i}"), "PARKING", PARKING.into(), None, 10 + i));
        items.push(seed(format!("pets-{i}"), "PETS", PETS.into(), Some(PARKING.into()), 20 + i));
    }
    for (execution, feedback) in items {
        store.create(&execution).await.unwrap();
        if let Some(feedback) = feedback {
            store.create(&feedback).await.unwrap();
        }
    }

    let session = run_week(&deps, 0).await;
    let proposals = proposals_of(store, &session).await;
    let amendments: Vec<&Proposal> = proposals
        .iter()
        .map(|stored| &stored.proposal)
        .filter(|proposal| proposal.kind == ProposalKind::PlaybookAmendment)
        .collect();
    assert_eq!(amendments.len(), 1, "{:?}", amendments.iter().map(|a| &a.title).collect::<Vec<_>>());
    let amendment = amendments[0];
    assert_eq!(amendment.intent_name.as_deref(), Some("BILLING"));
    assert_eq!(
        amendment.playbook_text.as_deref(),
        Some(format!("- Don't open with: \"{APOLOGY}\"").as_str())
    );
    assert_eq!(amendment.evidence.len(), 5);
    for evidence in &amendment.evidence {
        let pair = evidence.edit.as_ref().expect("a before/after pair");
        assert!(pair.before.contains(APOLOGY) && !pair.after.contains(APOLOGY), "{pair:?}");
        assert!(pair.before.contains("[email]") && pair.after.contains("[email]"), "{pair:?}");
        assert!(!pair.before.contains('@') && !pair.after.contains('@'), "masked: {pair:?}");
    }
    // The PETS edits answered PARKING's question: no example proposal quotes them for PETS either.
    assert!(
        proposals.iter().all(|stored| stored.proposal.intent_name.as_deref() != Some("PETS")),
        "{:?}",
        proposals.iter().map(|p| &p.proposal.title).collect::<Vec<_>>()
    );
}
