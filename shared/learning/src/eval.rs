//! Evaluation harness: generated corpora whose truth is known, and the quality measures
//! of the engine on them.
//!
//! The generator plants intents of a property-management CRM (showing requests, pricing,
//! financing, application status, maintenance requests, referrals, parking, pets) as
//! paraphrased templates with filled slots, greetings and sign-offs, typos and case
//! noise, mixed with one-off noise messages; and plants edit themes in draft edits. A
//! small PRNG seeded by the caller makes every corpus reproducible.
//!
//! Measures: clustering NMI, ARI and purity; theme precision and recall; retrieval
//! precision@10. `cargo test` runs a small evaluation with floors
//! (`tests::small_evaluation_meets_floors`); `cargo bench --bench eval` runs it full size.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::cluster::{ClusterInput, GapConfig, GapMessage, cluster_texts};
use crate::edit::{ReasonKind, analyze_edit};
use crate::features::Vectorizer;
use crate::similarity::{IndexedMessage, QueryScratch, SimilarityConfig, SimilarityIndex};
use crate::themes::{EditRecord, ThemeConfig, ThemeSubject, detect_themes};

/// SplitMix64: a tiny, well-mixed PRNG; enough for test data and stable forever.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A uniform integer in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }

    /// A uniformly chosen element.
    pub fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

/// A planted intent: its name and its paraphrased templates. `{x}` marks a slot.
struct PlantedIntent {
    name: &'static str,
    templates: &'static [&'static str],
}

const INTENTS: &[PlantedIntent] = &[
    PlantedIntent {
        name: "SHOWING_REQUEST",
        templates: &[
            "Can I schedule a showing of the {unit} on {day}?",
            "I'd like to tour the {unit} this {day} if possible",
            "Is there any availability to view the {unit} on {day} at {time}?",
            "When can I come see the {unit}? {day} works best for me",
            "Could we set up a viewing for the {unit}?",
            "I want to book a tour of the {unit} for {day} afternoon",
            "Are you doing open house showings for the {unit} this week?",
            "Can someone show me the {unit} on {day} around {time}?",
            "Looking to see the {unit} in person, do you have tour slots on {day}?",
            "Would love to visit and tour the {unit}, is {day} at {time} open?",
        ],
    },
    PlantedIntent {
        name: "PRICING",
        templates: &[
            "How much is the rent for the {unit}?",
            "What is the monthly rent on the {unit}?",
            "Can you tell me the price of the {unit} per month?",
            "What does the {unit} cost, and are utilities included in the rent?",
            "Is the rent for the {unit} negotiable? What's the monthly price?",
            "What are the rental rates for a {unit}?",
            "How much would a {unit} cost me monthly including fees?",
            "Price check: what's the current asking rent for the {unit}?",
            "Any rent specials or discounts on the {unit} price right now?",
        ],
    },
    PlantedIntent {
        name: "FINANCING",
        templates: &[
            "Do you offer financing or a payment plan for the deposit?",
            "Can I get a mortgage pre-approval through your lender partners?",
            "What financing options do you have for buying a {unit}?",
            "Is there a down payment assistance program for first time buyers?",
            "I need financing for the purchase, which lenders do you work with?",
            "Can the security deposit be paid in installments?",
            "What credit score do I need to qualify for your financing?",
            "Do you help with home loans or mortgage financing?",
            "Are there any lender incentives or financing deals this month?",
        ],
    },
    PlantedIntent {
        name: "APPLICATION_STATUS",
        templates: &[
            "What is the status of my rental application?",
            "I submitted my application on {day}, any update on the approval?",
            "Has my application for the {unit} been approved yet?",
            "Just checking in on my application status, it has been a few days",
            "Did you receive my application and background check documents?",
            "How long does the application review usually take?",
            "Any news on my lease application? Still waiting for approval",
            "Can you confirm my application was processed and approved?",
            "I applied for the {unit} last week, where does my application stand?",
        ],
    },
    PlantedIntent {
        name: "MAINTENANCE_REQUEST",
        templates: &[
            "The {issue} in my unit is broken, can someone fix it?",
            "I need a maintenance repair, the {issue} stopped working",
            "Please send maintenance, my {issue} is leaking",
            "Submitting a repair request for the {issue} in apartment {num}",
            "Our {issue} is not working again, when can a technician come?",
            "Maintenance emergency: the {issue} is leaking water everywhere",
            "Can you schedule a repair for the broken {issue}?",
            "The {issue} has been making noise and needs maintenance",
            "Who do I contact to fix a broken {issue} in my apartment?",
        ],
    },
    PlantedIntent {
        name: "REFERRAL",
        templates: &[
            "My friend is interested in renting, do you have a referral bonus?",
            "I'd like to refer a friend, how does your referral program work?",
            "Do residents get a referral reward for recommending new tenants?",
            "I referred my coworker, when do I receive the referral credit?",
            "Is there a referral fee if I send you a new resident?",
            "How much is the referral bonus for referring a friend who signs a lease?",
            "My sister wants to move in, can I get the referral discount?",
            "Where do I submit a referral for a friend looking for an apartment?",
        ],
    },
    PlantedIntent {
        name: "PARKING",
        templates: &[
            "Is parking included with the {unit}?",
            "Do you have covered parking or a garage spot available?",
            "How much does a reserved parking space cost per month?",
            "Is there guest parking for visitors on weekends?",
            "Can I get a second parking spot for my car?",
            "Where do residents park? Is there a parking permit?",
            "Do you offer EV charging in the parking garage?",
            "Is street parking available or do I need a parking pass?",
            "I need a parking spot for my truck, is the garage full?",
        ],
    },
    PlantedIntent {
        name: "PETS",
        templates: &[
            "Do you allow pets? I have a {pet}",
            "Is the building pet friendly? I own a {pet}",
            "What is your pet policy and pet deposit?",
            "Can I bring my {pet} to the {unit}? Is there a pet fee?",
            "Are dogs allowed? Mine is a small {pet}",
            "Is there monthly pet rent for a {pet}?",
            "Any breed or weight restrictions for pets like my {pet}?",
            "We have two cats, is the apartment pet friendly?",
            "Do you have a dog park or pet washing station for residents?",
        ],
    },
];

