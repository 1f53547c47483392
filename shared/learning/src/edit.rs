//! Analysis of one edit: how far the sent reply is from the agent's draft, how the send is
//! classified, and what changed, as reason codes and a one-line human summary.

use std::collections::BTreeSet;

use rapidfuzz::distance::levenshtein;
use serde::{Deserialize, Serialize};
use similar::{Algorithm, DiffOp, capture_diff_slices};

use autolearn_domain::edit::percent_change;
pub use autolearn_domain::edit::{EditAnalysis, ReasonCode, ReasonKind, SendOutcome};

use crate::text;

/// The default distance above which a send counts as rewritten (and is stored as
/// feedback), from the design document.
pub const DEFAULT_REWRITE_THRESHOLD: f64 = 0.2;

/// Normalized Levenshtein distance in `[0, 1]` between two texts, over Unicode scalar
/// values of their NFC forms.
///
/// Texts are first normalized with [`text::normalize_for_distance`], so differences only in
/// trailing whitespace or line endings are not edits. The result is the edit distance
/// divided by the length of the longer text: 0 for texts equal after normalization (two
/// empty texts included), 1 when nothing could be kept. It equals
/// `1 - strsim::normalized_levenshtein(a, b)` on the normalized texts, computed with the
/// bit-parallel algorithm of `rapidfuzz`.
pub fn normalized_edit_distance(a: &str, b: &str) -> f64 {
    let (a, b) = (text::normalize_for_distance(a), text::normalize_for_distance(b));
    let (a, b) = (a.as_ref(), b.as_ref());
    if a == b {
        return 0.0;
    }
    if a.is_ascii() && b.is_ascii() {
        // One byte is one character: the byte path of the bit-parallel algorithm is
        // faster and gives the same value.
        let longest = a.len().max(b.len());
        let args = levenshtein::Args::default().score_hint(likely_distance(a.as_bytes(), b.as_bytes()));
        let distance = levenshtein::distance_with_args(a.bytes(), b.bytes(), &args);
        return distance as f64 / longest as f64;
    }
    let a_chars: Vec<char> = a.chars().collect();
    let b_chars: Vec<char> = b.chars().collect();
    let longest = a_chars.len().max(b_chars.len());
    let distance = levenshtein::distance(a_chars.iter().copied(), b_chars.iter().copied());
    distance as f64 / longest as f64
}

/// A cheap guess of the edit distance, as the band the bit-parallel algorithm tries first: the
/// characters one text has more of than the other, both ways. Each insertion or deletion
/// moves one count and each substitution two, so the distance is at least the larger of the
/// two sums and, for the word changes people make, rarely more than their total. A band that
/// holds the distance at the first try costs one pass instead of the doubling passes from a
/// narrow default band; a guess too low only costs the doubling that would have run anyway.
fn likely_distance(a: &[u8], b: &[u8]) -> usize {
    let mut counts = [0_i64; 256];
    for &byte in a {
        counts[usize::from(byte)] += 1;
    }
    for &byte in b {
        counts[usize::from(byte)] -= 1;
    }
    counts.iter().map(|&count| count.unsigned_abs() as usize).sum()
}

/// Classifies a send from its edit distance: 0 is unedited, up to `threshold` (inclusive)
/// is lightly edited, above it is rewritten.
pub fn classify_send(distance: f64, threshold: f64) -> SendOutcome {
    if distance <= 0.0 {
        SendOutcome::Unedited
    } else if distance <= threshold {
        SendOutcome::LightlyEdited
    } else {
        SendOutcome::Rewritten
    }
}

