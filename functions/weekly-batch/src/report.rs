//! The weekly report email: subject, HTML and plain-text parts rendered from askama templates
//! (the HTML one auto-escapes, so customer text in examples cannot inject markup).

use askama::Template;

/// A metric this week against the week before.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Trend {
    pub this_week: Option<f64>,
    pub last_week: Option<f64>,
}

impl std::fmt::Display for Trend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.this_week, self.last_week) {
            (None, _) => write!(f, "no data this week"),
            (Some(now), None) => write!(f, "{:.0}% (no data the week before)", now * 100.0),
            (Some(now), Some(before)) => {
                let points = (now - before) * 100.0;
                write!(
                    f,
                    "{:.0}% ({}{:.0} points since last week)",
                    now * 100.0,
                    if points >= 0.0 { "+" } else { "" },
                    points
                )
            }
        }
    }
}

/// What the report says.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportData {
    pub period: String,
    pub conversations: usize,
    pub new_intents: Vec<String>,
    pub intent_examples: usize,
    pub playbook_updates: Vec<String>,
    pub edits_analysed: usize,
    pub common_theme: Option<String>,
    pub accuracy: Trend,
    pub coverage: Trend,
    pub decisions: Vec<String>,
    /// The session's proposals, one line each (their titles), highest impact first.
    pub proposals: Vec<String>,
    /// A few masked customer messages behind the proposals.
    pub examples: Vec<String>,
    pub review_url: String,
}

/// The email leads with at most this many proposals; the rest wait behind the review link.
pub const LEADING_PROPOSALS: usize = 5;

impl ReportData {
    pub fn improvements(&self) -> usize {
        self.new_intents.len() + self.intent_examples + self.playbook_updates.len()
    }

    pub fn subject(&self) -> String {
        match self.improvements() {
            0 => "🧠 Weekly Learning Report — Nothing New to Review".to_owned(),
            1 => "🧠 Weekly Learning Report — 1 Improvement Suggested".to_owned(),
            n => format!("🧠 Weekly Learning Report — {n} Improvements Suggested"),
        }
    }
}

/// What both parts show; the templates read it as `v`.
struct ReportView<'a> {
    subject: String,
    period: &'a str,
    conversations: usize,
    nothing_to_report: bool,
    new_intents: &'a [String],
    intent_examples: usize,
    playbook_updates: &'a [String],
    edits_analysed: usize,
    common_theme: &'a Option<String>,
    accuracy: Trend,
    coverage: Trend,
    decisions: &'a [String],
    leading: &'a [String],
    more: usize,
    examples: &'a [String],
    review_url: &'a str,
}

#[derive(Template)]
#[template(path = "report.html")]
struct HtmlReport<'a> {
    v: &'a ReportView<'a>,
}

#[derive(Template)]
#[template(path = "report.txt")]
struct TextReport<'a> {
    v: &'a ReportView<'a>,
}

/// The rendered email.
#[derive(Debug, Clone, PartialEq)]
pub struct RenderedReport {
    pub subject: String,
    pub html: String,
    pub text: String,
}

pub fn render(data: &ReportData) -> Result<RenderedReport, askama::Error> {
    let view = ReportView {
        subject: data.subject(),
        period: &data.period,
        conversations: data.conversations,
        nothing_to_report: data.improvements() == 0 && data.edits_analysed == 0,
        new_intents: &data.new_intents,
        intent_examples: data.intent_examples,
        playbook_updates: &data.playbook_updates,
        edits_analysed: data.edits_analysed,
        common_theme: &data.common_theme,
        accuracy: data.accuracy,
        coverage: data.coverage,
        decisions: &data.decisions,
        leading: &data.proposals[..data.proposals.len().min(LEADING_PROPOSALS)],
        more: data.proposals.len().saturating_sub(LEADING_PROPOSALS),
        examples: &data.examples,
        review_url: &data.review_url,
    };
    let html = HtmlReport { v: &view }.render()?;
    let text = TextReport { v: &view }.render()?;
    Ok(RenderedReport { subject: view.subject, html, text })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> ReportData {
        ReportData {
            period: "2026-11-09 – 2026-11-16".into(),
            conversations: 47,
            new_intents: vec!["REFERRAL".into(), "MAINTENANCE_REQUEST".into()],
            intent_examples: 0,
            playbook_updates: vec!["financing guidance needs update".into()],
            edits_analysed: 5,
            common_theme: Some("shorter responses preferred".into()),
            accuracy: Trend { this_week: Some(0.62), last_week: Some(0.55) },
            coverage: Trend { this_week: Some(0.8), last_week: None },
            decisions: vec![],
            proposals: (1..=7).map(|i| format!("proposal {i}")).collect(),
            examples: vec!["<script>alert(1)</script> my sink leaks".into()],
            review_url: "https://example.test/admin/ai/learning".into(),
        }
    }

    #[test]
    fn the_report_reads_like_the_design_documents_sample() {
        let report = render(&sample()).unwrap();
        assert_eq!(report.subject, "🧠 Weekly Learning Report — 3 Improvements Suggested");
        assert!(report.text.contains("This week's analysis of 47 conversations found:"), "{}", report.text);
        assert!(
            report.text.contains("• 2 new intent patterns (REFERRAL, MAINTENANCE_REQUEST)"),
            "{}",
            report.text
        );
        assert!(report.text.contains("• 1 playbook update\n"), "{}", report.text);
        assert!(report.text.contains("• 5 draft edits analysed (common theme: shorter responses preferred)"));
        assert!(report.text.contains("Draft accuracy: 62% (+7 points since last week)"), "{}", report.text);
        assert!(
            report
                .text
                .contains("→ Review proposals in Mission Control: https://example.test/admin/ai/learning")
        );
    }

    #[test]
    fn the_email_leads_with_five_proposals_and_links_the_rest() {
        let report = render(&sample()).unwrap();
        for part in [&report.text, &report.html] {
            for i in 1..=5 {
                assert!(part.contains(&format!("proposal {i}")), "{part}");
            }
            assert!(!part.contains("proposal 6") && !part.contains("proposal 7"), "{part}");
            assert!(part.contains("and 2 more"), "{part}");
        }
        let text = &report.text;
        let first = text.find("proposal 1").unwrap();
        assert!(text.find("proposal 2").unwrap() > first, "ranked as given");
    }

    #[test]
    fn customer_text_is_escaped_in_html() {
        let report = render(&sample()).unwrap();
        assert!(!report.html.contains("<script>"), "{}", report.html);
        assert!(
            report.html.contains("&#60;script&#62;alert(1)&#60;/script&#62; my sink leaks"),
            "{}",
            report.html
        );
    }

    #[test]
    fn an_empty_week_says_so() {
        let mut data = sample();
        data.new_intents.clear();
        data.playbook_updates.clear();
        data.edits_analysed = 0;
        let report = render(&data).unwrap();
        assert_eq!(report.subject, "🧠 Weekly Learning Report — Nothing New to Review");
        assert!(report.text.contains("found nothing to improve"), "{}", report.text);
    }
}
