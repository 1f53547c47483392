//! The synthetic CRM of a property-management business: what customers ask (with varied
//! wording, typos and several contacts per conversation), what the agent drafts, and how the
//! reps edit the drafts before sending. The planted truth the learning loop should find:
//!
//! - four topics the agent has no intent for (maintenance, referrals, parking, pets);
//! - reps shorten the drafts of the known intents and drop their boilerplate;
//! - on showing requests, reps replace the promised slots with an availability check.

use crate::rng::Rng;

/// What a message is really about (the simulator's ground truth; never sent to the API).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Topic {
    Showing,
    Pricing,
    Financing,
    ApplicationStatus,
    Maintenance,
    Referral,
    Parking,
    Pets,
}

impl Topic {
    pub const ALL: [Topic; 8] = [
        Topic::Showing,
        Topic::Pricing,
        Topic::Financing,
        Topic::ApplicationStatus,
        Topic::Maintenance,
        Topic::Referral,
        Topic::Parking,
        Topic::Pets,
    ];
    /// The gaps planted for autolearn to discover.
    pub const PLANTED: [Topic; 4] = [Topic::Maintenance, Topic::Referral, Topic::Parking, Topic::Pets];

    /// Share of inbound messages (weights).
    fn weight(self) -> u32 {
        match self {
            Topic::Showing => 22,
            Topic::Pricing => 14,
            Topic::Financing => 9,
            Topic::ApplicationStatus => 10,
            Topic::Maintenance => 14,
            Topic::Referral => 9,
            Topic::Parking => 10,
            Topic::Pets => 12,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Topic::Showing => "showing",
            Topic::Pricing => "pricing",
            Topic::Financing => "financing",
            Topic::ApplicationStatus => "application status",
            Topic::Maintenance => "maintenance",
            Topic::Referral => "referral",
            Topic::Parking => "parking",
            Topic::Pets => "pets",
        }
    }

    /// The intent the agent shipped with, for the known topics.
    pub fn static_intent(self) -> Option<(&'static str, &'static str)> {
        match self {
            Topic::Showing => Some(("SHOWING_REQUEST", "schedule_showing")),
            Topic::Pricing => Some(("PRICING", "quote_pricing")),
            Topic::Financing => Some(("FINANCING", "financing_info")),
            Topic::ApplicationStatus => Some(("APPLICATION_STATUS", "application_status")),
            _ => None,
        }
    }

    /// Words that identify a planted topic in a proposal (the simulated admin's judgement).
    pub fn vocabulary(self) -> &'static [&'static str] {
        match self {
            Topic::Maintenance => &[
                "maintenance",
                "leak",
                "leaking",
                "leaks",
                "sink",
                "heater",
                "heat",
                "broken",
                "broke",
                "repair",
                "fix",
                "fixed",
                "dishwasher",
                "toilet",
                "clogged",
                "ac",
                "working",
                "water",
                "faucet",
                "dripping",
            ],
            Topic::Referral => &[
                "refer",
                "referral",
                "referring",
                "friend",
                "friends",
                "coworker",
                "bonus",
                "sister",
                "cousin",
            ],
            Topic::Parking => &[
                "park", "parking", "garage", "spot", "spots", "car", "cars", "space", "ev", "charging",
                "guests", "permit",
            ],
            Topic::Pets => &[
                "pet", "pets", "dog", "dogs", "cat", "cats", "terrier", "allowed", "animal", "animals",
                "puppy", "lab",
            ],
            _ => &[],
        }
    }
}