const UNITS: &[&str] = &[
    "two bedroom",
    "studio",
    "one bedroom apartment",
    "3br townhouse",
    "loft",
    "corner unit",
    "2 bed 2 bath",
    "penthouse",
];
const DAYS: &[&str] =
    &["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday", "weekend"];
const TIMES: &[&str] = &["10am", "noon", "2pm", "4:30", "6 pm", "morning", "evening"];
const ISSUES: &[&str] = &[
    "dishwasher",
    "sink",
    "toilet",
    "heater",
    "air conditioner",
    "garbage disposal",
    "washer",
    "faucet",
    "shower",
];
const PETS: &[&str] = &["dog", "cat", "puppy", "golden retriever", "kitten", "parrot", "rabbit"];
const GREETINGS: &[&str] = &["", "", "", "Hi, ", "Hello! ", "Hey there, ", "Good morning, ", "Hi team, "];
const CLOSINGS: &[&str] =
    &["", "", "", " Thanks!", " Thank you.", " Thanks, Sam", " Regards, Alex", " Call me at 555-201-3344."];
/// Words of one-off noise messages: general chatter with no planted intent. Noise
/// messages are random short sequences of these, so they rarely resemble each other.
const NOISE_WORDS: &[&str] = &[
    "ok",
    "sounds",
    "good",
    "wrong",
    "number",
    "sorry",
    "resend",
    "email",
    "who",
    "this",
    "unsubscribe",
    "back",
    "next",
    "week",
    "info",
    "think",
    "office",
    "great",
    "see",
    "then",
    "time",
    "close",
    "today",
    "stop",
    "texting",
    "phone",
    "died",
    "earlier",
    "cool",
    "got",
    "weather",
    "terrible",
    "spanish",
    "speak",
    "update",
    "address",
    "file",
    "birthday",
    "football",
    "game",
    "traffic",
    "coffee",
    "lunch",
    "meeting",
    "tomorrow",
    "call",
    "later",
    "busy",
    "sure",
    "maybe",
    "never",
    "mind",
    "forgot",
    "password",
    "login",
    "website",
    "broken",
    "link",
    "photo",
    "picture",
    "sent",
    "received",
    "mail",
    "package",
    "delivery",
    "neighbor",
    "noise",
    "music",
    "party",
    "holiday",
    "vacation",
    "travel",
    "flight",
    "hotel",
    "school",
    "kids",
    "work",
    "job",
    "boss",
    "company",
    "insurance",
    "bank",
    "card",
    "cash",
    "check",
    "receipt",
    "invoice",
    "question",
    "answer",
    "help",
    "thanks",
    "hello",
    "bye",
    "weekend",
    "plans",
    "movie",
    "dinner",
    "restaurant",
    "pizza",
    "gym",
    "doctor",
    "dentist",
    "car",
    "bike",
    "bus",
    "train",
    "keys",
    "lost",
    "found",
    "wallet",
    "jacket",
    "umbrella",
    "rain",
    "snow",
    "sun",
    "hot",
    "cold",
    "wifi",
    "internet",
    "router",
    "tv",
    "cable",
];