/// Tuning of [`analyze_edit_with`]. The defaults are what [`analyze_edit`] uses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct EditConfig {
    /// Minimum relative change in word count for `Shortened` / `Lengthened` (0.1 = 10%).
    pub min_length_change: f64,
    /// Minimum absolute change in word count for `Shortened` / `Lengthened`, so that a
    /// one-word change in a three-word reply is not "shortened by 33%".
    pub min_length_change_words: usize,
    /// A removed or added run of words must have at least this many words to be reported
    /// as a phrase; shorter runs are word swaps, not phrases.
    pub min_phrase_words: usize,
    /// At most this many phrases are kept per direction.
    pub max_phrases: usize,
    /// Phrases longer than this many words are cut (with "…").
    pub max_phrase_words: usize,
    /// Two sentences whose word sets overlap at least this much (Jaccard) are the same
    /// sentence, edited.
    pub sentence_match: f64,
}

impl Default for EditConfig {
    fn default() -> Self {
        Self {
            min_length_change: 0.1,
            min_length_change_words: 2,
            min_phrase_words: 2,
            max_phrases: 5,
            max_phrase_words: 12,
            sentence_match: 0.5,
        }
    }
}

/// Analyzes an edit with the default [`EditConfig`].
pub fn analyze_edit(original: &str, sent: &str) -> EditAnalysis {
    analyze_edit_with(original, sent, &EditConfig::default())
}

/// Analyzes how `sent` differs from the draft `original`: distance, word counts, reason
/// codes, removed and added phrases (from a word-level diff) and a one-line summary.
pub fn analyze_edit_with(original: &str, sent: &str, cfg: &EditConfig) -> EditAnalysis {
    let original = text::normalize_for_distance(original);
    let sent = text::normalize_for_distance(sent);
    let distance = normalized_edit_distance(&original, &sent);
    let before_words = text::words(&original);
    let after_words = text::words(&sent);
    let (removed_phrases, added_phrases) = diff_phrases(&before_words, &after_words, cfg);

    let mut reasons = Vec::new();
    if distance > 0.0 {
        if let Some(percent) = percent_change(before_words.len(), after_words.len()) {
            let delta = before_words.len().abs_diff(after_words.len());
            let relative = delta as f64 / before_words.len() as f64;
            if delta >= cfg.min_length_change_words && relative >= cfg.min_length_change {
                reasons.push(if after_words.len() < before_words.len() {
                    ReasonCode::Shortened { percent }
                } else {
                    ReasonCode::Lengthened { percent }
                });
            }
        } else if !after_words.is_empty() {
            reasons.push(ReasonCode::Lengthened { percent: 100 });
        }
        if greeting(&original) != greeting(&sent) {
            reasons.push(ReasonCode::GreetingChanged);
        }
        if sign_off(&original) != sign_off(&sent) {
            reasons.push(ReasonCode::SignOffChanged);
        }
        let before_body = body(&original);
        let after_body = body(&sent);
        let before_sentences = text::sentences(&before_body);
        let after_sentences = text::sentences(&after_body);
        let removed = unmatched_sentences(&before_sentences, &after_sentences, cfg);
        let added = unmatched_sentences(&after_sentences, &before_sentences, cfg);
        if removed > 0 {
            reasons.push(ReasonCode::SentencesRemoved { count: removed });
        }
        if added > 0 {
            reasons.push(ReasonCode::SentencesAdded { count: added });
        }
        let questions = |sentences: &[&str]| sentences.iter().filter(|s| s.ends_with('?')).count();
        if questions(&after_sentences) > questions(&before_sentences) {
            reasons.push(ReasonCode::QuestionAdded);
        }
        let contacts =
            |t: &str| -> BTreeSet<String> { text::emails(t).into_iter().chain(text::phones(t)).collect() };
        if !contacts(&sent).is_subset(&contacts(&original)) {
            reasons.push(ReasonCode::ContactDetailsAdded);
        }
        let links = |t: &str| -> BTreeSet<String> { text::links(t).into_iter().collect() };
        if !links(&sent).is_subset(&links(&original)) {
            reasons.push(ReasonCode::LinkAdded);
        }
        let (numbers_removed, numbers_added) =
            multiset_difference(text::numbers(&original), text::numbers(&sent));
        if !numbers_removed.is_empty() || !numbers_added.is_empty() {
            reasons.push(ReasonCode::NumbersChanged { removed: numbers_removed, added: numbers_added });
        }
        if !removed_phrases.is_empty() {
            reasons.push(ReasonCode::PhrasesRemoved { phrases: removed_phrases.clone() });
        }
        if !added_phrases.is_empty() {
            reasons.push(ReasonCode::PhrasesAdded { phrases: added_phrases.clone() });
        }
    }

    let summary = summarize(distance, before_words.len(), after_words.len(), &reasons);
    EditAnalysis {
        distance,
        words_before: before_words.len(),
        words_after: after_words.len(),
        reasons,
        removed_phrases,
        added_phrases,
        summary,
    }
}

