//! `autolearn-demo`: simulates a property-management CRM for a few weeks against a running
//! `autolearn serve`, through its HTTP API only. Each week: the inbound messages go through
//! the tracker (`POST /v1/executions`) with what the CRM's classifier and agent made of them,
//! the reps' sends through the feedback webhook (`POST /v1/feedback`); then the real weekly
//! batch runs (`autolearn batch --at <end of week>`), its email is read back from the
//! emulator, and a simulated admin reviews the proposals (`/v1/proposals`). It prints a
//! week-by-week table and writes the emails and dashboards under `--out`.
//!
//! Deterministic for a seed: the same messages, drafts, sends and decisions every run.

mod api;
mod crm;
mod rng;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use clap::Parser;
use reqwest::Method;
use serde_json::{Value, json};

use crate::api::{Api, Error};
use crate::crm::{AgentConfig, Guidance, Inbound, Topic};
use crate::rng::Rng;

#[derive(Parser, Debug)]
#[command(
    name = "autolearn-demo",
    about = "Drives autolearn's learning loop week by week through its HTTP API"
)]
struct Cli {
    /// Base URL of `autolearn serve`.
    #[arg(long)]
    url: String,
    /// The bearer token of the admin routes (`autolearn serve --admin-token`).
    #[arg(long, env = "LOCAL_ADMIN_TOKEN", default_value = "autolearn-local-admin", hide_env_values = true)]
    admin_token: String,
    /// The webhook secret `autolearn serve` was started with.
    #[arg(
        long,
        env = "WEBHOOK_SECRET",
        default_value = "autolearn-local-webhook-secret",
        hide_env_values = true
    )]
    webhook_secret: String,
    /// The sender of the weekly report (the emails are found by it in the emulator).
    #[arg(long, default_value = "autolearn@example.com")]
    sender: String,
    /// The `autolearn` binary, whose `batch` subcommand runs the real weekly handler.
    #[arg(long)]
    autolearn_bin: PathBuf,
    /// The DynamoDB table (passed to `autolearn batch`).
    #[arg(long, default_value = "autolearn")]
    table: String,
    /// The emulator (for reading sent emails back).
    #[arg(long, env = "AWS_ENDPOINT_URL")]
    aws_endpoint: String,
    /// Seed of the synthetic CRM.
    #[arg(long, default_value_t = 7)]
    seed: u64,
    /// Weeks to simulate (default 4).
    #[arg(long)]
    weeks: Option<usize>,
    /// Inbound messages per week (default 250; 80 with --ci).
    #[arg(long)]
    per_week: Option<usize>,
    /// Monday the simulation starts (week k spans [start + 7k days, start + 7(k+1) days)).
    #[arg(long, default_value = "2026-10-05T00:00:00Z")]
    start: DateTime<Utc>,
    /// Where the emails, dashboards and summary go.
    #[arg(long, default_value = "target/demo")]
    out: PathBuf,
    /// Small and strict: exit non-zero unless the learning loop closed.
    #[arg(long)]
    ci: bool,
    /// Requests in flight.
    #[arg(long, default_value_t = 8)]
    concurrency: usize,
}

/// What one simulated week produced.
#[derive(Debug, Default, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct WeekRow {
    week: usize,
    period_start: String,
    period_end: String,
    executions: usize,
    matched: usize,
    coverage: f64,
    drafted_sends: usize,
    unedited: usize,
    draft_accuracy: f64,
    learned_intent_hits: usize,
    proposals_made: usize,
    applied: Vec<String>,
    rejected: Vec<String>,
    promoted: Vec<String>,
    demoted: Vec<String>,
    email_subject: Option<String>,
}

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    match run(&cli).await {
        Ok(true) => {}
        Ok(false) => std::process::exit(1),
        Err(error) => {
            eprintln!("autolearn-demo: {error}");
            std::process::exit(2);
        }
    }
}