const PROPERTIES: &[&str] = &[
    "the 2-bed on Elm Street",
    "unit 4B at Oak Terrace",
    "the townhouse on Maple Ave",
    "the studio at 12 Birch Lane",
    "the 3 bedroom on Cedar Court",
    "apartment 7 at Willow Park",
    "the loft on Harbor Road",
    "the 1br at Pine Hills",
];
const DAYS: &[&str] = &[
    "Saturday morning",
    "tomorrow afternoon",
    "Tuesday after 5",
    "this weekend",
    "Friday at noon",
    "Monday",
];
const GREETINGS: &[&str] = &["Hi! ", "Hello, ", "Hey there. ", "", "Good morning! ", "Hi team, ", ""];
const SIGN_OFFS: &[&str] = &["", " Thanks!", " thx", " Thank you.", "", " Cheers", " - sent from my phone"];
const UNITS: &[&str] = &["3A", "12", "4B", "209", "7C", "15"];

fn templates(topic: Topic) -> &'static [&'static str] {
    match topic {
        Topic::Showing => &[
            "is {prop} still available? Could I come see it {day}?",
            "I'd like to schedule a viewing of {prop}. Is {day} possible?",
            "can we book a tour of {prop} {day}?",
            "interested in {prop}, when can I visit? {day} would be ideal",
            "Would it be possible to see {prop} this week? {day} works best for me.",
            "is there a showing for {prop} {day}? my partner wants to see it too",
        ],
        Topic::Pricing => &[
            "How much is the rent for {prop}?",
            "what's the monthly rent on {prop}? does it include utilities?",
            "Can you tell me the price of {prop}?",
            "is the rent negotiable for {prop}?",
            "what does {prop} cost per month with the deposit?",
        ],
        Topic::Financing => &[
            "Do you accept section 8 vouchers for {prop}?",
            "Do you work with guarantors? my credit isn't great",
            "Is there an income requirement? I make about 48k a year",
            "what credit score do I need to qualify for {prop}?",
            "can I use a co-signer or guarantor if my income is low?",
        ],
        Topic::ApplicationStatus => &[
            "I applied for {prop} last week, any update on my application?",
            "what's the status of my application for {prop}?",
            "Has my application been approved yet?",
            "I submitted my application on monday, did you get it?",
            "any news on my application? the background check should be done",
        ],
        Topic::Maintenance => &[
            "The kitchen sink has been leaking since yesterday, can someone come fix it?",
            "there is a leak under the bathroom sink in unit {unit}, water everywhere",
            "my heater stopped working and it's freezing, can you send someone to repair it?",
            "the dishwasher in unit {unit} is broken again, please fix it",
            "the AC is not working in unit {unit}, can maintenance come repair it?",
            "toilet is clogged and the bathroom sink is leaking, need a repair asap",
            "the faucet keeps dripping and now the sink leaks, who do I call for maintenance?",
        ],
        Topic::Referral => &[
            "My friend is looking for a place too, do you have a referral bonus?",
            "If I refer a friend do I get a referral bonus?",
            "my coworker wants to move in here, is there a referral program for friends?",
            "do you give a bonus for referring friends to the building?",
            "my sister might sign a lease here, can I refer her for the referral bonus?",
        ],
        Topic::Parking => &[
            "Is there parking included with {prop}? I have one car",
            "do I get an assigned parking spot for my car?",
            "where can guests park? is there guest parking?",
            "is there a parking garage or is it street parking only?",
            "can I get a second parking spot for my other car?",
            "is there EV charging in the parking garage?",
        ],
        Topic::Pets => &[
            "Are dogs allowed? I have a small terrier",
            "do you allow cats in {prop}? I have two cats",
            "is the building pet friendly? we have a dog and a cat",
            "what's your pet policy? we have a 40lb dog",
            "Can I bring my dog? he is a very calm lab",
            "are pets allowed in {prop}? just one small cat",
        ],
    }
}

/// The agent's draft for a known intent, with and without the boilerplate reps delete.
const BOILER_OPEN: &str = "I'd be happy to help with that! Thank you so much for reaching out to us today.";
const BOILER_CLOSE: &str =
    "Please don't hesitate to let me know if you have any other questions, we are always here to help.";
