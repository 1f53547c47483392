//! Gap discovery: turns the inbound messages of gap executions (no intent matched, or no
//! draft) into intent-example proposals (a message close to a known intent is a
//! classifier miss) and new-intent proposals (clusters of the rest).
//!
//! Clustering is near-linear and needs no number of clusters:
//! 1. messages are processed in a canonical order (by a hash of their text, then id), so
//!    the result does not depend on the input order;
//! 2. paraphrase clusters: a single leader pass assigns each message to the most similar
//!    running centroid among candidates found through an inverted index of centroid
//!    features, or opens a new cluster; a merge pass joins clusters whose centroids are
//!    similar; a reassignment pass moves every message to its best final centroid, and
//!    leaves it unclustered below the assignment threshold; clusters whose members agree
//!    on fewer than two terms (chatter around one common word) are dropped;
//! 3. topics: paraphrase clusters are grouped by Louvain communities of a
//!    shared-nearest-neighbor graph over their distinctive terms (`group_topics`);
//! 4. topics supported by too few distinct conversations are dropped.
//!
//! Each step compares a message or centroid with a bounded number of candidates, never
//! with all others.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::{Deserialize, Serialize};

use crate::community;
use crate::features::{FeatureConfig, SparseVector, Vectorizer, content_terms};
use crate::proposals::{self, Confidence, Evidence, EvidenceKind, Proposal, ProposalKind};
use crate::similarity::{Postings, QueryScratch, candidates};
use crate::text;

/// An inbound message of a gap execution.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GapMessage {
    /// Message id.
    pub id: String,
    /// Conversation id.
    pub conversation_id: String,
    /// Message text.
    pub text: String,
}

/// Whether a known intent is live or only proposed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum KnownIntentStatus {
    /// An intent the classifier has (built in or dynamic).
    #[default]
    Active,
    /// A pending new-intent proposal: messages close to it support it, and are not
    /// proposed again.
    Pending,
}

/// An intent the engine already knows about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KnownIntent {
    /// Intent name (UPPER_SNAKE).
    pub name: String,
    /// Example messages.
    #[serde(default)]
    pub examples: Vec<String>,
    /// Keywords.
    #[serde(default)]
    pub keywords: Vec<String>,
    /// Active or pending.
    #[serde(default)]
    pub status: KnownIntentStatus,
}

/// Tuning of gap discovery. All thresholds are cosine similarities of TF-IDF vectors.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct GapConfig {
    /// Feature space.
    pub features: FeatureConfig,
    /// A gap message at least this similar to an example of a known intent is a
    /// classifier miss for that intent.
    pub known_match: f32,
    /// A gap message at least this similar to an existing example is already covered:
    /// it is not proposed as an example again.
    pub duplicate_example: f32,
    /// Leader pass: join the best cluster at or above this similarity, else open one.
    pub assign: f32,
    /// Merge pass: join two clusters whose centroids are at least this similar.
    pub merge: f32,
    /// Final pass: a message below this similarity to every centroid is unclustered.
    pub keep: f32,
    /// A paraphrase cluster is a request only when its members agree on at least
    /// `core_terms` terms, each contained by `core_term_share` of them; clusters held
    /// together by one common word are chatter, and their messages stay unclustered.
    pub core_terms: usize,
    /// See `core_terms`.
    pub core_term_share: f32,
    /// Topic profiles: a term describes a paraphrase cluster when at least this share of
    /// its members contain it.
    pub topic_term_share: f32,
    /// Topic profiles and names: a term counts only when it is at least this many times
    /// more frequent in the cluster than in all clustered messages (greetings, sign-offs
    /// and property names are about as frequent everywhere, so they never count).
    pub min_term_lift: f32,
    /// ... or when the cluster holds at least this share of the messages containing it.
    pub min_term_concentration: f32,
    /// Topic profiles keep this many of their strongest terms.
    pub topic_terms: usize,
    /// Topic grouping: each paraphrase cluster's nearest clusters by topic profile, at
    /// most this many.
    pub topic_neighbors: usize,
    /// Topic grouping: a cluster is a neighbor only when the profiles are at least this
    /// similar.
    pub topic_link: f32,
    /// Resolution of the topic grouping (modularity; higher gives smaller topics).
    pub topic_resolution: f64,
    /// Candidate lookups use this many of a vector's strongest features.
    pub candidate_features: usize,
    /// Centroids are indexed under this many of their strongest features.
    pub centroid_index_features: usize,
    /// Each centroid posting list keeps this many entries.
    pub max_postings: usize,
    /// Candidates compared exactly per lookup.
    pub candidates: usize,
    /// Centroids keep this many of their strongest features.
    pub centroid_features: usize,
    /// A cluster needs messages from at least this many distinct conversations.
    pub min_conversations: usize,
    /// Intent-example proposals need this many distinct conversations.
    pub min_example_conversations: usize,
    /// A new-intent proposal is medium confidence from this many conversations.
    pub medium_confidence_conversations: usize,
    /// Examples per proposal (at most; at least 3 where the cluster allows).
    pub max_examples: usize,
    /// Keywords per new intent.
    pub max_keywords: usize,
    /// Evidence items kept per proposal.
    pub max_evidence: usize,
}

impl Default for GapConfig {
    fn default() -> Self {
        Self {
            features: FeatureConfig::default(),
            known_match: 0.45,
            duplicate_example: 0.95,
            assign: 0.3,
            merge: 0.45,
            keep: 0.2,
            core_terms: 2,
            core_term_share: 0.5,
            topic_term_share: 0.2,
            min_term_lift: 2.0,
            min_term_concentration: 0.8,
            topic_terms: 12,
            topic_neighbors: 10,
            topic_link: 0.05,
            topic_resolution: 1.5,
            candidate_features: 12,
            centroid_index_features: 32,
            max_postings: 64,
            candidates: 16,
            centroid_features: 128,
            min_conversations: 3,
            min_example_conversations: 2,
            medium_confidence_conversations: 5,
            max_examples: 5,
            max_keywords: 6,
            max_evidence: 20,
        }
    }
}

