//! `soak [--minutes N] [--seed S]`: a long run of the Recorder against the
//! local API double with random faults and a churning key set. Prints, every
//! 10 seconds, the process's resident memory and the Recorder's counters;
//! at the end, the count invariant: every accepted occurrence stored, or
//! counted as dropped.
//!
//! Keys are `reason × object` pairs drawn from a window of 5,000 that goes
//! twice around a universe of 8,000, so keys leave the cache (2,000) and
//! come back while their Events are stored. Once every key has its Event
//! (the double's store no longer grows) the process's memory should stay
//! flat.

use std::collections::HashMap;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use event_core::{Event, ObjectRef, Recorder};
use event_kube::KubeSink;
use k8s_openapi::api::events::v1::Event as K8sEvent;
use kube::Api;
use kube::api::ListParams;
use kube_apiserver_double::{ApiServer, FaultAction, RandomFaults};

const UNIVERSE: usize = 8_000;
const WINDOW: usize = 5_000;
const CACHE: usize = 2_000;
const NAMESPACE: &str = "soak";

fn usage() -> &'static str {
    "usage: soak [--minutes N] [--seed S]"
}

fn parse(args: &[String]) -> Result<(f64, u64), String> {
    let (mut minutes, mut seed) = (10.0, 7);
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let value = || {
            it.clone()
                .next()
                .cloned()
                .ok_or_else(|| format!("{arg} needs a value; {}", usage()))
        };
        match arg.as_str() {
            "--minutes" => {
                minutes = value()?
                    .parse::<f64>()
                    .ok()
                    .filter(|m| m.is_finite() && *m > 0.0)
                    .ok_or_else(|| format!("--minutes takes a number above 0; {}", usage()))?;
                it.next();
            }
            "--seed" => {
                seed = value()?
                    .parse()
                    .map_err(|_| format!("--seed takes a whole number; {}", usage()))?;
                it.next();
            }
            "-h" | "--help" => return Err(usage().to_owned()),
            other => return Err(format!("unknown argument `{other}`; {}", usage())),
        }
    }
    Ok((minutes, seed))
}

/// Resident memory of this process, in MiB (Linux).
fn rss_mib() -> f64 {
    let pages = std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<f64>().ok())
        .unwrap_or(0.0);
    pages * 4096.0 / (1024.0 * 1024.0)
}

fn key(i: usize) -> (Event, ObjectRef) {
    let event = Event::warning(format!("Soak{}", i % 20), "Soaking");
    let object = ObjectRef::new("v1", "Pod", format!("pod-{}", i / 20))
        .within(NAMESPACE)
        .with_uid(format!("uid-{}", i / 20));
    (event, object)
}