/// A generated message with its planted truth.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LabeledMessage {
    /// The message.
    pub message: GapMessage,
    /// The planted intent, or `None` for noise.
    pub intent: Option<String>,
}

/// Generates `n` labeled messages: about `noise_share` of them noise, the rest spread
/// evenly over the planted intents; about 2 messages per conversation.
pub fn generate_messages(n: usize, seed: u64, noise_share: f64) -> Vec<LabeledMessage> {
    let mut rng = Rng::new(seed);
    let conversations = (n / 2).max(1);
    (0..n)
        .map(|i| {
            let conversation_id = format!("c{}", rng.below(conversations));
            let id = format!("m{i}");
            if rng.chance(noise_share) {
                let length = 2 + rng.below(7);
                let text: Vec<&str> = (0..length).map(|_| rng.pick(NOISE_WORDS)).collect();
                return LabeledMessage {
                    message: GapMessage { id, conversation_id, text: add_typos(&text.join(" "), &mut rng) },
                    intent: None,
                };
            }
            let intent = &INTENTS[rng.below(INTENTS.len())];
            let template = intent.templates[rng.below(intent.templates.len())];
            let body = fill(template, &mut rng);
            let text = format!("{}{}{}", rng.pick(GREETINGS), body, rng.pick(CLOSINGS));
            LabeledMessage {
                message: GapMessage { id, conversation_id, text: add_typos(&text, &mut rng) },
                intent: Some(intent.name.to_string()),
            }
        })
        .collect()
}

fn fill(template: &str, rng: &mut Rng) -> String {
    let mut out = template.to_string();
    for (slot, values) in
        [("{unit}", UNITS), ("{day}", DAYS), ("{time}", TIMES), ("{issue}", ISSUES), ("{pet}", PETS)]
    {
        while out.contains(slot) {
            out = out.replacen(slot, rng.pick(values), 1);
        }
    }
    while out.contains("{num}") {
        out = out.replacen("{num}", &format!("{}", 100 + rng.below(900)), 1);
    }
    out
}

/// Typos and case noise: each word of 4+ letters gets a swapped or dropped letter with
/// probability 0.06; the whole message is lowercased with probability 0.3.
fn add_typos(text_in: &str, rng: &mut Rng) -> String {
    let words: Vec<String> = text_in
        .split(' ')
        .map(|w| {
            let chars: Vec<char> = w.chars().collect();
            if chars.len() >= 4 && chars.iter().all(|c| c.is_alphabetic()) && rng.chance(0.06) {
                let at = 1 + rng.below(chars.len() - 2);
                let mut c = chars.clone();
                if rng.chance(0.5) {
                    c.swap(at, at + 1);
                } else {
                    c.remove(at);
                }
                c.into_iter().collect()
            } else {
                w.to_string()
            }
        })
        .collect();
    let joined = words.join(" ");
    if rng.chance(0.3) { joined.to_lowercase() } else { joined }
}

/// Clustering quality against planted truth.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusteringScores {
    /// Normalized mutual information (arithmetic normalization), noise as one class and
    /// unclustered as one cluster.
    pub nmi: f64,
    /// Adjusted Rand index, same labeling.
    pub ari: f64,
    /// Purity of the clustered messages: share that belongs to its cluster's majority
    /// intent.
    pub purity: f64,
    /// Share of planted-intent messages that were clustered.
    pub coverage: f64,
    /// Share of noise messages left unclustered.
    pub noise_rejected: f64,
    /// Number of clusters found.
    pub clusters: usize,
}