/// Runs the simulation; `Ok(false)` when `--ci` finds the loop did not close.
async fn run(cli: &Cli) -> Result<bool, Error> {
    let weeks = cli.weeks.unwrap_or(4);
    let per_week = cli.per_week.unwrap_or(if cli.ci { 80 } else { 250 });
    let api = Api::new(&cli.url, &cli.admin_token, &cli.webhook_secret)?;
    std::fs::create_dir_all(&cli.out)?;
    let rng = Rng::new(cli.seed);
    let days = dashboard_days(cli.start, weeks);
    let mut seen_emails: BTreeSet<String> =
        api.sent_emails(&cli.aws_endpoint, &cli.sender).await?.iter().map(email_id).collect();
    let mut rows: Vec<WeekRow> = Vec::new();
    let mut applied_intents: BTreeMap<String, Topic> = BTreeMap::new();

    println!(
        "Simulating {weeks} weeks × {per_week} messages (seed {}) from {} against {}",
        cli.seed,
        cli.start.format("%Y-%m-%d"),
        api.base()
    );
    for week in 0..weeks {
        let start = cli.start + Duration::days(7 * week as i64);
        let end = start + Duration::days(7);
        let before = api.admin(Method::GET, &format!("/v1/learning/dashboard?days={days}"), None).await?;
        let config = agent_config(&before);
        let promoted_before = promoted_ids(&before);
        let active_before = active_experiments(&before);

        let clock = std::time::Instant::now();
        let messages = crm::generate_week(&rng, week, per_week);
        let mut row = simulate_week(&api, cli, &messages, &config, start).await?;
        row.week = week + 1;
        row.period_start = start.to_rfc3339();
        row.period_end = end.to_rfc3339();

        let simulated = clock.elapsed();
        let outcome = run_batch(cli, end).await?;
        let batched = clock.elapsed();
        row.proposals_made = outcome["proposals"].as_u64().unwrap_or(0) as usize;

        // The weekly email, as the emulator holds it.
        let emails = api.sent_emails(&cli.aws_endpoint, &cli.sender).await?;
        if let Some(email) = emails.iter().rev().find(|e| !seen_emails.contains(&email_id(e))) {
            row.email_subject = email["subject"].as_str().map(str::to_owned);
            write_email(&cli.out, week + 1, email)?;
        }
        seen_emails.extend(emails.iter().map(email_id));

        let after_batch =
            api.admin(Method::GET, &format!("/v1/learning/dashboard?days={days}"), None).await?;
        let promoted_now = promoted_ids(&after_batch);
        let active_now = active_ids(&after_batch);
        row.promoted = names_of(&after_batch, promoted_now.difference(&promoted_before));
        row.demoted = active_before
            .iter()
            .filter(|(id, _)| !active_now.contains(*id))
            .map(|(_, n)| n.clone())
            .collect();

        let mailed = clock.elapsed();
        review(&api, &after_batch, &mut row, &mut applied_intents).await?;
        eprintln!(
            "week {}: traffic {:.1}s, batch {:.1}s, email and dashboard {:.1}s, review {:.1}s",
            week + 1,
            simulated.as_secs_f64(),
            (batched - simulated).as_secs_f64(),
            (mailed - batched).as_secs_f64(),
            (clock.elapsed() - mailed).as_secs_f64()
        );

        let dashboard = api.admin(Method::GET, &format!("/v1/learning/dashboard?days={days}"), None).await?;
        std::fs::write(
            cli.out.join(format!("week-{}-dashboard.json", week + 1)),
            serde_json::to_vec_pretty(&dashboard)?,
        )?;
        print_row(&row, rows.is_empty());
        rows.push(row);
    }

    let dashboard = api.admin(Method::GET, &format!("/v1/learning/dashboard?days={days}"), None).await?;
    let checks = checks(&rows, &dashboard, &applied_intents);
    let summary = json!({
        "acceptanceRate": acceptance_rate(&rows),
        "seed": cli.seed,
        "weeks": weeks,
        "messagesPerWeek": per_week,
        "start": cli.start,
        "rows": rows,
        "appliedIntents": applied_intents.iter().map(|(id, t)| json!({"intentId": id, "plantedTopic": t.label()})).collect::<Vec<_>>(),
        "checks": checks.iter().map(|(name, ok)| json!({"check": name, "passed": ok})).collect::<Vec<_>>(),
    });
    std::fs::write(cli.out.join("summary.json"), serde_json::to_vec_pretty(&summary)?)?;
    println!();
    for (name, ok) in &checks {
        println!("  [{}] {name}", if *ok { "ok" } else { "FAILED" });
    }
    println!("Emails, dashboards and summary.json in {}", cli.out.display());
    let closed = checks.iter().all(|(_, ok)| *ok);
    if cli.ci && !closed {
        eprintln!("autolearn-demo: the learning loop did not close (see the checks above)");
        return Ok(false);
    }
    Ok(true)
}

