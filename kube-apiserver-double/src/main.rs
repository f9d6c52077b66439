//! `kube-apiserver-double --kubeconfig PATH [--port N] [--http] [--event-ttl SECS]
//! [--pod NS/NAME]... [--node NAME]... [--no-events-group]`: runs the local
//! Kubernetes API double until Ctrl-C, with its kubeconfig written to PATH.

use std::process::ExitCode;
use std::time::Duration;

use kube_apiserver_double::{ServeOptions, serve_until_ctrl_c};

const USAGE: &str =
    "usage: kube-apiserver-double --kubeconfig PATH [--port N] [--http] [--event-ttl SECS]
                             [--pod NS/NAME]... [--node NAME]... [--no-events-group]

Runs the local Kubernetes API double on 127.0.0.1 until Ctrl-C and writes a
kubeconfig for it to PATH (kubectl --kubeconfig PATH ...). HTTPS with a fresh
certificate authority unless --http; any free port unless --port. With
--no-events-group it does not serve events.k8s.io (core/v1 events only).
";

fn parse(args: impl IntoIterator<Item = String>) -> Result<ServeOptions, String> {
    let mut opts = ServeOptions::default();
    let mut it = args.into_iter();
    let value = |it: &mut dyn Iterator<Item = String>, flag: &str| {
        it.next().ok_or_else(|| format!("{flag} needs a value"))
    };
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--kubeconfig" => opts.kubeconfig = Some(value(&mut it, "--kubeconfig")?.into()),
            "--port" => {
                let v = value(&mut it, "--port")?;
                opts.port = v.parse().map_err(|e| format!("--port {v:?}: {e}"))?;
            }
            "--http" => opts.plain_http = true,
            "--event-ttl" => {
                let v = value(&mut it, "--event-ttl")?;
                let secs: u64 = v.parse().map_err(|e| format!("--event-ttl {v:?}: {e}"))?;
                opts.event_ttl = Duration::from_secs(secs);
            }
            "--pod" => opts.pods.push(value(&mut it, "--pod")?),
            "--node" => opts.nodes.push(value(&mut it, "--node")?),
            "--no-events-group" => opts.serve_events_group = false,
            "-h" | "--help" => return Err(USAGE.to_owned()),
            other => return Err(format!("unknown argument `{other}`\n\n{USAGE}")),
        }
    }
    if opts.kubeconfig.is_none() {
        return Err(format!("--kubeconfig PATH is required\n\n{USAGE}"));
    }
    Ok(opts)
}

#[tokio::main]
async fn main() -> ExitCode {
    let opts = match parse(std::env::args().skip(1)) {
        Ok(opts) => opts,
        Err(message) if message == USAGE => {
            print!("{message}");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("kube-apiserver-double: {message}");
            return ExitCode::FAILURE;
        }
    };
    match serve_until_ctrl_c(opts).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("kube-apiserver-double: {e}");
            ExitCode::FAILURE
        }
    }
}
