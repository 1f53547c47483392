//! Library side of the `autolearn cluster` and `autolearn similar` subcommands: clustering
//! and nearest neighbours for any corpus given as JSON lines.
//!
//! Input, one object per line: `{"id": "...", "conversationId": "...", "text": "..."}`
//! (blank lines are skipped, other fields ignored). A malformed line stops the run with an
//! error naming its line number. Memory holds the messages and one pruned sparse vector
//! each (at most `max_features` entries), never anything quadratic. Progress goes to the
//! `progress` writer as counts and phases only, never message text.

use std::collections::BTreeSet;
use std::io::{BufRead, Write};

use serde::{Deserialize, Serialize};

use crate::cluster::{ClusterInput, GapConfig, cluster_texts};
use crate::features::{Embedding, SparseVector, Vectorizer};
use crate::similarity::{QueryScratch, SimilarityConfig, SimilarityIndex};

/// Errors of the command-line functions.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// An input line is not a valid message object.
    #[error("line {line}: {message}")]
    Parse {
        /// 1-based line number.
        line: usize,
        /// What is wrong (from the JSON parser; never the line's text).
        message: String,
    },
    /// Reading input or writing output failed.
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
}

/// One input message.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CliMessage {
    id: String,
    conversation_id: String,
    text: String,
    /// Optional sentence embedding (an array of numbers): `cluster` compares messages
    /// that have one by it, `similar` ranks their candidates by it.
    #[serde(default)]
    embedding: Option<Embedding>,
}

/// What a run did, for the caller's exit message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CliSummary {
    /// Messages read.
    pub messages: usize,
    /// Clusters found (cluster) or messages with at least one neighbour (similar).
    pub groups: usize,
}

/// Inputs of at least this many lines report progress.
const PROGRESS_EVERY: usize = 10_000;

fn read_messages(input: impl BufRead, progress: &mut dyn Write) -> Result<Vec<CliMessage>, CliError> {
    let mut messages = Vec::new();
    for (index, line) in input.lines().enumerate() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let message: CliMessage = serde_json::from_str(&line)
            .map_err(|e| CliError::Parse { line: index + 1, message: describe_json_error(&e) })?;
        messages.push(message);
        if messages.len().is_multiple_of(PROGRESS_EVERY) {
            writeln!(progress, "read {} messages", messages.len())?;
        }
    }
    Ok(messages)
}

/// Describes a JSON error without quoting the input: serde_json's own message can
/// contain a string value, which here would be customer text.
fn describe_json_error(e: &serde_json::Error) -> String {
    use serde_json::error::Category;
    let column = e.column();
    match e.classify() {
        Category::Syntax => format!("invalid JSON at column {column}"),
        Category::Eof => "truncated JSON".to_string(),
        Category::Data => {
            let text = e.to_string();
            if text.starts_with("missing field") || text.starts_with("an embedding") {
                // "missing field `text` at line 1 column 20", or why a list of numbers is
                // no embedding: names only the field.
                text
            } else {
                format!(
                    "wrong type at column {column}: expected an object with string fields \
                     id, conversationId and text, and optionally embedding (an array of numbers)"
                )
            }
        }
        Category::Io => format!("read error at column {column}"),
    }
}

#[derive(Serialize)]
struct ClusterLine<'a> {
    id: &'a str,
    cluster: Option<&'a str>,
}

#[derive(Serialize)]
struct SimilarLine<'a> {
    id: &'a str,
    neighbors: Vec<&'a str>,
}

