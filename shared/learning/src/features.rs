//! Lexical features of short messages: hashed, TF-IDF weighted sparse vectors.
//!
//! A message becomes content-word unigrams, bigrams of consecutive content words, and
//! character 4-grams of each content word (which keep "apartmnet" close to "apartment").
//! Every feature is hashed into a fixed space with a stable hash, weighted by TF × IDF,
//! pruned to its strongest features (which bounds memory and the cost of every
//! comparison) and scaled to unit length, so a dot product is a cosine similarity.

use serde::{Deserialize, Serialize};

use std::collections::HashMap;

use crate::text::{self, WordCase};

/// Tuning of the feature space.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct FeatureConfig {
    /// Features are hashed into `2^dimension_bits` buckets.
    pub dimension_bits: u32,
    /// Length of the character n-grams taken from each content word (with `^`/`$` marks).
    pub char_ngram: usize,
    /// L2 norm of the block of character n-grams of one word, relative to the word's
    /// unigram (1.0): how much typo-tolerant matching counts against exact words.
    pub char_block_weight: f32,
    /// Weight of a bigram relative to a unigram.
    pub bigram_weight: f32,
    /// A vector keeps only its strongest features.
    pub max_features: usize,
    /// Leave names out of the vectors: terms written capitalised inside sentences in most
    /// of their occurrences in the fitted corpus (people, organisations, brands, places).
    /// Off by default: on real complaints the company a message names is evidence of its
    /// topic (precision@10 0.56 with names, 0.53 without). Names never name a cluster
    /// either way ([`Vectorizer::is_name`]).
    pub skip_names: bool,
}

impl Default for FeatureConfig {
    fn default() -> Self {
        Self {
            dimension_bits: 20,
            char_ngram: 4,
            char_block_weight: 0.2,
            bigram_weight: 0.2,
            max_features: 96,
            skip_names: false,
        }
    }
}

/// A sparse vector: `(feature, weight)` pairs sorted by feature, unit length (or empty).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SparseVector {
    /// The non-zero entries, sorted by feature id.
    pub entries: Vec<(u32, f32)>,
}

/// A message's sentence embedding (a dense vector from a language model, e.g. Amazon
/// Titan or Cohere on Bedrock), at unit length, so a dot product is a cosine similarity.
///
/// Optional everywhere: lexical vectors find neighbours on their own. Where both messages
/// have one, their embedding decides how near they are: on real customer text, two
/// complaints about the same product in different words are near in meaning and far in
/// words (measured in `docs/learning.md`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "Vec<f32>", into = "Vec<f32>")]
pub struct Embedding {
    values: Vec<f32>,
}

/// Why a list of numbers is no embedding.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmbeddingError {
    /// Empty, or all zeros: no direction.
    #[error("an embedding needs at least one non-zero value")]
    NoDirection,
    /// NaN or infinite.
    #[error("an embedding's values must be finite numbers")]
    NotFinite,
}

impl Embedding {
    /// Scales `values` to unit length.
    pub fn new(mut values: Vec<f32>) -> Result<Self, EmbeddingError> {
        if values.iter().any(|v| !v.is_finite()) {
            return Err(EmbeddingError::NotFinite);
        }
        let norm = values.iter().map(|&v| f64::from(v) * f64::from(v)).sum::<f64>().sqrt();
        if norm == 0.0 || !norm.is_finite() {
            return Err(EmbeddingError::NoDirection);
        }
        for v in &mut values {
            *v = (f64::from(*v) / norm) as f32;
        }
        Ok(Self { values })
    }

    /// Number of dimensions.
    pub fn dimensions(&self) -> usize {
        self.values.len()
    }

    /// The cosine similarity, or `None` when the two come from models of different
    /// dimensions (they cannot be compared).
    pub fn cosine(&self, other: &Embedding) -> Option<f32> {
        (self.values.len() == other.values.len())
            .then(|| self.values.iter().zip(&other.values).map(|(a, b)| a * b).sum())
    }
}

impl TryFrom<Vec<f32>> for Embedding {
    type Error = EmbeddingError;
    fn try_from(values: Vec<f32>) -> Result<Self, Self::Error> {
        Self::new(values)
    }
}

