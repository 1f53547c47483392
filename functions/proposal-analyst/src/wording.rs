//! What the model is asked and what it may answer: the prompts (versioned files under
//! `prompts/`), the tools it answers through, and the strict parsing and checks an answer
//! passes before it replaces the rules' wording.

use garde::Validate;
use serde::Deserialize;
use serde_json::{Value, json};

use autolearn_learning::text::one_line as one_line_text;
use autolearn_learning::text::own_words;
use autolearn_model::{DraftFeedback, LearningProposal, ProposalKind};

use autolearn_learning::text::mask_for_model;

/// One kind of question to the model: its prompt file and the tool it answers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Prompt {
    /// `amendment-v1`: the file name, recorded on each proposal the model words.
    pub version: &'static str,
    pub system: &'static str,
    pub tool: &'static str,
}

pub const AMENDMENT: Prompt = Prompt {
    version: "amendment-v1",
    system: include_str!("../prompts/amendment-v1.txt"),
    tool: "word_amendment",
};

pub const INTENT: Prompt =
    Prompt { version: "intent-v1", system: include_str!("../prompts/intent-v1.txt"), tool: "name_intent" };

pub const EDIT_SUMMARY: Prompt = Prompt {
    version: "edit-summary-v1",
    system: include_str!("../prompts/edit-summary-v1.txt"),
    tool: "summarize_edit",
};

/// Characters of a draft or a sent reply shown to the model for its summary.
const SUMMARY_TEXT_CHARS: usize = 1_200;

/// Before/after pairs of an amendment shown to the model, and messages of a new intent.
const EXAMPLES: usize = 6;

/// A playbook amendment as the model words it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Validate)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AmendmentWording {
    #[garde(length(chars, min = 10, max = 200))]
    pub reason: String,
    #[garde(length(chars, min = 3, max = 600), custom(checklist))]
    pub playbook_text: String,
}

/// A new intent as the model names it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Validate)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct IntentWording {
    #[garde(length(min = 3, max = 40), custom(upper_snake))]
    pub name: String,
    #[garde(length(chars, min = 10, max = 200))]
    pub description: String,
    #[garde(length(chars, min = 10, max = 400))]
    pub answer_outline: String,
}

/// An edit's one-line summary as the model writes it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Validate)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EditSummaryWording {
    #[garde(length(chars, min = 5, max = 160), custom(one_line))]
    pub summary: String,
}

fn one_line(text: &str, _: &()) -> garde::Result {
    if text.contains(['\n', '\r']) { Err(garde::Error::new("must be one line")) } else { Ok(()) }
}

fn checklist(text: &str, _: &()) -> garde::Result {
    if text.lines().filter(|line| !line.trim().is_empty()).all(|line| line.starts_with("- ")) {
        Ok(())
    } else {
        Err(garde::Error::new("every line must start with \"- \""))
    }
}

fn upper_snake(name: &str, _: &()) -> garde::Result {
    let words: Vec<&str> = name.split('_').collect();
    let shaped = (2..=4).contains(&words.len())
        && words.iter().all(|word| {
            word.starts_with(|c: char| c.is_ascii_uppercase())
                && word.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        });
    if shaped { Ok(()) } else { Err(garde::Error::new("must be 2 to 4 UPPER_SNAKE words")) }
}

/// Parses and checks a tool answer: unknown fields, wrong types, lengths or shapes are refused.
pub fn parse<T: for<'de> Deserialize<'de> + Validate<Context = ()>>(input: Value) -> Result<T, String> {
    let parsed: T = serde_json::from_value(input).map_err(|error| error.to_string())?;
    parsed.validate().map_err(|report| report.to_string())?;
    Ok(parsed)
}

/// The prompt, the tool's input schema and the masked question for a proposal, or `None` for a
/// kind the model does not word.
pub fn question(stored: &LearningProposal) -> Option<(Prompt, Value, String)> {
    let proposal = &stored.proposal;
    match proposal.kind {
        ProposalKind::PlaybookAmendment => {
            let mut question = format!(
                "Scope: {}\nChanges found by the rules:\n{}\n",
                proposal.intent_name.as_deref().unwrap_or("global"),
                proposal.playbook_text.as_deref().unwrap_or_default()
            );
            for (i, pair) in
                proposal.evidence.iter().filter_map(|e| e.edit.as_ref()).take(EXAMPLES).enumerate()
            {
                question.push_str(&format!(
                    "\nExample {}\nDraft: {}\nSent: {}\n",
                    i + 1,
                    pair.before,
                    pair.after
                ));
            }
            let schema = json!({
                "type": "object",
                "properties": {
                    "reason": {"type": "string", "maxLength": 200},
                    "playbookText": {"type": "string", "maxLength": 600}
                },
                "required": ["reason", "playbookText"],
                "additionalProperties": false
            });
            Some((AMENDMENT, schema, mask_for_model(&question)))
        }
        ProposalKind::NewIntent => {
            let mut question = format!("Keywords: {}\nMessages:\n", proposal.keywords.join(", "));
            // What each customer wrote: not the answer an email reply quotes below it, nor a
            // phone's signature (`text::own_words`, what discovery read of it).
            for example in proposal.examples.iter().take(EXAMPLES) {
                question.push_str(&format!("- {}\n", own_words(example)));
            }
            let schema = json!({
                "type": "object",
                "properties": {
                    "name": {"type": "string", "pattern": "^[A-Z][A-Z0-9]*(_[A-Z][A-Z0-9]*){1,3}$"},
                    "description": {"type": "string", "maxLength": 200},
                    "answerOutline": {"type": "string", "maxLength": 400}
                },
                "required": ["name", "description", "answerOutline"],
                "additionalProperties": false
            });
            Some((INTENT, schema, mask_for_model(&question)))
        }
        ProposalKind::IntentExample => None,
    }
}

