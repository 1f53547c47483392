//! What a send did to the agent's draft: its outcome and the analysis of an edit.

use serde::{Deserialize, Serialize};

/// How a send compares with the draft it came from; every send counts toward the draft
/// outcome of its intent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum SendOutcome {
    /// Sent exactly as drafted (distance 0).
    Unedited,
    /// Edited, with a distance at or below the threshold.
    LightlyEdited,
    /// Edited beyond the threshold: stored as draft feedback for analysis.
    Rewritten,
    /// The execution had no draft to compare with (not part of draft accuracy).
    NoDraft,
}

/// One reason why a draft was edited, as found by `autolearn_learning::edit::analyze_edit`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "code", rename_all = "camelCase")]
pub enum ReasonCode {
    /// The reply got shorter by at least the configured share of its words.
    #[serde(rename_all = "camelCase")]
    Shortened {
        /// Signed change in word count, in percent (negative).
        percent: i32,
    },
    /// The reply got longer by at least the configured share of its words.
    #[serde(rename_all = "camelCase")]
    Lengthened {
        /// Signed change in word count, in percent (positive).
        percent: i32,
    },
    /// The opening greeting was changed, added or removed.
    GreetingChanged,
    /// The closing sign-off was changed, added or removed.
    SignOffChanged,
    /// Sentences of the draft have no counterpart in the sent reply.
    #[serde(rename_all = "camelCase")]
    SentencesRemoved {
        /// How many sentences.
        count: usize,
    },
    /// Sentences of the sent reply have no counterpart in the draft.
    #[serde(rename_all = "camelCase")]
    SentencesAdded {
        /// How many sentences.
        count: usize,
    },
    /// The sent reply asks more questions than the draft.
    QuestionAdded,
    /// The sent reply contains an email address or phone number the draft did not.
    ContactDetailsAdded,
    /// The sent reply contains a link the draft did not.
    LinkAdded,
    /// Numbers or prices differ between draft and reply.
    #[serde(rename_all = "camelCase")]
    NumbersChanged {
        /// Numbers of the draft missing from the reply.
        removed: Vec<String>,
        /// Numbers of the reply missing from the draft.
        added: Vec<String>,
    },
    /// Runs of words of the draft that were removed (quoted, longest first).
    #[serde(rename_all = "camelCase")]
    PhrasesRemoved {
        /// The removed phrases.
        phrases: Vec<String>,
    },
    /// Runs of words added to the reply (quoted, longest first).
    #[serde(rename_all = "camelCase")]
    PhrasesAdded {
        /// The added phrases.
        phrases: Vec<String>,
    },
}

/// The kind of a [`ReasonCode`] without its payload: the unit that edit themes count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ReasonKind {
    /// See [`ReasonCode::Shortened`].
    Shortened,
    /// See [`ReasonCode::Lengthened`].
    Lengthened,
    /// See [`ReasonCode::GreetingChanged`].
    GreetingChanged,
    /// See [`ReasonCode::SignOffChanged`].
    SignOffChanged,
    /// See [`ReasonCode::SentencesRemoved`].
    SentencesRemoved,
    /// See [`ReasonCode::SentencesAdded`].
    SentencesAdded,
    /// See [`ReasonCode::QuestionAdded`].
    QuestionAdded,
    /// See [`ReasonCode::ContactDetailsAdded`].
    ContactDetailsAdded,
    /// See [`ReasonCode::LinkAdded`].
    LinkAdded,
    /// See [`ReasonCode::NumbersChanged`].
    NumbersChanged,
    /// See [`ReasonCode::PhrasesRemoved`].
    PhrasesRemoved,
    /// See [`ReasonCode::PhrasesAdded`].
    PhrasesAdded,
}

impl ReasonCode {
    /// The kind of this reason, without payload.
    pub fn kind(&self) -> ReasonKind {
        match self {
            ReasonCode::Shortened { .. } => ReasonKind::Shortened,
            ReasonCode::Lengthened { .. } => ReasonKind::Lengthened,
            ReasonCode::GreetingChanged => ReasonKind::GreetingChanged,
            ReasonCode::SignOffChanged => ReasonKind::SignOffChanged,
            ReasonCode::SentencesRemoved { .. } => ReasonKind::SentencesRemoved,
            ReasonCode::SentencesAdded { .. } => ReasonKind::SentencesAdded,
            ReasonCode::QuestionAdded => ReasonKind::QuestionAdded,
            ReasonCode::ContactDetailsAdded => ReasonKind::ContactDetailsAdded,
            ReasonCode::LinkAdded => ReasonKind::LinkAdded,
            ReasonCode::NumbersChanged { .. } => ReasonKind::NumbersChanged,
            ReasonCode::PhrasesRemoved { .. } => ReasonKind::PhrasesRemoved,
            ReasonCode::PhrasesAdded { .. } => ReasonKind::PhrasesAdded,
        }
    }
}

/// Everything found about one edit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EditAnalysis {
    /// Normalized edit distance in [0, 1] (`autolearn_learning::edit::normalized_edit_distance`).
    pub distance: f64,
    /// Words in the draft.
    pub words_before: usize,
    /// Words in the sent reply.
    pub words_after: usize,
    /// Reasons, in a fixed order (length, greeting, sign-off, sentences, question, contact
    /// details, links, numbers, phrases).
    pub reasons: Vec<ReasonCode>,
    /// Removed runs of words (longest first), as written in the draft.
    pub removed_phrases: Vec<String>,
    /// Added runs of words (longest first), as written in the reply.
    pub added_phrases: Vec<String>,
    /// A one-line human summary, e.g.
    /// `Shortened 62→34 words (-45%); removed "I'd be happy to help with"`.
    pub summary: String,
}

impl EditAnalysis {
    /// The signed change in word count in percent (rounded), or `None` for an empty draft.
    pub fn length_change_percent(&self) -> Option<i32> {
        percent_change(self.words_before, self.words_after)
    }

    /// True when this analysis carries a reason of the given kind.
    pub fn has(&self, kind: ReasonKind) -> bool {
        self.reasons.iter().any(|r| r.kind() == kind)
    }
}

/// The signed change from `before` to `after` words in percent (rounded); `None` from 0.
pub fn percent_change(before: usize, after: usize) -> Option<i32> {
    if before == 0 {
        return None;
    }
    let percent = (after as f64 - before as f64) * 100.0 / before as f64;
    Some(percent.round() as i32)
}
