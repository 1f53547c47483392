//! `GET /admin/ai/learning`: the dashboard as a page for people, rendered on the server from the
//! same data as the JSON, with auto-escaping templates (askama). Charts are inline SVG whose
//! geometry is computed here from numbers only; every text from the data, customer text above
//! all, goes through the template's HTML escaping, and no template marks data as safe.
//!
//! The page runs no script at all. Its Content-Security-Policy allows nothing but its own
//! stylesheet (by hash), data: images and form posts to itself; apply and reject are plain HTML
//! forms that post here and are redirected back (303).

use std::sync::LazyLock;

use askama::Template;
use autolearn_web::ApiError;
use autolearn_web::extract::{Form, Path, Query};
use axum::extract::State;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use base64::Engine;
use chrono::Utc;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::dashboard::{self, Dashboard, DashboardQuery};
use crate::review::{self, Verdict};
use crate::{AdminIdentity, AppState};

pub const PAGE_PATH: &str = "/admin/ai/learning";

/// The page's only style, inlined in a `<style>` element and allowed by its hash.
pub const CSS: &str = include_str!("../templates/learning.css");

/// The Content-Security-Policy of the page: no scripts, no external anything.
pub static CONTENT_SECURITY_POLICY: LazyLock<String> = LazyLock::new(|| {
    let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(CSS.as_bytes()));
    format!(
        "default-src 'none'; style-src 'sha256-{hash}'; img-src data:; form-action 'self'; \
         frame-ancestors 'none'; base-uri 'none'"
    )
});

/// Chart geometry (SVG user units).
const CHART_W: f64 = 640.0;
const CHART_H: f64 = 200.0;
const PAD_L: f64 = 40.0;
const PAD_R: f64 = 10.0;
const PAD_T: f64 = 10.0;
const PAD_B: f64 = 26.0;
const BAR_W: f64 = 240.0;

fn plot_w() -> f64 {
    CHART_W - PAD_L - PAD_R
}
fn plot_h() -> f64 {
    CHART_H - PAD_T - PAD_B
}

fn pct(value: Option<f64>) -> String {
    value.map_or_else(|| "–".to_owned(), |v| format!("{:.1}%", v * 100.0))
}

fn num(value: f64) -> String {
    format!("{value:.1}")
}

/// One line of a line chart: the SVG `points` (numbers only) and a dot per known value.
pub struct Series {
    pub name: &'static str,
    pub class: &'static str,
    pub points: String,
    pub dots: Vec<Dot>,
}

pub struct Dot {
    pub x: String,
    pub y: String,
    pub title: String,
}

pub struct Tick {
    pub x: String,
    pub y: String,
    pub label: String,
}

pub struct LineChart {
    pub series: Vec<Series>,
    pub x_ticks: Vec<Tick>,
    pub y_ticks: Vec<Tick>,
}

pub struct BarSegment {
    pub y: String,
    pub height: String,
    pub class: &'static str,
    pub title: String,
}

pub struct Bar {
    pub x: String,
    pub width: String,
    pub segments: Vec<BarSegment>,
}

pub struct BarChart {
    pub bars: Vec<Bar>,
    pub x_ticks: Vec<Tick>,
    pub y_ticks: Vec<Tick>,
}

fn x_of(i: usize, n: usize) -> f64 {
    if n <= 1 { PAD_L + plot_w() / 2.0 } else { PAD_L + plot_w() * i as f64 / (n - 1) as f64 }
}

fn y_of(fraction: f64) -> f64 {
    PAD_T + (1.0 - fraction.clamp(0.0, 1.0)) * plot_h()
}

/// About six day labels along the x axis.
fn day_ticks(days: &[chrono::NaiveDate], x: impl Fn(usize) -> f64) -> Vec<Tick> {
    let step = days.len().div_ceil(6).max(1);
    let last = days.len().saturating_sub(1);
    // Every step-th day, and the last day unless a label sits right next to it.
    days.iter()
        .enumerate()
        .filter(|(i, _)| *i == last || (i % step == 0 && last - i >= step.div_ceil(2).max(2)))
        .map(|(i, day)| Tick { x: num(x(i)), y: num(CHART_H - 8.0), label: day.format("%b %-d").to_string() })
        .collect()
}

fn line_chart(
    days: &[chrono::NaiveDate],
    lines: Vec<(&'static str, &'static str, Vec<Option<f64>>)>,
) -> LineChart {
    let n = days.len();
    let series = lines
        .into_iter()
        .map(|(name, class, values)| {
            let known: Vec<(usize, f64)> =
                values.iter().enumerate().filter_map(|(i, v)| v.map(|v| (i, v))).collect();
            Series {
                name,
                class,
                points: known
                    .iter()
                    .map(|(i, v)| format!("{},{}", num(x_of(*i, n)), num(y_of(*v))))
                    .collect::<Vec<_>>()
                    .join(" "),
                dots: known
                    .iter()
                    .map(|(i, v)| Dot {
                        x: num(x_of(*i, n)),
                        y: num(y_of(*v)),
                        title: format!("{} {}: {}", days[*i], name, pct(Some(*v))),
                    })
                    .collect(),
            }
        })
        .collect();
    let y_ticks = [0.0, 0.25, 0.5, 0.75, 1.0]
        .iter()
        .map(|f| Tick { x: num(PAD_L - 4.0), y: num(y_of(*f) + 4.0), label: format!("{:.0}%", f * 100.0) })
        .collect();
    LineChart { series, x_ticks: day_ticks(days, |i| x_of(i, n)), y_ticks }
}

