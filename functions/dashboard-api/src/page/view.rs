//! The view model of the page: what the template renders, built from the dashboard document.
//! Every text field is escaped by the template; none is marked safe.

use askama::Template;
use autolearn_learning::text::one_line;
use autolearn_model::{ItemKind, ProposalKind};

use super::CSS;
use super::charts::*;
use crate::dashboard::Dashboard;

pub struct MetricCard {
    pub id: &'static str,
    pub label: &'static str,
    pub value: String,
    pub detail: String,
}

pub struct ConfigRow {
    pub kind: &'static str,
    pub name: String,
    pub detail: String,
    pub hits: String,
    pub period_hits: String,
    pub approval: String,
    pub experimental: bool,
}

pub struct EvidenceRow {
    pub conversation: String,
    pub text: String,
    pub similarity: String,
    /// The masked draft and sent reply of an edit (empty for a message).
    pub before: String,
    pub after: String,
}

pub struct ProposalCard {
    pub id: String,
    pub kind: &'static str,
    pub title: String,
    pub intent: String,
    pub description: String,
    pub confidence: &'static str,
    pub impact: u64,
    pub examples: Vec<String>,
    pub keywords: String,
    pub playbook_text: String,
    pub evidence: Vec<EvidenceRow>,
}

pub struct TimelineRow {
    pub day: String,
    pub sent: i64,
    pub unedited: i64,
    pub lightly_edited: i64,
    pub rewritten: i64,
    pub mean_edit_distance: String,
    pub accuracy: String,
}

/// A progress bar: filled share and the threshold marks, in SVG units.
pub struct ProgressBar {
    pub label: String,
    pub fill: String,
    pub marks: Vec<String>,
    pub met: bool,
}

pub struct ExperimentRow {
    pub kind: &'static str,
    pub name: String,
    pub hits: u64,
    pub approval: String,
    pub bars: Vec<ProgressBar>,
    pub action: &'static str,
    pub reason: String,
}

pub struct ShareRow {
    pub name: String,
    pub count: i64,
    pub share: String,
    pub fill: String,
}

#[derive(Template)]
#[template(path = "learning.html")]
pub struct LearningPage {
    pub css: &'static str,
    /// The session's form token, in every form (a page viewed with a bearer token has none).
    pub csrf: Option<String>,
    /// The latest learning sessions, newest first.
    pub sessions: Vec<SessionRow>,
    pub days: u32,
    pub from: String,
    pub to: String,
    pub coverage_score: String,
    pub executions: i64,
    pub gaps: i64,
    pub metrics: Vec<MetricCard>,
    pub quality_chart: LineChart,
    pub gaps_chart: BarChart,
    pub edits_chart: BarChart,
    pub config: Vec<ConfigRow>,
    pub proposals: Vec<ProposalCard>,
    pub timeline: Vec<TimelineRow>,
    /// Days of the period without a send (left out of the table).
    pub quiet_days: usize,
    pub experiments: Vec<ExperimentRow>,
    pub weeks: Vec<ShareRow>,
    pub skills: Vec<ShareRow>,
    pub playbook_hits: Vec<ShareRow>,
    pub bar_w: f64,
    pub chart_w: f64,
    pub chart_h: f64,
    pub axis_x0: f64,
    pub axis_x1: f64,
    pub axis_y: f64,
}

fn fill_of(fraction: f64) -> String {
    num(BAR_W * fraction.clamp(0.0, 1.0))
}

fn kind_label(kind: ProposalKind) -> &'static str {
    match kind {
        ProposalKind::NewIntent => "new intent",
        ProposalKind::IntentExample => "intent examples",
        ProposalKind::PlaybookAmendment => "playbook amendment",
    }
}

