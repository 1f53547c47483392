//! Dynamic config items: the learned intents and playbook entries the agent uses, and the
//! counts that A/B-test them.

use serde::{Deserialize, Serialize};

/// The two kinds of dynamic config.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ItemKind {
    /// A dynamic intent the classifier can match.
    Intent,
    /// A playbook entry injected into the agent's prompt.
    PlaybookEntry,
}

impl ItemKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Intent => "intent",
            Self::PlaybookEntry => "playbookEntry",
        }
    }

    /// For people: "intent", "playbook entry".
    pub fn label(self) -> &'static str {
        match self {
            Self::Intent => "intent",
            Self::PlaybookEntry => "playbook entry",
        }
    }
}

/// A reference to one dynamic config item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ConfigItem<'a> {
    pub kind: ItemKind,
    pub id: &'a str,
}

impl<'a> ConfigItem<'a> {
    pub fn intent(id: &'a str) -> Self {
        Self { kind: ItemKind::Intent, id }
    }

    pub fn playbook_entry(id: &'a str) -> Self {
        Self { kind: ItemKind::PlaybookEntry, id }
    }
}

/// How often a piece of dynamic config was used and how often its drafts went out unedited.
/// The approval rate is derived from the two counts rather than stored beside them, so that
/// atomic counter updates can never leave it disagreeing with them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UsageCounts {
    #[serde(default)]
    pub hit_count: u64,
    #[serde(default)]
    pub sent_count: u64,
    #[serde(default)]
    pub unedited_count: u64,
}

impl UsageCounts {
    /// Share of sent drafts that went out without editing; `None` before the first send.
    pub fn approval_rate(&self) -> Option<f64> {
        (self.sent_count > 0).then(|| self.unedited_count as f64 / self.sent_count as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn approval_rate_is_unedited_share_of_sends() {
        let usage = UsageCounts { hit_count: 12, sent_count: 10, unedited_count: 8 };
        assert_eq!(usage.approval_rate(), Some(0.8));
        assert_eq!(UsageCounts::default().approval_rate(), None);
    }

    #[test]
    fn kinds_spell_as_in_json() {
        for kind in [ItemKind::Intent, ItemKind::PlaybookEntry] {
            assert_eq!(serde_json::to_value(kind).unwrap(), serde_json::json!(kind.as_str()));
        }
    }
}