/// Stacked bars, one per day; each segment is (class, label, value).
fn bar_chart(days: &[chrono::NaiveDate], stacks: Vec<Vec<(&'static str, &'static str, i64)>>) -> BarChart {
    let n = days.len().max(1);
    let max =
        stacks.iter().map(|stack| stack.iter().map(|s| s.2.max(0)).sum::<i64>()).max().unwrap_or(0).max(1);
    let slot = plot_w() / n as f64;
    let center = |i: usize| PAD_L + slot * (i as f64 + 0.5);
    let bars = stacks
        .iter()
        .enumerate()
        .map(|(i, stack)| {
            let mut base = 0i64;
            let segments = stack
                .iter()
                .filter(|(_, _, value)| *value > 0)
                .map(|(class, label, value)| {
                    let top = y_of((base + value) as f64 / max as f64);
                    let bottom = y_of(base as f64 / max as f64);
                    base += value;
                    BarSegment {
                        y: num(top),
                        height: num(bottom - top),
                        class,
                        title: format!("{} {label}: {value}", days[i]),
                    }
                })
                .collect();
            Bar { x: num(center(i) - slot * 0.4), width: num(slot * 0.8), segments }
        })
        .collect();
    let y_ticks = [0.0, 0.5, 1.0]
        .iter()
        .map(|f| Tick {
            x: num(PAD_L - 4.0),
            y: num(y_of(*f) + 4.0),
            label: format!("{}", (max as f64 * f).round() as i64),
        })
        .collect();
    BarChart { bars, x_ticks: day_ticks(days, center), y_ticks }
}

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

fn kind_label(kind: autolearn_model::ProposalKind) -> &'static str {
    match kind {
        autolearn_model::ProposalKind::NewIntent => "new intent",
        autolearn_model::ProposalKind::IntentExample => "intent examples",
        autolearn_model::ProposalKind::PlaybookAmendment => "playbook amendment",
    }
}

fn confidence_label(confidence: autolearn_model::Confidence) -> &'static str {
    match confidence {
        autolearn_model::Confidence::Low => "low",
        autolearn_model::Confidence::Medium => "medium",
        autolearn_model::Confidence::High => "high",
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
                detail: m
                    .playbook_hit_rate
                    .first()
                    .map_or_else(|| "no entry injected".into(), |p| format!("top entry {}", p.entry_id)),
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
                kind: "intent",
                name: i.name.clone(),
                detail: i.description.clone(),
                hits: i.hit_count.to_string(),
                period_hits: i.hits_in_period.to_string(),
                approval: pct(i.approval_rate),
                experimental: i.experimental,
            })
            .collect();
        config.extend(data.active_config.playbook_entries.iter().map(|e| ConfigRow {
            kind: "playbook",
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
            .map(|p| ProposalCard {
                id: p.proposal_id.clone(),
                kind: kind_label(p.kind),
                title: p.title.clone(),
                intent: p.intent_name.clone().unwrap_or_default(),
                description: p.description.clone(),
                confidence: confidence_label(p.confidence),
                impact: p.impact,
                examples: p.examples.clone(),
                keywords: p.keywords.join(", "),
                playbook_text: p.playbook_text.clone().unwrap_or_default(),
                evidence: p
                    .evidence
                    .iter()
                    .map(|e| EvidenceRow {
                        conversation: e.conversation_id.clone(),
                        text: e.text.clone(),
                        similarity: e.similarity.map(|s| format!("{s:.2}")).unwrap_or_default(),
                    })
                    .collect(),
            })
            .collect();
        let timeline = data
            .feedback_timeline
            .iter()
            .rev()
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
                    kind: match e.kind {
                        dashboard::ItemKind::Intent => "intent",
                        dashboard::ItemKind::PlaybookEntry => "playbook",
                    },
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
                    action: match e.decision.action {
                        autolearn_learning::promotion::Action::Promote => "promote",
                        autolearn_learning::promotion::Action::Demote => "demote",
                        autolearn_learning::promotion::Action::Keep => "keep",
                    },
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
                name: p.entry_id.clone(),
                count: p.injections,
                share: pct(p.rate),
                fill: fill_of(p.rate.unwrap_or(0.0)),
            })
            .collect();
        Self {
            css: CSS,
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

/// Renders the page for a dashboard.
pub fn render(data: &Dashboard) -> Result<String, ApiError> {
    LearningPage::new(data).render().map_err(|error| ApiError::Internal(format!("render page: {error}")))
}

/// The headers every page response carries.
pub fn page_headers(headers: &mut HeaderMap) {
    let csp = HeaderValue::from_str(&CONTENT_SECURITY_POLICY).expect("the policy is ASCII");
    headers.insert(header::CONTENT_SECURITY_POLICY, csp);
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
}

/// `GET /admin/ai/learning?days=N`.
pub async fn get_page(
    State(state): State<AppState>,
    _admin: AdminIdentity,
    Query(query): Query<DashboardQuery>,
) -> Result<Response, ApiError> {
    let days = query.days()?;
    let data = dashboard::load(&state.store, dashboard::today(), days).await?;
    let mut response = render(&data)?.into_response();
    page_headers(response.headers_mut());
    Ok(response)
}

/// The review form's fields.
#[derive(Debug, Default, Deserialize)]
pub struct ReviewForm {
    pub note: Option<String>,
}

/// Form posts must come from the page itself: a browser marks a cross-site post, and this
/// refuses it (the identity travels in a header, never a cookie, but refuse anyway).
fn same_site(parts: &Parts) -> Result<(), ApiError> {
    let site = parts.headers.get("sec-fetch-site").and_then(|value| value.to_str().ok());
    if matches!(site, Some("cross-site" | "same-site")) {
        return Err(ApiError::Forbidden("review forms may only be posted from the dashboard page".into()));
    }
    Ok(())
}

/// A request's head, for the same-site check.
pub struct Head(Parts);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Head {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(parts.clone()))
    }
}