const AVAILABILITY: &str = "Let me check availability and get back to you within the hour.";

fn core_reply(topic: Topic, slots: &Slots) -> String {
    match topic {
        Topic::Showing => format!("We have viewing slots for {} {}. Would 10am or 11am work for you?", slots.prop, slots.day),
        Topic::Pricing => format!("The rent for {} is $1,850 per month, water and trash included.", slots.prop),
        Topic::Financing => "We accept vouchers and guarantors; the income requirement is 2.5x the rent.".into(),
        Topic::ApplicationStatus => "Your application is in review; we expect a decision within two business days.".into(),
        Topic::Maintenance => format!("Sorry about that! I've logged a maintenance request for unit {} and a technician will call you today.", slots.unit),
        Topic::Referral => "Yes! Residents get a $300 referral bonus once your friend signs a lease. Just have them mention your name.".into(),
        Topic::Parking => "Each unit has one assigned spot in the garage; a second spot or EV charging is $75 per month.".into(),
        Topic::Pets => "We're pet friendly: up to two cats or dogs under 60 lb, with a one-time pet deposit of $300.".into(),
    }
}

/// What the reps actually want to send for a known intent (the planted edit themes).
fn preferred_reply(topic: Topic, slots: &Slots) -> String {
    match topic {
        Topic::Showing => format!("{AVAILABILITY} Does {} still work for you?", slots.day),
        _ => core_reply(topic, slots),
    }
}

#[derive(Debug, Clone)]
struct Slots {
    prop: &'static str,
    day: &'static str,
    unit: &'static str,
}

/// One inbound message of the week, with its ground truth.
#[derive(Debug, Clone)]
pub struct Inbound {
    pub index: usize,
    pub conversation: String,
    pub contact: String,
    pub body: String,
    pub topic: Topic,
    slots_seed: u64,
}

/// A week of inbound messages: conversations with one to three contacts each.
pub fn generate_week(rng: &Rng, week: usize, count: usize) -> Vec<Inbound> {
    let mut rng = rng.fork(week as u64 + 1);
    let weights: Vec<u32> = Topic::ALL.iter().map(|t| t.weight()).collect();
    let conversations = (count * 2 / 5).max(4);
    let mut out = Vec::with_capacity(count);
    for index in 0..count {
        let conv = rng.below(conversations);
        let contacts = 1 + (conv * 7 + week) % 3;
        let topic = Topic::ALL[rng.weighted(&weights)];
        let slots = Slots { prop: rng.pick(PROPERTIES), day: rng.pick(DAYS), unit: rng.pick(UNITS) };
        let template = rng.pick(templates(topic));
        let mut body = format!("{}{}{}", rng.pick(GREETINGS), fill(template, &slots), rng.pick(SIGN_OFFS));
        if rng.chance(0.12) {
            body = typo(&body, &mut rng);
        }
        if rng.chance(0.05) {
            body.push_str(" You can call me at 555-201-3344.");
        }
        out.push(Inbound {
            index,
            conversation: format!("conv-w{}-{conv:03}", week + 1),
            contact: format!("contact-w{}-{conv:03}-{}", week + 1, rng.below(contacts)),
            body,
            topic,
            slots_seed: rng.next_u64(),
        });
    }
    out
}

fn fill(template: &str, slots: &Slots) -> String {
    template.replace("{prop}", slots.prop).replace("{day}", slots.day).replace("{unit}", slots.unit)
}

/// Swaps two adjacent letters of one longer word (customers type on phones).
fn typo(text: &str, rng: &mut Rng) -> String {
    let words: Vec<&str> = text.split(' ').collect();
    let long: Vec<usize> = (0..words.len())
        .filter(|&i| words[i].len() > 4 && words[i].chars().all(|c| c.is_ascii_alphabetic()))
        .collect();
    if long.is_empty() {
        return text.to_owned();
    }
    let target = long[rng.below(long.len())];
    let mut chars: Vec<char> = words[target].chars().collect();
    let at = 1 + rng.below(chars.len() - 2);
    chars.swap(at, at + 1);
    let swapped: String = chars.into_iter().collect();
    words
        .iter()
        .enumerate()
        .map(|(i, w)| if i == target { swapped.as_str() } else { w })
        .collect::<Vec<_>>()
        .join(" ")
}

