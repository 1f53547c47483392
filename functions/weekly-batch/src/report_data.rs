//! The report's content (from the stored proposals, the session and the daily counters) and
//! step 6 of the batch, which sends it.

use autolearn_learning::text::one_line;
use autolearn_model::counters::{ratio, total};
use autolearn_model::{Counter, DailyCounters, LearningProposal, LearningSession, ProposalKind};
use chrono::Duration;

use crate::report::{self, ReportData, Trend};
use crate::run::days_of;
use crate::{BatchError, Deps};

pub(crate) fn summary_line(data: &ReportData) -> String {
    let mut parts = vec![format!("{} conversations analysed", data.conversations)];
    if !data.new_intents.is_empty() {
        parts.push(format!(
            "{} new intent patterns ({})",
            data.new_intents.len(),
            data.new_intents.join(", ")
        ));
    }
    if data.intent_examples > 0 {
        parts.push(format!("{} intent example updates", data.intent_examples));
    }
    if !data.playbook_updates.is_empty() {
        parts.push(format!("{} playbook updates", data.playbook_updates.len()));
    }
    let theme =
        data.common_theme.as_ref().map(|theme| format!(" (common theme: {theme})")).unwrap_or_default();
    parts.push(format!("{} draft edits analysed{theme}", data.edits_analysed));
    parts.join("; ")
}

fn week_ratio(days: &[DailyCounters], numerator: &Counter, denominator: &Counter) -> Option<f64> {
    ratio(total(days, numerator), total(days, denominator))
}

/// The report's content, from the stored proposals and the daily counters of this week and
/// the week before.
pub(crate) async fn report_data(
    deps: &Deps,
    session: &LearningSession,
    proposals: &[LearningProposal],
) -> Result<ReportData, BatchError> {
    let (start, end) = (session.period_start, session.period_end);
    let this_week = days_of(start, end);
    let last_week = days_of(start - Duration::days(7), start);
    let counters = deps.store.daily_counters(&[last_week.clone(), this_week].concat()).await?;
    let (before, now) = counters.split_at(last_week.len());
    let trend = |numerator: Counter, denominator: Counter| Trend {
        this_week: week_ratio(now, &numerator, &denominator),
        last_week: week_ratio(before, &numerator, &denominator),
    };
    let of_kind =
        |kind: ProposalKind| proposals.iter().map(|stored| &stored.proposal).filter(move |p| p.kind == kind);
    Ok(ReportData {
        period: format!("{} – {}", start.format("%Y-%m-%d %H:%M UTC"), end.format("%Y-%m-%d %H:%M UTC")),
        conversations: session.stats.conversations_analysed as usize,
        new_intents: of_kind(ProposalKind::NewIntent).filter_map(|p| p.intent_name.clone()).collect(),
        intent_examples: of_kind(ProposalKind::IntentExample).count(),
        playbook_updates: of_kind(ProposalKind::PlaybookAmendment).map(|p| p.title.clone()).collect(),
        edits_analysed: session.stats.edits_analysed as usize,
        common_theme: of_kind(ProposalKind::PlaybookAmendment).next().map(|p| p.title.clone()),
        accuracy: trend(Counter::Unedited, Counter::Sent),
        coverage: trend(Counter::Matched, Counter::Executions),
        decisions: session
            .decisions
            .iter()
            .map(|decision| {
                format!(
                    "{} {} {}: {}",
                    decision.action.as_str(),
                    decision.item_kind.as_str(),
                    decision.name,
                    decision.reason
                )
            })
            .collect(),
        proposals: proposals.iter().map(|stored| stored.proposal.title.clone()).collect(),
        examples: example_quotes(proposals.iter().map(|stored| stored.proposal.examples.as_slice())),
        review_url: deps.settings.review_url.clone(),
    })
}

/// An example in the email is a quote of one line and at most this many characters: customers'
/// messages run to paragraphs (a complaint's median is 139 words in the real-text evaluation),
/// and the whole message is a click away, in the proposal.
pub(crate) const EXAMPLE_QUOTE_CHARS: usize = 160;

/// The email's quotes of the customers behind the proposals: the first example of each of the
/// first five proposals that have one, each on one line and cut at [`EXAMPLE_QUOTE_CHARS`].
fn example_quotes<'a>(examples_per_proposal: impl IntoIterator<Item = &'a [String]>) -> Vec<String> {
    examples_per_proposal
        .into_iter()
        .filter_map(|examples| examples.first())
        .map(|example| one_line(example, EXAMPLE_QUOTE_CHARS))
        .take(5)
        .collect()
}

/// Step 6: the report, sent once; a failed send leaves the step open for the next run.
pub(crate) async fn send_report(deps: &Deps, session: &mut LearningSession) -> Result<(), BatchError> {
    if session.report_message_id.is_some() {
        return Ok(());
    }
    let store = &deps.store;
    let mut proposals = Vec::new();
    for id in &session.proposal_ids {
        if let Some(proposal) = store.proposal(id).await? {
            proposals.push(proposal);
        }
    }
    let data = report_data(deps, session, &proposals).await?;
    let rendered = report::render(&data)?;
    let message_id = deps.mailer.send(&rendered).await?;
    session.report_message_id = Some(message_id);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_email_quotes_one_line_of_the_first_example_of_each_of_five_proposals() {
        let complaint = format!(
            "I have been trying to get my mortgage servicer to correct\nthe escrow account. {}",
            "They keep charging a shortage that does not exist. ".repeat(6)
        );
        let examples: Vec<Vec<String>> = vec![
            vec![complaint.clone(), "second example, not quoted".into()],
            vec![],
            vec!["How do I reset my password?".into()],
            vec!["a".into()],
            vec!["b".into()],
            vec!["c".into()],
            vec!["d, the sixth proposal with an example".into()],
        ];
        let quotes = example_quotes(examples.iter().map(Vec::as_slice));
        assert_eq!(quotes.len(), 5, "{quotes:?}");
        let first = &quotes[0];
        assert!(first.chars().count() <= EXAMPLE_QUOTE_CHARS && first.ends_with('…'), "{first}");
        assert!(
            first.starts_with("I have been trying to get my mortgage servicer to correct the escrow"),
            "{first}"
        );
        assert!(!first.contains('\n'));
        // A short message is quoted whole; proposals without examples are skipped.
        assert_eq!(quotes[1..], ["How do I reset my password?", "a", "b", "c"]);
    }
}
