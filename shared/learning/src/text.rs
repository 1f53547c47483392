//! Text handling shared by every part of the engine: normalization, tokenization into
//! comparable terms, extraction of contact details, and masking of personal data.
//!
//! Everything here is a pure function of its input.

use std::borrow::Cow;
use std::collections::HashSet;
use std::sync::{LazyLock, OnceLock};

use regex::Regex;
use unicode_normalization::{IsNormalized, UnicodeNormalization};

/// Normalizes text for edit-distance comparison.
///
/// Applies Unicode NFC, turns `\r\n` and `\r` into `\n`, strips trailing whitespace from
/// every line and trailing blank lines from the end. Two texts that differ only in trailing
/// whitespace or line endings therefore normalize to the same string: such differences are
/// produced by editors and mail clients, not by a person editing the reply.
///
/// Most replies are already normal (NFC, `\n` line ends, no trailing whitespace): those are
/// borrowed as they are, with no copy, so the distance of two such texts costs only the
/// distance itself.
pub fn normalize_for_distance(text: &str) -> Cow<'_, str> {
    if is_normal_for_distance(text) {
        return Cow::Borrowed(text);
    }
    let nfc: String = text.nfc().collect();
    let unified = nfc.replace("\r\n", "\n").replace('\r', "\n");
    let mut out = String::with_capacity(unified.len());
    for (i, line) in unified.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        out.push_str(line.trim_end());
    }
    let trimmed_len = out.trim_end().len();
    out.truncate(trimmed_len);
    Cow::Owned(out)
}

/// True when [`normalize_for_distance`] would return the text unchanged: NFC (ASCII always
/// is; otherwise the quick check must say so for certain), no carriage return, and no
/// whitespace before a line break or at the end.
fn is_normal_for_distance(text: &str) -> bool {
    let nfc = text.is_ascii() || unicode_normalization::is_nfc_quick(text.chars()) == IsNormalized::Yes;
    nfc && !text.contains('\r')
        && !text.ends_with(char::is_whitespace)
        && text.split('\n').all(|line| !line.ends_with(char::is_whitespace))
}

/// Common English function words. They carry no topic, so they are left out of unigram
/// features and of cluster names (bigrams are built over the remaining content words).
const STOPWORDS: &[&str] = &[
    "a",
    "about",
    "after",
    "afternoon",
    "again",
    "against",
    "all",
    "also",
    "am",
    "an",
    "and",
    "any",
    "are",
    "as",
    "ask",
    "asking",
    "at",
    "be",
    "because",
    "been",
    "before",
    "being",
    "below",
    "best",
    "between",
    "both",
    "but",
    "by",
    "can",
    "cannot",
    "cheers",
    "could",
    "day",
    "dear",
    "did",
    "do",
    "doe",
    "does",
    "dont",
    "during",
    "each",
    "either",
    "evening",
    "for",
    "from",
    "further",
    "fwd",
    "get",
    "good",
    "got",
    "had",
    "has",
    "have",
    "having",
    "he",
    "hello",
    "her",
    "here",
    "hers",
    "herself",
    "hey",
    "hi",
    "him",
    "himself",
    "his",
    "hope",
    "hoping",
    "how",
    "i",
    "id",
    "if",
    "ill",
    "im",
    "in",
    "interested",
    "into",
    "is",
    "it",
    "its",
    "itself",
    "ive",
    "just",
    "know",
    "let",
    "like",
    "look",
    "looking",
    "madam",
    "many",
    "me",
    "more",
    "morning",
    "much",
    "my",
    "myself",
    "need",
    "neither",
    "no",
    "nor",
    "not",
    "of",
    "off",
    "ok",
    "okay",
    "on",
    "once",
    "one",
    "only",
    "or",
    "other",
    "our",
    "ourselves",
    "out",
    "own",
    "please",
    "pls",
    "plz",
    "possible",
    "question",
    "re",
    "regard",
    "regards",
    "same",
    "she",
    "should",
    "sir",
    "so",
    "some",
    "still",
    "such",
    "than",
    "thank",
    "thanks",
    "that",
    "the",
    "their",
    "theirs",
    "them",
    "themselves",
    "then",
    "there",
    "these",
    "they",
    "thi",
    "this",
    "those",
    "through",
    "thx",
    "to",
    "too",
    "u",
    "until",
    "up",
    "us",
    "very",
    "wa",
    "want",
    "wanted",
    "was",
    "we",
    "were",
    "what",
    "when",
    "where",
    "which",
    "while",
    "who",
    "whom",
    "whose",
    "why",
    "will",
    "with",
    "wonder",
    "wondering",
    "would",
    "yes",
    "you",
    "your",
    "yours",
    "yourself",
    "yourselves",
];

/// Returns true for a function word that carries no topic (from a fixed English list).
pub fn is_stopword(term: &str) -> bool {
    // Asked of every word of every message, several times per batch: a hash lookup is
    // cheaper than the list's binary search.
    static SET: LazyLock<HashSet<&'static str>> = LazyLock::new(|| STOPWORDS.iter().copied().collect());
    SET.contains(term)
}