/// `autolearn cluster`: writes `{"id", "cluster"}` per input message, in input order;
/// `cluster` is the cluster's UPPER_SNAKE name, or null for a message left unclustered.
pub fn run_cluster_cli(
    input: impl BufRead,
    mut output: impl Write,
    mut progress: impl Write,
) -> Result<CliSummary, CliError> {
    let messages = read_messages(input, &mut progress)?;
    let large = messages.len() >= PROGRESS_EVERY;
    let cfg = GapConfig::default();
    let vectorizer = Vectorizer::fit(messages.iter().map(|m| m.text.as_str()), cfg.features.clone());
    let inputs: Vec<ClusterInput<'_>> = messages
        .iter()
        .map(|m| ClusterInput {
            id: &m.id,
            conversation_id: &m.conversation_id,
            text: &m.text,
            quoted: None,
            embedding: m.embedding.as_ref(),
        })
        .collect();
    let mut phase_error = None;
    let clustering = cluster_texts(&inputs, &vectorizer, &BTreeSet::new(), &cfg, &mut |phase| {
        if large && phase_error.is_none() {
            phase_error = writeln!(progress, "{phase}").err();
        }
    });
    if let Some(e) = phase_error {
        return Err(e.into());
    }
    for (m, cluster) in messages.iter().zip(&clustering.assignment) {
        let line = ClusterLine { id: &m.id, cluster: cluster.map(|c| clustering.clusters[c].name.as_str()) };
        serde_json::to_writer(&mut output, &line).map_err(std::io::Error::from)?;
        output.write_all(b"\n")?;
    }
    output.flush()?;
    if large {
        writeln!(progress, "done: {} messages, {} clusters", messages.len(), clustering.clusters.len())?;
    }
    Ok(CliSummary { messages: messages.len(), groups: clustering.clusters.len() })
}