async fn decide_from_page(
    state: &AppState,
    head: &Head,
    admin: &AdminIdentity,
    id: &str,
    verdict: Verdict,
    note: Option<String>,
) -> Result<Response, ApiError> {
    same_site(&head.0)?;
    let note = note.map(|note| note.chars().take(review::MAX_NOTE_CHARS).collect());
    review::decide(&state.store, id, verdict, note, admin, Utc::now()).await?;
    Ok(Redirect::to(PAGE_PATH).into_response())
}

/// `POST /admin/ai/learning/proposals/{id}/apply` (form): applies, then back to the page.
pub async fn apply_from_page(
    State(state): State<AppState>,
    head: Head,
    admin: AdminIdentity,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    decide_from_page(&state, &head, &admin, &id, Verdict::Apply, None).await
}

/// `POST /admin/ai/learning/proposals/{id}/reject` (form, optional `note`): rejects, then back.
pub async fn reject_from_page(
    State(state): State<AppState>,
    head: Head,
    admin: AdminIdentity,
    Path(id): Path<String>,
    Form(form): Form<ReviewForm>,
) -> Result<Response, ApiError> {
    decide_from_page(&state, &head, &admin, &id, Verdict::Reject, form.note).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use autolearn_learning::promotion::PromotionConfig;
    use chrono::NaiveDate;

    const PAYLOAD: &str = "<script>alert(1)</script>\"'&";

    fn dashboard_with_payload() -> Dashboard {
        let proposal: autolearn_model::LearningProposal = serde_json::from_value(serde_json::json!({
            "proposalId": "p-1", "sessionId": "s-1", "kind": "new_intent", "status": "pending",
            "title": PAYLOAD, "intentName": "X", "description": PAYLOAD, "examples": [PAYLOAD],
            "confidence": "high", "impact": 3, "fingerprint": "f",
            "evidence": [{"conversationId": "c-1", "text": PAYLOAD}],
            "createdAt": "2026-11-16T09:00:00Z"
        }))
        .unwrap();
        let today = NaiveDate::from_ymd_opt(2026, 11, 16).unwrap();
        let counters: Vec<_> =
            dashboard::days_ending(today, 3).into_iter().map(autolearn_model::DailyCounters::new).collect();
        dashboard::build(today, 3, &counters, vec![], vec![], vec![proposal], &PromotionConfig::default())
    }

    #[test]
    fn customer_text_is_escaped_everywhere_it_appears() {
        let html = render(&dashboard_with_payload()).unwrap();
        assert!(!html.contains("<script"));
        let escaped = "&#60;script&#62;alert(1)&#60;/script&#62;&#34;&#39;&#38;";
        // Title, description, example and evidence: four times.
        assert_eq!(html.matches(escaped).count(), 4, "{html}");
    }

    #[test]
    fn the_policy_allows_exactly_the_page_style() {
        let html = render(&dashboard_with_payload()).unwrap();
        assert!(html.contains(&format!("<style>{CSS}</style>")));
        let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(CSS.as_bytes()));
        assert!(CONTENT_SECURITY_POLICY.contains(&format!("style-src 'sha256-{hash}'")));
        assert!(CONTENT_SECURITY_POLICY.starts_with("default-src 'none';"));
    }

    #[test]
    fn day_labels_do_not_crowd_the_last_day() {
        let days = dashboard::days_ending(NaiveDate::from_ymd_opt(2026, 11, 26).unwrap(), 14);
        let ticks = day_ticks(&days, |i| i as f64);
        let xs: Vec<f64> = ticks.iter().map(|t| t.x.parse().unwrap()).collect();
        assert_eq!(xs.first(), Some(&0.0));
        assert_eq!(xs.last(), Some(&13.0));
        assert!(xs.windows(2).all(|w| w[1] - w[0] >= 2.0), "{xs:?}");
    }
}
