//! Edit themes: what people keep changing in drafts, over a batch of edits, overall and
//! per intent; and the playbook-amendment proposals made from them.
//!
//! A theme is a reason kind (e.g. shortened) or a recurring removed or added phrase that
//! holds for a large enough share of a scope's edits and is supported by several
//! distinct conversations. A theme that holds globally is reported once, globally,
//! unless its support comes almost entirely from one intent, in which case it is
//! reported for that intent only.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::edit::{EditAnalysis, ReasonCode, ReasonKind};
use crate::proposals::{self, Confidence, Evidence, EvidenceKind, Proposal, ProposalKind};
use crate::text;

/// One analyzed edit, as input to theme detection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EditRecord {
    /// Feedback id.
    pub id: String,
    /// Conversation id.
    pub conversation_id: String,
    /// The intent the draft was written for, if any.
    pub intent: Option<String>,
    /// The analysis of the edit.
    pub analysis: EditAnalysis,
}

/// What a theme is about.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum ThemeSubject {
    /// A reason kind (never the phrase kinds, which are themes by phrase).
    #[serde(rename_all = "camelCase")]
    Reason {
        /// The reason kind.
        kind: ReasonKind,
    },
    /// A phrase that people keep removing (normalized: lowercase, no punctuation).
    #[serde(rename_all = "camelCase")]
    PhraseRemoved {
        /// The phrase.
        phrase: String,
    },
    /// A phrase that people keep adding (normalized).
    #[serde(rename_all = "camelCase")]
    PhraseAdded {
        /// The phrase.
        phrase: String,
    },
}

/// Tuning of theme detection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ThemeConfig {
    /// A theme needs support from at least this many distinct conversations.
    pub min_conversations: usize,
    /// A reason theme needs at least this share of its scope's edits.
    pub min_share: f64,
    /// A phrase theme needs at least this share of its scope's edits.
    pub min_phrase_share: f64,
    /// Phrases are word n-grams of removed/added runs, from this many words…
    pub phrase_min_words: usize,
    /// …to this many.
    pub phrase_max_words: usize,
    /// A global theme whose support comes at least this much from one intent is
    /// reported for that intent instead.
    pub dominant_intent_share: f64,
    /// Conversations for high confidence.
    pub high_confidence_conversations: usize,
    /// Evidence items kept per proposal.
    pub max_evidence: usize,
    /// Themes of one scope whose supporting edits overlap at least this much (Jaccard) are
    /// changes people make in the same edits: one amendment with a checklist.
    pub same_edits_overlap: f64,
}

impl Default for ThemeConfig {
    fn default() -> Self {
        Self {
            min_conversations: 3,
            min_share: 0.5,
            min_phrase_share: 0.4,
            phrase_min_words: 3,
            phrase_max_words: 12,
            dominant_intent_share: 0.8,
            high_confidence_conversations: 6,
            max_evidence: 20,
            same_edits_overlap: 0.5,
        }
    }
}

/// A detected theme.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EditTheme {
    /// The intent it applies to; `None` = global.
    pub intent: Option<String>,
    /// What it is about.
    pub subject: ThemeSubject,
    /// Edits in the scope showing it.
    pub support_edits: usize,
    /// Edits in the scope.
    pub scope_edits: usize,
    /// Distinct conversations showing it.
    pub support_conversations: usize,
    /// Median signed length change in percent among supporting edits (length themes).
    pub median_percent: Option<i32>,
    /// E.g. "shorter responses preferred (5 of 7 edits, median -41%)".
    pub description: String,
    /// Ids of the supporting edits.
    pub edit_ids: Vec<String>,
}

/// Per scope: for each subject, the indices of supporting edits.
type Support = BTreeMap<ThemeSubject, BTreeSet<usize>>;

