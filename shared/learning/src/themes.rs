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
use crate::proposals::{self, Confidence, EditPair, Evidence, EvidenceKind, Proposal, ProposalKind};
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
    /// The agent's draft, as written, with personal data masked.
    #[serde(default)]
    pub draft: String,
    /// What the person sent instead, as written, with personal data masked.
    #[serde(default)]
    pub sent: String,
}

impl EditRecord {
    /// The edit of `draft` into `sent` (both already masked), analysed.
    pub fn new(id: &str, conversation_id: &str, intent: Option<&str>, draft: &str, sent: &str) -> Self {
        Self {
            id: id.to_owned(),
            conversation_id: conversation_id.to_owned(),
            intent: intent.map(str::to_owned),
            analysis: crate::edit::analyze_edit(draft, sent),
            draft: draft.to_owned(),
            sent: sent.to_owned(),
        }
    }
}

/// Runs of this many words are the unit in which texts are compared for what they share.
const RUN_WORDS: usize = 3;

/// The normalized runs of [`RUN_WORDS`] words of a text.
fn word_runs(text_in: &str) -> BTreeSet<String> {
    let words: Vec<String> = text::words(text_in)
        .into_iter()
        .map(text::word_key)
        .filter(|w| w.chars().any(char::is_alphanumeric))
        .collect();
    words.windows(RUN_WORDS).map(|run| run.join(" ")).collect()
}

/// What each intent's drafts usually say: the runs of words found in at least half of its
/// drafts, for intents with a few drafts seen.
///
/// A rewritten send that repeats another intent's usual answer, and keeps little of its own
/// draft, says the message went to the wrong intent: a question for the classifier, not a
/// change to make in this intent's playbook. Such edits are left out of the themes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IntentAnswers {
    usual: BTreeMap<String, BTreeSet<String>>,
}

impl IntentAnswers {
    /// Intents with fewer drafts than this have no usual answer yet.
    const MIN_DRAFTS: usize = 3;
    /// A sent text repeats an answer when at least this share of its runs are in it…
    const REPEATS: f64 = 0.6;
    /// …and keeps its own draft when at least this share of its runs are in the draft.
    const KEEPS_DRAFT: f64 = 0.5;