impl From<Embedding> for Vec<f32> {
    fn from(e: Embedding) -> Self {
        e.values
    }
}

impl SparseVector {
    /// Builds a unit vector from unsorted entries with distinct feature ids.
    pub fn normalized(mut entries: Vec<(u32, f32)>) -> Self {
        entries.retain(|&(_, w)| w > 0.0);
        // Pruned vectors are built from longer lists: keep only what is used (a million
        // of them are held at once).
        entries.shrink_to_fit();
        entries.sort_unstable_by_key(|&(f, _)| f);
        let norm = entries.iter().map(|&(_, w)| f64::from(w) * f64::from(w)).sum::<f64>().sqrt();
        if norm > 0.0 {
            for entry in &mut entries {
                entry.1 = (f64::from(entry.1) / norm) as f32;
            }
        }
        Self { entries }
    }

    /// Dot product (the cosine similarity of two unit vectors).
    pub fn dot(&self, other: &SparseVector) -> f32 {
        let (mut i, mut j, mut sum) = (0, 0, 0.0f32);
        let (a, b) = (&self.entries, &other.entries);
        while i < a.len() && j < b.len() {
            match a[i].0.cmp(&b[j].0) {
                std::cmp::Ordering::Less => i += 1,
                std::cmp::Ordering::Greater => j += 1,
                std::cmp::Ordering::Equal => {
                    sum += a[i].1 * b[j].1;
                    i += 1;
                    j += 1;
                }
            }
        }
        sum
    }

    /// True when the vector has no features (a message with no content words).
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The `n` strongest features, strongest first (ties by feature id).
    pub fn top_features(&self, n: usize) -> Vec<(u32, f32)> {
        let mut top = self.entries.clone();
        top.sort_unstable_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        top.truncate(n);
        top
    }
}

/// Hashes one feature (a kind tag and its text) into the feature space.
fn feature_id(kind: u8, value: &str, mask: u32) -> u32 {
    let mut bytes = Vec::with_capacity(value.len() + 1);
    bytes.push(kind);
    bytes.extend_from_slice(value.as_bytes());
    (text::stable_hash(&bytes) as u32) & mask
}

const UNIGRAM: u8 = b'w';
const BIGRAM: u8 = b'b';
const CHAR_NGRAM: u8 = b'c';

/// The content terms of a text: its normalized terms without stopwords.
pub fn content_terms(text_in: &str) -> Vec<String> {
    text::terms(text_in).into_iter().filter(|t| !text::is_stopword(t) && !text::is_mask(t)).collect()
}

/// The content terms of a text with how each word was written.
fn content_cased_terms(text_in: &str) -> Vec<(String, WordCase)> {
    let mut out = Vec::new();
    text::cased_terms(text_in, |t, case| {
        if !text::is_stopword(&t) && !text::is_mask(&t) {
            out.push((t, case));
        }
    });
    out
}

/// Document frequencies of the hashed features of a corpus, and the vectorizer built on
/// them.
#[derive(Debug, Clone)]
pub struct Vectorizer {
    cfg: FeatureConfig,
    mask: u32,
    doc_freq: Vec<u32>,
    documents: u32,
    /// Per unigram feature: occurrences inside sentences, and how many of them were
    /// capitalised.
    case_counts: HashMap<u32, (u32, u32)>,
}

impl Vectorizer {
    /// An empty vectorizer (no documents counted yet).
    pub fn new(cfg: FeatureConfig) -> Self {
        let size = 1usize << cfg.dimension_bits;
        Self {
            mask: (size - 1) as u32,
            doc_freq: vec![0; size],
            documents: 0,
            case_counts: HashMap::new(),
            cfg,
        }
    }