/// Days the dashboard shows: from the simulation's first day to today (it ends today).
fn dashboard_days(start: DateTime<Utc>, weeks: usize) -> u32 {
    let today = Utc::now().date_naive();
    let first = start.date_naive();
    let span = (today - first).num_days() + 1;
    // A simulation in the future is still shown over its own length (its days are empty).
    span.clamp(7 * weeks as i64, 365) as u32
}

/// Sends the week's executions and sends, `concurrency` at a time; tallies the API's answers.
async fn simulate_week(
    api: &Api,
    cli: &Cli,
    messages: &[Inbound],
    config: &AgentConfig,
    start: DateTime<Utc>,
) -> Result<WeekRow, Error> {
    let semaphore = Arc::new(tokio::sync::Semaphore::new(cli.concurrency.max(1)));
    let span = 7 * 24 * 3600 - 3600;
    let mut tasks = tokio::task::JoinSet::new();
    for message in messages {
        let handled = crm::handle(message, config);
        // Spread over the week in order; the reply goes out 5 to 40 minutes later.
        let offset = (message.index as i64 * span) / messages.len().max(1) as i64;
        let received = start + Duration::seconds(offset);
        let created = received + Duration::seconds(20);
        let sent_at = created + Duration::minutes(5 + (message.index as i64 * 7) % 35);
        let week_tag = start.format("%Y%m%d");
        let execution_id = format!("exec-{week_tag}-{:04}", message.index);
        let intent = handled.intent.as_ref().map(|classified| match &classified.dynamic {
            Some(dynamic) => json!({"name": classified.name, "dynamicIntentId": dynamic.id}),
            None => json!({"name": classified.name}),
        });
        let execution = json!({
            "executionId": execution_id,
            "conversationId": message.conversation,
            "contactId": message.contact,
            "message": {"id": format!("msg-{week_tag}-{:04}", message.index), "body": message.body, "receivedAt": received},
            "intent": intent,
            "skill": handled.skill,
            "playbookEntryIds": handled.playbook_ids,
            "draftReply": handled.draft,
            "status": "success",
            "createdAt": created,
        });
        let send = json!({"executionId": execution_id, "sentText": handled.sent, "sentAt": sent_at});
        let dynamic = handled.intent.as_ref().is_some_and(|c| c.dynamic.is_some());
        let (api, semaphore) = (api.clone(), semaphore.clone());
        tasks.spawn(async move {
            let _permit = semaphore.acquire_owned().await?;
            let recorded = api.signed("/v1/executions", &execution).await?;
            let outcome = api.signed("/v1/feedback", &send).await?;
            Ok::<_, Error>((recorded, outcome, dynamic))
        });
    }
    let mut row = WeekRow::default();
    while let Some(joined) = tasks.join_next().await {
        let (recorded, outcome, dynamic) = joined??;
        row.executions += 1;
        if recorded["matched"] == true {
            row.matched += 1;
            if dynamic {
                row.learned_intent_hits += 1;
            }
        }
        match outcome["outcome"].as_str() {
            Some("noDraft") | None => {}
            Some(kind) => {
                row.drafted_sends += 1;
                if kind == "unedited" {
                    row.unedited += 1;
                }
            }
        }
    }
    row.coverage = share(row.matched, row.executions);
    row.draft_accuracy = share(row.unedited, row.drafted_sends);
    Ok(row)
}