impl Inbound {
    fn slots(&self) -> Slots {
        let mut rng = Rng::new(self.slots_seed);
        Slots { prop: rng.pick(PROPERTIES), day: rng.pick(DAYS), unit: rng.pick(UNITS) }
    }

    fn rng(&self) -> Rng {
        Rng::new(self.slots_seed ^ 0xA5A5_5A5A)
    }
}

/// What the agent knows at the start of a week: the dynamic intents and playbook entries the
/// admin has applied, as read from the dashboard.
#[derive(Debug, Clone, Default)]
pub struct AgentConfig {
    pub intents: Vec<DynamicIntent>,
    pub playbook: Vec<Playbook>,
}

#[derive(Debug, Clone)]
pub struct DynamicIntent {
    pub id: String,
    pub name: String,
    pub keywords: Vec<String>,
    pub examples: Vec<String>,
    /// The planted topic it stands for, as far as the simulated agent can tell.
    pub topic: Option<Topic>,
}

#[derive(Debug, Clone)]
pub struct Playbook {
    pub id: String,
    /// None: every intent.
    pub intent: Option<String>,
    pub guidance: Guidance,
}

/// What an applied playbook entry changes in the simulated agent's drafts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Guidance {
    /// Shorter drafts, no boilerplate.
    Concise,
    /// Showing drafts check availability instead of promising slots.
    CheckAvailability,
    Other,
}

impl Guidance {
    pub fn of(text: &str) -> Self {
        let text = text.to_lowercase();
        if text.contains("availability") {
            Guidance::CheckAvailability
        } else if text.contains("concise")
            || text.contains("shorter")
            || text.contains("happy to help")
            || text.contains("thank you so much")
            || text.contains("don't hesitate")
            || text.contains("dont hesitate")
        {
            Guidance::Concise
        } else {
            Guidance::Other
        }
    }
}

/// The words of a text, lowercased, letters and digits only.
pub fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric() && c != '\'')
        .map(|w| w.trim_matches('\'').to_lowercase())
        .filter(|w| !w.is_empty())
        .collect()
}

/// The text without the names of the properties it mentions: "apartment 7 at Willow Park" is
/// no word about parking, as an admin reading a showing request knows.
pub fn without_property_names(text: &str) -> String {
    PROPERTIES.iter().fold(text.to_owned(), |text, property| text.replace(property, " "))
}

/// The planted topic a set of words is about (at least two vocabulary hits), if any.
pub fn topic_of_words<'a>(words: impl IntoIterator<Item = &'a str>) -> Option<Topic> {
    let mut scores = [0usize; 4];
    for word in words {
        for (i, topic) in Topic::PLANTED.iter().enumerate() {
            if topic.vocabulary().contains(&word) {
                scores[i] += 1;
            }
        }
    }
    let (best, score) = scores.iter().enumerate().max_by_key(|(i, s)| (**s, std::cmp::Reverse(*i)))?;
    (*score >= 2).then_some(Topic::PLANTED[best])
}

