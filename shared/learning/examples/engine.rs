//! The corpus commands of `autolearn` (`cluster`, `similar --k K`) without the runner's
//! AWS dependencies: the same library functions, for `scripts/eval-real.sh`, which builds
//! this example in release mode in seconds rather than the whole runner.
//!
//! Run: `cargo run --release -p autolearn-learning --example engine -- cluster < in.jsonl`.

use std::io::BufWriter;

use autolearn_learning::cli::{run_cluster_cli, run_similar_cli};

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (stdin, stdout) = (std::io::stdin().lock(), BufWriter::new(std::io::stdout().lock()));
    let result = match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["cluster"] => run_cluster_cli(stdin, stdout, std::io::stderr()),
        ["similar", "--k", k] => match k.parse() {
            Ok(k) => run_similar_cli(k, stdin, stdout, std::io::stderr()),
            Err(_) => {
                eprintln!("engine: --k needs a number");
                return std::process::ExitCode::FAILURE;
            }
        },
        _ => {
            eprintln!("usage: engine cluster | engine similar --k K   (JSON lines on stdin)");
            return std::process::ExitCode::FAILURE;
        }
    };
    match result {
        Ok(_) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("engine: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