fn share(part: usize, whole: usize) -> f64 {
    if whole == 0 { 0.0 } else { part as f64 / whole as f64 }
}

/// Runs the real weekly handler through `autolearn batch --at <end>`; returns its outcome.
async fn run_batch(cli: &Cli, at: DateTime<Utc>) -> Result<Value, Error> {
    let output = tokio::process::Command::new(&cli.autolearn_bin)
        .args(["--table", &cli.table, "--sender", &cli.sender, "--dashboard-url", &cli.url])
        .args(["batch", "--at", &at.to_rfc3339()])
        .env("RUST_LOG", "warn")
        .output()
        .await
        .map_err(|error| format!("cannot run {}: {error}", cli.autolearn_bin.display()))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        return Err(format!(
            "autolearn batch --at {at} failed ({}):\n{stdout}\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        )
        .into());
    }
    // Log lines are single-line JSON; the outcome is the pretty-printed object at the end.
    let start = stdout.rfind("\n{\n").map(|i| i + 1).or_else(|| stdout.starts_with("{\n").then_some(0));
    let outcome: Value = serde_json::from_str(&stdout[start.ok_or("autolearn batch printed no outcome")?..])?;
    if outcome["status"] != "completed" {
        return Err(format!("the batch did not complete: {outcome}").into());
    }
    Ok(outcome)
}

/// What the simulated agent knows: the active dynamic intents and playbook entries.
fn agent_config(dashboard: &Value) -> AgentConfig {
    let strings = |value: &Value| -> Vec<String> {
        value.as_array().into_iter().flatten().filter_map(|v| v.as_str().map(str::to_owned)).collect()
    };
    let intents = dashboard["activeConfig"]["intents"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|intent| {
            let keywords = strings(&intent["keywords"]);
            let examples = strings(&intent["examples"]);
            crm::DynamicIntent {
                id: intent["intentId"].as_str().unwrap_or_default().to_owned(),
                name: intent["name"].as_str().unwrap_or_default().to_owned(),
                topic: intent_topic(intent),
                keywords,
                examples,
            }
        })
        .collect();
    let playbook = dashboard["activeConfig"]["playbookEntries"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|entry| crm::Playbook {
            id: entry["entryId"].as_str().unwrap_or_default().to_owned(),
            intent: entry["intentName"].as_str().map(str::to_owned),
            guidance: Guidance::of(entry["text"].as_str().unwrap_or_default()),
        })
        .collect();
    AgentConfig { intents, playbook }
}

/// The planted topic an intent or a proposal is about, from its name, keywords and examples.
fn intent_topic(item: &Value) -> Option<Topic> {
    let mut text = String::new();
    for field in ["name", "intentName", "title", "description"] {
        if let Some(s) = item[field].as_str() {
            text.push(' ');
            text.push_str(&s.replace('_', " "));
        }
    }
    for field in ["keywords", "examples"] {
        for s in item[field].as_array().into_iter().flatten().filter_map(Value::as_str) {
            text.push(' ');
            text.push_str(s);
        }
    }
    let words = crm::words(&crm::without_property_names(&text));
    crm::topic_of_words(words.iter().map(String::as_str))
}

fn promoted_ids(dashboard: &Value) -> BTreeSet<String> {
    dashboard["activeConfig"]["intents"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|intent| intent["promotedAt"].is_string())
        .filter_map(|intent| intent["intentId"].as_str().map(str::to_owned))
        .collect()
}

fn active_ids(dashboard: &Value) -> BTreeSet<String> {
    dashboard["activeConfig"]["intents"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|intent| intent["intentId"].as_str().map(str::to_owned))
        .collect()
}

fn active_experiments(dashboard: &Value) -> BTreeMap<String, String> {
    dashboard["activeConfig"]["intents"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|intent| intent["experimental"] == true)
        .filter_map(|intent| {
            Some((intent["intentId"].as_str()?.to_owned(), intent["name"].as_str()?.to_owned()))
        })
        .collect()
}

