//! Project tasks: `cargo xtask ci | e2e | bench | apiserver | soak`.

mod apiserver;
mod bench;
mod cargo;
mod ci;
mod e2e;
mod soak;

use std::process::ExitCode;

const USAGE: &str = "usage: cargo xtask <task>

tasks:
  ci          format check, clippy (-D warnings), all tests (unit, integration, doc),
              the examples, the end-to-end suite, a build with the oldest
              supported Rust (rust-version), a dry-run publish of the library
              crates, docs with warnings denied, and the public API against the
              latest release tag (cargo-semver-checks, when installed)
  bench       side-by-side with kube-rs's recorder: a table of ratios and a plot
              (--quick for a smoke run under two minutes, --runs N)
  e2e         the end-to-end scenarios against the local Kubernetes API double,
              or a cluster with --kubeconfig PATH (kubectl checks when installed),
              through events.k8s.io/v1 and core/v1 (--transport events|core|auto|both,
              default both)
  apiserver   the local Kubernetes API double until Ctrl-C; --kubeconfig PATH
              (required) is where its kubeconfig goes (--port N, --http, ...)
  soak        the Recorder's model with many cases (--cases N, default 20,000),
              then a long run against the API double with random faults and a
              churning key set (--minutes N, default 10; --seed S)
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("ci") => ci::run(&args[1..]),
        Some("bench") => bench::run(&args[1..]),
        Some("e2e") => e2e::run(&args[1..]),
        Some("apiserver") => apiserver::run(&args[1..]),
        Some("soak") => soak::run(&args[1..]),
        Some("-h" | "--help" | "help") | None => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Some(other) => Err(format!("unknown task `{other}`\n\n{USAGE}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: {message}");
            ExitCode::FAILURE
        }
    }
}