/// The CRM's classifier: keyword rules for the four intents it shipped with, then the dynamic
/// intents (their keywords and examples).
pub fn classify(body: &str, config: &AgentConfig) -> Option<Classified> {
    let lower = body.to_lowercase();
    const RULES: &[(&str, &[&str])] = &[
        ("APPLICATION_STATUS", &["application", "applied", "approved", "background check"]),
        ("FINANCING", &["voucher", "section 8", "guarantor", "co-signer", "credit", "income"]),
        ("PRICING", &["rent", "price", "cost", "how much"]),
        ("SHOWING_REQUEST", &["available", "viewing", "tour", "see it", "visit", "showing"]),
    ];
    for (name, keys) in RULES {
        if keys.iter().any(|key| lower.contains(key)) {
            return Some(Classified { name: (*name).to_owned(), dynamic: None });
        }
    }
    let message_words = words(body);
    // Chat filler is no evidence of a topic, whatever the learned keywords say.
    const FILLER: &[&str] = &[
        "hi", "hello", "hey", "team", "morning", "thanks", "thank", "thx", "cheers", "cheer", "sent",
        "phone", "please", "you", "only", "just", "small",
    ];
    let mut best: Option<(f64, &DynamicIntent)> = None;
    for intent in &config.intents {
        let keyword_hits = intent
            .keywords
            .iter()
            .filter(|key| {
                let key = key.to_lowercase();
                if FILLER.contains(&key.as_str()) {
                    return false;
                }
                if key.contains(' ') { lower.contains(&key) } else { message_words.contains(&key) }
            })
            .count();
        let example_overlap =
            intent.examples.iter().map(|e| jaccard(&message_words, &words(e))).fold(0.0, f64::max);
        let score = keyword_hits as f64 + example_overlap * 2.0;
        if (keyword_hits >= 1 || example_overlap >= 0.35) && best.is_none_or(|(s, _)| score > s) {
            best = Some((score, intent));
        }
    }
    best.map(|(_, intent)| Classified { name: intent.name.clone(), dynamic: Some(intent.clone()) })
}

fn jaccard(a: &[String], b: &[String]) -> f64 {
    let a: std::collections::BTreeSet<&String> = a.iter().collect();
    let b: std::collections::BTreeSet<&String> = b.iter().collect();
    let union = a.union(&b).count();
    if union == 0 { 0.0 } else { a.intersection(&b).count() as f64 / union as f64 }
}

#[derive(Debug, Clone)]
pub struct Classified {
    pub name: String,
    pub dynamic: Option<DynamicIntent>,
}

/// What the agent ran and what the rep sent, for one inbound message.
#[derive(Debug, Clone)]
pub struct Handled {
    pub intent: Option<Classified>,
    pub skill: Option<String>,
    pub playbook_ids: Vec<String>,
    pub draft: Option<String>,
    pub sent: String,
}

/// The agent's draft and the rep's send for a message, given what the agent knows.
pub fn handle(message: &Inbound, config: &AgentConfig) -> Handled {
    let slots = message.slots();
    let mut rng = message.rng();
    let intent = classify(&message.body, config);
    let Some(classified) = intent else {
        // A gap: no intent, no draft; the rep answers from scratch.
        return Handled {
            intent: None,
            skill: None,
            playbook_ids: Vec::new(),
            draft: None,
            sent: preferred_reply(message.topic, &slots),
        };
    };
    let playbook: Vec<&Playbook> = config
        .playbook
        .iter()
        .filter(|entry| entry.intent.as_deref().is_none_or(|name| name == classified.name))
        .collect();
    let has = |guidance: Guidance| playbook.iter().any(|entry| entry.guidance == guidance);
    let playbook_ids = playbook.iter().map(|entry| entry.id.clone()).collect();

    if let Some(dynamic) = &classified.dynamic {
        // A learned intent drafts what the reps wrote for its topic: mostly sent as is.
        let topic = dynamic.topic.unwrap_or(message.topic);
        let draft = core_reply(topic, &slots);
        let sent = if topic != message.topic {
            preferred_reply(message.topic, &slots)
        } else {
            rep_send(&draft, &draft, 0.88, &mut rng)
        };
        return Handled {
            skill: Some(format!("answer_{}", dynamic.name.to_lowercase())),
            intent: Some(classified),
            playbook_ids,
            draft: Some(draft),
            sent,
        };
    }

    let static_topic = Topic::ALL
        .into_iter()
        .find(|topic| topic.static_intent().is_some_and(|(name, _)| name == classified.name))
        .unwrap_or(Topic::Showing);
    let skill = static_topic.static_intent().map(|(_, skill)| skill.to_owned());
    let core = if static_topic == Topic::Showing && has(Guidance::CheckAvailability) {
        preferred_reply(Topic::Showing, &slots)
    } else {
        core_reply(static_topic, &slots)
    };
    let draft = if has(Guidance::Concise) { core } else { format!("{BOILER_OPEN} {core} {BOILER_CLOSE}") };
    let wanted = preferred_reply(message.topic, &slots);
    let sent = if static_topic != message.topic {
        wanted
    } else if draft == wanted {
        rep_send(&draft, &wanted, 0.85, &mut rng)
    } else if draft.starts_with(BOILER_OPEN) {
        // The old long drafts: a quarter go out as they are, the rest lose the boilerplate.
        rep_send(&draft, &wanted, 0.25, &mut rng)
    } else {
        rep_send(&draft, &wanted, 0.6, &mut rng)
    };
    Handled { intent: Some(classified), skill, playbook_ids, draft: Some(draft), sent }
}