/// A pending new-intent proposal that this batch's gap messages support.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PendingSupport {
    /// The pending intent's name.
    pub intent: String,
    /// Ids of the supporting gap messages.
    pub message_ids: Vec<String>,
}

/// What became of one gap message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "kind", content = "name")]
pub enum GapAssignment {
    /// Close to a known (active) intent: a classifier miss.
    KnownIntent(String),
    /// Close to a pending proposal.
    PendingIntent(String),
    /// In a discovered cluster (whether or not it was proposed).
    Cluster(String),
    /// In no cluster.
    Unclustered,
}

/// The result of [`discover_gaps`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GapDiscovery {
    /// New examples for known intents (one proposal per intent).
    pub example_proposals: Vec<Proposal>,
    /// New intents (one per retained cluster not rejected before).
    pub new_intent_proposals: Vec<Proposal>,
    /// Support for pending proposals.
    pub pending_support: Vec<PendingSupport>,
    /// Ids of messages in no retained cluster and close to no known intent.
    pub unclustered: Vec<String>,
    /// Per input message, in input order.
    pub assignments: Vec<GapAssignment>,
}

/// A discovered cluster.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Cluster {
    /// UPPER_SNAKE name from the cluster's distinctive terms; unique in one run.
    pub name: String,
    /// Distinctive terms, strongest first.
    pub keywords: Vec<String>,
    /// Indices (into the clustered input) of the members, most central first.
    pub members: Vec<usize>,
    /// Distinct conversations among the members.
    pub conversations: usize,
}

/// The result of [`cluster_texts`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Clustering {
    /// Retained clusters, largest first.
    pub clusters: Vec<Cluster>,
    /// Per input, the index of its cluster in `clusters`, or `None`.
    pub assignment: Vec<Option<usize>>,
}

/// One input of [`cluster_texts`].
#[derive(Debug, Clone, Copy)]
pub struct ClusterInput<'a> {
    /// Message id (used only to order duplicates canonically).
    pub id: &'a str,
    /// Conversation id.
    pub conversation_id: &'a str,
    /// Message text.
    pub text: &'a str,
}

