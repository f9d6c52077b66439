//! `e2e [--kubeconfig PATH]`: the end-to-end scenarios against a cluster or
//! the local Kubernetes API double (see the library docs).

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    let opts = match e2e::Options::parse(std::env::args().skip(1)) {
        Ok(opts) => opts,
        Err(message) if message == e2e::USAGE => {
            print!("{message}");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("e2e: {message}");
            return ExitCode::FAILURE;
        }
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "off".into()),
        )
        .init();
    let summary = e2e::run(opts).await;
    println!("{}", summary.line());
    if summary.is_success() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