impl LearningPage {
    pub fn new(data: &Dashboard) -> Self {
        let days: Vec<chrono::NaiveDate> = data.health.gap_trend.iter().map(|d| d.day).collect();
        let m = &data.metrics;
        let metrics = vec![
            MetricCard {
                id: "metric-intent-coverage",
                label: "Intent coverage",
                value: pct(m.intent_coverage.value),
                detail: format!(
                    "{} of {} messages matched",
                    m.intent_coverage.matched, m.intent_coverage.executions
                ),
            },
            MetricCard {
                id: "metric-draft-accuracy",
                label: "Draft accuracy",
                value: pct(m.draft_accuracy.value),
                detail: format!(
                    "{} of {} drafts sent unedited",
                    m.draft_accuracy.unedited, m.draft_accuracy.sent
                ),
            },
            MetricCard {
                id: "metric-learning-velocity",
                label: "Learning velocity",
                value: m.learning_velocity.per_week.map_or_else(|| "–".into(), |v| format!("{v:.1}/week")),
                detail: format!(
                    "{} applied, {} rejected",
                    m.learning_velocity.applied, m.learning_velocity.rejected
                ),
            },
            MetricCard {
                id: "metric-skill-utilization",
                label: "Skill utilization",
                value: m.skill_utilization.first().map_or_else(|| "–".into(), |s| s.skill.clone()),
                detail: m
                    .skill_utilization
                    .first()
                    .map_or_else(|| "no skill used".into(), |s| format!("most used: {} uses", s.uses)),
            },
            MetricCard {
                id: "metric-playbook-hit-rate",
                label: "Playbook hit rate",
                value: m.playbook_hit_rate.first().map_or_else(|| "–".into(), |p| pct(p.rate)),
                detail: m.playbook_hit_rate.first().map_or_else(
                    || "no entry injected".into(),
                    |p| {
                        format!(
                            "top: {}",
                            p.text.as_deref().map_or_else(|| p.entry_id.clone(), |t| one_line(t, 60))
                        )
                    },
                ),
            },
        ];
        let quality_chart = line_chart(
            &days,
            vec![
                ("coverage", "line-coverage", data.health.gap_trend.iter().map(|d| d.coverage).collect()),
                ("accuracy", "line-accuracy", data.feedback_timeline.iter().map(|d| d.accuracy).collect()),
            ],
        );
        let gaps_chart = bar_chart(
            &days,
            data.health.gap_trend.iter().map(|d| vec![("seg-gap", "gaps", d.gaps)]).collect(),
        );
        let edits_chart = bar_chart(
            &days,
            data.feedback_timeline
                .iter()
                .map(|d| {
                    vec![
                        ("seg-unedited", "unedited", d.unedited),
                        ("seg-light", "lightly edited", d.lightly_edited),
                        ("seg-rewritten", "rewritten", d.rewritten),
                    ]
                })
                .collect(),
        );
        let mut config: Vec<ConfigRow> = data
            .active_config
            .intents
            .iter()
            .map(|i| ConfigRow {
                kind: ItemKind::Intent.label(),
                name: i.name.clone(),
                detail: i.description.clone(),
                hits: i.hit_count.to_string(),
                period_hits: i.hits_in_period.to_string(),
                approval: pct(i.approval_rate),
                experimental: i.experimental,
            })
            .collect();
        config.extend(data.active_config.playbook_entries.iter().map(|e| ConfigRow {
            kind: ItemKind::PlaybookEntry.label(),
            name: e.intent_name.clone().unwrap_or_else(|| "(global)".into()),
            detail: e.text.clone(),
            hits: e.hit_count.to_string(),
            period_hits: e.injections_in_period.to_string(),
            approval: pct(e.approval_rate),
            experimental: e.experimental,
        }));
        let proposals = data
            .pending_proposals
            .iter()
            .map(|stored| {
                let p = &stored.proposal;
                ProposalCard {
                    id: stored.proposal_id.to_string(),
                    kind: kind_label(p.kind),
                    title: p.title.clone(),
                    intent: p.intent_name.clone().unwrap_or_default(),
                    description: stored.description.clone(),
                    confidence: p.confidence.as_str(),
                    impact: p.impact,
                    examples: p.examples.clone(),
                    keywords: p.keywords.join(", "),
                    playbook_text: p.playbook_text.clone().unwrap_or_default(),
                    evidence: p
                        .evidence
                        .iter()
                        .map(|e| EvidenceRow {
                            conversation: e.conversation_id.clone(),
                            text: e.shown_text().to_owned(),
                            similarity: e.score.map(|s| format!("{s:.2}")).unwrap_or_default(),
                            before: e.edit.as_ref().map(|pair| pair.before.clone()).unwrap_or_default(),
                            after: e.edit.as_ref().map(|pair| pair.after.clone()).unwrap_or_default(),
                        })
                        .collect(),
                }
            })
            .collect();
        // Days without a send are counted once below the table, not listed one by one.
        let quiet_days = data.feedback_timeline.iter().filter(|d| d.sent == 0).count();
        let timeline = data
            .feedback_timeline
            .iter()
            .rev()
            .filter(|d| d.sent > 0)
            .map(|d| TimelineRow {
                day: d.day.to_string(),
                sent: d.sent,
                unedited: d.unedited,
                lightly_edited: d.lightly_edited,
                rewritten: d.rewritten,
                mean_edit_distance: d.mean_edit_distance.map_or_else(|| "–".into(), |v| format!("{v:.3}")),
                accuracy: pct(d.accuracy),
            })
            .collect();
        let experiments = data
            .experiments
            .iter()
            .map(|e| {
                let promotion = &e.progress.promotion;
                let demotion = &e.progress.demotion;
                ExperimentRow {
                    kind: e.kind.label(),
                    name: e.name.clone(),
                    hits: e.hit_count,
                    approval: pct(e.approval_rate),
                    bars: vec![
                        ProgressBar {
                            label: format!(
                                "hits toward promotion: {} of {}",
                                e.hit_count, promotion.min_hits
                            ),
                            fill: fill_of(promotion.hits_progress),
                            marks: vec![],
                            met: e.hit_count >= promotion.min_hits,
                        },
                        ProgressBar {
                            label: format!("hits toward demotion: {} of {}", e.hit_count, demotion.min_hits),
                            fill: fill_of(demotion.hits_progress),
                            marks: vec![],
                            met: e.hit_count >= demotion.min_hits,
                        },
                        ProgressBar {
                            label: format!(
                                "approval {} (demote below {:.0}%, promote at {:.0}%)",
                                pct(e.approval_rate),
                                demotion.approval_threshold * 100.0,
                                promotion.approval_threshold * 100.0
                            ),
                            fill: fill_of(e.approval_rate.unwrap_or(0.0)),
                            marks: vec![
                                fill_of(demotion.approval_threshold),
                                fill_of(promotion.approval_threshold),
                            ],
                            met: promotion.approval_met,
                        },
                    ],
                    action: e.decision.action.as_str(),
                    reason: e.decision.reason.clone(),
                }
            })
            .collect();
        let max_week = m.learning_velocity.weeks.iter().map(|w| w.applied).max().unwrap_or(0).max(1);
        let weeks = m
            .learning_velocity
            .weeks
            .iter()
            .map(|w| ShareRow {
                name: w.week.clone(),
                count: w.applied,
                share: format!("{} rejected", w.rejected),
                fill: fill_of(w.applied as f64 / max_week as f64),
            })
            .collect();
        let skills = m
            .skill_utilization
            .iter()
            .map(|s| ShareRow {
                name: s.skill.clone(),
                count: s.uses,
                share: pct(s.share),
                fill: fill_of(s.share.unwrap_or(0.0)),
            })
            .collect();
        let playbook_hits = m
            .playbook_hit_rate
            .iter()
            .map(|p| ShareRow {
                // What the entry says; its id once it is gone.
                name: p.text.as_deref().map_or_else(|| p.entry_id.clone(), |text| one_line(text, 90)),
                count: p.injections,
                share: pct(p.rate),
                fill: fill_of(p.rate.unwrap_or(0.0)),
            })
            .collect();
        Self {
            css: CSS,
            csrf: None,
            sessions: Vec::new(),
            days: data.period.days,
            from: data.period.from.to_string(),
            to: data.period.to.to_string(),
            coverage_score: pct(data.health.coverage_score),
            executions: data.health.executions,
            gaps: data.health.gaps,
            metrics,
            quality_chart,
            gaps_chart,
            edits_chart,
            config,
            proposals,
            timeline,
            quiet_days,
            experiments,
            weeks,
            skills,
            playbook_hits,
            bar_w: BAR_W,
            chart_w: CHART_W,
            chart_h: CHART_H,
            axis_x0: PAD_L,
            axis_x1: CHART_W - PAD_R,
            axis_y: CHART_H - PAD_B,
        }
    }
}