/// Scores a clustering against truth labels (`None` = noise / unclustered).
pub fn score_clustering(truth: &[Option<String>], predicted: &[Option<usize>]) -> ClusteringScores {
    let t: Vec<String> = truth.iter().map(|l| l.clone().unwrap_or_else(|| "<noise>".into())).collect();
    let p: Vec<String> =
        predicted.iter().map(|c| c.map_or("<none>".to_string(), |c| c.to_string())).collect();
    let n = t.len() as f64;
    let mut joint: BTreeMap<(&str, &str), f64> = BTreeMap::new();
    let mut tc: BTreeMap<&str, f64> = BTreeMap::new();
    let mut pc: BTreeMap<&str, f64> = BTreeMap::new();
    for (a, b) in t.iter().zip(&p) {
        *joint.entry((a, b)).or_insert(0.0) += 1.0;
        *tc.entry(a).or_insert(0.0) += 1.0;
        *pc.entry(b).or_insert(0.0) += 1.0;
    }
    let entropy = |m: &BTreeMap<&str, f64>| -> f64 { m.values().map(|&c| -(c / n) * (c / n).ln()).sum() };
    let mutual: f64 = joint.iter().map(|(&(a, b), &c)| (c / n) * ((c * n) / (tc[a] * pc[b])).ln()).sum();
    let (ht, hp) = (entropy(&tc), entropy(&pc));
    let nmi = if ht + hp > 0.0 { 2.0 * mutual / (ht + hp) } else { 1.0 };
    let pairs = |x: f64| x * (x - 1.0) / 2.0;
    let index: f64 = joint.values().map(|&c| pairs(c)).sum();
    let sum_t: f64 = tc.values().map(|&c| pairs(c)).sum();
    let sum_p: f64 = pc.values().map(|&c| pairs(c)).sum();
    let expected = sum_t * sum_p / pairs(n);
    let max_index = (sum_t + sum_p) / 2.0;
    let ari = if max_index - expected == 0.0 { 1.0 } else { (index - expected) / (max_index - expected) };
    let mut majority: BTreeMap<&str, f64> = BTreeMap::new();
    for (&(a, b), &c) in &joint {
        if b != "<none>" && a != "<noise>" {
            let m = majority.entry(b).or_insert(0.0);
            *m = m.max(c);
        }
    }
    let clustered = predicted.iter().filter(|c| c.is_some()).count() as f64;
    let purity = if clustered > 0.0 { majority.values().sum::<f64>() / clustered } else { 0.0 };
    let planted = truth.iter().filter(|l| l.is_some()).count() as f64;
    let covered = truth.iter().zip(predicted).filter(|(l, c)| l.is_some() && c.is_some()).count() as f64;
    let noise = truth.iter().filter(|l| l.is_none()).count() as f64;
    let noise_left = truth.iter().zip(predicted).filter(|(l, c)| l.is_none() && c.is_none()).count() as f64;
    ClusteringScores {
        nmi,
        ari,
        purity,
        coverage: if planted > 0.0 { covered / planted } else { 1.0 },
        noise_rejected: if noise > 0.0 { noise_left / noise } else { 1.0 },
        clusters: pc.keys().filter(|k| **k != "<none>").count(),
    }
}

/// Clusters a generated corpus with [`cluster_texts`] and scores it; also returns the
/// cluster names.
pub fn evaluate_clustering(corpus: &[LabeledMessage], cfg: &GapConfig) -> (ClusteringScores, Vec<String>) {
    let inputs: Vec<ClusterInput<'_>> = corpus
        .iter()
        .map(|m| ClusterInput {
            id: &m.message.id,
            conversation_id: &m.message.conversation_id,
            text: &m.message.text,
        })
        .collect();
    let vectorizer = Vectorizer::fit(corpus.iter().map(|m| m.message.text.as_str()), cfg.features.clone());
    let clustering = cluster_texts(&inputs, &vectorizer, &BTreeSet::new(), cfg, &mut |_| {});
    let truth: Vec<Option<String>> = corpus.iter().map(|m| m.intent.clone()).collect();
    let names = clustering.clusters.iter().map(|c| c.name.clone()).collect();
    (score_clustering(&truth, &clustering.assignment), names)
}