/// Detects themes in a batch of edits (see the module documentation). Deterministic:
/// themes are ordered by scope (global first, then intents by name), then by support.
pub fn detect_themes(edits: &[EditRecord], cfg: &ThemeConfig) -> Vec<EditTheme> {
    let all: Vec<usize> = (0..edits.len()).collect();
    let mut by_intent: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, e) in edits.iter().enumerate() {
        if let Some(intent) = &e.intent {
            by_intent.entry(intent).or_default().push(i);
        }
    }

    let global = qualifying(edits, &all, cfg);
    let mut themes = Vec::new();
    let mut global_subjects: BTreeSet<ThemeSubject> = BTreeSet::new();
    for (subject, support) in &global {
        let mut per_intent: BTreeMap<&str, usize> = BTreeMap::new();
        for &i in support {
            if let Some(intent) = &edits[i].intent {
                *per_intent.entry(intent).or_insert(0) += 1;
            }
        }
        let top = per_intent.values().copied().max().unwrap_or(0);
        // Support almost all from one intent: the intent-level theme says it better.
        let dominated =
            !by_intent.is_empty() && top as f64 >= cfg.dominant_intent_share * support.len() as f64;
        if !dominated {
            global_subjects.insert(subject.clone());
            themes.push(make_theme(edits, None, subject, support, all.len()));
        }
    }
    for (intent, members) in &by_intent {
        for (subject, support) in qualifying(edits, members, cfg) {
            if global_subjects.contains(&subject) {
                continue;
            }
            themes.push(make_theme(edits, Some(intent), &subject, &support, members.len()));
        }
    }
    // Within a scope: most support first, then subject.
    themes.sort_by(|a, b| {
        a.intent.cmp(&b.intent).then(b.support_edits.cmp(&a.support_edits)).then(a.subject.cmp(&b.subject))
    });
    themes
}

/// The subjects that qualify as themes within one scope, with their supporting edits.
fn qualifying(edits: &[EditRecord], scope: &[usize], cfg: &ThemeConfig) -> Support {
    let mut support: Support = BTreeMap::new();
    let mut removed: BTreeMap<String, BTreeSet<usize>> = BTreeMap::new();
    let mut added: BTreeMap<String, BTreeSet<usize>> = BTreeMap::new();
    for &i in scope {
        let analysis = &edits[i].analysis;
        for reason in &analysis.reasons {
            match reason {
                ReasonCode::PhrasesRemoved { phrases } => {
                    for gram in phrase_ngrams(phrases, cfg) {
                        removed.entry(gram).or_default().insert(i);
                    }
                }
                ReasonCode::PhrasesAdded { phrases } => {
                    for gram in phrase_ngrams(phrases, cfg) {
                        added.entry(gram).or_default().insert(i);
                    }
                }
                other => {
                    support.entry(ThemeSubject::Reason { kind: other.kind() }).or_default().insert(i);
                }
            }
        }
    }
    let passes = |set: &BTreeSet<usize>, share: f64| -> bool {
        let conversations: BTreeSet<&str> = set.iter().map(|&i| edits[i].conversation_id.as_str()).collect();
        conversations.len() >= cfg.min_conversations && set.len() as f64 >= share * scope.len() as f64
    };
    support.retain(|_, set| passes(set, cfg.min_share));
    let phrase_share = cfg.min_phrase_share;
    for (grams, make) in [
        (removed, (|p| ThemeSubject::PhraseRemoved { phrase: p }) as fn(String) -> ThemeSubject),
        (added, |p| ThemeSubject::PhraseAdded { phrase: p }),
    ] {
        let candidates: Vec<(String, BTreeSet<usize>)> =
            grams.into_iter().filter(|(_, set)| passes(set, phrase_share)).collect();
        for (phrase, set) in maximal_phrases(candidates, cfg.phrase_min_words) {
            support.insert(make(phrase), set);
        }
    }
    support
}