    /// From the period's drafts, as `(intent, draft)` pairs.
    pub fn from_drafts<'a>(drafts: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        let mut seen: BTreeMap<&str, (usize, BTreeMap<String, usize>)> = BTreeMap::new();
        for (intent, draft) in drafts {
            let (count, runs) = seen.entry(intent).or_default();
            *count += 1;
            for run in word_runs(draft) {
                *runs.entry(run).or_insert(0) += 1;
            }
        }
        let usual = seen
            .into_iter()
            .filter(|(_, (count, _))| *count >= Self::MIN_DRAFTS)
            .map(|(intent, (count, runs))| {
                let usual = runs.into_iter().filter(|(_, n)| 2 * n >= count).map(|(run, _)| run).collect();
                (intent.to_owned(), usual)
            })
            .collect();
        Self { usual }
    }

    /// The other intent whose usual answer the edit's sent text repeats, when the sent text
    /// keeps little of its own draft.
    pub fn rerouted_to(&self, edit: &EditRecord) -> Option<&str> {
        let sent = word_runs(&edit.sent);
        if sent.len() < RUN_WORDS {
            return None;
        }
        let share = |runs: &BTreeSet<String>| {
            sent.iter().filter(|run| runs.contains(*run)).count() as f64 / sent.len() as f64
        };
        if share(&word_runs(&edit.draft)) >= Self::KEEPS_DRAFT {
            return None;
        }
        self.usual
            .iter()
            .filter(|(intent, _)| edit.intent.as_deref() != Some(intent.as_str()))
            .map(|(intent, usual)| (intent.as_str(), share(usual)))
            .filter(|(_, repeated)| *repeated >= Self::REPEATS)
            .max_by(|a, b| a.1.total_cmp(&b.1).then(b.0.cmp(a.0)))
            .map(|(intent, _)| intent)
    }
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
            min_phrase_share: 0.3,
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
/// then text), and a candidate is dropped as part of a region already taken when it shares a
/// `min_words`-gram with a taken phrase, or a shorter run with a taken phrase found in every
/// edit it is found in ("we apologize for" beside "apologize for any inconvenience this may
/// have caused", cut at another word of the same sentence).
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
    let grams_of = |p: &str, n: usize| -> BTreeSet<String> {
        let words: Vec<&str> = p.split(' ').collect();
        words.windows(n.max(1)).map(|w| w.join(" ")).collect()
    };
    let mut taken: Vec<(String, BTreeSet<usize>)> = Vec::new();
    let mut taken_grams: BTreeSet<String> = BTreeSet::new();
    for (phrase, set) in candidates {
        let grams = grams_of(&phrase, min_words);
        let shorter = grams_of(&phrase, min_words.saturating_sub(1));
        let same_region = grams.iter().any(|g| taken_grams.contains(g))
            || taken.iter().any(|(other, edits)| {
                set.is_subset(edits) && !shorter.is_disjoint(&grams_of(other, min_words.saturating_sub(1)))
            });
        if same_region {
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

/// Characters of a draft or a reply kept in evidence: enough to see the change in context,
/// bounded so twenty pairs stay small in a stored proposal.
const EVIDENCE_CHARS: usize = 320;

/// An edit as evidence: its ids, its one-line summary and the masked before/after pair.
fn feedback_evidence(edit: &EditRecord) -> Evidence {
    let pair = (!edit.draft.is_empty() || !edit.sent.is_empty()).then(|| EditPair {
        before: text::one_line(&edit.draft, EVIDENCE_CHARS),
        after: text::one_line(&edit.sent, EVIDENCE_CHARS),
    });
    Evidence {
        kind: EvidenceKind::Feedback,
        id: edit.id.clone(),
        conversation_id: edit.conversation_id.clone(),
        text: None,
        score: None,
        note: Some(edit.analysis.summary.clone()),
        edit: pair,
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

/// One line of an amendment's checklist, written for the reply agent to follow as it stands:
/// a phrase is quoted as people wrote it, with where it goes ("Don't open with: …"); `None` for
/// a structural theme that only explains the others.
fn instruction(theme: &EditTheme, by_id: &BTreeMap<&str, &EditRecord>) -> Option<String> {
    let quoted = |phrase: &str, removed: bool| -> Written {
        let texts: Vec<&str> = theme
            .edit_ids
            .iter()
            .filter_map(|id| by_id.get(id.as_str()))
            .map(|edit| if removed { edit.draft.as_str() } else { edit.sent.as_str() })
            .collect();
        written(phrase, &texts).unwrap_or_else(|| Written {
            sentence: None,
            fragment: phrase.to_owned(),
            place: Place::Within,
        })
    };
    Some(match &theme.subject {
        ThemeSubject::PhraseRemoved { phrase } => {
            let written = quoted(phrase, true);
            match written.place {
                Place::Opening => format!("Don't open with: \"{}\"", written.whole()),
                Place::Closing => format!("Don't close with: \"{}\"", written.whole()),
                Place::Within => format!("Leave out: \"{}\"", written.fragment),
            }
        }
        ThemeSubject::PhraseAdded { phrase } => {
            let written = quoted(phrase, false);
            match written.place {
                Place::Opening => format!("Open with: \"{}\"", written.whole()),
                Place::Closing => format!("End with: \"{}\"", written.whole()),
                Place::Within => format!("Include: \"{}\"", written.fragment),
            }
        }
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

/// Where a phrase sits in a reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Place {
    /// In the first sentence (after a short greeting line, if any).
    Opening,
    /// In the last sentence (before a short sign-off, if any).
    Closing,
    Within,
}

/// A phrase as people wrote it, and where they put it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Written {
    /// The sentence that most often holds it, when one recurs and is not long.
    sentence: Option<String>,
    /// The phrase in the case and punctuation of its first occurrence.
    fragment: String,
    place: Place,
}

impl Written {
    /// What to quote for a whole opening or closing: the recurring sentence, else the phrase.
    fn whole(&self) -> &str {
        self.sentence.as_deref().unwrap_or(&self.fragment)
    }
}

/// A recurring sentence longer than this is quoted by its phrase only.
const QUOTED_SENTENCE_WORDS: usize = 30;

/// Sentences of at most this many words at either end of a reply are greetings or sign-offs
/// ("Hi Sam!", "Best, Dana"): a phrase right after or before them still opens or closes it.
const FRAME_WORDS: usize = 3;

/// How a normalized phrase reads in the texts it was found in (the drafts for a removed phrase,
/// the sent replies for an added one): the sentence that most often holds it, the phrase as
/// first written, and the place most occurrences put it in. `None` when no text holds it.
fn written(phrase: &str, texts: &[&str]) -> Option<Written> {
    let target: Vec<&str> = phrase.split(' ').collect();
    let mut sentences: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    let mut places: BTreeMap<Place, usize> = BTreeMap::new();
    let mut first: Option<String> = None;
    for text_in in texts {
        let all = text::sentences(text_in);
        let framed = |s: &&str| text::words(s).len() > FRAME_WORDS;
        let opening = all.iter().position(framed);
        let closing = all.iter().rposition(framed);
        for (i, sentence) in all.iter().enumerate() {
            let words: Vec<(&str, String)> = text::words(sentence)
                .into_iter()
                .map(|w| (w, text::word_key(w)))
                .filter(|(_, key)| key.chars().any(char::is_alphanumeric))
                .collect();
            let Some(at) = words
                .windows(target.len())
                .position(|run| run.iter().zip(&target).all(|((_, key), want)| key == want))
            else {
                continue;
            };
            // "Hi there, We apologize…": a short salutation ending in a comma before a capital
            // is a line of its own, not part of the sentence quoted.
            let salutation = words[..at.min(FRAME_WORDS)].iter().position(|(word, _)| word.ends_with(','));
            let sentence = match salutation {
                Some(end) if words[end + 1].0.starts_with(|c: char| c.is_uppercase()) => {
                    &sentence[offset_in(sentence, words[end + 1].0)..]
                }
                _ => *sentence,
            };
            let place = if opening != closing && Some(i) == opening {
                Place::Opening
            } else if opening != closing && Some(i) == closing {
                Place::Closing
            } else {
                Place::Within
            };
            *places.entry(place).or_insert(0) += 1;
            sentences.entry(sentence).or_insert((0, words.len())).0 += 1;
            if first.is_none() {
                let start = offset_in(sentence, words[at].0);
                let last = words[at + target.len() - 1].0;
                let end = offset_in(sentence, last) + last.len();
                first = Some(sentence[start..end].trim_end_matches([',', ';', ':']).to_owned());
            }
            break;
        }
    }
    let place = *places.iter().max_by_key(|(place, n)| (**n, std::cmp::Reverse(**place)))?.0;
    let sentence = sentences
        .iter()
        .filter(|(_, (count, words))| *count >= 2 && *words <= QUOTED_SENTENCE_WORDS)
        .max_by_key(|(sentence, (count, _))| (*count, std::cmp::Reverse(**sentence)))
        .map(|(sentence, _)| (*sentence).to_owned());
    Some(Written { sentence, fragment: first?, place })
}

/// The byte offset of `part`, a slice of `whole`, within it.
fn offset_in(whole: &str, part: &str) -> usize {
    part.as_ptr() as usize - whole.as_ptr() as usize
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

    let by_id: BTreeMap<&str, &EditRecord> = edits.iter().map(|e| (e.id.as_str(), e)).collect();
    let length = members.iter().find(|t| {
        matches!(t.subject, ThemeSubject::Reason { kind: ReasonKind::Shortened | ReasonKind::Lengthened })
    });
    // A length change the group's phrases explain (shorter for removed phrases, longer for
    // added ones) is said by the phrases' lines; only an unexplained one gets its own.
    let explained = length.is_some_and(|length| {
        concrete.iter().any(|t| {
            matches!(
                (&length.subject, &t.subject),
                (ThemeSubject::Reason { kind: ReasonKind::Shortened }, ThemeSubject::PhraseRemoved { .. })
                    | (
                        ThemeSubject::Reason { kind: ReasonKind::Lengthened },
                        ThemeSubject::PhraseAdded { .. }
                    )
            )
        })
    });
    let mut lines: Vec<String> = length
        .filter(|_| !explained)
        .into_iter()
        .chain(concrete.iter())
        .filter_map(|t| instruction(t, &by_id))
        .collect();
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
/// make in the same edits of one scope, leaving out edits that answered another intent's
/// question (see [`IntentAnswers`]), every change rejected or applied before (its own key is
/// among `rejected`) and groups with no concrete change left.
pub fn theme_proposals(
    edits: &[EditRecord],
    answers: &IntentAnswers,
    rejected: &BTreeSet<String>,
    cfg: &ThemeConfig,
) -> Vec<Proposal> {
    let own: Vec<EditRecord> =
        edits.iter().filter(|edit| answers.rerouted_to(edit).is_none()).cloned().collect();
    let edits = own.as_slice();
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

    fn record(id: usize, conversation: &str, intent: &str, original: &str, sent: &str) -> EditRecord {
        EditRecord::new(&format!("f{id}"), conversation, Some(intent), original, sent)
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
        let first =
            theme_proposals(&edits, &IntentAnswers::default(), &BTreeSet::new(), &ThemeConfig::default());
        assert_eq!(first.len(), 1, "one change in the same edits: {first:#?}");
        let rejected: BTreeSet<String> = first[0].rejection_keys.iter().cloned().collect();
        let second = theme_proposals(&edits, &IntentAnswers::default(), &rejected, &ThemeConfig::default());
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
        let amendments = theme_proposals(
            &two_themes(),
            &IntentAnswers::default(),
            &BTreeSet::new(),
            &ThemeConfig::default(),
        );
        assert_eq!(amendments.len(), 2, "{:#?}", amendments.iter().map(|a| &a.title).collect::<Vec<_>>());
        let texts: Vec<&str> = amendments.iter().filter_map(|a| a.playbook_text.as_deref()).collect();
        let apology = texts.iter().find(|t| t.contains("apologize")).expect("the apology change");
        assert_eq!(
            *apology,
            "- Don't open with: \"We apologize for any inconvenience this may have caused.\""
        );
        let statement = texts.iter().find(|t| t.contains("statement")).expect("the statement change");
        assert_eq!(*statement, "- End with: \"You can see every transaction in your online statement.\"");
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
        let amendments =
            theme_proposals(&edits, &IntentAnswers::default(), &BTreeSet::new(), &ThemeConfig::default());
        assert_eq!(amendments.len(), 1, "{amendments:#?}");
        let text = amendments[0].playbook_text.as_deref().unwrap();
        assert!(text.contains("apologize") && text.contains("statement"), "{text}");
    }

    /// Drafts of a support desk (nothing like the generated property CRM), one per edit.
    const ANSWERS: &[(&str, &str)] = &[
        (
            "BILLING",
            "The charge of $42.10 on March 3 is your monthly plan fee, billed on the first business day.",
        ),
        (
            "BILLING",
            "Your last payment of $89.99 was applied to the account on the 12th, so nothing is overdue.",
        ),
        ("BILLING", "The extra $15 is a one-time activation fee for the second line you added in May."),
        (
            "BILLING",
            "Autopay takes the balance three days before the due date; you can change the card in Settings.",
        ),
        (
            "REFUND",
            "Refunds go back to the original card and usually show within five to seven business days.",
        ),
        ("REFUND", "I have issued a refund of $23.50 for the duplicate order; the reference is RF-20931."),
        ("REFUND", "Store credit can be used on any order and does not expire for twelve months."),
        (
            "ACCOUNT",
            "To change the email on the account, open Profile, choose Edit and confirm the new address.",
        ),
        (
            "ACCOUNT",
            "Two-factor codes are sent by text; if they do not arrive, switch to the authenticator app.",
        ),
        ("ACCOUNT", "Closing the account cancels the plan at the end of the current billing cycle."),
    ];

    const APOLOGIES: &[&str] = &[
        "We apologize for any inconvenience this may have caused.",
        "We apologize for any inconvenience this may have caused.",
        "We sincerely apologize for any inconvenience this may have caused.",
        "We apologize for any inconvenience.",
    ];

    /// A week of 40 edits with two planted themes in varied wording: people drop the opening
    /// apology (any intent, four wordings) and, on billing answers, add a pointer to the
    /// statement (two wordings); the other edits are one-off corrections of all kinds.
    fn a_support_desk_week() -> Vec<EditRecord> {
        let mut edits = Vec::new();
        let mut push = |intent: &str, draft: String, sent: String| {
            let i = edits.len();
            edits.push(record(i, &format!("conv-{i}"), intent, &draft, &sent));
        };
        // Theme 1: 13 drafts opened with an apology; people delete it (a few fix a detail too).
        for i in 0..13 {
            let (intent, answer) = ANSWERS[(i * 3) % ANSWERS.len()];
            let apology = APOLOGIES[i % APOLOGIES.len()];
            let draft = format!("Hi there, {apology} {answer} Let us know if anything else comes up.");
            let mut sent = format!("Hi there, {answer} Let us know if anything else comes up.");
            if i % 4 == 0 {
                sent = sent.replace("Hi there", "Hi Alex");
            }
            push(intent, draft, sent);
        }
        // Theme 2: 9 billing answers; people add where to see every transaction.
        for i in 0..9 {
            let (_, answer) = ANSWERS[i % 4];
            let pointer = if i % 3 == 0 {
                "You can see every transaction in your online statement."
            } else {
                "You can see every transaction in your statement under Billing > History."
            };
            push("BILLING", format!("Hello! {answer}"), format!("Hello! {answer} {pointer}"));
        }
        // Noise: 18 one-off corrections, each different.
        let corrections: &[(&str, &str)] = &[
            ("five to seven", "three to five"),
            ("$42.10", "$44.10"),
            ("twelve months", "two years"),
            ("Profile", "Account settings"),
            ("the 12th", "the 14th"),
            ("by text", "by text message to the number on file"),
            ("three days", "two days"),
            ("second line", "tablet line"),
            ("RF-20931", "RF-20932"),
            ("authenticator app", "backup codes"),
            ("original card", "card you paid with"),
            ("any order", "any order in our online store"),
            ("end of the current billing cycle", "end of this month"),
            ("$15", "$10"),
            ("$89.99", "$98.99"),
            ("duplicate order", "double charge"),
            ("open Profile", "go to Profile"),
            ("monthly plan fee", "plan fee for March"),
        ];
        for (i, (from, to)) in corrections.iter().enumerate() {
            let (intent, answer) =
                ANSWERS.iter().find(|(_, answer)| answer.contains(from)).expect("a draft to correct");
            let sent = answer.replacen(from, to, 1);
            // A few also add a closing line of their own.
            let extra = match i {
                2 => " Thanks for your patience.",
                7 => " Have a good day!",
                11 => " Glad we could sort this out.",
                _ => "",
            };
            push(intent, format!("Hi, {answer}"), format!("Hi, {sent}{extra}"));
        }
        edits
    }

    #[test]
    fn a_week_of_varied_edits_gives_one_amendment_per_planted_theme_and_nothing_else() {
        let edits = a_support_desk_week();
        assert_eq!(edits.len(), 40);
        let amendments =
            theme_proposals(&edits, &IntentAnswers::default(), &BTreeSet::new(), &ThemeConfig::default());
        let summary: Vec<(Option<&str>, &str)> = amendments
            .iter()
            .map(|a| (a.intent_name.as_deref(), a.playbook_text.as_deref().unwrap_or_default()))
            .collect();
        assert_eq!(summary.len(), 2, "{summary:#?}");
        let apology = summary.iter().find(|(_, text)| text.contains("apologize")).expect("the apology theme");
        assert_eq!(apology.0, None, "the apology is dropped in every intent: a global amendment");
        assert_eq!(
            apology.1,
            "- Don't open with: \"We apologize for any inconvenience this may have caused.\""
        );
        let statement =
            summary.iter().find(|(_, text)| text.contains("transaction")).expect("the statement theme");
        assert_eq!(statement.0, Some("BILLING"));
        assert!(
            statement.1.starts_with("- End with: \"You can see every transaction in your "),
            "{}",
            statement.1
        );
        assert!(!statement.1.contains('\n'), "one change, one line: {}", statement.1);
        // The admin sees what changed: masked before/after pairs with the one-line summaries.
        for amendment in &amendments {
            let pair = amendment.evidence[0].edit.as_ref().expect("a before/after pair");
            assert_ne!(pair.before, pair.after);
            assert!(amendment.evidence[0].note.is_some());
        }
    }

    #[test]
    fn edits_that_send_another_intents_answer_are_no_theme_of_their_own() {
        // The classifier sends parking questions to PETS; people replace the pet answer with the
        // parking answer that PARKING drafts give. That is a routing mistake, not a PETS change.
        let pets = "We are pet friendly: up to two cats or dogs, with a one-time deposit of $300.";
        let parking = "Each unit has one assigned spot in the garage; a second spot is $75 per month.";
        let edits: Vec<EditRecord> =
            (0..6).map(|i| record(i, &format!("c{i}"), "PETS", pets, parking)).collect();
        let drafts = [("PARKING", parking), ("PARKING", parking), ("PARKING", parking), ("PETS", pets)];
        let answers = IntentAnswers::from_drafts(drafts);
        assert_eq!(answers.rerouted_to(&edits[0]), Some("PARKING"));
        let cfg = ThemeConfig::default();
        assert!(!theme_proposals(&edits, &IntentAnswers::default(), &BTreeSet::new(), &cfg).is_empty());
        assert!(theme_proposals(&edits, &answers, &BTreeSet::new(), &cfg).is_empty());
        // A real change keeps most of its own draft, whatever other intents say.
        let kept = record(9, "c9", "PETS", pets, &format!("{pets} Pets need a vaccination record."));
        assert_eq!(answers.rerouted_to(&kept), None);
    }
}