/// Clusters texts (see the module documentation), names the clusters and drops those
/// with too few distinct conversations. `taken_names` are names not to use (known
/// intents). `progress` is called with a short phase description (never with text).
pub fn cluster_texts(
    inputs: &[ClusterInput<'_>],
    vectorizer: &Vectorizer,
    taken_names: &BTreeSet<String>,
    cfg: &GapConfig,
    progress: &mut dyn FnMut(&str),
) -> Clustering {
    let vectors: Vec<SparseVector> = inputs.iter().map(|m| vectorizer.transform(m.text)).collect();
    progress("vectorized");
    let terms = TermStats::count(inputs);
    let mut paraphrases = paraphrase_clusters(inputs, &vectors, cfg, progress);
    paraphrases.retain(|p| terms.agreed_terms(&p.members, cfg.core_term_share) >= cfg.core_terms);
    let topic_of = group_topics(&paraphrases, &terms, cfg);
    progress("topics grouped");

    // Members of each topic: its paraphrase clusters largest first, taken in turns (each
    // most central first), so the first members, and so the examples, cover the
    // different ways customers ask.
    let mut by_topic: BTreeMap<usize, Vec<&Vec<usize>>> = BTreeMap::new();
    for (p, paraphrase) in paraphrases.iter().enumerate() {
        by_topic.entry(topic_of[p]).or_default().push(&paraphrase.members);
    }
    let mut kept: Vec<(Vec<usize>, usize)> = Vec::new();
    for mut groups in by_topic.into_values() {
        groups.sort_by(|a, b| {
            b.len().cmp(&a.len()).then(canonical_key(&inputs[a[0]]).cmp(&canonical_key(&inputs[b[0]])))
        });
        let mut members: Vec<usize> = Vec::with_capacity(groups.iter().map(|g| g.len()).sum());
        for turn in 0..groups[0].len() {
            members.extend(groups.iter().filter_map(|g| g.get(turn).copied()));
        }
        let conversations: BTreeSet<&str> = members.iter().map(|&i| inputs[i].conversation_id).collect();
        if conversations.len() >= cfg.min_conversations {
            kept.push((members, conversations.len()));
        }
    }
    // Largest first; ties by the canonical key of the first member.
    kept.sort_by(|a, b| {
        b.0.len().cmp(&a.0.len()).then(canonical_key(&inputs[a.0[0]]).cmp(&canonical_key(&inputs[b.0[0]])))
    });

    let mut used: BTreeSet<String> = taken_names.clone();
    let mut clusters = Vec::with_capacity(kept.len());
    let mut assignment = vec![None; inputs.len()];
    for (index, (members, conversations)) in kept.into_iter().enumerate() {
        let keywords = distinctive_terms(inputs, &members, &terms, cfg, cfg.max_keywords.max(3));
        let name = unique_name(&keywords, &mut used);
        for &m in &members {
            assignment[m] = Some(index);
        }
        clusters.push(Cluster {
            name,
            keywords: keywords.into_iter().take(cfg.max_keywords).collect(),
            members,
            conversations,
        });
    }
    progress("named");
    Clustering { clusters, assignment }
}

/// How often each term occurs in the clustered messages: the baseline against which a
/// cluster's terms are distinctive.
struct TermStats {
    /// Per message, the ids of its distinct topic terms, sorted.
    message_terms: Vec<Vec<u32>>,
    /// Messages containing each term.
    doc_freq: HashMap<u32, u32>,
    messages: usize,
}

/// The terms that can describe a topic: content words of 3 or more letters, no numbers.
fn topic_terms(text_in: &str) -> Vec<String> {
    content_terms(text_in).into_iter().filter(|t| t != text::NUMBER_TERM && t.chars().count() >= 3).collect()
}

fn term_id(term: &str) -> u32 {
    text::stable_hash(term.as_bytes()) as u32
}

impl TermStats {
    fn count(inputs: &[ClusterInput<'_>]) -> Self {
        let mut doc_freq: HashMap<u32, u32> = HashMap::new();
        let message_terms: Vec<Vec<u32>> = inputs
            .iter()
            .map(|m| {
                let mut ids: Vec<u32> = topic_terms(m.text).iter().map(|t| term_id(t)).collect();
                ids.sort_unstable();
                ids.dedup();
                for &id in &ids {
                    *doc_freq.entry(id).or_insert(0) += 1;
                }
                ids
            })
            .collect();
        Self { message_terms, doc_freq, messages: inputs.len() }
    }

    /// The weight of a term contained by `count` of a group's `size` members: its share
    /// of the members times the log of its lift (how many times more frequent it is in
    /// the group than in all messages), or `None` when it is not distinctive. A term is
    /// distinctive when its lift reaches `min_term_lift`, or when the group holds
    /// `min_term_concentration` of all the messages containing it (in a small batch where
    /// one request dominates, its words cannot be much more frequent than everywhere).
    fn weight(&self, term: u32, count: u32, size: usize, min_share: f32, cfg: &GapConfig) -> Option<f32> {
        let share = count as f32 / size.max(1) as f32;
        let doc_freq = self.doc_freq.get(&term).copied().unwrap_or(count).max(count).max(1) as f32;
        let lift = share / (doc_freq / self.messages.max(1) as f32);
        let concentration = count as f32 / doc_freq;
        let distinctive = lift >= cfg.min_term_lift || concentration >= cfg.min_term_concentration;
        (share >= min_share && distinctive && (count >= 2 || size < 4)).then(|| share * lift.ln_1p())
    }

    /// How many terms at least `share` of the members contain.
    fn agreed_terms(&self, members: &[usize], share: f32) -> usize {
        let needed = share * members.len() as f32;
        self.term_counts(members).values().filter(|&&n| n as f32 >= needed).count()
    }

    /// How many of the members contain each term (ordered by term id).
    fn term_counts(&self, members: &[usize]) -> BTreeMap<u32, u32> {
        let mut counts: BTreeMap<u32, u32> = BTreeMap::new();
        for &m in members {
            for &t in &self.message_terms[m] {
                *counts.entry(t).or_insert(0) += 1;
            }
        }
        counts
    }

    /// The topic profile of a group of messages: its distinctive terms, weighted, unit
    /// length.
    fn profile(&self, members: &[usize], cfg: &GapConfig) -> SparseVector {
        let mut weighted: Vec<(u32, f32)> = self
            .term_counts(members)
            .into_iter()
            .filter_map(|(t, n)| {
                // Weighted by share alone: the term most members of a request share (its
                // head, "pet", "parking") links paraphrases best; rarer template words
                // would outweigh it under an IDF weight.
                self.weight(t, n, members.len(), cfg.topic_term_share, cfg)
                    .map(|_| (t, n as f32 / members.len() as f32))
            })
            .collect();
        weighted.sort_unstable_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        weighted.truncate(cfg.topic_terms);
        SparseVector::normalized(weighted)
    }
}

/// Each term's posting list in the topic grouping keeps this many of its strongest
/// paraphrase clusters: far more than any one request has, and a bound on the work.
const TOPIC_POSTINGS: usize = 256;

/// Groups paraphrase clusters into topics, the communities of a shared-nearest-neighbor
/// graph over their topic profiles.
///
/// Paraphrases of one request rarely share all their words, but each shares some with
/// several others ("rent" / "monthly rent" / "monthly price"); a paraphrase of another
/// request may share a word too ("monthly pet rent"), but it does not share neighbors.
/// So two clusters are linked with the Jaccard overlap of their `topic_neighbors` nearest
/// clusters (each including itself), and Louvain finds the topics without being told
/// how many there are. Returns the topic number of each paraphrase cluster.
fn group_topics(paraphrases: &[Paraphrases], terms: &TermStats, cfg: &GapConfig) -> Vec<usize> {
    let profiles: Vec<SparseVector> = paraphrases.iter().map(|p| terms.profile(&p.members, cfg)).collect();
    // Nearest neighbors through an inverted index of profile terms; each posting list
    // keeps its strongest entries, so no step compares all pairs.
    let mut postings: HashMap<u32, Vec<(f32, usize)>> = HashMap::new();
    for (p, profile) in profiles.iter().enumerate() {
        for &(t, w) in &profile.entries {
            postings.entry(t).or_default().push((w, p));
        }
    }
    for list in postings.values_mut() {
        list.sort_unstable_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        list.truncate(TOPIC_POSTINGS);
    }
    let mut neighbors: Vec<BTreeSet<usize>> = Vec::with_capacity(profiles.len());
    let mut similarity: BTreeMap<usize, f32> = BTreeMap::new();
    for (a, profile) in profiles.iter().enumerate() {
        similarity.clear();
        for &(t, w) in &profile.entries {
            for &(other_w, b) in postings.get(&t).map(Vec::as_slice).unwrap_or_default() {
                if b != a {
                    *similarity.entry(b).or_insert(0.0) += w * other_w;
                }
            }
        }
        let mut near: Vec<(usize, f32)> =
            similarity.iter().filter(|&(_, &sim)| sim >= cfg.topic_link).map(|(&b, &sim)| (b, sim)).collect();
        near.sort_by(|x, y| y.1.total_cmp(&x.1).then(x.0.cmp(&y.0)));
        near.truncate(cfg.topic_neighbors);
        neighbors.push(near.into_iter().map(|(b, _)| b).chain([a]).collect());
    }
    let mut pairs: BTreeSet<(usize, usize)> = BTreeSet::new();
    for (a, near) in neighbors.iter().enumerate() {
        pairs.extend(near.iter().filter(|&&b| b != a).map(|&b| (a.min(b), a.max(b))));
    }
    let edges: Vec<(usize, usize, f64)> = pairs
        .into_iter()
        .map(|(a, b)| {
            let shared = neighbors[a].intersection(&neighbors[b]).count();
            let either = neighbors[a].union(&neighbors[b]).count();
            (a, b, shared as f64 / either as f64)
        })
        .collect();
    community::louvain(paraphrases.len(), &edges, cfg.topic_resolution)
}

/// The canonical processing order key of a message: independent of input order.
fn canonical_key<'a>(m: &ClusterInput<'a>) -> (u64, &'a str, &'a str, &'a str) {
    (text::stable_hash(m.text.as_bytes()), m.text, m.id, m.conversation_id)
}

/// A running centroid: the sum of its members' vectors.
#[derive(Debug, Default)]
struct RunningCentroid {
    sum: HashMap<u32, f32>,
    norm_squared: f32,
    indexed: BTreeSet<u32>,
}

impl RunningCentroid {
    fn add(&mut self, v: &SparseVector) {
        for &(f, w) in &v.entries {
            let slot = self.sum.entry(f).or_insert(0.0);
            self.norm_squared += 2.0 * *slot * w + w * w;
            *slot += w;
        }
    }

    fn cosine(&self, v: &SparseVector) -> f32 {
        if self.norm_squared <= 0.0 {
            return 0.0;
        }
        let dot: f32 = v.entries.iter().filter_map(|(f, w)| self.sum.get(f).map(|s| s * w)).sum();
        dot / self.norm_squared.sqrt()
    }
}

/// Paraphrase clusters: groups of messages asking the same thing in nearly the same
/// words, each most central member first. Messages far from every cluster are in none.
fn paraphrase_clusters(
    inputs: &[ClusterInput<'_>],
    vectors: &[SparseVector],
    cfg: &GapConfig,
    progress: &mut dyn FnMut(&str),
) -> Vec<Paraphrases> {
    let mut order: Vec<usize> = (0..inputs.len()).collect();
    order.sort_by(|&a, &b| canonical_key(&inputs[a]).cmp(&canonical_key(&inputs[b])));

    // 1. Leader pass with running centroids, candidates through an inverted index of
    //    the features centroids were indexed under (append-only posting lists: the
    //    oldest, usually largest, clusters come first).
    let mut centroids: Vec<RunningCentroid> = Vec::new();
    let mut index: HashMap<u32, Vec<u32>> = HashMap::new();
    let mut leader_of = vec![usize::MAX; inputs.len()];
    let mut hits: HashMap<u32, u32> = HashMap::new();
    for (step, &doc) in order.iter().enumerate() {
        let v = &vectors[doc];
        if v.is_empty() {
            continue;
        }
        hits.clear();
        let top = v.top_features(cfg.candidate_features);
        for &(f, _) in &top {
            if let Some(list) = index.get(&f) {
                for &c in list.iter().take(cfg.max_postings) {
                    *hits.entry(c).or_insert(0) += 1;
                }
            }
        }
        let mut found: Vec<(u32, u32)> = hits.iter().map(|(&c, &n)| (c, n)).collect();
        found.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        found.truncate(cfg.candidates);
        let best = found
            .iter()
            .map(|&(c, _)| (c, centroids[c as usize].cosine(v)))
            .max_by(|a, b| a.1.total_cmp(&b.1).then(b.0.cmp(&a.0)));
        let cluster = match best {
            Some((c, score)) if score >= cfg.assign => c,
            _ => {
                centroids.push(RunningCentroid::default());
                (centroids.len() - 1) as u32
            }
        };
        let centroid = &mut centroids[cluster as usize];
        centroid.add(v);
        // Index the cluster under the member's strongest features it is not yet under,
        // up to a bound per cluster.
        for &(f, _) in top.iter().take(4) {
            if centroid.indexed.len() >= cfg.centroid_index_features {
                break;
            }
            if centroid.indexed.insert(f) {
                index.entry(f).or_default().push(cluster);
            }
        }
        leader_of[doc] = cluster as usize;
        if step > 0 && step.is_multiple_of(50_000) {
            progress("leader pass");
        }
    }
    drop(index);
    progress("leader pass done");

    // 2. Merge pass over centroids of clusters with more than one member.
    // Members in canonical order, so float sums (and so centroids) do not depend on the
    // input order.
    let mut members_of: Vec<Vec<usize>> = vec![Vec::new(); centroids.len()];
    for &doc in &order {
        let c = leader_of[doc];
        if c != usize::MAX {
            members_of[c].push(doc);
        }
    }
    drop(centroids);
    let cluster_ids: Vec<usize> = (0..members_of.len()).filter(|&c| members_of[c].len() > 1).collect();
    let cluster_centroids: Vec<SparseVector> =
        cluster_ids.iter().map(|&c| centroid_of(&members_of[c], vectors, cfg.centroid_features)).collect();
    let postings = Postings::build(
        &cluster_centroids,
        cfg.features.dimension_bits,
        cfg.centroid_index_features,
        cfg.max_postings,
    );
    let mut union = UnionFind::new(cluster_ids.len());
    let mut scratch = QueryScratch::default();
    for (a, centroid) in cluster_centroids.iter().enumerate() {
        let found = candidates(
            &postings,
            centroid,
            cfg.candidate_features,
            cluster_centroids.len(),
            cfg.candidates,
            &mut scratch,
        );
        for b in found {
            let b = b as usize;
            if b != a && centroid.dot(&cluster_centroids[b]) >= cfg.merge {
                union.join(a, b);
            }
        }
    }
    progress("merge pass done");

    // 3. Final centroids of merged clusters; reassign every message to its best one.
    let mut merged: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (a, &c) in cluster_ids.iter().enumerate() {
        merged.entry(union.root(a)).or_default().extend(members_of[c].iter().copied());
    }
    let final_groups: Vec<Vec<usize>> = merged.into_values().collect();
    let final_centroids: Vec<SparseVector> =
        final_groups.iter().map(|m| centroid_of(m, vectors, cfg.centroid_features)).collect();
    let postings = Postings::build(
        &final_centroids,
        cfg.features.dimension_bits,
        cfg.centroid_index_features,
        cfg.max_postings,
    );
    let mut scored: Vec<Vec<(f32, usize)>> = vec![Vec::new(); final_centroids.len()];
    for (doc, v) in vectors.iter().enumerate() {
        if v.is_empty() {
            continue;
        }
        let found = candidates(
            &postings,
            v,
            cfg.candidate_features,
            final_centroids.len(),
            cfg.candidates,
            &mut scratch,
        );
        let best = found
            .into_iter()
            .map(|c| (c as usize, v.dot(&final_centroids[c as usize])))
            .max_by(|a, b| a.1.total_cmp(&b.1).then(b.0.cmp(&a.0)));
        if let Some((c, score)) = best
            && score >= cfg.keep
        {
            scored[c].push((score, doc));
        }
    }
    progress("reassignment done");
    scored
        .into_iter()
        .filter(|members| !members.is_empty())
        .map(|mut members| {
            members.sort_by(|a, b| {
                b.0.total_cmp(&a.0).then(canonical_key(&inputs[a.1]).cmp(&canonical_key(&inputs[b.1])))
            });
            Paraphrases { members: members.into_iter().map(|(_, doc)| doc).collect() }
        })
        .collect()
}

/// A paraphrase cluster.
struct Paraphrases {
    /// Members, most central first.
    members: Vec<usize>,
}

/// The unit centroid of a group of vectors, kept to its strongest features.
fn centroid_of(members: &[usize], vectors: &[SparseVector], max_features: usize) -> SparseVector {
    let mut sum: BTreeMap<u32, f32> = BTreeMap::new();
    for &m in members {
        for &(f, w) in &vectors[m].entries {
            *sum.entry(f).or_insert(0.0) += w;
        }
    }
    let mut entries: Vec<(u32, f32)> = sum.into_iter().collect();
    if entries.len() > max_features {
        entries.sort_unstable_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        entries.truncate(max_features);
    }
    SparseVector::normalized(entries)
}

/// Disjoint sets with path halving; the root of a set is its smallest member, so the
/// result does not depend on the order of joins.
struct UnionFind {
    parent: Vec<usize>,
}

impl UnionFind {
    fn new(n: usize) -> Self {
        Self { parent: (0..n).collect() }
    }

    fn root(&mut self, mut x: usize) -> usize {
        while self.parent[x] != x {
            self.parent[x] = self.parent[self.parent[x]];
            x = self.parent[x];
        }
        x
    }

    fn join(&mut self, a: usize, b: usize) {
        let (ra, rb) = (self.root(a), self.root(b));
        if ra != rb {
            let (low, high) = (ra.min(rb), ra.max(rb));
            self.parent[high] = low;
        }
    }
}

/// The distinctive terms of a cluster, strongest first: topic terms (content words of 3
/// or more letters, no numbers) that are at least `min_term_lift` times more frequent in
/// the cluster than in all clustered messages, scored by their share of the members
/// times the log of that lift. Filler that every message may carry (greetings, sign-offs,
/// property names) is not distinctive anywhere. Ties by term.
fn distinctive_terms(
    inputs: &[ClusterInput<'_>],
    members: &[usize],
    terms: &TermStats,
    cfg: &GapConfig,
    n: usize,
) -> Vec<String> {
    let mut doc_freq: BTreeMap<String, u32> = BTreeMap::new();
    for &m in members {
        let distinct: BTreeSet<String> = topic_terms(inputs[m].text).into_iter().collect();
        for t in distinct {
            *doc_freq.entry(t).or_insert(0) += 1;
        }
    }
    let mut scored: Vec<(f32, String)> = doc_freq
        .into_iter()
        .filter_map(|(t, df)| terms.weight(term_id(&t), df, members.len(), 0.0, cfg).map(|w| (w, t)))
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    scored.into_iter().take(n).map(|(_, t)| t).collect()
}

/// An UPPER_SNAKE name from the two strongest terms, made unique with a third term or a
/// number suffix.
fn unique_name(terms: &[String], used: &mut BTreeSet<String>) -> String {
    let upper = |ts: &[String]| -> String {
        ts.iter()
            .map(|t| {
                t.chars()
                    .map(|c| if c.is_alphanumeric() { c.to_uppercase().next().unwrap_or(c) } else { '_' })
                    .collect::<String>()
            })
            .collect::<Vec<_>>()
            .join("_")
    };
    let base = if terms.is_empty() { "UNNAMED".to_string() } else { upper(&terms[..terms.len().min(2)]) };
    let mut name = base.clone();
    if used.contains(&name) && terms.len() >= 3 {
        name = upper(&terms[..3]);
    }
    let mut suffix = 2;
    while used.contains(&name) {
        name = format!("{base}_{suffix}");
        suffix += 1;
    }
    used.insert(name.clone());
    name
}

/// The rejection keys of a new-intent candidate: one per pair among its three strongest
/// terms (sorted). A rejected proposal stores its keys; a later cluster about the same
/// topic shares at least one pair even when the order or third term differ.
fn new_intent_keys(keywords: &[String]) -> Vec<String> {
    let top: Vec<&String> = keywords.iter().take(3).collect();
    let mut keys = Vec::new();
    for i in 0..top.len() {
        for j in (i + 1)..top.len() {
            let mut pair = [top[i].as_str(), top[j].as_str()];
            pair.sort_unstable();
            keys.push(proposals::fingerprint(ProposalKind::NewIntent, "intent", &pair.join("+")));
        }
    }
    if keys.is_empty() {
        let single = top.first().map(|t| t.as_str()).unwrap_or("");
        keys.push(proposals::fingerprint(ProposalKind::NewIntent, "intent", single));
    }
    keys
}

/// The rejection key of one proposed example for an intent.
fn example_key(intent: &str, example: &str) -> String {
    let normalized = text::terms(example).join(" ");
    proposals::fingerprint(ProposalKind::IntentExample, intent, &normalized)
}

/// Picks up to `max` representative members (already sorted most central first): one per
/// conversation and no near-duplicates, relaxing both rules if fewer than 3 were found.
fn representatives(
    members: &[usize],
    inputs: &[ClusterInput<'_>],
    vectors: &dyn Fn(usize) -> SparseVector,
    max: usize,
) -> Vec<usize> {
    let mut chosen: Vec<usize> = Vec::new();
    let mut chosen_vectors: Vec<SparseVector> = Vec::new();
    let mut conversations: BTreeSet<&str> = BTreeSet::new();
    for strict in [true, false] {
        for &m in members.iter().take(200) {
            if chosen.len() >= max || (!strict && chosen.len() >= 3) {
                break;
            }
            if chosen.contains(&m) {
                continue;
            }
            let v = vectors(m);
            let duplicate = chosen_vectors.iter().any(|c| c.dot(&v) > 0.9);
            if strict && (duplicate || conversations.contains(inputs[m].conversation_id)) {
                continue;
            }
            conversations.insert(inputs[m].conversation_id);
            chosen.push(m);
            chosen_vectors.push(v);
        }
    }
    chosen
}

fn gap_evidence(m: &ClusterInput<'_>) -> Evidence {
    Evidence {
        kind: EvidenceKind::GapMessage,
        id: m.id.to_string(),
        conversation_id: m.conversation_id.to_string(),
        text: Some(text::mask_personal_data(m.text)),
        score: None,
        note: None,
    }
}

/// Discovers gaps (see the module documentation).
///
/// `rejected` holds the rejection keys of proposals an admin rejected: nothing matching
/// them is proposed again. The result is deterministic and does not depend on the order
/// of `gaps` (apart from `assignments`, which follow the input order).
pub fn discover_gaps(
    gaps: &[GapMessage],
    known: &[KnownIntent],
    rejected: &BTreeSet<String>,
    cfg: &GapConfig,
) -> GapDiscovery {
    let inputs: Vec<ClusterInput<'_>> = gaps
        .iter()
        .map(|g| ClusterInput { id: &g.id, conversation_id: &g.conversation_id, text: &g.text })
        .collect();
    let known_texts: Vec<(usize, String)> = known
        .iter()
        .enumerate()
        .flat_map(|(k, intent)| {
            let keywords = (!intent.keywords.is_empty()).then(|| intent.keywords.join(" "));
            intent.examples.iter().cloned().chain(keywords).map(move |t| (k, t))
        })
        .collect();
    let vectorizer = Vectorizer::fit(
        gaps.iter().map(|g| g.text.as_str()).chain(known_texts.iter().map(|(_, t)| t.as_str())),
        cfg.features.clone(),
    );
    let known_vectors: Vec<SparseVector> = known_texts.iter().map(|(_, t)| vectorizer.transform(t)).collect();
    let known_postings =
        Postings::build(&known_vectors, cfg.features.dimension_bits, cfg.features.max_features, usize::MAX);

    // 1. Match against known intents and pending proposals.
    let mut assignments = vec![GapAssignment::Unclustered; gaps.len()];
    // Per active intent: (message index, similarity, covered by an existing example).
    let mut misses: BTreeMap<usize, Vec<(usize, f32, bool)>> = BTreeMap::new();
    let mut pending: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    let mut rest: Vec<usize> = Vec::new();
    let mut scratch = QueryScratch::default();
    for (i, g) in gaps.iter().enumerate() {
        let v = vectorizer.transform(&g.text);
        let found =
            candidates(&known_postings, &v, cfg.features.max_features, known_vectors.len(), 64, &mut scratch);
        let best = found
            .into_iter()
            .map(|e| (e as usize, v.dot(&known_vectors[e as usize])))
            .max_by(|a, b| a.1.total_cmp(&b.1).then(b.0.cmp(&a.0)));
        match best {
            Some((e, score)) if score >= cfg.known_match => {
                let k = known_texts[e].0;
                match known[k].status {
                    KnownIntentStatus::Active => {
                        assignments[i] = GapAssignment::KnownIntent(known[k].name.clone());
                        misses.entry(k).or_default().push((i, score, score >= cfg.duplicate_example));
                    }
                    KnownIntentStatus::Pending => {
                        assignments[i] = GapAssignment::PendingIntent(known[k].name.clone());
                        pending.entry(k).or_default().push(i);
                    }
                }
            }
            _ => rest.push(i),
        }
    }

    let mut example_proposals = Vec::new();
    for (k, matched) in &misses {
        let intent = &known[*k].name;
        let conversations: BTreeSet<&str> =
            matched.iter().map(|&(i, _, _)| gaps[i].conversation_id.as_str()).collect();
        if conversations.len() < cfg.min_example_conversations {
            continue;
        }
        // Most similar first, only messages not already covered, nor rejected before.
        let mut candidates_sorted: Vec<&(usize, f32, bool)> = matched
            .iter()
            .filter(|(i, _, covered)| !covered && !rejected.contains(&example_key(intent, &gaps[*i].text)))
            .collect();
        candidates_sorted.sort_by(|a, b| {
            b.1.total_cmp(&a.1).then(canonical_key(&inputs[a.0]).cmp(&canonical_key(&inputs[b.0])))
        });
        let order: Vec<usize> = candidates_sorted.iter().map(|c| c.0).collect();
        let chosen =
            representatives(&order, &inputs, &|m| vectorizer.transform(&gaps[m].text), cfg.max_examples);
        if chosen.is_empty() {
            continue;
        }
        let examples: Vec<String> = chosen.iter().map(|&m| text::mask_personal_data(&gaps[m].text)).collect();
        let keys: Vec<String> = chosen.iter().map(|&m| example_key(intent, &gaps[m].text)).collect();
        let fingerprint = proposals::fingerprint(ProposalKind::IntentExample, intent, &keys.join("|"));
        let mut rejection_keys = vec![fingerprint.clone()];
        rejection_keys.extend(keys);
        example_proposals.push(Proposal {
            kind: ProposalKind::IntentExample,
            fingerprint,
            rejection_keys,
            intent_name: Some(intent.clone()),
            title: format!(
                "Add {} example{} to {intent} ({} missed messages, {} conversations)",
                examples.len(),
                if examples.len() == 1 { "" } else { "s" },
                matched.len(),
                conversations.len()
            ),
            examples,
            keywords: Vec::new(),
            playbook_text: None,
            confidence: if conversations.len() >= cfg.medium_confidence_conversations {
                Confidence::Medium
            } else {
                Confidence::Low
            },
            impact: matched.len() as u64,
            support_conversations: conversations.len() as u64,
            evidence: order.iter().take(cfg.max_evidence).map(|&m| gap_evidence(&inputs[m])).collect(),
        });
    }

    let pending_support: Vec<PendingSupport> = pending
        .iter()
        .map(|(k, ms)| PendingSupport {
            intent: known[*k].name.clone(),
            message_ids: ms.iter().map(|&i| gaps[i].id.clone()).collect(),
        })
        .collect();

    // 2. Cluster the rest.
    let rest_inputs: Vec<ClusterInput<'_>> = rest.iter().map(|&i| inputs[i]).collect();
    let taken: BTreeSet<String> = known.iter().map(|k| k.name.clone()).collect();
    let clustering = cluster_texts(&rest_inputs, &vectorizer, &taken, cfg, &mut |_| {});
    let mut new_intent_proposals = Vec::new();
    for cluster in &clustering.clusters {
        for &m in &cluster.members {
            assignments[rest[m]] = GapAssignment::Cluster(cluster.name.clone());
        }
        let keys = new_intent_keys(&cluster.keywords);
        if keys.iter().any(|k| rejected.contains(k)) {
            continue;
        }
        let chosen = representatives(
            &cluster.members,
            &rest_inputs,
            &|m| vectorizer.transform(rest_inputs[m].text),
            cfg.max_examples,
        );
        new_intent_proposals.push(Proposal {
            kind: ProposalKind::NewIntent,
            fingerprint: keys[0].clone(),
            rejection_keys: keys,
            intent_name: Some(cluster.name.clone()),
            title: format!(
                "New intent {} ({} messages, {} conversations)",
                cluster.name,
                cluster.members.len(),
                cluster.conversations
            ),
            examples: chosen.iter().map(|&m| text::mask_personal_data(rest_inputs[m].text)).collect(),
            keywords: cluster.keywords.clone(),
            playbook_text: None,
            confidence: if cluster.conversations >= cfg.medium_confidence_conversations {
                Confidence::Medium
            } else {
                Confidence::Low
            },
            impact: cluster.members.len() as u64,
            support_conversations: cluster.conversations as u64,
            evidence: cluster
                .members
                .iter()
                .take(cfg.max_evidence)
                .map(|&m| gap_evidence(&rest_inputs[m]))
                .collect(),
        });
    }
    proposals::rank(&mut example_proposals);
    proposals::rank(&mut new_intent_proposals);
    let unclustered = assignments
        .iter()
        .zip(gaps)
        .filter(|(a, _)| **a == GapAssignment::Unclustered)
        .map(|(_, g)| g.id.clone())
        .collect();
    GapDiscovery { example_proposals, new_intent_proposals, pending_support, unclustered, assignments }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::generate_messages;
    use proptest::prelude::*;

    fn gaps(n: usize, seed: u64) -> Vec<GapMessage> {
        generate_messages(n, seed, 0.1).into_iter().map(|m| m.message).collect()
    }

    fn names(d: &GapDiscovery) -> Vec<String> {
        d.new_intent_proposals.iter().filter_map(|p| p.intent_name.clone()).collect()
    }

    #[test]
    fn discovers_named_intents_with_examples_and_keywords() {
        let d = discover_gaps(&gaps(600, 3), &[], &BTreeSet::new(), &GapConfig::default());
        assert!(!d.new_intent_proposals.is_empty());
        for p in &d.new_intent_proposals {
            let name = p.intent_name.as_deref().unwrap();
            assert!(name.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_'), "{name}");
            assert!((3..=5).contains(&p.examples.len()) || p.impact < 3, "{p:?}");
            assert!(!p.keywords.is_empty());
            assert!(p.support_conversations >= 3);
            assert!(p.examples.iter().all(|e| !e.contains("555-201-3344")));
        }
        let unique: BTreeSet<&String> =
            d.new_intent_proposals.iter().filter_map(|p| p.intent_name.as_ref()).collect();
        assert_eq!(unique.len(), d.new_intent_proposals.len());
        assert_eq!(d.assignments.len(), 600);
    }

    #[test]
    fn paraphrases_of_one_request_are_one_proposal_named_without_filler() {
        let corpus = generate_messages(1_200, 9, 0.1);
        let input: Vec<GapMessage> = corpus.iter().map(|m| m.message.clone()).collect();
        let d = discover_gaps(&input, &[], &BTreeSet::new(), &GapConfig::default());
        // 8 planted requests with 8-10 paraphrases each: about one proposal per request.
        assert!((6..=12).contains(&d.new_intent_proposals.len()), "{:?}", names(&d));
        // Each planted request has a proposal holding most of its messages.
        let truth: BTreeMap<&str, &str> =
            corpus.iter().filter_map(|m| Some((m.message.id.as_str(), m.intent.as_deref()?))).collect();
        for intent in truth.values().collect::<BTreeSet<_>>() {
            let total = truth.values().filter(|t| *t == intent).count();
            let best = d
                .new_intent_proposals
                .iter()
                .map(|p| {
                    let name = p.intent_name.as_deref().unwrap();
                    input
                        .iter()
                        .zip(&d.assignments)
                        .filter(|(m, a)| {
                            truth.get(m.id.as_str()) == Some(intent)
                                && **a == GapAssignment::Cluster(name.to_string())
                        })
                        .count()
                })
                .max()
                .unwrap_or(0);
            assert!(best * 2 > total, "{intent}: {best} of {total} in one proposal; {:?}", names(&d));
        }
        // Greetings, sign-offs and names occur with every request: never a keyword.
        let filler =
            ["team", "thank", "thanks", "regard", "regards", "sam", "alex", "call", "morning", "hello"];
        for p in &d.new_intent_proposals {
            assert!(p.keywords.iter().all(|k| !filler.contains(&k.as_str())), "{:?}", p.keywords);
        }
    }

    #[test]
    fn messages_close_to_a_known_intent_become_examples_not_intents() {
        let known = vec![KnownIntent {
            name: "PARKING".into(),
            examples: vec![
                "Is parking included with the apartment?".into(),
                "Do you have a garage parking spot available?".into(),
                "How much is a reserved parking space per month?".into(),
            ],
            keywords: vec!["parking".into(), "garage".into()],
            status: KnownIntentStatus::Active,
        }];
        let messages: Vec<GapMessage> = (0..6)
            .map(|i| GapMessage {
                id: format!("p{i}"),
                conversation_id: format!("c{i}"),
                text: format!("Hi, is parking included with the apartment? Unit {i}"),
            })
            .collect();
        let d = discover_gaps(&messages, &known, &BTreeSet::new(), &GapConfig::default());
        assert!(d.new_intent_proposals.is_empty(), "{:?}", names(&d));
        assert_eq!(d.example_proposals.len(), 1);
        let p = &d.example_proposals[0];
        assert_eq!(p.kind, ProposalKind::IntentExample);
        assert_eq!(p.intent_name.as_deref(), Some("PARKING"));
        assert_eq!(p.impact, 6);
        // Rejecting it suppresses the same examples next time.
        let rejected: BTreeSet<String> = p.rejection_keys.iter().cloned().collect();
        let again = discover_gaps(&messages, &known, &rejected, &GapConfig::default());
        assert!(again.example_proposals.is_empty());
    }

    #[test]
    fn pending_proposals_absorb_their_messages() {
        let known = vec![KnownIntent {
            name: "REFERRAL_BONUS".into(),
            examples: vec!["Do you have a referral bonus for referring a friend?".into()],
            keywords: vec![],
            status: KnownIntentStatus::Pending,
        }];
        let messages: Vec<GapMessage> = (0..4)
            .map(|i| GapMessage {
                id: format!("r{i}"),
                conversation_id: format!("c{i}"),
                text: "Is there a referral bonus for referring a friend?".into(),
            })
            .collect();
        let d = discover_gaps(&messages, &known, &BTreeSet::new(), &GapConfig::default());
        assert!(d.new_intent_proposals.is_empty());
        assert_eq!(d.pending_support.len(), 1);
        assert_eq!(d.pending_support[0].message_ids.len(), 4);
    }

    #[test]
    fn rejected_new_intents_are_not_proposed_again() {
        let input = gaps(600, 5);
        let first = discover_gaps(&input, &[], &BTreeSet::new(), &GapConfig::default());
        let top = &first.new_intent_proposals[0];
        let rejected: BTreeSet<String> = top.rejection_keys.iter().cloned().collect();
        let second = discover_gaps(&input, &[], &rejected, &GapConfig::default());
        assert!(second.new_intent_proposals.iter().all(|p| !p.is_rejected(&rejected)));
        assert!(second.new_intent_proposals.len() < first.new_intent_proposals.len());
    }

    #[test]
    fn too_few_conversations_is_no_cluster() {
        let messages: Vec<GapMessage> = (0..10)
            .map(|i| GapMessage {
                id: format!("x{i}"),
                conversation_id: format!("c{}", i % 2),
                text: "Do you rent kayaks at the lake house?".into(),
            })
            .collect();
        let d = discover_gaps(&messages, &[], &BTreeSet::new(), &GapConfig::default());
        assert!(d.new_intent_proposals.is_empty());
        assert_eq!(d.unclustered.len(), 10);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(8))]

        #[test]
        fn clustering_is_deterministic_and_permutation_stable(seed in 0u64..1000, shift in 1usize..299) {
            let input = gaps(300, seed);
            let a = discover_gaps(&input, &[], &BTreeSet::new(), &GapConfig::default());
            let b = discover_gaps(&input, &[], &BTreeSet::new(), &GapConfig::default());
            prop_assert_eq!(&a, &b);
            let mut rotated = input.clone();
            rotated.rotate_left(shift);
            rotated.reverse();
            let c = discover_gaps(&rotated, &[], &BTreeSet::new(), &GapConfig::default());
            prop_assert_eq!(names(&a), names(&c));
            prop_assert_eq!(&a.new_intent_proposals, &c.new_intent_proposals);
            // The same message gets the same assignment whatever its position.
            let by_id = |d: &GapDiscovery, input: &[GapMessage]| -> BTreeMap<String, GapAssignment> {
                input.iter().map(|m| m.id.clone()).zip(d.assignments.iter().cloned()).collect()
            };
            prop_assert_eq!(by_id(&a, &input), by_id(&c, &rotated));
        }
    }
}