/// Mean precision@k of the similarity index: for every planted-intent message (up to
/// `max_queries`), the share of its k nearest other messages with the same intent.
pub fn evaluate_retrieval(corpus: &[LabeledMessage], k: usize, max_queries: usize) -> f64 {
    let messages: Vec<IndexedMessage> = corpus
        .iter()
        .map(|m| IndexedMessage {
            id: m.message.id.clone(),
            conversation_id: m.message.conversation_id.clone(),
            text: m.message.text.clone(),
        })
        .collect();
    let index = SimilarityIndex::build_with(&messages, SimilarityConfig::default());
    let mut scratch = QueryScratch::default();
    let (mut total, mut queries) = (0.0, 0usize);
    for (doc, m) in corpus.iter().enumerate() {
        let Some(intent) = &m.intent else { continue };
        if queries >= max_queries {
            break;
        }
        let neighbors = index.neighbors_of(doc, k, &mut scratch);
        let hits =
            neighbors.iter().filter(|&&(d, _)| corpus[d as usize].intent.as_ref() == Some(intent)).count();
        total += hits as f64 / k as f64;
        queries += 1;
    }
    if queries == 0 { 0.0 } else { total / queries as f64 }
}

/// A planted edit theme: who shows it, what it does to a draft, and the theme keys it
/// should (and may) produce. A key is `(scope, subject)`, scope `None` for global.
struct PlantedTheme {
    /// The intent whose edits show it, or `None` for every intent.
    intent: Option<&'static str>,
    /// Share of the scope's edits that show it.
    rate: f64,
    apply: fn(&str) -> String,
    expected: fn() -> Vec<ThemeSubject>,
    implied: fn() -> Vec<ThemeSubject>,
}

const DRAFT_BODY: &str = "Thank you for reaching out! I'd be happy to help with your request. \
    We truly appreciate your interest in our community and we are always excited to hear from \
    prospective residents. The {topic} details are listed on our website and our leasing team \
    can walk you through everything.";

fn draft_for(intent: &str) -> String {
    let topic = intent.to_lowercase().replace('_', " ");
    format!("Hi there,\n\n{}\n\nBest regards,\nThe Leasing Team", DRAFT_BODY.replace("{topic}", &topic))
}

fn shorten(draft: &str) -> String {
    draft
        .replace("Thank you for reaching out! I'd be happy to help with your request. ", "")
        .replace(
            "We truly appreciate your interest in our community and we are always excited to hear from prospective residents. ",
            "",
        )
}

fn add_question(draft: &str) -> String {
    draft.replace("\n\nBest regards", " Would you like to schedule a tour this week?\n\nBest regards")
}

fn add_link(draft: &str) -> String {
    draft.replace(
        "\n\nBest regards",
        " You can apply online at https://example.com/financing today.\n\nBest regards",
    )
}

fn add_phone(draft: &str) -> String {
    draft.replace("\n\nBest regards", " For urgent repairs call our hotline at 555-867-5309.\n\nBest regards")
}

fn change_sign_off(draft: &str) -> String {
    draft.replace("Best regards,\nThe Leasing Team", "Thanks,\nDana")
}

fn phrase(p: &str) -> ThemeSubject {
    ThemeSubject::PhraseAdded { phrase: p.to_string() }
}

const PLANTED_THEMES: &[PlantedTheme] = &[
    PlantedTheme {
        intent: Some("SHOWING_REQUEST"),
        rate: 0.8,
        apply: shorten,
        expected: || {
            vec![
                ThemeSubject::Reason { kind: ReasonKind::Shortened },
                ThemeSubject::PhraseRemoved { phrase: "i'd be happy to help with your request".into() },
            ]
        },
        implied: || {
            vec![
                ThemeSubject::Reason { kind: ReasonKind::SentencesRemoved },
                ThemeSubject::PhraseRemoved {
                    phrase: "we truly appreciate your interest in our community".into(),
                },
                ThemeSubject::PhraseRemoved { phrase: "thank you for reaching out".into() },
            ]
        },
    },
    PlantedTheme {
        intent: Some("PRICING"),
        rate: 0.7,
        apply: add_question,
        expected: || vec![ThemeSubject::Reason { kind: ReasonKind::QuestionAdded }],
        implied: || {
            vec![
                ThemeSubject::Reason { kind: ReasonKind::SentencesAdded },
                ThemeSubject::Reason { kind: ReasonKind::Lengthened },
                phrase("would you like to schedule a tour this week"),
            ]
        },
    },
    PlantedTheme {
        intent: Some("FINANCING"),
        rate: 0.7,
        apply: add_link,
        expected: || vec![ThemeSubject::Reason { kind: ReasonKind::LinkAdded }],
        implied: || {
            vec![
                ThemeSubject::Reason { kind: ReasonKind::SentencesAdded },
                ThemeSubject::Reason { kind: ReasonKind::Lengthened },
                phrase("you can apply online at https://example.com/financing today"),
            ]
        },
    },
    PlantedTheme {
        intent: Some("MAINTENANCE_REQUEST"),
        rate: 0.7,
        apply: add_phone,
        expected: || vec![ThemeSubject::Reason { kind: ReasonKind::ContactDetailsAdded }],
        implied: || {
            vec![
                ThemeSubject::Reason { kind: ReasonKind::SentencesAdded },
                ThemeSubject::Reason { kind: ReasonKind::Lengthened },
                ThemeSubject::Reason { kind: ReasonKind::NumbersChanged },
                phrase("for urgent repairs call our hotline at 555-867-5309"),
            ]
        },
    },
    PlantedTheme {
        intent: None,
        rate: 0.6,
        apply: change_sign_off,
        expected: || vec![ThemeSubject::Reason { kind: ReasonKind::SignOffChanged }],
        implied: || {
            vec![
                ThemeSubject::PhraseRemoved { phrase: "best regards the leasing team".into() },
                phrase("thanks dana"),
            ]
        },
    },
];