/// `autolearn similar --k K`: writes `{"id", "neighbors"}` per input message, in input
/// order; `neighbors` are the ids of the `k` most similar other messages, best first.
pub fn run_similar_cli(
    k: usize,
    input: impl BufRead,
    mut output: impl Write,
    mut progress: impl Write,
) -> Result<CliSummary, CliError> {
    let messages = read_messages(input, &mut progress)?;
    let large = messages.len() >= PROGRESS_EVERY;
    let cfg = SimilarityConfig::default();
    let vectorizer = Vectorizer::fit(messages.iter().map(|m| m.text.as_str()), cfg.features.clone());
    let vectors: Vec<SparseVector> = messages.iter().map(|m| vectorizer.transform(&m.text)).collect();
    if large {
        writeln!(progress, "vectorized")?;
    }
    let index = SimilarityIndex::from_parts(
        cfg,
        vectorizer,
        messages.iter().map(|m| m.id.clone()).collect(),
        messages.iter().map(|m| m.conversation_id.clone()).collect(),
        // No evidence is produced here, so no masked copies are kept.
        vec![None; messages.len()],
        vectors,
        messages.iter().map(|m| m.embedding.clone()).collect(),
    );
    if large {
        writeln!(progress, "indexed")?;
    }
    let mut scratch = QueryScratch::default();
    let mut with_neighbors = 0;
    for (doc, m) in messages.iter().enumerate() {
        let neighbors: Vec<&str> = index
            .neighbors_of(doc, k, &mut scratch)
            .into_iter()
            .map(|(d, _)| messages[d as usize].id.as_str())
            .collect();
        with_neighbors += usize::from(!neighbors.is_empty());
        serde_json::to_writer(&mut output, &SimilarLine { id: &m.id, neighbors })
            .map_err(std::io::Error::from)?;
        output.write_all(b"\n")?;
        if large && (doc + 1).is_multiple_of(PROGRESS_EVERY) {
            writeln!(progress, "queried {} of {}", doc + 1, messages.len())?;
        }
    }
    output.flush()?;
    Ok(CliSummary { messages: messages.len(), groups: with_neighbors })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generated::generate_messages;

    fn corpus_jsonl(n: usize) -> String {
        generate_messages(n, 11, 0.1)
            .into_iter()
            .map(|m| {
                serde_json::json!({
                    "id": m.message.id,
                    "conversationId": m.message.conversation_id,
                    "text": m.message.text,
                })
                .to_string()
                    + "\n"
            })
            .collect()
    }

    #[test]
    fn cluster_cli_writes_one_line_per_input() {
        let input = corpus_jsonl(400);
        let mut out = Vec::new();
        let mut progress = Vec::new();
        let summary = run_cluster_cli(input.as_bytes(), &mut out, &mut progress).unwrap();
        assert_eq!(summary.messages, 400);
        assert!(summary.groups > 0);
        let lines: Vec<serde_json::Value> =
            String::from_utf8(out).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(lines.len(), 400);
        assert_eq!(lines[0]["id"], "m0");
        assert!(lines.iter().any(|l| l["cluster"].is_string()));
        assert!(lines.iter().all(|l| l["cluster"].is_string() || l["cluster"].is_null()));
        // Small inputs print no progress; no customer text ever.
        assert!(progress.is_empty());
    }

    #[test]
    fn similar_cli_excludes_the_message_itself() {
        let input = corpus_jsonl(200);
        let mut out = Vec::new();
        run_similar_cli(5, input.as_bytes(), &mut out, std::io::sink()).unwrap();
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<serde_json::Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(lines.len(), 200);
        for line in &lines {
            let neighbors = line["neighbors"].as_array().unwrap();
            assert!(neighbors.len() <= 5);
            assert!(neighbors.iter().all(|n| n != &line["id"]));
        }
        assert!(lines.iter().filter(|l| !l["neighbors"].as_array().unwrap().is_empty()).count() > 150);
    }

    /// The `embedding` of each line reaches the index: the message the words rank second
    /// comes first when the embeddings say it means the same.
    #[test]
    fn similar_cli_ranks_by_the_embeddings_it_is_given() {
        let lines = [
            ("a", "is there parking for my car at the building", [1.0, 0.0, 0.0]),
            ("b", "is there parking for my bike at the building", [0.0, 1.0, 0.0]),
            ("c", "can I leave my car in the garage overnight", [1.0, 0.0, 0.1]),
            ("d", "what is the rent for the two bedroom", [0.0, 0.0, 1.0]),
        ];
        let first_neighbor_of_a = |with_embeddings: bool| {
            let input: String = lines
                .iter()
                .map(|(id, text, embedding)| {
                    let mut line = serde_json::json!({"id": id, "conversationId": id, "text": text});
                    if with_embeddings {
                        line["embedding"] = serde_json::json!(embedding);
                    }
                    line.to_string() + "\n"
                })
                .collect();
            let mut out = Vec::new();
            run_similar_cli(1, input.as_bytes(), &mut out, std::io::sink()).unwrap();
            let first: serde_json::Value =
                serde_json::from_slice(out.split(|&b| b == b'\n').next().unwrap()).unwrap();
            first["neighbors"][0].as_str().unwrap().to_string()
        };
        assert_eq!(first_neighbor_of_a(false), "b");
        assert_eq!(first_neighbor_of_a(true), "c");
    }

    #[test]
    fn malformed_line_names_its_number() {
        let input = "{\"id\":\"a\",\"conversationId\":\"c\",\"text\":\"hi\"}\n\n{\"id\": 3}\n";
        let err = run_cluster_cli(input.as_bytes(), Vec::new(), std::io::sink()).unwrap_err();
        match &err {
            CliError::Parse { line, .. } => assert_eq!(*line, 3),
            other => panic!("{other:?}"),
        }
        assert!(err.to_string().starts_with("line 3:"), "{err}");
        let err = run_similar_cli(3, "not json\n".as_bytes(), Vec::new(), std::io::sink()).unwrap_err();
        assert!(err.to_string().starts_with("line 1:"), "{err}");
        // A bare string value is not echoed back.
        let err =
            run_cluster_cli("\"call me at 555\"\n".as_bytes(), Vec::new(), std::io::sink()).unwrap_err();
        assert!(!err.to_string().contains("555"), "{err}");
        let err = run_cluster_cli("{\"id\":\"a\",\"text\":\"x\"}".as_bytes(), Vec::new(), std::io::sink())
            .unwrap_err();
        assert!(err.to_string().contains("conversationId"), "{err}");
        // An embedding that is no direction is refused, naming why.
        let line = "{\"id\":\"a\",\"conversationId\":\"c\",\"text\":\"x\",\"embedding\":[0,0]}";
        let err = run_cluster_cli(line.as_bytes(), Vec::new(), std::io::sink()).unwrap_err();
        assert!(
            err.to_string().starts_with("line 1: an embedding needs at least one non-zero value"),
            "{err}"
        );
    }

    #[test]
    fn empty_input_gives_empty_output() {
        let mut out = Vec::new();
        let summary = run_cluster_cli("".as_bytes(), &mut out, std::io::sink()).unwrap();
        assert_eq!(summary.messages, 0);
        assert!(out.is_empty());
    }
}
