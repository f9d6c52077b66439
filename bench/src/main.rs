//! `cargo xtask bench [--quick]`: this engine (`event_core::Recorder` over
//! `event_kube::KubeSink`) side by side with kube-rs's
//! `kube::runtime::events::Recorder` (kube 5), both writing through the same
//! in-process `kube::Client` transport, in one run.
//!
//! Prints a markdown table (median of the runs after a warm-up, with the
//! range) and writes it, with an SVG plot of time per repeat publish against
//! live keys, under `target/bench/`.

mod api;
mod contenders;
mod plot;
mod report;
mod scenarios;

use std::alloc::System;
use std::fmt::Write as _;
use std::future::Future;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};
use stats_alloc::{INSTRUMENTED_SYSTEM, StatsAlloc};

use api::Transport;
use contenders::{KubeRs, Ours};
use report::{Better, Row, Summary, Unit};
use scenarios::RepeatPlan;

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// Heap bytes allocated and not yet freed, process-wide.
fn live_bytes() -> u64 {
    live(&GLOBAL.stats())
}

/// Live bytes from the allocator's totals. Growth and shrinkage by
/// `realloc` are already folded into the allocated and deallocated totals
/// (`bytes_reallocated` only repeats their net), so it is not added again.
fn live(stats: &stats_alloc::Stats) -> u64 {
    u64::try_from(
        stats
            .bytes_allocated
            .saturating_sub(stats.bytes_deallocated),
    )
    .unwrap_or(u64::MAX)
}

const USAGE: &str = "usage: bench [--quick] [--runs N]

  --quick    a smoke run (under two minutes): fewer live-key sizes, smaller batches
  --runs N   measured runs per scenario after one warm-up (at least 5; default 9, quick 5)
";

/// How big each scenario is.
#[derive(Clone, Debug)]
struct Plan {
    quick: bool,
    runs: usize,
    flood: usize,
    repeat_sizes: Vec<usize>,
    repeat_batch_ours: usize,
    repeat_batch_kube: usize,
    tasks: Vec<usize>,
    objects: usize,
    reasons: usize,
    expired_more: usize,
}

impl Plan {
    fn new(quick: bool, runs: Option<usize>) -> Self {
        Self {
            quick,
            runs: runs.unwrap_or(if quick { 5 } else { 9 }),
            flood: 10_000,
            repeat_sizes: if quick {
                vec![1_000, 10_000, 50_000]
            } else {
                vec![1_000, 2_000, 5_000, 10_000, 20_000, 50_000]
            },
            repeat_batch_ours: if quick { 5_000 } else { 20_000 },
            repeat_batch_kube: if quick { 30 } else { 200 },
            tasks: vec![16, 64],
            objects: 500,
            reasons: 10,
            expired_more: 10,
        }
    }

    /// The most live keys of scenario 2, which scenario 5 measures too.
    fn largest(&self) -> usize {
        self.repeat_sizes.last().copied().unwrap_or(0)
    }
}

fn parse(args: &[String]) -> Result<Option<Plan>, String> {
    let mut quick = false;
    let mut runs = None;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--quick" => quick = true,
            "--runs" => {
                let n = it
                    .next()
                    .and_then(|n| n.parse::<usize>().ok())
                    .ok_or("--runs needs a number")?;
                if n < 5 {
                    return Err("--runs must be at least 5".into());
                }
                runs = Some(n);
            }
            "-h" | "--help" => return Ok(None),
            other => return Err(format!("unknown argument `{other}`\n\n{USAGE}")),
        }
    }
    Ok(Some(Plan::new(quick, runs)))
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let plan = match parse(&args) {
        Ok(Some(plan)) => plan,
        Ok(None) => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("bench: {message}");
            return ExitCode::FAILURE;
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("bench: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(&plan)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("bench: {message}");
            ExitCode::FAILURE
        }
    }
}

/// `target/bench` in the workspace (or under `CARGO_TARGET_DIR`).
fn out_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(
            || {
                PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                    .join("..")
                    .join("target")
            },
            PathBuf::from,
        )
        .join("bench")
}