/// A generated set of edits and the theme keys planted in it.
pub struct PlantedEdits {
    /// The edits.
    pub edits: Vec<EditRecord>,
    /// Keys that must be found: `(scope, subject)`.
    pub expected: BTreeSet<(Option<String>, ThemeSubject)>,
    /// Keys that may be found (consequences of planted themes), not counted as errors.
    pub implied: BTreeSet<(Option<String>, ThemeSubject)>,
}

/// Generates `n` edits over the planted intents with planted themes, plus random small
/// word swaps as noise.
pub fn generate_edits(n: usize, seed: u64) -> PlantedEdits {
    let mut rng = Rng::new(seed);
    let intents: Vec<&str> = INTENTS.iter().map(|i| i.name).collect();
    let mut edits = Vec::with_capacity(n);
    for i in 0..n {
        let intent = intents[rng.below(intents.len())];
        let original = draft_for(intent);
        let mut sent = original.clone();
        for theme in PLANTED_THEMES {
            let applies = theme.intent.is_none_or(|t| t == intent);
            if applies && rng.chance(theme.rate) {
                sent = (theme.apply)(&sent);
            }
        }
        // Noise: swap one random word for a synonym-like filler.
        if rng.chance(0.5) {
            let fillers = ["really", "truly", "certainly", "gladly"];
            sent = sent.replacen("always", rng.pick(&fillers), 1);
        }
        edits.push(EditRecord {
            id: format!("f{i}"),
            conversation_id: format!("c{}", rng.below(n.max(1))),
            intent: Some(intent.to_string()),
            analysis: analyze_edit(&original, &sent),
        });
    }
    let mut expected = BTreeSet::new();
    let mut implied = BTreeSet::new();
    for theme in PLANTED_THEMES {
        let scope = theme.intent.map(str::to_string);
        for s in (theme.expected)() {
            expected.insert((scope.clone(), s));
        }
        for s in (theme.implied)() {
            implied.insert((scope.clone(), s));
        }
    }
    PlantedEdits { edits, expected, implied }
}

/// Theme precision and recall on generated edits.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ThemeScores {
    /// Share of detected themes that are planted or implied by a planted one.
    pub precision: f64,
    /// Share of planted themes detected.
    pub recall: f64,
    /// Number of detected themes.
    pub detected: usize,
}

/// Detects themes in generated edits and scores them against the planted ones.
pub fn evaluate_themes(n: usize, seed: u64, cfg: &ThemeConfig) -> ThemeScores {
    let planted = generate_edits(n, seed);
    let themes = detect_themes(&planted.edits, cfg);
    let detected: BTreeSet<(Option<String>, ThemeSubject)> =
        themes.iter().map(|t| (t.intent.clone(), t.subject.clone())).collect();
    let correct = detected
        .iter()
        .filter(|k| planted.expected.iter().chain(&planted.implied).any(|p| theme_keys_match(k, p)))
        .count();
    let found = planted.expected.iter().filter(|p| detected.iter().any(|k| theme_keys_match(k, p))).count();
    ThemeScores {
        precision: if detected.is_empty() { 1.0 } else { correct as f64 / detected.len() as f64 },
        recall: found as f64 / planted.expected.len() as f64,
        detected: detected.len(),
    }
}