    /// Counts the features of every text (the IDF statistics of the corpus).
    pub fn fit<'a>(texts: impl IntoIterator<Item = &'a str>, cfg: FeatureConfig) -> Self {
        let mut vectorizer = Self::new(cfg);
        for t in texts {
            vectorizer.add_document(t);
        }
        vectorizer
    }

    /// Counts the features of one more document.
    pub fn add_document(&mut self, text_in: &str) {
        let content = content_cased_terms(text_in);
        for (term, case) in &content {
            if *case != WordCase::SentenceStart {
                let counts = self.case_counts.entry(feature_id(UNIGRAM, term, self.mask)).or_insert((0, 0));
                counts.0 = counts.0.saturating_add(1);
                counts.1 = counts.1.saturating_add(u32::from(*case == WordCase::Capitalized));
            }
        }
        let terms: Vec<String> = content.into_iter().map(|(t, _)| t).collect();
        let mut ids: Vec<u32> = self.features_of(&terms).into_iter().map(|(f, _)| f).collect();
        ids.dedup();
        for id in ids {
            self.doc_freq[id as usize] = self.doc_freq[id as usize].saturating_add(1);
        }
        self.documents = self.documents.saturating_add(1);
    }

    /// Number of documents counted.
    pub fn documents(&self) -> u32 {
        self.documents
    }

    /// Inverse document frequency of a feature (smoothed, at least 1).
    pub fn idf(&self, feature: u32) -> f32 {
        let df = self.doc_freq[(feature & self.mask) as usize] as f32;
        ((self.documents as f32 + 1.0) / (df + 1.0)).ln() + 1.0
    }

    /// True when `term` (as produced by [`content_terms`]) is a name in the fitted corpus:
    /// written capitalised in more than half of its occurrences inside sentences.
    pub fn is_name(&self, term: &str) -> bool {
        self.case_counts
            .get(&feature_id(UNIGRAM, term, self.mask))
            .is_some_and(|&(inside, capitalized)| capitalized * 2 > inside)
    }

    /// The same vectorizer with names left out of its vectors (see
    /// [`FeatureConfig::skip_names`]).
    pub fn without_names(&self) -> Self {
        let mut vectorizer = self.clone();
        vectorizer.cfg.skip_names = true;
        vectorizer
    }

    /// Inverse document frequency of a unigram term (as produced by [`content_terms`]).
    pub fn term_idf(&self, term: &str) -> f32 {
        self.idf(feature_id(UNIGRAM, term, self.mask))
    }

    /// The TF-IDF vector of a text: pruned to the strongest features, unit length.
    pub fn transform(&self, text_in: &str) -> SparseVector {
        self.weigh(self.raw_features(text_in))
    }

    fn weigh(&self, raw: Vec<(u32, f32)>) -> SparseVector {
        let mut weighted: Vec<(u32, f32)> = raw
            .into_iter()
            .map(|(f, tf)| {
                // Sublinear term frequency: a repeated word is not twice as telling.
                let tf = if tf > 1.0 { 1.0 + tf.ln() } else { tf };
                (f, tf * self.idf(f))
            })
            .collect();
        if weighted.len() > self.cfg.max_features {
            let max = self.cfg.max_features;
            weighted.select_nth_unstable_by(max, |a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
            weighted.truncate(max);
        }
        SparseVector::normalized(weighted)
    }

    /// Raw term frequencies (already scaled by feature kind), sorted by feature id, one
    /// entry per id.
    fn raw_features(&self, text_in: &str) -> Vec<(u32, f32)> {
        let mut content = content_terms(text_in);
        if self.cfg.skip_names {
            content.retain(|t| !self.is_name(t));
        }
        self.features_of(&content)
    }

    fn features_of(&self, content: &[String]) -> Vec<(u32, f32)> {
        let mut raw: Vec<(u32, f32)> = Vec::with_capacity(content.len() * 8);
        for term in content {
            raw.push((feature_id(UNIGRAM, term, self.mask), 1.0));
            if term == text::NUMBER_TERM {
                continue;
            }
            let marked: Vec<char> =
                std::iter::once('^').chain(term.chars()).chain(std::iter::once('$')).collect();
            let n = self.cfg.char_ngram.max(1);
            if marked.len() > n {
                let count = marked.len() - n + 1;
                let weight = self.cfg.char_block_weight / (count as f32).sqrt();
                for gram in marked.windows(n) {
                    let gram: String = gram.iter().collect();
                    raw.push((feature_id(CHAR_NGRAM, &gram, self.mask), weight));
                }
            }
        }
        for pair in content.windows(2) {
            let bigram = format!("{} {}", pair[0], pair[1]);
            raw.push((feature_id(BIGRAM, &bigram, self.mask), self.cfg.bigram_weight));
        }
        raw.sort_unstable_by_key(|&(f, _)| f);
        let mut merged: Vec<(u32, f32)> = Vec::with_capacity(raw.len());
        for (f, w) in raw {
            match merged.last_mut() {
                Some(last) if last.0 == f => last.1 += w,
                _ => merged.push((f, w)),
            }
        }
        merged
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn corpus() -> Vec<&'static str> {
        vec![
            "Can I schedule a showing of the apartment on Saturday?",
            "Is parking included with the unit?",
            "Do you allow pets? I have a small dog.",
            "What is the monthly rent for the two bedroom?",
            "I would like to tour the apartment this weekend",
        ]
    }

    #[test]
    fn an_embedding_is_scaled_to_unit_length_and_compares_only_with_its_own_dimensions() {
        let a = Embedding::new(vec![3.0, 4.0]).unwrap();
        let b = Embedding::new(vec![4.0, 3.0]).unwrap();
        assert!((a.cosine(&a).unwrap() - 1.0).abs() < 1e-6);
        assert!((a.cosine(&b).unwrap() - 0.96).abs() < 1e-6);
        assert_eq!(a.cosine(&Embedding::new(vec![1.0, 0.0, 0.0]).unwrap()), None);
        assert_eq!(Embedding::new(vec![0.0, 0.0]), Err(EmbeddingError::NoDirection));
        assert_eq!(Embedding::new(vec![]), Err(EmbeddingError::NoDirection));
        assert_eq!(Embedding::new(vec![1.0, f32::NAN]), Err(EmbeddingError::NotFinite));
        let parsed: Embedding = serde_json::from_str("[0, 2]").unwrap();
        assert_eq!(serde_json::to_string(&parsed).unwrap(), "[0.0,1.0]");
        assert!(serde_json::from_str::<Embedding>("[0, 0]").is_err());
    }

    #[test]
    fn vectors_are_unit_length_and_sorted() {
        let v = Vectorizer::fit(corpus(), FeatureConfig::default());
        let x = v.transform("Can I see the apartment on Saturday?");
        let norm: f32 = x.entries.iter().map(|e| e.1 * e.1).sum();
        assert!((norm - 1.0).abs() < 1e-4);
        assert!(x.entries.windows(2).all(|w| w[0].0 < w[1].0));
        assert!(x.entries.len() <= FeatureConfig::default().max_features);
        assert!((x.dot(&x) - 1.0).abs() < 1e-4);
    }

    #[test]
    fn similar_messages_score_higher_than_unrelated_ones() {
        let v = Vectorizer::fit(corpus(), FeatureConfig::default());
        let tour = v.transform("I'd like to tour the apartmnet on Saturday");
        let showing = v.transform("Can I schedule a showing of the apartment on Saturday?");
        let pets = v.transform("Do you allow pets? I have a small dog.");
        // Shared "saturday" and the typo-tolerant n-grams of "apartment".
        assert!(tour.dot(&showing) > 0.15, "{}", tour.dot(&showing));
        assert!(tour.dot(&pets) < 0.02, "{}", tour.dot(&pets));
    }

    #[test]
    fn stopword_only_text_is_empty() {
        let v = Vectorizer::fit(corpus(), FeatureConfig::default());
        assert!(v.transform("Hi, can you please let me know?").is_empty());
    }

    proptest! {
        #[test]
        fn dot_is_symmetric_and_bounded(a in "[a-z ]{0,60}", b in "[a-z ]{0,60}") {
            let v = Vectorizer::fit([a.as_str(), b.as_str()], FeatureConfig::default());
            let (x, y) = (v.transform(&a), v.transform(&b));
            let d = x.dot(&y);
            prop_assert!((d - y.dot(&x)).abs() < 1e-6);
            prop_assert!((-1e-4..=1.0001).contains(&d));
        }
    }
}