/// The normalized word n-grams of phrases (each counted once per edit).
fn phrase_ngrams(phrases: &[String], cfg: &ThemeConfig) -> BTreeSet<String> {
    let mut grams = BTreeSet::new();
    for phrase in phrases {
        let words: Vec<String> = text::words(phrase)
            .into_iter()
            .map(text::word_key)
            .filter(|w| w.chars().any(char::is_alphanumeric))
            .collect();
        for n in cfg.phrase_min_words..=cfg.phrase_max_words.min(words.len()) {
            for window in words.windows(n) {
                grams.insert(window.join(" "));
            }
        }
    }
    grams
}

/// Keeps one phrase per recurring region: candidates are taken by support (then length,
/// then text), and any candidate sharing a `min_words`-gram with a taken phrase is
/// dropped (it is part of, or overlaps, the same region).
fn maximal_phrases(
    mut candidates: Vec<(String, BTreeSet<usize>)>,
    min_words: usize,
) -> Vec<(String, BTreeSet<usize>)> {
    candidates.sort_by(|a, b| {
        b.1.len()
            .cmp(&a.1.len())
            .then(b.0.split(' ').count().cmp(&a.0.split(' ').count()))
            .then(a.0.cmp(&b.0))
    });
    let grams_of = |p: &str| -> BTreeSet<String> {
        let words: Vec<&str> = p.split(' ').collect();
        words.windows(min_words.max(1)).map(|w| w.join(" ")).collect()
    };
    let mut taken: Vec<(String, BTreeSet<usize>)> = Vec::new();
    let mut taken_grams: BTreeSet<String> = BTreeSet::new();
    for (phrase, set) in candidates {
        let grams = grams_of(&phrase);
        if grams.iter().any(|g| taken_grams.contains(g)) {
            continue;
        }
        taken_grams.extend(grams);
        taken.push((phrase, set));
    }
    taken
}

fn make_theme(
    edits: &[EditRecord],
    intent: Option<&str>,
    subject: &ThemeSubject,
    support: &BTreeSet<usize>,
    scope_edits: usize,
) -> EditTheme {
    let conversations: BTreeSet<&str> = support.iter().map(|&i| edits[i].conversation_id.as_str()).collect();
    let median_percent = match subject {
        ThemeSubject::Reason { kind: ReasonKind::Shortened | ReasonKind::Lengthened } => {
            let mut percents: Vec<i32> =
                support.iter().filter_map(|&i| edits[i].analysis.length_change_percent()).collect();
            percents.sort_unstable();
            percents.get(percents.len() / 2).copied().map(|upper| {
                if percents.len().is_multiple_of(2) {
                    let lower = percents[percents.len() / 2 - 1];
                    ((f64::from(lower) + f64::from(upper)) / 2.0).round() as i32
                } else {
                    upper
                }
            })
        }
        _ => None,
    };
    let what = describe(subject);
    let numbers = match median_percent {
        Some(p) => {
            format!("{} of {scope_edits} edits, median {}{p}%", support.len(), if p > 0 { "+" } else { "" })
        }
        None => format!("{} of {scope_edits} edits", support.len()),
    };
    EditTheme {
        intent: intent.map(str::to_string),
        subject: subject.clone(),
        support_edits: support.len(),
        scope_edits,
        support_conversations: conversations.len(),
        median_percent,
        description: format!("{what} ({numbers})"),
        edit_ids: support.iter().map(|&i| edits[i].id.clone()).collect(),
    }
}

fn describe(subject: &ThemeSubject) -> String {
    match subject {
        ThemeSubject::Reason { kind } => match kind {
            ReasonKind::Shortened => "shorter responses preferred",
            ReasonKind::Lengthened => "longer, more detailed responses preferred",
            ReasonKind::GreetingChanged => "greeting changed",
            ReasonKind::SignOffChanged => "sign-off changed",
            ReasonKind::SentencesRemoved => "sentences removed",
            ReasonKind::SentencesAdded => "sentences added",
            ReasonKind::QuestionAdded => "follow-up question added",
            ReasonKind::ContactDetailsAdded => "contact details added",
            ReasonKind::LinkAdded => "link added",
            ReasonKind::NumbersChanged => "numbers or prices corrected",
            ReasonKind::PhrasesRemoved => "phrases removed",
            ReasonKind::PhrasesAdded => "phrases added",
        }
        .to_string(),
        ThemeSubject::PhraseRemoved { phrase } => format!("removed \"{phrase}\""),
        ThemeSubject::PhraseAdded { phrase } => format!("added \"{phrase}\""),
    }
}