/// Words that say nothing of what a message is about, though [`STOPWORDS`] leaves them in:
/// discourse words that link or qualify what a writer says ("however", "even",
/// "actually"), and the function words the stop list does not hold: possessive pronouns
/// ("mine"), negated auxiliaries and contractions as people type them without the
/// apostrophe ("didnt", "youre"), "now". They stay in the vectors (how people write is part
/// of who is alike; adding the function words to the stop list instead changed every
/// vector and moved the real-text NMI by −0.02 to −0.03, within what any change to the
/// vectors moves it) but never name a topic: on the complaints, clusters came out as
/// `CARD_HOWEVER`, `CARD_EVEN`, `MINE_BANKRUPTCY` and `OPENED_DIDNT`. Sorted, as terms
/// (plurals folded).
const CONTENTLESS_WORDS: &[&str] = &[
    "actually",
    "additionally",
    "already",
    "although",
    "anyway",
    "apparently",
    "arent",
    "basically",
    "cant",
    "certainly",
    "clearly",
    "couldnt",
    "currently",
    "despite",
    "didnt",
    "doesnt",
    "even",
    "eventually",
    "ever",
    "finally",
    "furthermore",
    "hadnt",
    "hasnt",
    "havent",
    "however",
    "instead",
    "isnt",
    "just",
    "later",
    "mine",
    "moreover",
    "never",
    "nevertheless",
    "now",
    "obviously",
    "otherwise",
    "perhap",
    "please",
    "rather",
    "really",
    "recently",
    "shouldnt",
    "simply",
    "since",
    "still",
    "therefore",
    "theyre",
    "theyve",
    "though",
    "thus",
    "unfortunately",
    "wasnt",
    "werent",
    "weve",
    "whether",
    "wont",
    "wouldnt",
    "yet",
    "youd",
    "youll",
    "youre",
    "youve",
];

/// True for a word that says nothing of what a message is about ([`CONTENTLESS_WORDS`]):
/// never a topic's name or keyword.
pub fn is_contentless(term: &str) -> bool {
    CONTENTLESS_WORDS.binary_search(&term).is_ok()
}

/// The placeholder term that replaces every number, so that "2 bedrooms" and "3 bedrooms"
/// share their features.
pub const NUMBER_TERM: &str = "<num>";

/// Splits text into normalized terms: NFC, lowercase, words made of letters and digits
/// (apostrophes inside a word are dropped: "I'd" becomes "id"), any word containing a digit
/// becomes [`NUMBER_TERM`], and a light English stemmer folds plurals ("requests" and
/// "request" are one term).
pub fn terms(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    cased_terms(text, |term, _| out.push(term));
    out
}

/// How a word is written where it occurs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WordCase {
    /// The first word of a sentence (its capital says nothing).
    SentenceStart,
    /// Inside a sentence, with an initial capital and lowercase letters after it
    /// ("Fargo", "PayPal"): how names are written.
    Capitalized,
    /// Inside a sentence, two or more letters all in capitals ("PNC", "USAA", "ATM"): how
    /// organisations, laws and products are abbreviated, and how some people shout ("I
    /// DID NOT"), though not for most of a word's occurrences in a batch.
    Acronym,
    /// Inside a sentence, any other way ("rent", "I", "x2").
    Other,
}

impl WordCase {
    /// Written as a name is: capitalised ("Fargo") or as an acronym ("PNC"). A term written
    /// so in most of its occurrences inside a topic's sentences never names the topic.
    /// (Only capitalised words count as names for the vectors, `Vectorizer::is_name`: with
    /// acronyms too, the topic profiles lost terms such as "FCRA", and full-length NMI on
    /// the complaints fell from 0.273 to 0.234.)
    pub fn is_name_like(self) -> bool {
        matches!(self, WordCase::Capitalized | WordCase::Acronym)
    }
}

/// How far from the end of a text a mail client's signature is looked for (bytes).
const SIGNATURE_TAIL: usize = 80;

/// Mail apps that sign "Sent from <app> …" (a phone signs "Sent from my <device>").
const MAIL_APPS: &[&str] = &["aol", "gmail", "mail", "outlook", "yahoo"];

/// The text without the signature its mail client appended, if it ends with one: "Sent
/// from my iPhone", "- sent from my phone", "Sent from Yahoo Mail on Android", "Get
/// Outlook for iOS". The signature stands apart from what was written: on a line of its
/// own, or after a sentence's end or a dash; "the money was sent from my account" is no
/// signature. Such a line says which device sent the message, never what it is about, yet
/// it is the same in every message from that kind of device: counted as words it links
/// messages of every topic and names topics (`PARKING_PHONE` in the CI demo). Learning
/// reads the text without it; what an admin is shown keeps it.
pub fn without_signature(text: &str) -> &str {
    let end = text.trim_end().len();
    let mut from = end.saturating_sub(SIGNATURE_TAIL);
    while !text.is_char_boundary(from) {
        from -= 1;
    }
    // ASCII lowercase keeps every byte offset.
    let tail = text[from..end].to_ascii_lowercase();
    let found = ["sent from ", "get outlook for "].iter().filter_map(|&marker| {
        let at = tail.rfind(marker)?;
        let rest = tail[at + marker.len()..].trim_end_matches(['.', '!']);
        if rest.contains(['\n', '?', '!', '.', ',']) {
            return None;
        }
        let words: Vec<&str> = rest.split_whitespace().collect();
        let signs = match (marker, words.first().copied()) {
            ("get outlook for ", _) => (1..=2).contains(&words.len()),
            (_, Some("my")) => (2..=5).contains(&words.len()),
            (_, Some(app)) => MAIL_APPS.contains(&app) && words.len() <= 5,
            _ => false,
        };
        let start = from + at;
        let body = text[..start].trim_end();
        let on_its_own_line = text[body.len()..start].contains('\n');
        let apart = on_its_own_line
            || body
                .chars()
                .next_back()
                .is_none_or(|c| matches!(c, '.' | '!' | '?' | '-' | '\u{2013}' | '\u{2014}' | '|' | '~'));
        (signs && apart).then_some(start)
    });
    match found.min() {
        Some(start) => {
            text[..start].trim_end().trim_end_matches(['-', '\u{2013}', '\u{2014}', '|', '~']).trim_end()
        }
        None => text,
    }
}