fn names_of<'a>(dashboard: &Value, ids: impl Iterator<Item = &'a String>) -> Vec<String> {
    let ids: BTreeSet<&String> = ids.collect();
    dashboard["activeConfig"]["intents"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|intent| intent["intentId"].as_str().is_some_and(|id| ids.iter().any(|i| i.as_str() == id)))
        .filter_map(|intent| intent["name"].as_str().map(str::to_owned))
        .collect()
}

/// The simulated admin: applies what matches the planted truth, rejects the rest with a note.
async fn review(
    api: &Api,
    dashboard: &Value,
    row: &mut WeekRow,
    applied_intents: &mut BTreeMap<String, Topic>,
) -> Result<(), Error> {
    let mut pending = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(next) => format!("/v1/proposals?status=pending&limit=100&cursor={}", encode(next)),
            None => "/v1/proposals?status=pending&limit=100".to_owned(),
        };
        let page = api.admin(Method::GET, &path, None).await?;
        pending.extend(page["proposals"].as_array().cloned().unwrap_or_default());
        match page["next"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    // The learned intents by name, with the planted topic each stands for.
    let mut dynamic_names: BTreeMap<String, Option<Topic>> = BTreeMap::new();
    for intent in dashboard["activeConfig"]["intents"].as_array().into_iter().flatten() {
        dynamic_names.insert(intent["name"].as_str().unwrap_or_default().to_owned(), intent_topic(intent));
    }
    // What the applied playbook entries already ask for.
    let mut guided: BTreeSet<String> = dashboard["activeConfig"]["playbookEntries"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|entry| {
            let guidance = Guidance::of(entry["text"].as_str().unwrap_or_default());
            let scope = match guidance {
                Guidance::CheckAvailability => "SHOWING_REQUEST",
                _ => entry["intentName"].as_str().unwrap_or("global"),
            };
            format!("{scope}:{guidance:?}")
        })
        .collect();
    // Global amendments first: one of them covers the same change for every intent.
    pending.sort_by_key(|proposal| proposal["intentName"].is_string());
    for proposal in pending {
        let id = proposal["proposalId"].as_str().unwrap_or_default().to_owned();
        let title = proposal["title"].as_str().unwrap_or_default().to_owned();
        let topic = intent_topic(&proposal);
        let verdict: Result<(), String> = match proposal["kind"].as_str() {
            Some("newIntent") => match topic {
                // One intent per topic: a second one splits the topic's messages in two.
                Some(topic) if applied_intents.values().any(|applied| *applied == topic) => {
                    Err(format!("the agent already has an intent for {}", topic.label()))
                }
                Some(_) => Ok(()),
                None => Err("not a topic we want a separate intent for".into()),
            },
            Some("intentExample") => {
                let name = proposal["intentName"].as_str().unwrap_or_default();
                match dynamic_names.get(name) {
                    Some(intent_topic)
                        if intent_topic.is_none() || topic.is_none() || *intent_topic == topic =>
                    {
                        Ok(())
                    }
                    Some(_) => Err("these examples belong to another topic".into()),
                    // A built-in intent: its examples go to its overlay, if they are about it
                    // and not about one of the topics the agent does not know yet.
                    None => match topic {
                        None => Ok(()),
                        Some(_) => Err(format!("these examples are about another topic than {name}")),
                    },
                }
            }
            Some("playbookAmendment") => {
                let text = format!("{title} {}", proposal["playbookText"].as_str().unwrap_or_default());
                let guidance = Guidance::of(&text);
                // Checking availability is about showings, whatever scope the theme came in.
                let scope = match guidance {
                    Guidance::CheckAvailability => "SHOWING_REQUEST",
                    _ => proposal["intentName"].as_str().unwrap_or("global"),
                };
                match guidance {
                    Guidance::Other => Err("not a change we want in the playbook".into()),
                    guidance
                        if guided.contains(&format!("global:{guidance:?}"))
                            || !guided.insert(format!("{scope}:{guidance:?}")) =>
                    {
                        Err("already covered by an applied playbook entry".into())
                    }
                    _ => Ok(()),
                }
            }
            _ => Err("unknown kind".into()),
        };
        match verdict {
            Ok(()) => {
                let decided =
                    api.admin(Method::POST, &format!("/v1/proposals/{}/apply", encode(&id)), None).await?;
                if decided["effect"]["kind"] == "intent" {
                    let intent_id = decided["effect"]["id"].as_str().unwrap_or_default().to_owned();
                    let topic = topic.expect("applied new intents match a topic");
                    applied_intents.insert(intent_id, topic);
                }
                row.applied.push(title);
            }
            Err(note) => {
                eprintln!("  reject {title}: {note}");
                api.admin(
                    Method::POST,
                    &format!("/v1/proposals/{}/reject", encode(&id)),
                    Some(&json!({"note": note})),
                )
                .await?;
                row.rejected.push(title);
            }
        }
    }
    Ok(())
}