fn guidance(theme: &EditTheme) -> String {
    let share = format!("{} of {} edits", theme.support_edits, theme.scope_edits);
    match &theme.subject {
        ThemeSubject::Reason { kind } => match kind {
            ReasonKind::Shortened => format!(
                "Keep replies concise: people shortened drafts in {share} (median {}%).",
                theme.median_percent.unwrap_or(0)
            ),
            ReasonKind::Lengthened => format!(
                "Give fuller answers: people lengthened drafts in {share} (median +{}%).",
                theme.median_percent.unwrap_or(0)
            ),
            ReasonKind::GreetingChanged => {
                format!("Review the greeting: people changed it in {share}.")
            }
            ReasonKind::SignOffChanged => {
                format!("Review the sign-off: people changed it in {share}.")
            }
            ReasonKind::SentencesRemoved => {
                format!("Leave out filler sentences: people removed sentences in {share}.")
            }
            ReasonKind::SentencesAdded => {
                format!("Drafts miss information: people added sentences in {share}.")
            }
            ReasonKind::QuestionAdded => {
                format!("End with a follow-up question that moves to a next step ({share}).")
            }
            ReasonKind::ContactDetailsAdded => {
                format!("Include the relevant contact details ({share}).")
            }
            ReasonKind::LinkAdded => format!("Include the relevant link ({share})."),
            ReasonKind::NumbersChanged => {
                format!("Check numbers and prices against current data before quoting them ({share}).")
            }
            ReasonKind::PhrasesRemoved | ReasonKind::PhrasesAdded => {
                format!("Review phrasing ({share}).")
            }
        },
        ThemeSubject::PhraseRemoved { phrase } => {
            format!("Avoid the phrase \"{phrase}\": people removed it in {share}.")
        }
        ThemeSubject::PhraseAdded { phrase } => {
            format!("Consider saying \"{phrase}\": people added it in {share}.")
        }
    }
}

/// The stable content key of a theme subject (part of its fingerprint).
fn subject_key(subject: &ThemeSubject) -> String {
    match subject {
        ThemeSubject::Reason { kind } => format!("reason:{kind:?}"),
        ThemeSubject::PhraseRemoved { phrase } => format!("removed:{phrase}"),
        ThemeSubject::PhraseAdded { phrase } => format!("added:{phrase}"),
    }
}

/// An edit as evidence: its ids and its one-line summary (no customer text).
fn feedback_evidence(edit: &EditRecord) -> Evidence {
    Evidence {
        kind: EvidenceKind::Feedback,
        id: edit.id.clone(),
        conversation_id: edit.conversation_id.clone(),
        text: None,
        score: None,
        note: Some(edit.analysis.summary.clone()),
    }
}

/// Turns a theme into a playbook-amendment proposal for its intent (or global), with the
/// supporting edits as evidence. Confidence is high from `high_confidence_conversations`
/// distinct conversations, else medium (a theme already has several).
pub fn theme_proposal(theme: &EditTheme, edits: &[EditRecord], cfg: &ThemeConfig) -> Proposal {
    let scope = theme.intent.as_deref().unwrap_or("global");
    let fingerprint =
        proposals::fingerprint(ProposalKind::PlaybookAmendment, scope, &subject_key(&theme.subject));
    let by_id: BTreeMap<&str, &EditRecord> = edits.iter().map(|e| (e.id.as_str(), e)).collect();
    Proposal {
        kind: ProposalKind::PlaybookAmendment,
        rejection_keys: vec![fingerprint.clone()],
        fingerprint,
        intent_name: theme.intent.clone(),
        title: format!("{scope}: {}", theme.description),
        examples: Vec::new(),
        keywords: Vec::new(),
        playbook_text: Some(guidance(theme)),
        confidence: if theme.support_conversations >= cfg.high_confidence_conversations {
            Confidence::High
        } else {
            Confidence::Medium
        },
        impact: theme.support_edits as u64,
        support_conversations: theme.support_conversations as u64,
        evidence: theme
            .edit_ids
            .iter()
            .take(cfg.max_evidence)
            .filter_map(|id| by_id.get(id.as_str()))
            .map(|e| feedback_evidence(e))
            .collect(),
    }
}