/// Rounded signed percent change from `before` to `after`; `None` when `before` is 0.
/// Runs of removed and added words from a word-level diff (compared case- and
/// punctuation-insensitively), longest first, as written in the texts.
fn diff_phrases(before: &[&str], after: &[&str], cfg: &EditConfig) -> (Vec<String>, Vec<String>) {
    let before_keys: Vec<String> = before.iter().map(|w| text::word_key(w)).collect();
    let after_keys: Vec<String> = after.iter().map(|w| text::word_key(w)).collect();
    let ops = capture_diff_slices(Algorithm::Patience, &before_keys, &after_keys);
    // (length in words, position, phrase): sorted by length descending, then position.
    let mut removed: Vec<(usize, usize, String)> = Vec::new();
    let mut added: Vec<(usize, usize, String)> = Vec::new();
    // A run is cut after each sentence end, so each phrase reads as (part of) a sentence.
    let push = |out: &mut Vec<(usize, usize, String)>, words: &[&str], start: usize| {
        let mut piece_start = 0;
        for i in 0..words.len() {
            let last = i + 1 == words.len();
            if last || ends_sentence(words[i]) {
                let piece = &words[piece_start..=i];
                if piece.len() >= cfg.min_phrase_words {
                    out.push((piece.len(), start + piece_start, phrase_text(piece, cfg.max_phrase_words)));
                }
                piece_start = i + 1;
            }
        }
    };
    for op in ops {
        match op {
            DiffOp::Equal { .. } => {}
            DiffOp::Delete { old_index, old_len, .. } => {
                push(&mut removed, &before[old_index..old_index + old_len], old_index)
            }
            DiffOp::Insert { new_index, new_len, .. } => {
                push(&mut added, &after[new_index..new_index + new_len], new_index)
            }
            DiffOp::Replace { old_index, old_len, new_index, new_len } => {
                push(&mut removed, &before[old_index..old_index + old_len], old_index);
                push(&mut added, &after[new_index..new_index + new_len], new_index);
            }
        }
    }
    let finish = |mut phrases: Vec<(usize, usize, String)>| -> Vec<String> {
        phrases.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        let mut seen = BTreeSet::new();
        phrases
            .into_iter()
            .filter(|(_, _, p)| seen.insert(p.clone()))
            .take(cfg.max_phrases)
            .map(|(_, _, p)| p)
            .collect()
    };
    (finish(removed), finish(added))
}

fn ends_sentence(word: &str) -> bool {
    word.ends_with(['.', '!', '?', ':', ';', ','])
}

/// Joins words into a quoted phrase: outer punctuation trimmed, cut to `max_words`.
fn phrase_text(words: &[&str], max_words: usize) -> String {
    let cut = words.len() > max_words;
    let mut joined = words[..words.len().min(max_words)].join(" ");
    joined =
        joined.trim_matches(|c: char| !c.is_alphanumeric() && c != '\'' && c != '"' && c != '$').to_string();
    if cut {
        joined.push('…');
    }
    joined
}