/// The part of a message its sender wrote: without the earlier messages an email reply
/// quotes below it ([`without_quoted_thread`]) and without the signature its mail client
/// appended ([`without_signature`]). Learning reads only this, and quotes only this, masked
/// ([`masked_own_words`]).
pub fn own_words(text: &str) -> &str {
    without_signature(without_quoted_thread(text))
}

/// A message as the learning quotes it in what it proposes (a new intent's examples, the
/// evidence an admin reviews): the sender's own words, masked. The admin reads what the
/// customer asked, not the office's answer their reply quotes nor "Sent from my iPhone";
/// and a quoted thread, with the names and addresses of other people in its attribution
/// lines, is not copied into proposals at all.
pub fn masked_own_words(text: &str) -> String {
    mask_personal_data(own_words(text))
}

/// The text above the earlier messages an email reply quotes. The quote starts at the
/// first line that is an attribution ("On Mon, Nov 30, 2026 at 9:12 AM Ann <ann@x.com>
/// wrote:", also wrapped before "wrote:"), Outlook's "-----Original Message-----" or its
/// header ("From: …" with "Sent: " or "Date: " in the next three lines), or a line quoted
/// with ">" after which every other line is quoted or blank. A reply quotes the agent's
/// own answer: read as the customer's words, the same reply text would link every
/// message that answers it, whatever each asks. A text with nothing above the quote is
/// kept whole; a text of one line is never a quote.
pub fn without_quoted_thread(text: &str) -> &str {
    if !text.contains('\n') {
        return text;
    }
    let lines: Vec<(usize, &str)> = text
        .split_inclusive('\n')
        .scan(0, |offset, line| {
            let start = *offset;
            *offset += line.len();
            Some((start, line.trim()))
        })
        .collect();
    // Compared without allocating: an email can have hundreds of lines, and every reading of
    // its terms looks for the quote.
    let starts = |line: &str, prefix: &str| {
        line.len() >= prefix.len() && line.as_bytes()[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes())
    };
    let ends = |line: &str, suffix: &str| {
        line.len() >= suffix.len()
            && line.as_bytes()[line.len() - suffix.len()..].eq_ignore_ascii_case(suffix.as_bytes())
    };
    // Lines from here on are all quoted or blank.
    let quoted_tail = lines
        .iter()
        .rposition(|(_, l)| !(l.is_empty() || l.starts_with('>')))
        .map_or(0, |last_own| last_own + 1);
    let starts_quote = |i: usize| -> bool {
        let line = lines[i].1;
        let next = |k: usize| lines.get(i + k).map_or("", |&(_, l)| l);
        let attribution =
            starts(line, "on ") && (ends(line, "wrote:") || (line.len() <= 200 && ends(next(1), "wrote:")));
        let original = line.starts_with("--") && line.to_ascii_lowercase().contains("original message");
        let header =
            starts(line, "from:") && (1..=3).any(|k| starts(next(k), "sent:") || starts(next(k), "date:"));
        let quoted = line.starts_with('>') && i >= quoted_tail;
        attribution || original || header || quoted
    };
    match (0..lines.len()).find(|&i| starts_quote(i)) {
        Some(i) if !text[..lines[i].0].trim().is_empty() => text[..lines[i].0].trim_end(),
        _ => text,
    }
}

/// The terms of [`terms`], each with how its word was written: the evidence that a term
/// is a name (of a person, an organisation, a brand, a place), which is written
/// capitalised inside sentences wherever it occurs. Only the sender's own words are read
/// ([`own_words`]).
pub fn cased_terms(text: &str, mut visit: impl FnMut(String, WordCase)) {
    let text = own_words(text);
    let mut word = String::new();
    let (mut has_digit, mut first_upper, mut has_lower) = (false, false, false);
    let mut sentence_start = true;
    let mut flush =
        |word: &mut String, has_digit: &mut bool, first_upper: bool, has_lower: bool, start: &mut bool| {
            if !word.is_empty() {
                let case = if *start {
                    WordCase::SentenceStart
                } else if first_upper && has_lower {
                    WordCase::Capitalized
                } else if first_upper && !*has_digit && word.chars().nth(1).is_some() {
                    WordCase::Acronym
                } else {
                    WordCase::Other
                };
                let term = if *has_digit { NUMBER_TERM.to_string() } else { stem(word) };
                visit(term, case);
                word.clear();
                *start = false;
            }
            *has_digit = false;
        };
    let mut step = |ch: char| {
        if ch.is_alphanumeric() {
            if word.is_empty() {
                first_upper = ch.is_uppercase();
                has_lower = false;
            } else {
                has_lower |= ch.is_lowercase();
            }
            for lower in ch.to_lowercase() {
                word.push(lower);
            }
            has_digit |= ch.is_numeric();
        } else if (ch == '\'' || ch == '\u{2019}') && !word.is_empty() {
            // Apostrophe inside a word: drop it and keep the word going.
        } else {
            flush(&mut word, &mut has_digit, first_upper, has_lower, &mut sentence_start);
            if matches!(ch, '.' | '!' | '?' | '\n') {
                sentence_start = true;
            }
        }
    };
    // ASCII text is its own normal form: the composition pass would only cost time (a
    // twentieth of clustering a batch, where every message is read four times).
    if text.is_ascii() {
        text.chars().for_each(&mut step);
    } else {
        text.nfc().for_each(&mut step);
    }
    flush(&mut word, &mut has_digit, first_upper, has_lower, &mut sentence_start);
}