/// The prompt, schema and masked question for the summary of one edit.
pub fn summary_question(feedback: &DraftFeedback) -> (Prompt, Value, String) {
    let question = format!(
        "Draft: {}\nSent: {}\n",
        one_line_text(&feedback.original_draft, SUMMARY_TEXT_CHARS),
        one_line_text(&feedback.sent_version, SUMMARY_TEXT_CHARS)
    );
    let schema = json!({
        "type": "object",
        "properties": {"summary": {"type": "string", "maxLength": 160}},
        "required": ["summary"],
        "additionalProperties": false
    });
    (EDIT_SUMMARY, schema, mask_for_model(&question))
}

/// The summary in a valid answer.
pub fn summary(answer: Value) -> Result<String, String> {
    parse::<EditSummaryWording>(answer).map(|wording| wording.summary)
}

/// Applies a valid answer to the proposal; `Err` (the rules' wording stays) otherwise.
pub fn apply(stored: &mut LearningProposal, prompt: Prompt, answer: Value) -> Result<(), String> {
    match stored.proposal.kind {
        ProposalKind::PlaybookAmendment if prompt == AMENDMENT => {
            let wording: AmendmentWording = parse(answer)?;
            stored.description = wording.reason;
            stored.proposal.playbook_text = Some(wording.playbook_text);
        }
        ProposalKind::NewIntent if prompt == INTENT => {
            let wording: IntentWording = parse(answer)?;
            let old = stored.proposal.intent_name.clone().unwrap_or_default();
            stored.proposal.title = stored.proposal.title.replacen(&old, &wording.name, 1);
            stored.proposal.intent_name = Some(wording.name);
            stored.description =
                format!("{} Suggested answer: {}", wording.description, wording.answer_outline);
        }
        _ => return Err("the answer is for another kind of proposal".into()),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_intent_is_asked_about_what_customers_wrote() {
        let mut stored = autolearn_testkit::fixtures::proposal("p-1", "s-1", chrono::Utc::now());
        stored.proposal.examples = vec![
            "Is parking included?\nSent from my iPhone\n\nOn Mon, Nov 30, 2026 at 9:12 AM Pine Hills \
             <leasing@example.com> wrote:\n> Thanks for reaching out! We have viewing slots on Monday."
                .into(),
            "Can I park a second car?".into(),
        ];
        let (_, _, question) = question(&stored).expect("a new intent is worded");
        assert!(question.contains("- Is parking included?\n- Can I park a second car?\n"), "{question}");
        for quoted in ["viewing slots", "iPhone", "wrote"] {
            assert!(!question.contains(quoted), "{quoted:?} in {question}");
        }
    }

    #[test]
    fn answers_are_parsed_strictly() {
        let good = json!({"reason": "People drop the opening apology.", "playbookText": "- Don't open with an apology."});
        assert!(parse::<AmendmentWording>(good).is_ok());
        for bad in [
            json!({"reason": "People drop the opening apology.", "playbookText": "Don't apologize."}),
            json!({"reason": "short", "playbookText": "- Don't open with an apology."}),
            json!({"reason": "People drop the opening apology.", "playbookText": "- x", "extra": 1}),
            json!({"reason": "People drop the opening apology."}),
            json!("just text"),
        ] {
            assert!(parse::<AmendmentWording>(bad.clone()).is_err(), "{bad}");
        }
        let intent = |name: &str| json!({"name": name, "description": "People report broken appliances.", "answerOutline": "Log it; give a time."});
        assert!(parse::<IntentWording>(intent("MAINTENANCE_REQUEST")).is_ok());
        for bad in ["maintenance", "MAINTENANCE", "A_B_C_D_E", "WELLS_FARGO!", "Maintenance_Request"] {
            assert!(parse::<IntentWording>(intent(bad)).is_err(), "{bad}");
        }
    }
}