fn bar(label: &str, len: usize) -> ProgressBar {
    eprintln!("==> {label}");
    let bar = ProgressBar::new(len as u64).with_prefix(label.to_owned());
    if let Ok(style) =
        ProgressStyle::with_template("{prefix:40} [{bar:30}] {pos}/{len} {elapsed:>4} {msg}")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

fn done(bar: &ProgressBar, started: Instant) {
    bar.finish_and_clear();
    eprintln!("    done in {:.1?}", started.elapsed());
}

/// One warm-up run of each, then `runs` runs of each, alternating so that
/// both meet the same noise.
async fn alternate<T, K, KF, O, OF>(
    runs: usize,
    bar: &ProgressBar,
    mut kube: K,
    mut ours: O,
) -> Result<Runs<T>, String>
where
    K: FnMut() -> KF,
    KF: Future<Output = Result<T, String>>,
    O: FnMut() -> OF,
    OF: Future<Output = Result<T, String>>,
{
    let (mut k, mut o) = (Vec::with_capacity(runs), Vec::with_capacity(runs));
    for run in 0..=runs {
        bar.set_message(if run == 0 { "warm-up" } else { "" });
        let a = kube().await?;
        bar.inc(1);
        let b = ours().await?;
        bar.inc(1);
        if run > 0 {
            k.push(a);
            o.push(b);
        }
    }
    Ok(Runs { kube: k, ours: o })
}

fn col<T>(values: &[T], f: impl Fn(&T) -> f64) -> Vec<f64> {
    values.iter().map(f).collect()
}

/// The measured runs of one scenario, kube-rs's and ours, from which each
/// row of the table reads one figure.
struct Runs<T> {
    kube: Vec<T>,
    ours: Vec<T>,
}

impl<T> Runs<T> {
    /// The row of the figure `f` reads from every run.
    fn row(&self, label: String, unit: Unit, better: Better, f: impl Fn(&T) -> f64) -> Row {
        Row::new(
            label,
            unit,
            better,
            col(&self.kube, &f),
            col(&self.ours, &f),
        )
    }
}

/// A duration in milliseconds.
fn millis(d: std::time::Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

async fn run(plan: &Plan) -> Result<(), String> {
    let started = Instant::now();
    let n = plan.runs;
    eprintln!(
        "bench ({}): kube-rs's recorder vs ours, {n} runs after a warm-up",
        if plan.quick { "quick" } else { "full" }
    );
    let dir = out_dir();
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;

    eprintln!("--- {} ---", Transport::InProcess.label());
    let transport = Transport::InProcess;
    let mut rows = flood(plan, transport).await?;
    let repeat = repeat_cost(plan).await?;
    rows.extend(repeat.rows.iter().cloned());
    rows.extend(concurrency(plan, transport).await?);
    rows.extend(distinct(plan, transport).await?);
    rows.extend(memory(plan, &repeat).await?);
    rows.extend(expired(plan, transport).await?);
    rows.extend(identity(plan, transport).await?);
    let svg = dir.join("repeat-cost.svg");
    plot::repeat_cost(&svg, &repeat.kube_curve, &repeat.ours_curve)?;

    eprintln!("--- {} ---", Transport::Loopback.label());
    let end_to_end = end_to_end(plan).await;

    let mut text = format!(
        "### CPU: both recorders over the {}\n\n{}\n",
        Transport::InProcess.label(),
        report::table(&rows)
    );
    match &end_to_end {
        Ok(rows) => {
            let _ = write!(
                text,
                "### End to end: both recorders over the {}\n\n{}\n",
                Transport::Loopback.label(),
                report::table(rows)
            );
        }
        Err(e) => {
            let _ = write!(
                text,
                "### End to end: both recorders over the {}\n\nNot measured: {e}\n\n",
                Transport::Loopback.label()
            );
        }
    }
    text.push_str(&notes(plan, &repeat));
    let md = dir.join("results.md");
    std::fs::write(&md, &text).map_err(|e| format!("{}: {e}", md.display()))?;
    println!("{text}");
    println!("plot: {}", shown(&svg));
    println!("table: {}", shown(&md));
    eprintln!("bench finished in {:.0?}", started.elapsed());
    Ok(())
}

/// A path as printed: relative to the workspace when inside it.
fn shown(path: &std::path::Path) -> String {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let (Ok(root), Ok(path_abs)) = (root.canonicalize(), path.canonicalize()) else {
        return path.display().to_string();
    };
    path_abs.strip_prefix(&root).map_or_else(
        |_| path_abs.display().to_string(),
        |p| p.display().to_string(),
    )
}

/// Scenarios 1, 3, 4 and 6 over the API double.
async fn end_to_end(plan: &Plan) -> Result<Vec<Row>, String> {
    let transport = Transport::Loopback;
    let mut rows = flood(plan, transport).await?;
    rows.extend(concurrency(plan, transport).await?);
    rows.extend(distinct(plan, transport).await?);
    rows.extend(expired(plan, transport).await?);
    Ok(rows)
}

/// Scenario 1.
async fn flood(plan: &Plan, transport: Transport) -> Result<Vec<Row>, String> {
    let n = plan.runs;
    let t = Instant::now();
    let pb = bar("1. flood", 2 * (n + 1));
    let runs = alternate(
        n,
        &pb,
        || scenarios::flood::<KubeRs>(transport, plan.flood),
        || scenarios::flood::<Ours>(transport, plan.flood),
    )
    .await?;
    done(&pb, t);
    let label = |what: &str| format!("1. flood ({} publishes): {what}", plan.flood);
    Ok(vec![
        runs.row(label("wall time"), Unit::Millis, Better::Lower, |r| {
            millis(r.wall)
        }),
        runs.row(label("API writes"), Unit::Count, Better::Lower, |r| {
            r.writes as f64
        }),
        runs.row(label("count stored"), Unit::Count, Better::Same, |r| {
            r.stored as f64
        }),
        runs.row(label("events stored"), Unit::Count, Better::Same, |r| {
            r.events as f64
        }),
    ])
}

/// Scenario 2's last batches repeat only this many keys of the largest
/// cache.
const HOT_KEYS: usize = 1_000;

/// Scenario 2's rows and curves, and the fill's heap figures (scenario 5).
struct Repeat {
    rows: Vec<Row>,
    kube: scenarios::RepeatCost,
    ours: scenarios::RepeatCost,
    kube_curve: plot::Curve,
    ours_curve: plot::Curve,
}

/// Scenario 2 (in process only).
async fn repeat_cost(plan: &Plan) -> Result<Repeat, String> {
    let t = Instant::now();
    let pb = bar(
        "2. repeat cost vs live keys",
        2 * (plan.repeat_sizes.len() + 1),
    );
    let kube_plan = RepeatPlan {
        sizes: plan.repeat_sizes.clone(),
        batch: plan.repeat_batch_kube,
        runs: plan.runs,
        fills: 1,
        hot: HOT_KEYS,
    };
    let ours_plan = RepeatPlan {
        batch: plan.repeat_batch_ours,
        fills: 2,
        ..kube_plan.clone()
    };
    let progress = |message: String| {
        if message.contains("repeats") {
            pb.inc(1);
        }
        pb.set_message(message);
    };
    let kube = scenarios::repeat_cost::<KubeRs, _>(&kube_plan, live_bytes, progress).await?;
    let ours = scenarios::repeat_cost::<Ours, _>(&ours_plan, live_bytes, progress).await?;
    done(&pb, t);
    let curve = |c: &scenarios::RepeatCost| -> plot::Curve {
        c.points
            .iter()
            .filter_map(|(keys, runs)| Summary::of(runs).map(|s| (*keys, s)))
            .collect()
    };
    let (kube_curve, ours_curve) = (curve(&kube), curve(&ours));
    let mut rows = Vec::new();
    for ((keys, k), (_, o)) in kube.points.iter().zip(&ours.points) {
        if [1_000, 10_000, 50_000].contains(keys) {
            rows.push(Row::new(
                format!("2. repeat publish at {}k live keys", keys / 1_000),
                Unit::Micros,
                Better::Lower,
                k.clone(),
                o.clone(),
            ));
        }
    }
    let largest = plan.largest();
    if !kube.hot.is_empty() && !ours.hot.is_empty() {
        rows.push(Row::new(
            format!(
                "2. repeat publish at {}k live keys, repeats on {}k of them",
                largest / 1_000,
                HOT_KEYS / 1_000
            ),
            Unit::Micros,
            Better::Lower,
            kube.hot.clone(),
            ours.hot.clone(),
        ));
    }
    let growth =
        |c: &plot::Curve| -> Option<f64> { Some(c.last()?.1.median / c.first()?.1.median) };
    if let (Some(kg), Some(og)) = (growth(&kube_curve), growth(&ours_curve)) {
        rows.push(Row::new(
            format!(
                "2. growth from {}k to {}k live keys (median ÷ median)",
                plan.repeat_sizes.first().copied().unwrap_or(0) / 1_000,
                largest / 1_000
            ),
            Unit::Factor,
            Better::Lower,
            vec![kg],
            vec![og],
        ));
    }
    Ok(Repeat {
        rows,
        kube,
        ours,
        kube_curve,
        ours_curve,
    })
}

/// Scenario 3.
async fn concurrency(plan: &Plan, transport: Transport) -> Result<Vec<Row>, String> {
    let n = plan.runs;
    let mut rows = Vec::new();
    for &tasks in &plan.tasks {
        let t = Instant::now();
        let pb = bar(&format!("3. concurrency, {tasks} tasks"), 2 * (n + 1));
        let runs = alternate(
            n,
            &pb,
            || scenarios::concurrency::<KubeRs>(transport, tasks),
            || scenarios::concurrency::<Ours>(transport, tasks),
        )
        .await?;
        done(&pb, t);
        let label = |what: &str| format!("3. {tasks} tasks, one new key: {what}");
        rows.push(runs.row(label("creates"), Unit::Count, Better::Lower, |r| {
            r.creates as f64
        }));
        rows.push(
            runs.row(label("events stored"), Unit::Count, Better::Lower, |r| {
                r.events as f64
            }),
        );
        rows.push(runs.row(
            label("largest count stored"),
            Unit::Count,
            Better::Higher,
            |r| r.largest as f64,
        ));
        rows.push(runs.row(
            label("total count stored"),
            Unit::Count,
            Better::Higher,
            |r| r.stored as f64,
        ));
        rows.push(
            runs.row(label("errors returned"), Unit::Count, Better::Lower, |r| {
                r.errors as f64
            }),
        );
    }
    Ok(rows)
}

/// Scenario 4.
async fn distinct(plan: &Plan, transport: Transport) -> Result<Vec<Row>, String> {
    let n = plan.runs;
    let total = plan.objects * plan.reasons;
    let t = Instant::now();
    let pb = bar("4. distinct events, publish", 2 * (n + 1));
    let runs = alternate(
        n,
        &pb,
        || scenarios::distinct_publish::<KubeRs>(transport, plan.objects, plan.reasons),
        || scenarios::distinct_publish::<Ours>(transport, plan.objects, plan.reasons),
    )
    .await?;
    done(&pb, t);
    let t = Instant::now();
    let pb = bar("4. distinct events, emit", 2 * (n + 1));
    let emits = alternate(
        n,
        &pb,
        || scenarios::distinct_emit::<KubeRs>(transport, plan.objects, plan.reasons),
        || scenarios::distinct_emit::<Ours>(transport, plan.objects, plan.reasons),
    )
    .await?;
    done(&pb, t);
    let label = |what: &str| format!("4. {total} events on {} objects: {what}", plan.objects);
    let both = |a: &[scenarios::Distinct],
                b: &[scenarios::Distinct],
                f: fn(&scenarios::Distinct) -> f64| {
        col(a, f).into_iter().chain(col(b, f)).collect::<Vec<_>>()
    };
    Ok(vec![
        runs.row(
            label("`publish` (awaited) throughput"),
            Unit::PerSecond,
            Better::Higher,
            scenarios::Distinct::rate,
        ),
        emits.row(
            label("`emit` until all written"),
            Unit::Millis,
            Better::Lower,
            |r| millis(r.wall),
        ),
        emits.row(
            label("`emit` throughput"),
            Unit::PerSecond,
            Better::Higher,
            scenarios::Distinct::rate,
        ),
        Row::new(
            label("events stored (both modes)"),
            Unit::Count,
            Better::Same,
            both(&runs.kube, &emits.kube, |r| r.events as f64),
            both(&runs.ours, &emits.ours, |r| r.events as f64),
        ),
        Row::new(
            label("errors or drops (both modes)"),
            Unit::Count,
            Better::Lower,
            both(&runs.kube, &emits.kube, |r| r.errors as f64),
            both(&runs.ours, &emits.ours, |r| r.errors as f64),
        ),
    ])
}

/// Scenario 5 (in process only): the fill of scenario 2, and ours with the
/// default cache bound.
async fn memory(plan: &Plan, repeat: &Repeat) -> Result<Vec<Row>, String> {
    let t = Instant::now();
    let pb = bar("5. memory, default cache bound", 1);
    let largest = plan.largest();
    let bounded = scenarios::bounded_memory::<Ours>(largest, live_bytes).await?;
    pb.inc(1);
    done(&pb, t);
    let keys = largest / 1_000;
    // kube-rs does not tell how many keys it caches: no figure for it.
    let cached = |c: Option<usize>| c.map(|c| c as f64).into_iter().collect();
    Ok(vec![
        Row::new(
            format!("5. heap per live key at {}k live keys", largest / 1_000),
            Unit::Bytes,
            Better::Lower,
            vec![repeat.kube.bytes_per_key],
            vec![repeat.ours.bytes_per_key],
        ),
        Row::new(
            format!("5. heap held after {keys}k distinct keys, default settings"),
            Unit::Bytes,
            Better::Lower,
            vec![repeat.kube.bytes_per_key * largest as f64],
            vec![bounded.bytes as f64],
        ),
        Row::new(
            format!("5. keys cached after {keys}k distinct keys, default settings"),
            Unit::Count,
            Better::Lower,
            cached(repeat.kube.cached),
            cached(bounded.cached),
        ),
    ])
}

/// Scenario 6.
async fn expired(plan: &Plan, transport: Transport) -> Result<Vec<Row>, String> {
    let n = plan.runs;
    let t = Instant::now();
    let pb = bar("6. expired event", 2 * (n + 1));
    let runs = alternate(
        n,
        &pb,
        || scenarios::expired::<KubeRs>(transport, plan.expired_more),
        || scenarios::expired::<Ours>(transport, plan.expired_more),
    )
    .await?;
    done(&pb, t);
    let label = |what: &str| {
        format!(
            "6. event deleted, then {} more occurrences: {what}",
            plan.expired_more
        )
    };
    Ok(vec![
        runs.row(label("errors returned"), Unit::Count, Better::Lower, |r| {
            r.errors as f64
        }),
        runs.row(label("write requests"), Unit::Count, Better::Lower, |r| {
            r.writes as f64
        }),
        runs.row(
            label("events created again"),
            Unit::Count,
            Better::Higher,
            |r| r.creates as f64,
        ),
        runs.row(label("count stored"), Unit::Count, Better::Higher, |r| {
            r.stored as f64
        }),
    ])
}

/// Scenario 7 (in process, one run each: the figures are counts).
async fn identity(plan: &Plan, transport: Transport) -> Result<Vec<Row>, String> {
    const ROUNDS: usize = 5;
    let t = Instant::now();
    let sizes: &[usize] = if plan.quick {
        &[10_000]
    } else {
        &[10_000, 50_000]
    };
    let pb = bar("7. series identity", 2 * sizes.len() + 2);
    let mut rows = Vec::new();
    for &keys in sizes {
        let kube = scenarios::identity::<KubeRs>(transport, keys, ROUNDS).await?;
        pb.inc(1);
        let ours = scenarios::identity::<Ours>(transport, keys, ROUNDS).await?;
        pb.inc(1);
        // One run each: the figures are counts.
        let runs = Runs {
            kube: vec![kube],
            ours: vec![ours],
        };
        let label = |what: &str| {
            format!("7. {ROUNDS} rounds over {keys} live keys, default settings: {what}")
        };
        rows.push(runs.row(
            label("Events stored (one per key is right)"),
            Unit::Count,
            Better::Lower,
            |r| r.events as f64,
        ));
        rows.push(runs.row(
            label("sum of stored counts"),
            Unit::Count,
            Better::Higher,
            |r| r.stored as f64,
        ));
        rows.push(runs.row(
            label("requests per repeat (every key left our cache)"),
            Unit::Count,
            Better::Lower,
            |r| r.requests_per_repeat,
        ));
    }
    let half = 5;
    let kube = scenarios::restart::<KubeRs>(transport, half).await?;
    pb.inc(1);
    let ours = scenarios::restart::<Ours>(transport, half).await?;
    pb.inc(1);
    done(&pb, t);
    let runs = Runs {
        kube: vec![kube],
        ours: vec![ours],
    };
    let label = |what: &str| format!("7. restart mid-series ({half} + {half} occurrences): {what}");
    rows.push(
        runs.row(label("Events stored"), Unit::Count, Better::Lower, |r| {
            r.0 as f64
        }),
    );
    rows.push(runs.row(
        label("sum of stored counts"),
        Unit::Count,
        Better::Higher,
        |r| r.1 as f64,
    ));
    Ok(rows)
}

fn notes(plan: &Plan, repeat: &Repeat) -> String {
    let largest = plan.largest();
    let list = |v: &[usize]| {
        v.iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    };
    let cached = |c: Option<usize>| c.map_or_else(|| largest.to_string(), |c| c.to_string());
    format!(
        "Figures: median of {runs} runs after one warm-up, (min–max); ratio = kube-rs ÷ ours \
for costs, ours ÷ kube-rs for throughput and counts kept. The in-process API is a tower \
service behind `kube::Client` that stores events, answers POST 201 and PATCH 200 and counts \
requests; the API double is `kube_apiserver_double::ApiServer` over HTTPS on 127.0.0.1, \
in the same process.\n\n\
- Ours: `event_core::Recorder` over `event_kube::KubeSink`, default settings (spam filter \
on) except: scenario 2 sets `max_cached_keys` 65536 and uses a distinct object per key (spam \
filter left on); scenario 4 `emit` sets `queue_capacity` 8192 so the {burst}-event burst is \
queued, not dropped, and waits with `shutdown`. Counts are read after `flush`.\n\
- kube-rs: `kube::runtime::events::Recorder` (kube 5). It has no call that does not wait: \
in scenario 4 `emit` it gets a spawned task per `publish`, all awaited.\n\
- Scenario 2: one recorder is filled to {sizes} live keys in turn; each run is a batch of \
{kb} (kube-rs) or {ob} (ours) repeat publishes on keys spread over the cache. Ours fills each \
key twice so every key is a live series; kube-rs writes on every publish either way. The \
last row of scenario 2 repeats only {hot} of the {largest} keys: the same cache, less memory \
touched.\n\
- Scenario 3: the in-process API answers after {latency} ms so that the tasks overlap as \
they do against a server.\n\
- Scenario 5: heap growth (counting allocator) from building the recorder to {largest} \
live keys, divided by the keys (kube-rs {kc} keys, ours {oc} cached), one measurement each. \
With default settings ours keeps at most {bound} keys; kube-rs keeps every key seen in the \
last 6 minutes.\n",
        runs = plan.runs,
        burst = plan.objects * plan.reasons,
        sizes = list(&plan.repeat_sizes),
        kb = plan.repeat_batch_kube,
        ob = plan.repeat_batch_ours,
        latency = scenarios::CONCURRENCY_LATENCY.as_millis(),
        kc = cached(repeat.kube.cached),
        oc = cached(repeat.ours.cached),
        bound = event_core::config::DEFAULT_MAX_CACHED_KEYS,
        hot = HOT_KEYS,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments() {
        let args = |a: &[&str]| a.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        let quick = parse(&args(&["--quick"])).unwrap().unwrap();
        assert!(quick.quick);
        assert!(quick.runs >= 5);
        let full = parse(&args(&[])).unwrap().unwrap();
        assert!(full.runs >= 5 && !full.quick);
        assert_eq!(full.repeat_sizes.first(), Some(&1_000));
        assert_eq!(full.repeat_sizes.last(), Some(&50_000));
        assert_eq!(parse(&args(&["--runs", "9"])).unwrap().unwrap().runs, 9);
        assert!(parse(&args(&["--runs", "2"])).is_err());
        assert!(parse(&args(&["--fast"])).is_err());
        assert!(parse(&args(&["--help"])).unwrap().is_none());
    }

    #[test]
    fn reallocations_are_not_counted_twice() {
        // 100 bytes allocated, grown to 130 by realloc (the allocator adds
        // the 30 to `bytes_allocated` and records them again as
        // reallocated), 40 freed.
        let stats = stats_alloc::Stats {
            allocations: 1,
            deallocations: 0,
            reallocations: 1,
            bytes_allocated: 130,
            bytes_deallocated: 40,
            bytes_reallocated: 30,
        };
        assert_eq!(live(&stats), 90);
    }

    #[test]
    fn live_bytes_follow_allocations() {
        let before = live_bytes();
        let block = vec![0u8; 1 << 20];
        let during = live_bytes();
        drop(std::hint::black_box(block));
        // Other test threads allocate too; a megabyte stands out.
        assert!(during >= before + (1 << 19));
    }
}