/// Reason kinds that describe the shape of an edit (more or fewer sentences, other numbers,
/// another length) rather than a change the agent can make on its own: evidence inside a
/// concrete amendment, never an amendment of their own.
fn is_structural(subject: &ThemeSubject) -> bool {
    matches!(
        subject,
        ThemeSubject::Reason {
            kind: ReasonKind::SentencesAdded
                | ReasonKind::SentencesRemoved
                | ReasonKind::NumbersChanged
                | ReasonKind::Shortened
                | ReasonKind::Lengthened
        }
    )
}

/// One line of an amendment's checklist, written for the reply agent to follow as it stands;
/// `None` for a structural theme that only explains the others.
fn instruction(subject: &ThemeSubject) -> Option<String> {
    Some(match subject {
        ThemeSubject::PhraseRemoved { phrase } => format!("Leave out \"{phrase}\"."),
        ThemeSubject::PhraseAdded { phrase } => format!("Include \"{phrase}\" where it fits."),
        ThemeSubject::Reason { kind } => match kind {
            ReasonKind::Shortened => "Keep replies short: say what was asked and stop.".to_owned(),
            ReasonKind::Lengthened => "Answer fully: give the details people ask about.".to_owned(),
            ReasonKind::NumbersChanged => "Quote numbers and prices only from current data.".to_owned(),
            ReasonKind::GreetingChanged => "Open with a short, plain greeting.".to_owned(),
            ReasonKind::SignOffChanged => "Close with a short, plain sign-off.".to_owned(),
            ReasonKind::QuestionAdded => "End with a question that moves to a next step.".to_owned(),
            ReasonKind::ContactDetailsAdded => "Include the contact details the person needs.".to_owned(),
            ReasonKind::LinkAdded => "Include the link the person needs.".to_owned(),
            ReasonKind::SentencesAdded
            | ReasonKind::SentencesRemoved
            | ReasonKind::PhrasesRemoved
            | ReasonKind::PhrasesAdded => return None,
        },
    })
}

fn phrase_of(subject: &ThemeSubject) -> Option<&str> {
    match subject {
        ThemeSubject::PhraseRemoved { phrase } | ThemeSubject::PhraseAdded { phrase } => Some(phrase),
        ThemeSubject::Reason { .. } => None,
    }
}

/// Two normalized phrases share a run of at least `min_words` words: fragments of one region.
fn phrases_overlap(a: &str, b: &str, min_words: usize) -> bool {
    let a: Vec<&str> = a.split_whitespace().collect();
    let b: Vec<&str> = b.split_whitespace().collect();
    let runs = |words: &[&str]| -> BTreeSet<String> {
        words.windows(min_words.max(1)).map(|run| run.join(" ")).collect()
    };
    !runs(&a).is_disjoint(&runs(&b))
}

fn jaccard(a: &BTreeSet<&str>, b: &BTreeSet<&str>) -> f64 {
    let union = a.union(b).count();
    if union == 0 { 0.0 } else { a.intersection(b).count() as f64 / union as f64 }
}