const GREETING_STARTS: &[&str] = &[
    "hi",
    "hello",
    "hey",
    "dear",
    "good morning",
    "good afternoon",
    "good evening",
    "greetings",
    "hiya",
    "howdy",
];

const SIGN_OFF_STARTS: &[&str] = &[
    "best",
    "regards",
    "kind regards",
    "warm regards",
    "warmly",
    "thanks",
    "thank you",
    "many thanks",
    "cheers",
    "sincerely",
    "yours",
    "talk soon",
    "all the best",
    "looking forward",
    "have a great",
    "have a good",
    "take care",
];

fn starts_with_phrase(lower_line: &str, phrases: &[&str]) -> bool {
    phrases.iter().any(|p| {
        lower_line
            .strip_prefix(p)
            .is_some_and(|rest| rest.chars().next().is_none_or(|c| !c.is_alphanumeric()))
    })
}

/// The greeting of a reply: its first line up to the first comma or sentence end, when
/// that starts like a greeting ("Hi John,"). Compared lowercased.
fn greeting(text: &str) -> Option<String> {
    let first = text.lines().map(str::trim).find(|l| !l.is_empty())?;
    let lower = first.to_lowercase();
    if !starts_with_phrase(&lower, GREETING_STARTS) {
        return None;
    }
    let end = lower.find([',', '.', '!', ':', '—', '-']).unwrap_or(lower.len());
    Some(lower[..end].trim().to_string())
}

/// The sign-off of a reply: from the first of its last three lines that starts like a
/// sign-off ("Best regards," / "Thanks!") and is short, to the end (the name below it
/// included). Compared lowercased.
fn sign_off(text: &str) -> Option<String> {
    let lines: Vec<&str> = text.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    if lines.len() < 2 {
        return None;
    }
    let start = lines.len().saturating_sub(3).max(1);
    for i in start..lines.len() {
        let lower = lines[i].to_lowercase();
        if lower.split_whitespace().count() <= 5 && starts_with_phrase(&lower, SIGN_OFF_STARTS) {
            return Some(lines[i..].iter().map(|l| l.to_lowercase()).collect::<Vec<_>>().join("\n"));
        }
    }
    None
}

/// The text without its greeting line and sign-off block: sentence counts are about the
/// body, so a changed sign-off is not also "sentences removed and added".
fn body(text_in: &str) -> String {
    let mut lines: Vec<&str> = text_in.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    if let Some(sign_off) = sign_off(text_in) {
        let sign_off_lines = sign_off.lines().count();
        lines.truncate(lines.len().saturating_sub(sign_off_lines));
    }
    if greeting(text_in).is_some()
        && let Some(first) = lines.first()
        && first.split_whitespace().count() <= 4
    {
        lines.remove(0);
    }
    lines.join("\n")
}

/// How many sentences of `from` have no similar sentence in `to` (Jaccard similarity of
/// their word keys below the configured match).
fn unmatched_sentences(from: &[&str], to: &[&str], cfg: &EditConfig) -> usize {
    let key_set =
        |s: &str| -> BTreeSet<String> { text::words(s).iter().map(|w| text::word_key(w)).collect() };
    let to_sets: Vec<BTreeSet<String>> = to.iter().map(|s| key_set(s)).collect();
    from.iter()
        .filter(|s| {
            let set = key_set(s);
            !to_sets.iter().any(|other| {
                let inter = set.intersection(other).count();
                let union = set.union(other).count();
                union > 0 && inter as f64 / union as f64 >= cfg.sentence_match
            })
        })
        .count()
}