/// True for a redaction mask ("XXXX", "xx" in "XX/XX/XXXX"): a placeholder for removed
/// personal data, never content.
pub fn is_mask(term: &str) -> bool {
    term.len() >= 2 && term.bytes().all(|b| b == b'x')
}

/// A light, deterministic English stemmer: folds plural and possessive endings only. It is
/// deliberately weak so that cluster names stay readable words.
pub fn stem(word: &str) -> String {
    let len = word.chars().count();
    if len > 4 && word.ends_with("ies") {
        return format!("{}y", &word[..word.len() - 3]);
    }
    if len > 3
        && word.ends_with('s')
        && !word.ends_with("ss")
        && !word.ends_with("us")
        && !word.ends_with("is")
    {
        return word[..word.len() - 1].to_string();
    }
    word.to_string()
}

/// Splits text into whitespace-separated words (the unit of word counts and of the
/// word-level diff).
pub fn words(text: &str) -> Vec<&str> {
    text.split_whitespace().collect()
}

/// The comparison key of a word in the word-level diff: lowercase, with surrounding
/// punctuation removed, so "help." and "Help" compare equal. A word made only of
/// punctuation keeps itself as key.
pub fn word_key(word: &str) -> String {
    let trimmed = word.trim_matches(|c: char| !c.is_alphanumeric());
    if trimmed.is_empty() { word.to_string() } else { trimmed.to_lowercase() }
}

/// Splits text into sentences: at `.`, `!` or `?` followed by whitespace, and at line
/// breaks. Empty sentences are dropped; the terminating punctuation is kept.
pub fn sentences(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let bytes: Vec<(usize, char)> = text.char_indices().collect();
    for (i, &(pos, ch)) in bytes.iter().enumerate() {
        let end_here = match ch {
            '\n' => Some(pos),
            '.' | '!' | '?' => {
                let next_is_space = bytes.get(i + 1).is_none_or(|&(_, c)| c.is_whitespace());
                next_is_space.then_some(pos + ch.len_utf8())
            }
            _ => None,
        };
        if let Some(end) = end_here {
            let sentence = text[start..end].trim();
            if !sentence.is_empty() {
                out.push(sentence);
            }
            start = end;
            if ch == '\n' {
                start = pos + 1;
            }
        }
    }
    let rest = text[start.min(text.len())..].trim();
    if !rest.is_empty() {
        out.push(rest);
    }
    out
}

static EMAIL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}")
        .expect("email pattern compiles")
});

/// North-American style numbers with optional country code, and international numbers
/// written with a leading "+". Bounded by non-digits so longer digit runs (order numbers)
/// are not cut into a "phone".
const PHONE_PATTERN: &str = r"(?x)
    (?:
        (?:(?:\+|(?-u:\b))1[\s.\-]?)?\(\d{3}\)\s?\d{3}[\s.\-]?\d{4}
      | (?:\+|(?-u:\b))(?:1[\s.\-]?)?\d{3}[\s.\-]?\d{3}[\s.\-]?\d{4}
      | (?:\+|(?-u:\b))\d{1,3}[\s.\-]\d{2,4}[\s.\-]\d{3,4}[\s.\-]\d{3,4}
    )
    (?-u:\b)";