/// Groups a scope's themes by the edits they come from: a theme joins the first group whose
/// edits overlap its own by at least `same_edits_overlap`. Themes arrive strongest first, so a
/// group is led by its strongest change.
fn group_by_edits<'a>(themes: &[&'a EditTheme], cfg: &ThemeConfig) -> Vec<Vec<&'a EditTheme>> {
    let mut groups: Vec<(BTreeSet<&str>, Vec<&EditTheme>)> = Vec::new();
    for &theme in themes {
        let edits: BTreeSet<&str> = theme.edit_ids.iter().map(String::as_str).collect();
        match groups
            .iter_mut()
            .find(|(group_edits, _)| jaccard(group_edits, &edits) >= cfg.same_edits_overlap)
        {
            Some((group_edits, members)) => {
                group_edits.extend(edits);
                members.push(theme);
            }
            None => groups.push((edits, vec![theme])),
        }
    }
    groups.into_iter().map(|(_, members)| members).collect()
}

/// One amendment for the changes people make in the same edits of one scope: a checklist the
/// agent can follow, the structural themes (length, sentences, numbers) as its explanation,
/// the union of the edits as evidence. `None` when the group holds no concrete change.
fn group_proposal(members: &[&EditTheme], edits: &[EditRecord], cfg: &ThemeConfig) -> Option<Proposal> {
    let concrete: Vec<&EditTheme> = members.iter().copied().filter(|t| !is_structural(&t.subject)).collect();
    let lead = concrete.first()?;
    let scope = lead.intent.as_deref().unwrap_or("global");
    let mut keys: Vec<String> = concrete.iter().map(|t| subject_key(&t.subject)).collect();
    keys.sort();
    let fingerprint = proposals::fingerprint(ProposalKind::PlaybookAmendment, scope, &keys.join("|"));
    let mut rejection_keys = vec![fingerprint.clone()];
    rejection_keys.extend(concrete.iter().map(|t| theme_proposal(t, edits, cfg).fingerprint));

    let length = members.iter().find(|t| {
        matches!(t.subject, ThemeSubject::Reason { kind: ReasonKind::Shortened | ReasonKind::Lengthened })
    });
    let mut lines: Vec<String> =
        length.into_iter().chain(concrete.iter()).filter_map(|t| instruction(&t.subject)).collect();
    lines.dedup();
    let shown = 3;
    let mut changes: Vec<String> =
        length.into_iter().chain(concrete.iter()).map(|t| describe(&t.subject)).collect();
    if changes.len() > shown {
        let more = changes.len() - shown;
        changes.truncate(shown);
        changes.push(format!("{more} more"));
    }
    let edit_ids: BTreeSet<&str> =
        members.iter().flat_map(|t| t.edit_ids.iter().map(String::as_str)).collect();
    let by_id: BTreeMap<&str, &EditRecord> = edits.iter().map(|e| (e.id.as_str(), e)).collect();
    let supporting: Vec<&EditRecord> = edit_ids.iter().filter_map(|id| by_id.get(id).copied()).collect();
    let conversations: BTreeSet<&str> = supporting.iter().map(|e| e.conversation_id.as_str()).collect();
    let title =
        format!("{scope}: {} ({} of {} edits)", changes.join(", "), supporting.len(), lead.scope_edits);
    Some(Proposal {
        kind: ProposalKind::PlaybookAmendment,
        fingerprint,
        rejection_keys,
        intent_name: lead.intent.clone(),
        title,
        examples: Vec::new(),
        keywords: Vec::new(),
        playbook_text: Some(lines.iter().map(|line| format!("- {line}")).collect::<Vec<_>>().join("\n")),
        confidence: if conversations.len() >= cfg.high_confidence_conversations {
            Confidence::High
        } else {
            Confidence::Medium
        },
        impact: supporting.len() as u64,
        support_conversations: conversations.len() as u64,
        evidence: supporting.iter().take(cfg.max_evidence).map(|e| feedback_evidence(e)).collect(),
    })
}