/// A rep's send: the draft unedited with probability `keep`, else lightly edited (one in
/// four) or replaced by what they wanted to say.
fn rep_send(draft: &str, wanted: &str, keep: f64, rng: &mut Rng) -> String {
    if rng.chance(keep) {
        draft.to_owned()
    } else if rng.chance(0.25) || draft == wanted {
        light_edit(draft, rng)
    } else {
        wanted.to_owned()
    }
}

fn light_edit(draft: &str, rng: &mut Rng) -> String {
    match rng.below(3) {
        0 => draft.replacen(" for you?", "?", 1).replacen("!", ".", 1) + " Thanks!",
        1 => format!("Hi! {draft}"),
        _ => format!("{draft} Best, Dana"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_property_name_is_no_word_of_a_topic() {
        let showing = "Would it be possible to see apartment 7 at Willow Park this week? \
                       Also is apartment 7 at Willow Park still open?";
        let topic = |text: &str| topic_of_words(words(text).iter().map(String::as_str));
        assert_eq!(topic(showing), Some(Topic::Parking), "the name alone reads as parking");
        assert_eq!(topic(&without_property_names(showing)), None);
        let parking = "Is there parking included with apartment 7 at Willow Park? I have one car";
        assert_eq!(topic(&without_property_names(parking)), Some(Topic::Parking));
    }

    #[test]
    fn a_week_is_deterministic_and_mixes_every_topic() {
        let rng = Rng::new(7);
        let a = generate_week(&rng, 0, 200);
        let b = generate_week(&rng, 0, 200);
        assert_eq!(
            a.iter().map(|m| &m.body).collect::<Vec<_>>(),
            b.iter().map(|m| &m.body).collect::<Vec<_>>()
        );
        for topic in Topic::ALL {
            assert!(a.iter().filter(|m| m.topic == topic).count() >= 5, "{topic:?}");
        }
    }

    #[test]
    fn the_static_rules_leave_the_planted_topics_as_gaps() {
        let rng = Rng::new(11);
        let config = AgentConfig::default();
        for message in generate_week(&rng, 0, 400) {
            let classified = classify(&message.body, &config);
            if Topic::PLANTED.contains(&message.topic) {
                assert!(classified.is_none(), "{:?} classified: {}", message.topic, message.body);
            }
        }
    }

    #[test]
    fn planted_vocabulary_names_its_topic() {
        assert_eq!(topic_of_words(["sink", "leaking", "fix"]), Some(Topic::Maintenance));
        assert_eq!(topic_of_words(["parking", "garage"]), Some(Topic::Parking));
        assert_eq!(topic_of_words(["rent", "month"]), None);
    }
}