/// Elements of `a` not in `b` and of `b` not in `a`, counting repeats.
fn multiset_difference(mut a: Vec<String>, mut b: Vec<String>) -> (Vec<String>, Vec<String>) {
    a.sort();
    b.sort();
    let (mut only_a, mut only_b) = (Vec::new(), Vec::new());
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        match (a.get(i), b.get(j)) {
            (Some(x), Some(y)) if x == y => {
                i += 1;
                j += 1;
            }
            (Some(x), Some(y)) if x < y => {
                only_a.push(x.clone());
                i += 1;
            }
            (Some(_), Some(y)) => {
                only_b.push(y.clone());
                j += 1;
            }
            (Some(x), None) => {
                only_a.push(x.clone());
                i += 1;
            }
            (None, Some(y)) => {
                only_b.push(y.clone());
                j += 1;
            }
            (None, None) => break,
        }
    }
    (only_a, only_b)
}

/// Longest phrase quoted in a summary, in characters.
const SUMMARY_PHRASE_CHARS: usize = 60;

fn summarize(distance: f64, before: usize, after: usize, reasons: &[ReasonCode]) -> String {
    if distance == 0.0 {
        return "No changes".to_string();
    }
    let mut parts = Vec::new();
    let mut length_part = None;
    for reason in reasons {
        match reason {
            ReasonCode::Shortened { percent } => {
                length_part = Some(format!("Shortened {before}→{after} words ({percent}%)"));
            }
            ReasonCode::Lengthened { percent } => {
                length_part = Some(format!("Lengthened {before}→{after} words (+{percent}%)"));
            }
            _ => {}
        }
    }
    parts.push(length_part.unwrap_or_else(|| format!("Edited {before}→{after} words")));
    let quote = |p: &str| format!("\"{}\"", text::one_line(p, SUMMARY_PHRASE_CHARS));
    for reason in reasons {
        match reason {
            ReasonCode::PhrasesRemoved { phrases } => {
                parts.push(format!("removed {}", quote(&phrases[0])));
            }
            ReasonCode::PhrasesAdded { phrases } => {
                parts.push(format!("added {}", quote(&phrases[0])));
            }
            _ => {}
        }
    }
    for reason in reasons {
        let part = match reason {
            ReasonCode::GreetingChanged => "changed greeting".to_string(),
            ReasonCode::SignOffChanged => "changed sign-off".to_string(),
            ReasonCode::SentencesRemoved { count } => {
                format!("{count} sentence{} removed", plural(*count))
            }
            ReasonCode::SentencesAdded { count } => {
                format!("{count} sentence{} added", plural(*count))
            }
            ReasonCode::QuestionAdded => "question added".to_string(),
            ReasonCode::ContactDetailsAdded => "contact details added".to_string(),
            ReasonCode::LinkAdded => "link added".to_string(),
            ReasonCode::NumbersChanged { removed, added } => {
                let show = |v: &[String]| {
                    if v.is_empty() {
                        "—".to_string()
                    } else {
                        v.iter().take(3).cloned().collect::<Vec<_>>().join(", ")
                    }
                };
                format!("numbers changed ({} → {})", show(removed), show(added))
            }
            _ => continue,
        };
        parts.push(part);
    }
    parts.join("; ")
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn distance_of_equal_and_whitespace_variants_is_zero() {
        assert_eq!(normalized_edit_distance("", ""), 0.0);
        assert_eq!(normalized_edit_distance("abc", "abc"), 0.0);
        assert_eq!(normalized_edit_distance("Hi\r\nthere  \n\n", "Hi\nthere"), 0.0);
        assert_eq!(normalized_edit_distance("cafe\u{301}", "caf\u{e9}"), 0.0);
    }

    #[test]
    fn distance_counts_unicode_chars() {
        assert!((normalized_edit_distance("kitten", "sitting") - 3.0 / 7.0).abs() < 1e-12);
        assert_eq!(normalized_edit_distance("", "abc"), 1.0);
        // One emoji is one character, not four bytes.
        assert!((normalized_edit_distance("a😀", "ab") - 0.5).abs() < 1e-12);
    }

    #[test]
    fn classification_follows_the_threshold() {
        assert_eq!(classify_send(0.0, 0.2), SendOutcome::Unedited);
        assert_eq!(classify_send(0.05, 0.2), SendOutcome::LightlyEdited);
        assert_eq!(classify_send(0.2, 0.2), SendOutcome::LightlyEdited);
        assert_eq!(classify_send(0.21, 0.2), SendOutcome::Rewritten);
    }

    #[test]
    fn five_thousand_char_pair_is_computed() {
        let a: String =
            "The quick brown fox jumps over the lazy dog. ".repeat(112).chars().take(5000).collect();
        let b = a.replace("lazy", "sleepy");
        let d = normalized_edit_distance(&a, &b);
        assert!(d > 0.0 && d < 0.2, "{d}");
    }

    const DRAFT: &str = "Hi Sarah,\n\nThank you so much for reaching out about the two-bedroom \
        apartment at our Maple Grove community! I'd be happy to help with scheduling a showing \
        for you. We have a number of wonderful options available and our team is always \
        excited to show prospective residents around. The unit features an updated kitchen, \
        in-unit laundry and a private balcony. Rent is $1,850 per month.\n\nBest regards,\nThe \
        Maple Grove Team";
    const SENT: &str = "Hi Sarah,\n\nLet me check availability for a showing this week. The \
        unit has an updated kitchen and in-unit laundry. Rent is $1,900 per month. What day \
        works for you?\n\nThanks,\nDana";

    #[test]
    fn analysis_finds_the_reasons_of_a_typical_edit() {
        let analysis = analyze_edit(DRAFT, SENT);
        let kinds: Vec<ReasonKind> = analysis.reasons.iter().map(ReasonCode::kind).collect();
        assert_eq!(
            kinds,
            vec![
                ReasonKind::Shortened,
                ReasonKind::SignOffChanged,
                ReasonKind::SentencesRemoved,
                ReasonKind::SentencesAdded,
                ReasonKind::QuestionAdded,
                ReasonKind::NumbersChanged,
                ReasonKind::PhrasesRemoved,
                ReasonKind::PhrasesAdded,
            ]
        );
        assert!(analysis.words_after < analysis.words_before);
        assert!(
            analysis.removed_phrases.iter().any(|p| p.contains("I'd be happy to help with")),
            "{:?}",
            analysis.removed_phrases
        );
        insta::assert_snapshot!(analysis.summary);
    }

    #[test]
    fn summary_of_the_design_example() {
        let draft = "I'd be happy to help with your showing request for Saturday.";
        let sent = "Let me check availability for Saturday.";
        let analysis = analyze_edit(draft, sent);
        insta::assert_snapshot!(analysis.summary, @r#"Shortened 11→6 words (-45%); removed "I'd be happy to help with your showing request"; added "Let me check availability"; 1 sentence removed; 1 sentence added"#);
    }

    #[test]
    fn unchanged_text_has_no_reasons() {
        let analysis = analyze_edit("Hello there.\r\n", "Hello there.");
        assert_eq!(analysis.distance, 0.0);
        assert!(analysis.reasons.is_empty());
        assert_eq!(analysis.summary, "No changes");
    }

    #[test]
    fn greeting_contact_and_link_changes_are_found() {
        let analysis = analyze_edit(
            "Hi John,\nThe unit is available.",
            "Hello John,\nThe unit is available. Call me at 555-201-3344 or book at https://ex.com/book",
        );
        assert!(analysis.has(ReasonKind::GreetingChanged));
        assert!(analysis.has(ReasonKind::ContactDetailsAdded));
        assert!(analysis.has(ReasonKind::LinkAdded));
        assert!(!analysis.has(ReasonKind::NumbersChanged), "{:?}", analysis.reasons);
    }

    #[test]
    fn reason_codes_serialize_as_camel_case_tagged_json() {
        let json = serde_json::to_value(ReasonCode::Shortened { percent: -45 }).unwrap();
        assert_eq!(json, serde_json::json!({"code": "shortened", "percent": -45}));
        let json = serde_json::to_value(ReasonCode::SignOffChanged).unwrap();
        assert_eq!(json, serde_json::json!({"code": "signOffChanged"}));
    }

    fn unicode_text() -> impl Strategy<Value = String> {
        // A small alphabet makes shared characters (and non-trivial distances) likely;
        // combining marks, CJK, emoji and line endings exercise normalization.
        prop::collection::vec(
            prop::sample::select(vec![
                'a', 'b', 'c', 'é', 'e', '\u{301}', '中', '😀', ' ', '\n', '\r', '\t', 'Ω', 'ß',
            ]),
            0..40,
        )
        .prop_map(|chars| chars.into_iter().collect())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn distance_matches_strsim(a in unicode_text(), b in unicode_text()) {
            let expected = {
                let na = text::normalize_for_distance(&a);
                let nb = text::normalize_for_distance(&b);
                1.0 - strsim::normalized_levenshtein(&na, &nb)
            };
            let actual = normalized_edit_distance(&a, &b);
            prop_assert!((actual - expected).abs() < 1e-12, "{actual} vs {expected}");
        }

        #[test]
        fn distance_matches_strsim_on_arbitrary_strings(a in "\\PC{0,30}", b in "\\PC{0,30}") {
            let na = text::normalize_for_distance(&a);
            let nb = text::normalize_for_distance(&b);
            let expected = 1.0 - strsim::normalized_levenshtein(&na, &nb);
            prop_assert!((normalized_edit_distance(&a, &b) - expected).abs() < 1e-12);
        }

        #[test]
        fn distance_is_bounded_symmetric_and_zero_iff_equal(a in unicode_text(), b in unicode_text()) {
            let d = normalized_edit_distance(&a, &b);
            prop_assert!((0.0..=1.0).contains(&d));
            prop_assert_eq!(d, normalized_edit_distance(&b, &a));
            let equal = text::normalize_for_distance(&a) == text::normalize_for_distance(&b);
            prop_assert_eq!(d == 0.0, equal);
        }

        #[test]
        fn analysis_never_panics_and_is_consistent(a in unicode_text(), b in unicode_text()) {
            let analysis = analyze_edit(&a, &b);
            prop_assert_eq!(analysis.distance, normalized_edit_distance(&a, &b));
            prop_assert!(!analysis.summary.contains('\n'));
            prop_assert_eq!(analysis.reasons.is_empty() && analysis.distance > 0.0,
                analysis.summary.starts_with("Edited") && !analysis.summary.contains(';'));
        }
    }

    proptest! {
        // Long texts under the textbook algorithm are slow in a debug build: fewer cases.
        #![proptest_config(ProptestConfig::with_cases(48))]

        /// Long ASCII replies and their edits (a word changed, dropped or moved every so often):
        /// the guessed first band lands on both sides of the distance, and the value must not
        /// depend on it.
        #[test]
        fn distance_of_long_edited_replies_matches_strsim(
            words in proptest::collection::vec("[a-z]{1,9}", 20..400),
            edits in proptest::collection::vec((0usize..400, 0u8..4, "[a-z]{1,9}"), 0..80),
        ) {
            let draft = words.join(" ");
            let mut sent_words = words.clone();
            for (at, op, word) in edits {
                let at = at % sent_words.len().max(1);
                match op {
                    0 if !sent_words.is_empty() => { sent_words.remove(at); }
                    1 => sent_words.insert(at, word),
                    2 if !sent_words.is_empty() => sent_words[at] = word,
                    _ => { let moved = sent_words.remove(at); sent_words.push(moved); }
                }
            }
            let sent = sent_words.join(" ");
            let expected = 1.0 - strsim::normalized_levenshtein(&draft, &sent);
            prop_assert!((normalized_edit_distance(&draft, &sent) - expected).abs() < 1e-12);
        }
    }
}