/// One learning session in the page's history.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionRow {
    pub id: String,
    pub period: String,
    pub kind: String,
    pub status: String,
    pub steps: String,
    pub counts: String,
    pub proposals: usize,
    pub decisions: usize,
    pub email: String,
}

/// An enum's JSON spelling (`completed`, `weekly`, ...).
fn spelled<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_value(value).ok().and_then(|value| value.as_str().map(str::to_owned)).unwrap_or_default()
}

impl SessionRow {
    pub fn new(session: &autolearn_model::LearningSession) -> Self {
        let stats = &session.stats;
        let steps: Vec<String> = session.completed_steps.iter().map(spelled).collect();
        Self {
            id: session.session_id.to_string(),
            period: format!(
                "{} to {}",
                session.period_start.format("%Y-%m-%d"),
                session.period_end.format("%Y-%m-%d")
            ),
            kind: spelled(&session.session_type),
            status: spelled(&session.status),
            steps: if steps.is_empty() {
                "no step done".to_owned()
            } else {
                format!("done: {}", steps.join(", "))
            },
            counts: format!(
                "{} conversations, {} edits, {} gap messages ({} left unclustered)",
                stats.conversations_analysed,
                stats.edits_analysed,
                stats.gap_messages,
                stats.unclustered_gaps
            ),
            proposals: session.proposal_ids.len(),
            decisions: session.decisions.len(),
            email: session.report_message_id.clone().unwrap_or_else(|| "not sent".to_owned()),
        }
    }
}
