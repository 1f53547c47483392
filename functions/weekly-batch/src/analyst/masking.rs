//! What may leave for the model: customer text with emails, phone numbers, street addresses
//! and names masked.

use autolearn_learning::text::mask_personal_data;

/// Placeholder of a masked name.
pub const NAME_MASK: &str = "[name]";

/// Masks personal data (emails, phones, addresses) and then names: a capitalized word that
/// does not open a sentence ("Hi Maria,", "Thanks, John", "at Willow Park") becomes `[name]`.
/// This over-masks (places and products go too) on purpose: what the model needs is what
/// people ask and how the replies read, never who they are. A name that opens a sentence
/// ("Maria here.") is not recognised.
pub fn mask_for_model(text: &str) -> String {
    let masked = mask_personal_data(text);
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

#[cfg(test)]
mod tests {
    use super::*;

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