/// A house number, up to three words and a street type, with an optional apartment.
const STREET_ADDRESS_PATTERN: &str = r"(?x)
    (?-u:\b)\d{1,6}(?:st|nd|rd|th|[A-Za-z])?\s+
    (?:[A-Za-z][A-Za-z'\-]*\.?\s+){0,3}
    (?i-u:street|st|avenue|ave|road|rd|boulevard|blvd|lane|ln|drive|dr|court|ct|way|place|pl
        |terrace|ter|circle|cir|parkway|pkwy|highway|hwy|square|sq)
    (?-u:\b)\.?
    (?:,?\s*(?i-u:apt|apartment|unit|suite|ste)\.?\s*\#?\s*[A-Za-z0-9\-]+|,?\s*\#\s*[A-Za-z0-9\-]+)?";

/// The phone and address patterns bound their digits (`\d`: any script's) with ASCII word
/// boundaries, which the fast engine (the lazy DFA) searches in any text; a Unicode `\b`
/// makes it give up at the first non-ASCII byte. But an ASCII boundary sees none beside a
/// digit of another script ("٥٥٥-١٢٣-٤٥٦٧"), so such a number went unmasked. Text with
/// such a digit takes the same patterns with Unicode boundaries.
struct DigitPatterns {
    pattern: &'static str,
    ascii_bounded: OnceLock<Regex>,
    /// Compiled on first use: most deployments never see such a digit.
    unicode_bounded: OnceLock<Regex>,
}

impl DigitPatterns {
    const fn new(pattern: &'static str) -> Self {
        Self { pattern, ascii_bounded: OnceLock::new(), unicode_bounded: OnceLock::new() }
    }

    /// The pattern to search `text` with.
    fn for_text(&self, text: &str) -> &Regex {
        let other_digits = !text.is_ascii() && text.chars().any(|c| c.is_numeric() && !c.is_ascii());
        if other_digits { self.unicode_bounded() } else { self.ascii_bounded() }
    }

    fn ascii_bounded(&self) -> &Regex {
        self.ascii_bounded.get_or_init(|| Regex::new(self.pattern).expect("pattern compiles"))
    }

    fn unicode_bounded(&self) -> &Regex {
        self.unicode_bounded
            .get_or_init(|| Regex::new(&self.pattern.replace(r"(?-u:\b)", r"\b")).expect("pattern compiles"))
    }
}

static PHONE: DigitPatterns = DigitPatterns::new(PHONE_PATTERN);

static STREET_ADDRESS: DigitPatterns = DigitPatterns::new(STREET_ADDRESS_PATTERN);

static URL: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b(?i-u:https?://|www\.)[^\s<>()]+").expect("url pattern compiles"));

static NUMBER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"[$€£]?\d[\d,]*(?:\.\d+)?%?").expect("number pattern compiles"));

/// Placeholder that replaces an email address in masked text.
pub const EMAIL_MASK: &str = "[email]";
/// Placeholder that replaces a phone number in masked text.
pub const PHONE_MASK: &str = "[phone]";
/// Placeholder that replaces a street address in masked text.
pub const ADDRESS_MASK: &str = "[address]";

/// Masks email addresses, phone numbers and street addresses.
///
/// Used on every customer message kept as evidence. Masking is idempotent: the
/// placeholders contain no digits and no `@`, so masking masked text changes nothing.
pub fn mask_personal_data(text: &str) -> String {
    mask_with(text, DigitPatterns::for_text)
}

/// Masks with the phone and address pattern that `pattern` picks for the text.
fn mask_with(text: &str, pattern: fn(&'static DigitPatterns, &str) -> &'static Regex) -> String {
    let masked = EMAIL.replace_all(text, EMAIL_MASK);
    let masked = pattern(&PHONE, &masked).replace_all(&masked, PHONE_MASK);
    let masked = pattern(&STREET_ADDRESS, &masked).replace_all(&masked, ADDRESS_MASK);
    masked.into_owned()
}

/// Placeholder of a masked name.
pub const NAME_MASK: &str = "[name]";

/// What may leave for a language model (the analyst, the embeddings): personal data masked
/// ([`mask_personal_data`]), then names: a capitalized word that
/// does not open a sentence ("Hi Maria,", "Thanks, John", "at Willow Park") becomes `[name]`.
/// This over-masks (places and products go too) on purpose: what the model needs is what
/// people ask and how the replies read, never who they are. A name that opens a sentence
/// ("Maria here.") is not recognised.
pub fn mask_for_model(text: &str) -> String {
    mask_names(&mask_personal_data(text))
}

/// The names half of [`mask_for_model`], for text whose personal data is masked already (a
/// message's stored quoted form): no pattern matching, so a function that only reads stored
/// forms does not link the regex engine.
pub fn mask_names(masked: &str) -> String {
    let mut out = String::with_capacity(masked.len());
    let mut opens_sentence = true;
    for (i, token) in masked.split(' ').enumerate() {
        if i > 0 {
            out.push(' ');
        }
        let word = token.trim_matches(|c: char| !c.is_alphanumeric());
        let capitalized =
            word.chars().next().is_some_and(char::is_uppercase) && word != "I" && !word.starts_with("I'");
        if capitalized && !opens_sentence {
            let start = token.find(word).unwrap_or(0);
            out.push_str(&token[..start]);
            out.push_str(NAME_MASK);
            out.push_str(&token[start + word.len()..]);
        } else {
            out.push_str(token);
        }
        opens_sentence =
            token.is_empty() || token.ends_with(['.', '!', '?', ':', '\n']) || token.contains('\n');
    }
    out
}

/// Every form in which autolearn may have stored `text` masked, so that erasure finds each
/// copy: what the learning quotes now ([`masked_own_words`]) first, then, where they differ,
/// the forms earlier versions stored: the whole message masked, and the whole message masked
/// by phone and address patterns that saw no number written in another script's digits.
pub fn masked_forms(text: &str) -> Vec<String> {
    let mut forms = vec![masked_own_words(text)];
    for earlier in [mask_personal_data(text), mask_with(text, |patterns, _| patterns.ascii_bounded())] {
        if !forms.contains(&earlier) {
            forms.push(earlier);
        }
    }
    forms
}

/// Email addresses in the text, lowercased, in order of appearance.
pub fn emails(text: &str) -> Vec<String> {
    EMAIL.find_iter(text).map(|m| m.as_str().to_lowercase()).collect()
}

/// Phone numbers in the text, reduced to their digits (in the script they are written in),
/// in order of appearance.
pub fn phones(text: &str) -> Vec<String> {
    PHONE
        .for_text(text)
        .find_iter(text)
        .map(|m| m.as_str().chars().filter(|c| c.is_numeric()).collect())
        .collect()
}

/// Links (`http://`, `https://` or `www.`) in the text, lowercased, with trailing
/// punctuation removed.
pub fn links(text: &str) -> Vec<String> {
    URL.find_iter(text)
        .map(|m| m.as_str().trim_end_matches(['.', ',', '!', '?', ';', ':']).to_lowercase())
        .collect()
}

/// Numbers and prices in the text ("$1,200", "3", "4.5%"), ignoring those inside emails,
/// phone numbers and links, in order of appearance.
pub fn numbers(text: &str) -> Vec<String> {
    let without_links = URL.replace_all(text, " ");
    let masked = mask_personal_data(&without_links);
    NUMBER.find_iter(&masked).map(|m| m.as_str().trim_end_matches(',').to_string()).collect()
}

/// Truncates text to at most `max_chars` characters, ending with "…" when cut, and
/// collapses all whitespace runs (including line breaks) to single spaces so the result
/// fits on one line.
pub fn one_line(text: &str, max_chars: usize) -> String {
    let collapsed = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if collapsed.chars().count() <= max_chars {
        return collapsed;
    }
    let mut cut: String = collapsed.chars().take(max_chars.saturating_sub(1)).collect();
    // Cut at a word boundary when there is one in the second half, so no word is split.
    if let Some(space) = cut.rfind(' ')
        && cut[..space].chars().count() >= max_chars / 2
    {
        cut.truncate(space);
    }
    cut = cut.trim_end().to_string();
    cut.push('…');
    cut
}

/// FNV-1a, 64 bit: a small, stable hash. The engine needs hashes that never change between
/// runs, platforms or Rust versions (feature ids, fingerprints), which `std`'s hasher does
/// not promise.
pub fn stable_hash(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_email_reply_is_read_without_the_thread_it_quotes() {
        let above = without_quoted_thread;
        let gmail = "Is parking included?\n\nOn Mon, Nov 30, 2026 at 9:12 AM Leasing <leasing@example.com> wrote:\n> Thanks for reaching out!\n> We have viewing slots on Monday.";
        assert_eq!(above(gmail), "Is parking included?");
        let wrapped = "Can I bring my dog?\r\n\r\nOn Mon, Nov 30, 2026 at 9:12 AM Leasing Office <leasing@example.com>\r\nwrote:\r\n\r\n> Happy to help";
        assert_eq!(above(wrapped), "Can I bring my dog?");
        let outlook =
            "The sink leaks.\n\n-----Original Message-----\nFrom: Leasing\nSent: Monday\nSubject: RE: repair";
        assert_eq!(above(outlook), "The sink leaks.");
        let header = "The sink leaks.\n\nFrom: Leasing Office <l@example.com>\nSent: Monday, November 30, 2026 9:12 AM\nTo: Ann\nSubject: RE: repair\n\nThanks for your message";
        assert_eq!(above(header), "The sink leaks.");
        assert_eq!(above("Yes please\n> Would you like a showing?\n>\n> Best"), "Yes please");
        for own in [
            "On Monday the heater broke and I wrote: please fix",
            "From: the 3rd floor\nThe sink leaks",
            "> 2 people live here\nis that ok?",
            "> hi\n> there",
            "Thanks\n\nOn Monday I can come by",
            "",
        ] {
            assert_eq!(above(own), own, "{own:?}");
        }
        // With the signature above the quote: the customer's own words only.
        let both = "Is parking included?\nSent from my iPhone\n\nOn Mon, Nov 30, 2026, Leasing wrote:\n> Hi";
        assert_eq!(own_words(both), "Is parking included?");
        assert_eq!(terms(both), terms("Is parking included?"));
    }

    #[test]
    fn a_mail_clients_signature_is_left_out() {
        let body = without_signature;
        for (signed, written) in [
            ("is there a parking garage? - sent from my phone", "is there a parking garage?"),
            ("Is there parking?\n\nSent from my iPhone", "Is there parking?"),
            ("thanks\nSent from my Samsung Galaxy smartphone.", "thanks"),
            ("The sink leaks. Sent from Yahoo Mail on Android", "The sink leaks."),
            ("Can I bring my dog? \u{2014} Get Outlook for iOS", "Can I bring my dog?"),
            ("Sent from my iPhone", ""),
            ("My rent is late. Sent from my T-Mobile 4G LTE Device", "My rent is late."),
        ] {
            assert_eq!(body(signed), written, "{signed:?}");
        }
        for unsigned in [
            "the money was sent from my account",
            "I was sent from my bank to you",
            "who sent from my account? nobody",
            "Sent from my account. The payment bounced twice",
            "It was sent from the office. Sent from a branch near me",
            "Get outlook for the quarter please",
            "¿Hay estacionamiento? Enviado desde mi iPhone",
            "",
        ] {
            assert_eq!(body(unsigned), unsigned, "{unsigned:?}");
        }
        // Learning reads the terms without it.
        assert_eq!(terms("Is there parking? - sent from my phone"), terms("Is there parking?"));
    }

    #[test]
    fn word_case_tells_capitalised_words_and_acronyms_from_the_rest() {
        let mut seen = Vec::new();
        cased_terms("My PNC card and the ATM at Wells Fargo. USAA is fine, I said x2 OK", |t, c| {
            seen.push((t, c))
        });
        let case_of = |term: &str| seen.iter().find(|(t, _)| t == term).map(|&(_, c)| c);
        assert_eq!(case_of("my"), Some(WordCase::SentenceStart));
        assert_eq!(case_of("usaa"), Some(WordCase::SentenceStart));
        assert_eq!(case_of("pnc"), Some(WordCase::Acronym));
        assert_eq!(case_of("atm"), Some(WordCase::Acronym));
        assert_eq!(case_of("ok"), Some(WordCase::Acronym));
        assert_eq!(case_of("well"), Some(WordCase::Capitalized));
        assert_eq!(case_of("fargo"), Some(WordCase::Capitalized));
        // One capital letter is a pronoun, and a word with a digit is a number.
        assert_eq!(case_of("i"), Some(WordCase::Other));
        assert_eq!(case_of(NUMBER_TERM), Some(WordCase::Other));
        assert_eq!(case_of("card"), Some(WordCase::Other));
    }

    #[test]
    fn stopwords_are_sorted_for_binary_search() {
        assert!(STOPWORDS.windows(2).all(|pair| pair[0] < pair[1]));
        assert!(CONTENTLESS_WORDS.windows(2).all(|pair| pair[0] < pair[1]));
        // As terms: what `terms` makes of each word, and none is a stop word already.
        assert!(
            CONTENTLESS_WORDS.iter().all(|w| terms(w) == vec![w.to_string()]),
            "a contentless word is no term"
        );
    }

    #[test]
    fn normalization_ignores_trailing_whitespace_and_line_endings() {
        assert_eq!(
            normalize_for_distance("Hi there  \r\nSee you\r\n\r\n"),
            normalize_for_distance("Hi there\nSee you")
        );
        assert_eq!(normalize_for_distance("a\rb"), "a\nb");
        // Leading whitespace is content.
        assert_ne!(normalize_for_distance("  a"), normalize_for_distance("a"));
    }

    #[test]
    fn text_already_normal_is_borrowed_and_anything_else_is_normalized() {
        for normal in ["Hi there\nSee you", "Caf\u{e9} ouvert", "  indented\n\nparagraph", ""] {
            assert!(matches!(normalize_for_distance(normal), Cow::Borrowed(_)), "{normal:?}");
        }
        for (raw, normalized) in [
            ("Hi \nSee you", "Hi\nSee you"),
            ("line\r\nend", "line\nend"),
            ("cafe\u{301}", "caf\u{e9}"),
            ("trailing\t", "trailing"),
            ("blank lines\n\n", "blank lines"),
        ] {
            let out = normalize_for_distance(raw);
            assert!(matches!(out, Cow::Owned(_)), "{raw:?}");
            assert_eq!(out, normalized);
            // What comes out is normal: borrowed the second time.
            assert!(matches!(normalize_for_distance(&out), Cow::Borrowed(_)), "{raw:?}");
        }
    }

    #[test]
    fn normalization_is_nfc() {
        assert_eq!(normalize_for_distance("cafe\u{301}"), "caf\u{e9}");
    }

    #[test]
    fn terms_of_text_outside_ascii_are_read_composed() {
        // The same word, composed or written with a combining accent, is one term; ASCII
        // text skips the composition pass.
        assert_eq!(terms("Caf\u{e9} ouvert"), vec!["caf\u{e9}", "ouvert"]);
        assert_eq!(terms("Cafe\u{301} ouvert"), terms("Caf\u{e9} ouvert"));
    }

    #[test]
    fn terms_fold_case_plurals_apostrophes_and_numbers() {
        assert_eq!(
            terms("I'd like 2 Showings, please! Requests?"),
            vec!["id", "like", NUMBER_TERM, "showing", "please", "request"]
        );
        assert_eq!(terms("properties"), vec!["property"]);
        assert_eq!(terms("class bus"), vec!["class", "bus"]);
    }

    #[test]
    fn sentences_split_on_terminators_and_lines() {
        assert_eq!(
            sentences("Hi John,\nThanks for asking. Is 3.5 ok? Yes!\n\nBest"),
            vec!["Hi John,", "Thanks for asking.", "Is 3.5 ok?", "Yes!", "Best"]
        );
    }

    #[test]
    fn masks_emails_phones_and_addresses() {
        let text = "Mail jane.doe@example.com or call (555) 123-4567 / +44 20 7946 0958. \
                    I live at 1234 Maple Street, Apt 5B and work at 77 W. Lake Ave.";
        let masked = mask_personal_data(text);
        assert_eq!(
            masked,
            "Mail [email] or call [phone] / [phone]. I live at [address] and work at [address]"
        );
        assert_eq!(mask_personal_data(&masked), masked);
    }

    /// Street types, apartments and link schemes match in any ASCII case.
    #[test]
    fn masking_and_links_ignore_ascii_case() {
        assert_eq!(mask_personal_data("I live at 12 MAPLE STREET, APT 5"), "I live at [address]");
        assert_eq!(mask_personal_data("12 Oak Ave., Suite 300"), "[address]");
        assert_eq!(
            links("See HTTPS://Example.com/Tour or WWW.example.org"),
            vec!["https://example.com/tour", "www.example.org"]
        );
    }

    #[test]
    fn masking_keeps_ordinary_numbers() {
        let text = "Is the 2 bedroom still $1,850 per month? Order 12345678901234.";
        assert_eq!(mask_personal_data(text), text);
    }

    #[test]
    fn extracts_contact_details_links_and_numbers() {
        let text = "Call 555-123-4567 or see https://example.com/tour. Rent is $1,200, 3 beds.";
        assert_eq!(phones(text), vec!["5551234567"]);
        assert_eq!(links(text), vec!["https://example.com/tour"]);
        assert_eq!(numbers(text), vec!["$1,200", "3"]);
    }

    /// Phone numbers and house numbers written in another script's digits are masked as
    /// ASCII ones are (here Arabic-Indic and Devanagari), and the ASCII text around them is
    /// masked as before.
    #[test]
    fn numbers_in_other_scripts_digits_are_masked() {
        let text = "اتصل بي على ٥٥٥-١٢٣-٤٥٦٧ أو 555-987-6543، العنوان ١٢ Main Street";
        let masked = mask_personal_data(text);
        assert_eq!(masked, "اتصل بي على [phone] أو [phone]، العنوان [address]");
        assert_eq!(mask_personal_data("फ़ोन +९१ ९८७६ ५४३ २१०"), "फ़ोन [phone]");
        assert_eq!(phones("कॉल ५५५-१२३-४५६७ please").len(), 1);
        // Still bounded: a longer run of digits is no phone number.
        assert_eq!(mask_personal_data("order ١٢٣٤٥٥٥١٢٣٤٥٦٧٨٩"), "order ١٢٣٤٥٥٥١٢٣٤٥٦٧٨٩");
        // Copies stored before are still found: the earlier form comes second.
        assert_eq!(
            masked_forms(text),
            vec![masked, "اتصل بي على ٥٥٥-١٢٣-٤٥٦٧ أو [phone]، العنوان ١٢ Main Street".to_owned()]
        );
        assert_eq!(masked_forms("call 555-123-4567"), vec!["call [phone]".to_owned()]);
    }

    #[test]
    fn masking_and_links_follow_unicode_spaces_and_word_boundaries() {
        // Unicode white space (no-break and thin spaces) separates a phone number's groups as
        // an ASCII space does.
        let text = "Call +44\u{a0}20\u{a0}7946\u{a0}0958 or (555)\u{2009}123\u{2009}4567, ça marche?";
        assert_eq!(mask_personal_data(text), "Call [phone] or [phone], ça marche?");
        // A link starts at a Unicode word boundary, also in text with non-ASCII letters.
        let text = "Voilà: https://example.com/café et www.exemple.fr. Mais éhttps://x.com non.";
        assert_eq!(links(text), vec!["https://example.com/café", "www.exemple.fr"]);
        assert_eq!(numbers("Le loyer: 1 850 € — voir https://a.fr/2024 ou ℡ 555-123-4567"), vec!["1", "850"]);
    }

    /// What the learning quotes of an email reply is the customer's question, masked; the
    /// forms erasure matches start with it and still hold the whole message masked, as
    /// versions before stored it.
    #[test]
    fn a_reply_is_quoted_by_its_own_words_and_erased_in_every_stored_form() {
        let reply = "Is there guest parking? Call me at 555-201-3344\n\
                     Sent from my iPhone\n\n\
                     On Mon, Nov 30, 2026 at 9:12 AM Ann Lee <ann@example.com> wrote:\n\
                     > Thanks for reaching out about 12 Oak Street.";
        let quoted = masked_own_words(reply);
        assert_eq!(quoted, "Is there guest parking? Call me at [phone]");
        let whole = mask_personal_data(reply);
        assert!(whole.contains("Ann Lee") && whole.contains("Sent from my iPhone"), "{whole}");
        assert_eq!(masked_forms(reply), vec![quoted, whole]);
        // A message that is all its own words has one form, as before.
        assert_eq!(masked_forms("Is there guest parking?"), vec!["Is there guest parking?".to_owned()]);
    }

    #[test]
    fn one_line_collapses_and_truncates() {
        assert_eq!(one_line("a\n b  c", 10), "a b c");
        assert_eq!(one_line("abcdefghijkl", 5), "abcd…");
        assert_eq!(one_line("one two three four", 12), "one two…");
    }

    #[test]
    fn names_emails_phones_and_addresses_do_not_leave() {
        let text = "Hi Maria, I'm moving from 12 Oak Street, call me at 555-123-4567 or maria.lopez@example.com. Thanks, John";
        let masked = mask_for_model(text);
        assert_eq!(
            masked,
            "Hi [name], I'm moving from [address], call me at [phone] or [email]. Thanks, [name]"
        );
        // After a placeholder the next capital is taken for a name: more masked, never less.
        assert_eq!(mask_for_model("I live at 12 Oak Street. Call me"), "I live at [address] [name] me");
        // Sentence openers and "I" stay.
        assert_eq!(mask_for_model("The sink leaks. Can I come by?"), "The sink leaks. Can I come by?");
    }
}
