//! Generated corpora with planted truth, for the unit tests and benchmarks of
//! `autolearn-learning` (not part of the library): gap messages of a property-management
//! CRM (showing requests, pricing, financing, application status, maintenance requests,
//! referrals, parking, pets) as paraphrased templates with filled slots, greetings and
//! sign-offs, typos and case noise, mixed with one-off noise messages; and draft edits
//! with planted themes. A small PRNG seeded by the caller makes every corpus
//! reproducible.
//!
//! Included with `#[path]` by `src/lib.rs` (tests only) and by each benchmark, so it
//! names the library as `autolearn_learning` in both.
#![allow(dead_code)]

use std::collections::BTreeSet;

use autolearn_learning::cluster::{GapConfig, GapMessage};
use autolearn_learning::edit::ReasonKind;
use autolearn_learning::eval::{
    EvalReport, LabeledMessage, PlantedEdits, evaluate_clustering, evaluate_retrieval, evaluate_themes,
};
use autolearn_learning::themes::{EditRecord, ThemeConfig, ThemeSubject};

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
                    message: GapMessage::new(id, conversation_id, add_typos(&text.join(" "), &mut rng)),
                    intent: None,
                };
            }
            let intent = &INTENTS[rng.below(INTENTS.len())];
            let template = intent.templates[rng.below(intent.templates.len())];
            let body = fill(template, &mut rng);
            let text = format!("{}{}{}", rng.pick(GREETINGS), body, rng.pick(CLOSINGS));
            LabeledMessage {
                message: GapMessage::new(id, conversation_id, add_typos(&text, &mut rng)),
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
        let conversation = format!("c{}", rng.below(n.max(1)));
        edits.push(EditRecord::new(&format!("f{i}"), &conversation, Some(intent), &original, &sent));
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

/// Runs the whole evaluation: `messages` generated gap messages (15% noise), retrieval
/// over up to 2,000 queries, and `edits` generated edits.
pub fn run_evaluation(messages: usize, edits: usize, seed: u64) -> EvalReport {
    let corpus = generate_messages(messages, seed, 0.15);
    let (clustering, cluster_names) = evaluate_clustering(&corpus, &GapConfig::default());
    let precision_at_10 = evaluate_retrieval(&corpus, 10, 2_000);
    let themes = evaluate_themes(&generate_edits(edits, seed ^ 0x5eed), &ThemeConfig::default());
    EvalReport { messages, clustering, cluster_names, precision_at_10, edits, themes }
}