/// A detected theme key matches a planted one with the same scope and subject; phrases
/// match when one contains the other (a detected phrase may be a part of the planted
/// sentence, or the planted phrase with a neighbouring word).
fn theme_keys_match(
    detected: &(Option<String>, ThemeSubject),
    planted: &(Option<String>, ThemeSubject),
) -> bool {
    if detected.0 != planted.0 {
        return false;
    }
    match (&detected.1, &planted.1) {
        (ThemeSubject::PhraseRemoved { phrase: a }, ThemeSubject::PhraseRemoved { phrase: b })
        | (ThemeSubject::PhraseAdded { phrase: a }, ThemeSubject::PhraseAdded { phrase: b }) => {
            a.contains(b.as_str()) || b.contains(a.as_str())
        }
        (a, b) => a == b,
    }
}

/// Every measure at one corpus size.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EvalReport {
    /// Messages clustered.
    pub messages: usize,
    /// Clustering scores.
    pub clustering: ClusteringScores,
    /// Cluster names found, largest cluster first.
    pub cluster_names: Vec<String>,
    /// Retrieval precision@10.
    pub precision_at_10: f64,
    /// Edits analyzed for themes.
    pub edits: usize,
    /// Theme scores.
    pub themes: ThemeScores,
}

/// Runs the whole evaluation: `messages` generated gap messages (15% noise), retrieval
/// over up to 2,000 queries, and `edits` generated edits.
pub fn run_evaluation(messages: usize, edits: usize, seed: u64) -> EvalReport {
    let corpus = generate_messages(messages, seed, 0.15);
    let (clustering, cluster_names) = evaluate_clustering(&corpus, &GapConfig::default());
    let precision_at_10 = evaluate_retrieval(&corpus, 10, 2_000);
    let themes = evaluate_themes(edits, seed ^ 0x5eed, &ThemeConfig::default());
    EvalReport { messages, clustering, cluster_names, precision_at_10, edits, themes }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generator_is_deterministic_and_labeled() {
        let a = generate_messages(200, 7, 0.15);
        let b = generate_messages(200, 7, 0.15);
        assert_eq!(a, b);
        let noise = a.iter().filter(|m| m.intent.is_none()).count();
        assert!((10..60).contains(&noise), "{noise}");
        assert_ne!(a, generate_messages(200, 8, 0.15));
    }

    #[test]
    fn perfect_clustering_scores_one() {
        let truth = vec![Some("A".to_string()), Some("A".into()), Some("B".into()), None];
        let predicted = vec![Some(0), Some(0), Some(1), None];
        let s = score_clustering(&truth, &predicted);
        assert!((s.nmi - 1.0).abs() < 1e-9 && (s.ari - 1.0).abs() < 1e-9);
        assert_eq!(s.purity, 1.0);
        assert_eq!(s.clusters, 2);
    }

    #[test]
    fn everything_in_one_cluster_scores_zero_ari() {
        let truth = vec![Some("A".to_string()), Some("A".into()), Some("B".into()), Some("B".into())];
        let predicted = vec![Some(0); 4];
        let s = score_clustering(&truth, &predicted);
        assert!(s.ari.abs() < 1e-9);
        assert!(s.nmi.abs() < 1e-9);
        assert_eq!(s.purity, 0.5);
    }

    /// The small evaluation that runs in `cargo test`; floors sit below measured values
    /// with margin (see docs/learning.md for the full-size numbers).
    #[test]
    fn small_evaluation_meets_floors() {
        let report = run_evaluation(1_500, 300, 42);
        eprintln!("{}", serde_json::to_string_pretty(&report).unwrap());
        assert!(report.clustering.nmi >= 0.75, "{report:?}");
        assert!(report.clustering.ari >= 0.65, "{report:?}");
        // Message communities cluster every planted message (coverage 1.0) and keep most
        // noise out (0.92), at the price of some noise inside clusters: purity 0.79.
        assert!(report.clustering.purity >= 0.75, "{report:?}");
        assert!(report.clustering.coverage >= 0.95, "{report:?}");
        assert!(report.clustering.noise_rejected >= 0.5, "{report:?}");
        // One proposal per planted request, give or take a split: not one per paraphrase.
        assert!(report.clustering.clusters <= 2 * INTENTS.len(), "{report:?}");
        assert!(report.precision_at_10 >= 0.90, "{report:?}");
        assert!(report.themes.precision >= 0.85, "{report:?}");
        assert!(report.themes.recall >= 0.90, "{report:?}");
    }
}