/// Detects themes and turns them into amendments, ranked: one per group of changes people
/// make in the same edits of one scope, leaving out every change rejected or applied before
/// (its own key is among `rejected`) and groups with no concrete change left.
pub fn theme_proposals(
    edits: &[EditRecord],
    rejected: &BTreeSet<String>,
    cfg: &ThemeConfig,
) -> Vec<Proposal> {
    let themes = detect_themes(edits, cfg);
    let open: Vec<&EditTheme> =
        themes.iter().filter(|theme| !theme_proposal(theme, edits, cfg).is_rejected(rejected)).collect();
    // An intent's phrase that overlaps a global one is the same change cut at another word:
    // the global amendment covers it.
    // (Settled global changes count too: what an admin applied or rejected globally is not
    // proposed again intent by intent.)
    let global_phrases: Vec<&str> =
        themes.iter().filter(|t| t.intent.is_none()).filter_map(|t| phrase_of(&t.subject)).collect();
    let mut scopes: BTreeMap<Option<&str>, Vec<&EditTheme>> = BTreeMap::new();
    for theme in open {
        let covered = theme.intent.is_some()
            && phrase_of(&theme.subject).is_some_and(|phrase| {
                global_phrases.iter().any(|global| phrases_overlap(global, phrase, cfg.phrase_min_words))
            });
        if !covered {
            scopes.entry(theme.intent.as_deref()).or_default().push(theme);
        }
    }
    let mut out: Vec<Proposal> = scopes
        .values()
        .flat_map(|themes| group_by_edits(themes, cfg))
        .filter_map(|group| group_proposal(&group, edits, cfg))
        .filter(|proposal| !proposal.is_rejected(rejected))
        .collect();
    proposals::rank(&mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::edit::analyze_edit;

    fn record(id: usize, conversation: &str, intent: &str, original: &str, sent: &str) -> EditRecord {
        EditRecord {
            id: format!("f{id}"),
            conversation_id: conversation.into(),
            intent: Some(intent.into()),
            analysis: analyze_edit(original, sent),
        }
    }

    const LONG: &str = "Thanks for your message! I'd be happy to help with that. We have \
        tours available most days of the week and our friendly team would love to show you \
        around the community. Saturday at 10am is open.";
    const SHORT: &str = "Saturday at 10am is open.";

    #[test]
    fn shorter_responses_theme_for_one_intent() {
        let mut edits: Vec<EditRecord> =
            (0..5).map(|i| record(i, &format!("c{i}"), "SHOWING", LONG, SHORT)).collect();
        edits.push(record(5, "c5", "SHOWING", LONG, LONG));
        edits.push(record(6, "c6", "SHOWING", "Hi. The rent is $1,200.", "Hi. The rent is $1,250."));
        let themes = detect_themes(&edits, &ThemeConfig::default());
        let shorter = themes
            .iter()
            .find(|t| t.subject == ThemeSubject::Reason { kind: ReasonKind::Shortened })
            .expect("shorter theme");
        assert_eq!(shorter.intent.as_deref(), Some("SHOWING"));
        insta::assert_snapshot!(shorter.description, @"shorter responses preferred (5 of 7 edits, median -86%)");
        assert!(
            themes.iter().any(|t| matches!(&t.subject,
            ThemeSubject::PhraseRemoved { phrase } if phrase.contains("i'd be happy to help with that"))),
            "{themes:#?}"
        );
        let proposal = theme_proposal(shorter, &edits, &ThemeConfig::default());
        assert_eq!(proposal.kind, ProposalKind::PlaybookAmendment);
        assert_eq!(proposal.intent_name.as_deref(), Some("SHOWING"));
        assert_eq!(proposal.evidence.len(), 5);
        assert_eq!(proposal.impact, 5);
    }

    #[test]
    fn one_conversation_is_not_a_theme() {
        let edits: Vec<EditRecord> = (0..6).map(|i| record(i, "same", "SHOWING", LONG, SHORT)).collect();
        assert!(detect_themes(&edits, &ThemeConfig::default()).is_empty());
    }

    #[test]
    fn theme_across_intents_is_global() {
        let edits: Vec<EditRecord> = (0..8)
            .map(|i| {
                let intent = if i % 2 == 0 { "SHOWING" } else { "PRICING" };
                record(i, &format!("c{i}"), intent, LONG, SHORT)
            })
            .collect();
        let themes = detect_themes(&edits, &ThemeConfig::default());
        let shorter: Vec<&EditTheme> = themes
            .iter()
            .filter(|t| t.subject == ThemeSubject::Reason { kind: ReasonKind::Shortened })
            .collect();
        assert_eq!(shorter.len(), 1);
        assert_eq!(shorter[0].intent, None);
    }

    #[test]
    fn rejected_themes_are_not_proposed_again() {
        let edits: Vec<EditRecord> =
            (0..5).map(|i| record(i, &format!("c{i}"), "SHOWING", LONG, SHORT)).collect();
        let first = theme_proposals(&edits, &BTreeSet::new(), &ThemeConfig::default());
        assert_eq!(first.len(), 1, "one change in the same edits: {first:#?}");
        let rejected: BTreeSet<String> = first[0].rejection_keys.iter().cloned().collect();
        let second = theme_proposals(&edits, &rejected, &ThemeConfig::default());
        assert!(second.is_empty(), "{second:#?}");
    }

    /// Two planted themes in wording unlike the generated CRM: support agents drop the opening
    /// apology, and (in other edits) add a pointer to the statement.
    fn two_themes() -> Vec<EditRecord> {
        let mut edits = Vec::new();
        for i in 0..6 {
            let original = format!(
                "We apologize for any inconvenience this may have caused. Your payment of ${}0 was received on the {}th and your balance is now zero.",
                i + 2,
                i + 3
            );
            let sent = format!(
                "Your payment of ${}0 was received on the {}th and your balance is now zero.",
                i + 2,
                i + 3
            );
            edits.push(record(i, &format!("apology-{i}"), "BILLING", &original, &sent));
        }
        for i in 6..12 {
            let original = format!("The charge of ${}5 on your card is the monthly plan fee.", i);
            let sent = format!(
                "The charge of ${}5 on your card is the monthly plan fee. You can see every transaction in your online statement.",
                i
            );
            edits.push(record(i, &format!("statement-{i}"), "BILLING", &original, &sent));
        }
        edits
    }

    #[test]
    fn one_amendment_per_planted_change_with_text_the_agent_can_follow() {
        let amendments = theme_proposals(&two_themes(), &BTreeSet::new(), &ThemeConfig::default());
        assert_eq!(amendments.len(), 2, "{:#?}", amendments.iter().map(|a| &a.title).collect::<Vec<_>>());
        let texts: Vec<&str> = amendments.iter().filter_map(|a| a.playbook_text.as_deref()).collect();
        let apology = texts.iter().find(|t| t.contains("apologize")).expect("the apology change");
        assert!(apology.contains("- Leave out \"we apologize for any inconvenience"), "{apology}");
        assert!(!apology.contains("statement"), "{apology}");
        let statement = texts.iter().find(|t| t.contains("statement")).expect("the statement change");
        assert!(statement.contains("Include \""), "{statement}");
        for amendment in &amendments {
            assert_eq!(amendment.impact, 6);
            assert!(
                !amendment.title.contains("sentences"),
                "structural reasons are evidence: {}",
                amendment.title
            );
        }
    }

    #[test]
    fn changes_made_in_the_same_edits_are_one_amendment() {
        // Both changes in every edit: drop the apology and point to the statement.
        let edits: Vec<EditRecord> = (0..6)
            .map(|i| {
                record(
                    i,
                    &format!("both-{i}"),
                    "BILLING",
                    &format!("We apologize for any inconvenience this may have caused. The charge of ${i}5 is the plan fee."),
                    &format!("The charge of ${i}5 is the plan fee. You can see every transaction in your online statement."),
                )
            })
            .collect();
        let amendments = theme_proposals(&edits, &BTreeSet::new(), &ThemeConfig::default());
        assert_eq!(amendments.len(), 1, "{amendments:#?}");
        let text = amendments[0].playbook_text.as_deref().unwrap();
        assert!(text.contains("apologize") && text.contains("statement"), "{text}");
    }
}