/// Percent-encodes a path or query component.
fn encode(raw: &str) -> String {
    raw.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn email_id(email: &Value) -> String {
    email["id"].as_str().unwrap_or_default().to_owned()
}

/// Writes the week's email: the HTML part as the emulator kept it, and a text rendering
/// (moto keeps only the HTML part of a two-part message).
fn write_email(out: &Path, week: usize, email: &Value) -> Result<(), Error> {
    let subject = email["subject"].as_str().unwrap_or_default();
    let html = email["body"].as_str().unwrap_or_default();
    std::fs::write(out.join(format!("week-{week}-email.html")), html)?;
    let text = format!("Subject: {subject}\n\n{}\n", html_to_text(html));
    std::fs::write(out.join(format!("week-{week}-email.txt")), text)?;
    Ok(())
}

/// Tags out, entities decoded, blank runs collapsed.
fn html_to_text(html: &str) -> String {
    let body = html.find("<body").map_or(html, |i| &html[i..]);
    let mut text = String::new();
    let mut in_tag = false;
    let mut tag = String::new();
    for c in body.chars() {
        match (in_tag, c) {
            (false, '<') => {
                in_tag = true;
                tag.clear();
            }
            (true, '>') => {
                in_tag = false;
                let name = tag.trim_start_matches('/').split_whitespace().next().unwrap_or("").to_lowercase();
                if matches!(
                    name.as_str(),
                    "p" | "br" | "li" | "h1" | "h2" | "h3" | "tr" | "div" | "ul" | "table"
                ) {
                    text.push('\n');
                }
                if name == "li" && !tag.starts_with('/') {
                    text.push_str("- ");
                }
            }
            (true, c) => tag.push(c),
            (false, c) => text.push(c),
        }
    }
    let text = text
        .replace("&amp;", "&")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#34;", "\"")
        .replace("&#x27;", "'")
        .replace("&nbsp;", " ");
    let mut lines: Vec<String> = Vec::new();
    for line in text.lines().map(|l| l.split_whitespace().collect::<Vec<_>>().join(" ")) {
        if line.is_empty() && lines.last().is_none_or(|l| l.is_empty()) {
            continue;
        }
        lines.push(line);
    }
    lines.join("\n").trim().to_owned()
}

fn print_row(row: &WeekRow, header: bool) {
    if header {
        println!();
        println!(
            "{:>4} {:>10} {:>9} {:>9} {:>8} {:>10} {:>8} {:>9} {:>9}",
            "week",
            "executions",
            "coverage",
            "accuracy",
            "learned",
            "proposals",
            "applied",
            "rejected",
            "promoted"
        );
    }
    println!(
        "{:>4} {:>10} {:>8.1}% {:>8.1}% {:>8} {:>10} {:>8} {:>9} {:>9}",
        row.week,
        row.executions,
        row.coverage * 100.0,
        row.draft_accuracy * 100.0,
        row.learned_intent_hits,
        row.proposals_made,
        row.applied.len(),
        row.rejected.len(),
        row.promoted.len(),
    );
    for title in &row.applied {
        println!("       applied:  {title}");
    }
    for title in &row.rejected {
        println!("       rejected: {title}");
    }
    for name in &row.promoted {
        println!("       promoted: {name}");
    }
    for name in &row.demoted {
        println!("       demoted:  {name}");
    }
}

/// The share of the proposals the admin (who knows what was planted) applied; `None` without
/// proposals.
fn acceptance_rate(rows: &[WeekRow]) -> Option<f64> {
    let decided: usize = rows.iter().map(|row| row.applied.len() + row.rejected.len()).sum();
    let applied: usize = rows.iter().map(|row| row.applied.len()).sum();
    (decided > 0).then(|| applied as f64 / decided as f64)
}

/// The share of proposals the admin must accept for the demo to pass: proposals an admin
/// reads and mostly applies, not noise to reject. The admin rejects a second intent for a
/// topic it already has. (Measured: 88% in the CI demo, and 88% with each of the seeds 7, 3
/// and 11 at 250 messages a week.)
const MIN_ACCEPTANCE: f64 = 0.8;

/// Whether the loop closed: every planted gap and edit theme proposed and applied, used,
/// promoted, the agent measurably better in the last week than in the first, and proposals an
/// admin accepts.
fn checks(
    rows: &[WeekRow],
    dashboard: &Value,
    applied_intents: &BTreeMap<String, Topic>,
) -> Vec<(String, bool)> {
    let used: Vec<&Value> = dashboard["activeConfig"]["intents"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|intent| {
            intent["intentId"].as_str().is_some_and(|id| applied_intents.contains_key(id))
                && intent["hitCount"].as_u64().unwrap_or(0) > 0
        })
        .collect();
    let promoted: usize = rows.iter().map(|row| row.promoted.len()).sum();
    let (first, last) = (rows.first(), rows.last());
    let improved = |metric: fn(&WeekRow) -> f64| match (first, last) {
        (Some(first), Some(last)) if rows.len() > 1 => metric(last) > metric(first),
        _ => false,
    };
    let topics: BTreeSet<&str> = applied_intents.values().map(|t| t.label()).collect();
    let guidance: BTreeSet<String> = dashboard["activeConfig"]["playbookEntries"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|entry| format!("{:?}", Guidance::of(entry["text"].as_str().unwrap_or_default())))
        .collect();
    let planted_themes = [Guidance::Concise, Guidance::CheckAvailability].map(|g| format!("{g:?}"));
    vec![
        (
            format!(
                "every planted gap became an applied intent ({} of {}: {})",
                topics.len(),
                Topic::PLANTED.len(),
                topics.iter().copied().collect::<Vec<_>>().join(", ")
            ),
            topics.len() == Topic::PLANTED.len(),
        ),
        (
            format!(
                "every planted edit theme became an applied playbook entry ({} of {})",
                planted_themes.iter().filter(|theme| guidance.contains(*theme)).count(),
                planted_themes.len()
            ),
            planted_themes.iter().all(|theme| guidance.contains(theme)),
        ),
        (
            format!("an applied intent got hits ({} of {})", used.len(), applied_intents.len()),
            !used.is_empty(),
        ),
        (format!("an experimental intent was promoted ({promoted})"), promoted > 0),
        (
            format!(
                "coverage rose from week 1 to week {} ({:.1}% → {:.1}%)",
                rows.len(),
                first.map_or(0.0, |r| r.coverage * 100.0),
                last.map_or(0.0, |r| r.coverage * 100.0)
            ),
            improved(|row| row.coverage),
        ),
        (
            format!(
                "draft accuracy rose from week 1 to week {} ({:.1}% → {:.1}%)",
                rows.len(),
                first.map_or(0.0, |r| r.draft_accuracy * 100.0),
                last.map_or(0.0, |r| r.draft_accuracy * 100.0)
            ),
            improved(|row| row.draft_accuracy),
        ),
        (
            format!(
                "the admin accepted at least {:.0}% of the proposals ({:.0}%)",
                MIN_ACCEPTANCE * 100.0,
                acceptance_rate(rows).unwrap_or(0.0) * 100.0
            ),
            acceptance_rate(rows).is_some_and(|rate| rate >= MIN_ACCEPTANCE),
        ),
    ]
}