async fn run(minutes: f64, seed: u64) -> Result<bool, String> {
    let server = ApiServer::builder()
        .event_ttl(Duration::from_secs(6 * 3600))
        .start()
        .await
        .map_err(|e| format!("starting the API double: {e}"))?;
    let client = server.client().await.map_err(|e| e.to_string())?;
    let namespace: k8s_openapi::api::core::v1::Namespace = serde_json::from_value(
        serde_json::json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}}),
    )
    .map_err(|e| e.to_string())?;
    Api::<k8s_openapi::api::core::v1::Namespace>::all(client.clone())
        .create(&kube::api::PostParams::default(), &namespace)
        .await
        .map_err(|e| format!("creating namespace {NAMESPACE}: {e}"))?;
    server.faults().set_random(Some(
        RandomFaults::new(seed, 0.05)
            .actions(vec![
                FaultAction::Status {
                    code: 503,
                    retry_after: None,
                },
                FaultAction::Status {
                    code: 429,
                    retry_after: Some(1),
                },
                FaultAction::Drop,
                FaultAction::DropResponse,
            ])
            .path_prefix("/apis/events.k8s.io/"),
    ));
    let recorder = Recorder::builder(
        Arc::new(KubeSink::new(client.clone())),
        event_core::Reporter::new("example.com/soak").with_instance("soak-0"),
    )
    .max_cached_keys(CACHE)
    .no_spam_filter()
    // Full pressure on the engine and the double; the budget has tests of
    // its own.
    .write_budget(event_core::config::WriteBudget::unlimited())
    .build()
    .map_err(|e| e.to_string())?;

    let mut rng = fastrand::Rng::with_seed(seed);
    let mut accepted: HashMap<usize, u32> = HashMap::new();
    let mut errors = 0u64;
    let started = Instant::now();
    let length = Duration::try_from_secs_f64(minutes * 60.0)
        .map_err(|_| format!("--minutes {minutes} is too long"))?;
    let mut next_report = Duration::ZERO;
    let mut rss = Vec::new();
    // Time of every `emit` call, in nanoseconds (it must never wait).
    let mut emit_nanos: Vec<u64> = Vec::new();
    println!(
        "soak: {minutes} min, seed {seed}, keys {UNIVERSE} (window {WINDOW}), cache {CACHE}, 5% faults"
    );
    println!(
        "{:>7} {:>9} {:>9} {:>9} {:>8} {:>8} {:>9} {:>8} {:>8}",
        "elapsed",
        "RSS MiB",
        "published",
        "writes",
        "retried",
        "evicted",
        "adopted",
        "dropped",
        "cached"
    );
    while started.elapsed() < length {
        let elapsed = started.elapsed();
        // The window goes twice around the universe in the run.
        let progress = elapsed.as_secs_f64() / length.as_secs_f64();
        let start = (progress * 2.0 * UNIVERSE as f64) as usize;
        for _ in 0..200 {
            let i = (start + rng.usize(0..WINDOW)) % UNIVERSE;
            let (event, object) = key(i);
            let ok = if rng.bool() {
                let t = Instant::now();
                let ok = recorder.emit(&event, &object).is_ok();
                emit_nanos.push(u64::try_from(t.elapsed().as_nanos()).unwrap_or(u64::MAX));
                ok
            } else {
                match recorder.publish(&event, &object).await {
                    Ok(_) | Err(event_core::Error::Sink(_)) => true,
                    Err(_) => false,
                }
            };
            if ok {
                *accepted.entry(i).or_default() += 1;
            } else {
                errors += 1;
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        if elapsed >= next_report {
            next_report += Duration::from_secs(10);
            // The double's request log is not what is measured here.
            server.requests().clear();
            let s = recorder.stats();
            let mem = rss_mib();
            rss.push((elapsed, mem));
            println!(
                "{:>6.0}s {:>9.1} {:>9} {:>9} {:>8} {:>8} {:>9} {:>8} {:>8}",
                elapsed.as_secs_f64(),
                mem,
                s.published,
                s.writes(),
                s.retried,
                s.evicted,
                s.adopted,
                s.dropped_queue_full + s.dropped_unwritten,
                recorder.cached_keys()
            );
        }
    }
    server.faults().set_random(None);
    let report = recorder.shutdown(Duration::from_secs(120)).await;
    let s = report.stats;

    // Every Event the double holds, by key.
    let api: Api<K8sEvent> = Api::namespaced(client, NAMESPACE);
    let mut stored: HashMap<(String, String), u32> = HashMap::new();
    let mut events = 0usize;
    let mut params = ListParams::default().limit(2_000);
    loop {
        let page = api
            .list(&params)
            .await
            .map_err(|e| format!("listing: {e}"))?;
        for e in &page.items {
            events += 1;
            let name = e
                .regarding
                .as_ref()
                .and_then(|r| r.name.clone())
                .unwrap_or_default();
            let count = e
                .series
                .as_ref()
                .map_or(1, |s| u32::try_from(s.count).unwrap_or(0));
            *stored
                .entry((e.reason.clone().unwrap_or_default(), name))
                .or_default() += count;
        }
        match page.metadata.continue_.filter(|c| !c.is_empty()) {
            Some(token) => params = params.continue_token(&token),
            None => break,
        }
    }
    let mut mismatched = 0usize;
    let mut total_accepted = 0u64;
    let mut total_stored = 0u64;
    for (&i, &n) in &accepted {
        let (event, object) = key(i);
        let got = stored
            .get(&(event.reason, object.name))
            .copied()
            .unwrap_or(0);
        total_accepted += u64::from(n);
        total_stored += u64::from(got);
        if got != n {
            mismatched += 1;
        }
    }
    let dropped = s.dropped_queue_full + s.dropped_unwritten;
    let at = |fraction: u32| {
        rss.iter()
            .find(|(t, _)| *t >= length * fraction / 8)
            .map_or(0.0, |(_, m)| *m)
    };
    let last = rss.last().map_or(0.0, |(_, m)| *m);
    println!();
    println!(
        "keys used {}, Events stored {events} (one per key: {})",
        accepted.len(),
        events == accepted.len()
    );
    println!(
        "occurrences accepted {total_accepted}, stored {total_stored}, dropped and counted {dropped}, reported unwritten {}",
        report.unwritten.len()
    );
    println!("keys whose stored count differs from the accepted: {mismatched}");
    println!("stats: {s:?}");
    println!(
        "calls refused: {errors}; faults injected by the double: {}",
        server.faults().injected()
    );
    emit_nanos.sort_unstable();
    let pct = |p: f64| {
        let i = ((emit_nanos.len().saturating_sub(1)) as f64 * p).round() as usize;
        emit_nanos.get(i).map_or(0.0, |&n| n as f64 / 1_000.0)
    };
    println!(
        "emit: {} calls, p50 {:.1} µs, p99 {:.1} µs, max {:.1} µs",
        emit_nanos.len(),
        pct(0.5),
        pct(0.99),
        pct(1.0)
    );
    println!(
        "RSS: {:.1} MiB at 5/8 of the run, {:.1} at 6/8, {:.1} at 7/8, {last:.1} at the end",
        at(5),
        at(6),
        at(7)
    );
    let holds = total_stored + dropped == total_accepted
        && report.is_complete()
        && events == accepted.len();
    println!(
        "count invariant: {}",
        if holds { "holds" } else { "BROKEN" }
    );
    Ok(holds)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (minutes, seed) = match parse(&args) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("soak: no runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(minutes, seed)) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("soak: {e}");
            ExitCode::FAILURE
        }
    }
}
