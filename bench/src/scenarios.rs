//! One run of each scenario, for either recorder, over a fresh in-process
//! API. Each function returns what it measured; the caller repeats runs and
//! summarizes.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::api::{InProcessApi, Options, Requests, Transport};
use crate::contenders::{Contender, Setup, build};

/// Latency of the in-process API in scenario 3, so that concurrent
/// publishes overlap as they do against a server.
pub(crate) const CONCURRENCY_LATENCY: Duration = Duration::from_millis(1);

/// Scenario 1: one event on one object, published `n` times.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Flood {
    /// From the first publish until everything is written.
    pub(crate) wall: Duration,
    /// Write requests made.
    pub(crate) writes: u64,
    /// Events stored at the end.
    pub(crate) events: usize,
    /// The sum of the stored counts at the end.
    pub(crate) stored: u64,
}

/// Runs scenario 1.
pub(crate) async fn flood<C: Contender>(transport: Transport, n: usize) -> Result<Flood, String> {
    let (client, api) = transport.start(Options::storing()).await?;
    let recorder: C = build(client, Setup::default(), 1, 1)?;
    let start = Instant::now();
    for _ in 0..n {
        recorder.publish(0, 0).await?;
    }
    recorder.finish().await;
    let wall = start.elapsed();
    let stored = api.stored_counts();
    Ok(Flood {
        wall,
        writes: api.requests().writes(),
        events: stored.len(),
        stored: stored.iter().sum(),
    })
}

/// Scenario 2: time per repeat publish at each number of live keys.
#[derive(Clone, Debug, Default)]
pub(crate) struct RepeatCost {
    /// For each size: the live keys and the microseconds per publish of
    /// each measured batch (the warm-up batch left out).
    pub(crate) points: Vec<(usize, Vec<f64>)>,
    /// Heap bytes the recorder held per live key at the largest size.
    pub(crate) bytes_per_key: f64,
    /// The keys the recorder reports cached at the largest size, where it
    /// tells.
    pub(crate) cached: Option<usize>,
    /// At the largest size, the microseconds per publish of each batch
    /// when the repeats go to only the first `hot` keys.
    pub(crate) hot: Vec<f64>,
    /// Write requests made while filling and measuring.
    pub(crate) requests: Requests,
}

/// How scenario 2 runs.
#[derive(Clone, Debug)]
pub(crate) struct RepeatPlan {
    /// Live-key counts, ascending.
    pub(crate) sizes: Vec<usize>,
    /// Publishes per measured batch.
    pub(crate) batch: usize,
    /// Measured batches per size (after one warm-up batch).
    pub(crate) runs: usize,
    /// Publishes of each key while filling (2 makes every key a live
    /// series in our recorder; kube-rs writes on every publish anyway).
    pub(crate) fills: usize,
    /// After the largest size, batches whose repeats go to only this many
    /// keys (0: none), to tell the cost of the cache's size from the cost
    /// of touching memory spread over it.
    pub(crate) hot: usize,
}

/// Runs scenario 2 on one recorder that grows from size to size, calling
/// `progress` with a short label as it goes. The heap growth from the
/// recorder's construction to the largest fill gives the bytes per key
/// (scenario 5).
pub(crate) async fn repeat_cost<C, F>(
    plan: &RepeatPlan,
    live_bytes: fn() -> u64,
    mut progress: F,
) -> Result<RepeatCost, String>
where
    C: Contender,
    F: FnMut(String),
{
    let largest = plan.sizes.iter().copied().max().unwrap_or(0);
    let (client, api) = InProcessApi::counting();
    // The inputs (references, events) are not the recorder's memory.
    let inputs = C::inputs(largest, 1);
    let before = live_bytes();
    let setup = Setup {
        max_cached_keys: Some(65_536),
        ..Setup::default()
    };
    let recorder = C::new(client, setup, inputs)?;
    let mut out = RepeatCost::default();
    let mut filled = 0usize;
    let mut next = 0usize;
    for &size in &plan.sizes {
        progress(format!("{}: filling to {size} live keys", C::NAME));
        for object in filled..size {
            for _ in 0..plan.fills {
                recorder.publish(0, object).await?;
            }
        }
        filled = size;
        if size == largest {
            out.bytes_per_key = live_bytes().saturating_sub(before) as f64 / size.max(1) as f64;
            out.cached = recorder.cached_keys();
        }
        progress(format!("{}: repeats at {size} live keys", C::NAME));
        out.points
            .push((size, batches(&recorder, plan, size, &mut next).await?));
    }
    if plan.hot > 0 && largest > 0 {
        progress(format!(
            "{}: repeats on {} of {largest} live keys",
            C::NAME,
            plan.hot
        ));
        out.hot = batches(&recorder, plan, plan.hot.min(largest), &mut next).await?;
    }
    out.requests = api.requests();
    Ok(out)
}

/// One warm-up batch, then `plan.runs` measured batches of repeat
/// publishes on the first `keys` keys: microseconds per publish of each.
async fn batches<C: Contender>(
    recorder: &C,
    plan: &RepeatPlan,
    keys: usize,
    next: &mut usize,
) -> Result<Vec<f64>, String> {
    let mut out = Vec::with_capacity(plan.runs);
    for run in 0..=plan.runs {
        let start = Instant::now();
        for _ in 0..plan.batch {
            // A stride that visits keys all over the cache.
            *next = (*next + 7_919) % keys;
            recorder.publish(0, *next).await?;
        }
        let per = start.elapsed().as_secs_f64() * 1e6 / plan.batch.max(1) as f64;
        if run > 0 {
            out.push(per);
        }
    }
    Ok(out)
}

/// Scenario 3: `tasks` tasks publish one new key at once.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Concurrency {
    /// Creates made.
    pub(crate) creates: u64,
    /// Events stored at the end.
    pub(crate) events: usize,
    /// The largest stored count (the total, when all went to one event).
    pub(crate) largest: u64,
    /// The sum of the stored counts.
    pub(crate) stored: u64,
    /// Errors returned to the tasks.
    pub(crate) errors: u64,
}

/// Runs scenario 3. The in-process API answers after
/// [`CONCURRENCY_LATENCY`] here.
pub(crate) async fn concurrency<C: Contender>(
    transport: Transport,
    tasks: usize,
) -> Result<Concurrency, String> {
    let options = Options {
        latency: Some(CONCURRENCY_LATENCY),
        ..Options::storing()
    };
    let (client, api) = transport.start(options).await?;
    let recorder: C = build(client, Setup::default(), 1, 1)?;
    let barrier = Arc::new(tokio::sync::Barrier::new(tasks));
    let handles: Vec<_> = (0..tasks)
        .map(|_| {
            let recorder = recorder.clone();
            let barrier = Arc::clone(&barrier);
            tokio::spawn(async move {
                barrier.wait().await;
                recorder.publish(0, 0).await
            })
        })
        .collect();
    let mut errors = 0;
    for handle in handles {
        if !matches!(handle.await, Ok(Ok(()))) {
            errors += 1;
        }
    }
    recorder.finish().await;
    let stored = api.stored_counts();
    Ok(Concurrency {
        creates: api.requests().creates,
        events: stored.len(),
        largest: stored.iter().copied().max().unwrap_or(0),
        stored: stored.iter().sum(),
        errors,
    })
}

/// Scenario 4: `objects` × `reasons` distinct events.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Distinct {
    /// From the first call until every event is written.
    pub(crate) wall: Duration,
    /// Events stored at the end.
    pub(crate) events: usize,
    /// Errors (and, for ours, events dropped or left unwritten).
    pub(crate) errors: u64,
}

impl Distinct {
    /// Events per second.
    pub(crate) fn rate(&self) -> f64 {
        self.events as f64 / self.wall.as_secs_f64().max(1e-9)
    }
}

fn pairs(objects: usize, reasons: usize) -> Vec<(usize, usize)> {
    (0..reasons)
        .flat_map(|r| (0..objects).map(move |o| (r, o)))
        .collect()
}

/// Runs scenario 4 with awaited publishes, one after another.
pub(crate) async fn distinct_publish<C: Contender>(
    transport: Transport,
    objects: usize,
    reasons: usize,
) -> Result<Distinct, String> {
    let (client, api) = transport.start(Options::storing()).await?;
    let recorder: C = build(client, Setup::default(), objects, reasons)?;
    let items = pairs(objects, reasons);
    let start = Instant::now();
    let mut errors = 0;
    for (r, o) in items {
        if recorder.publish(r, o).await.is_err() {
            errors += 1;
        }
    }
    recorder.finish().await;
    let wall = start.elapsed();
    Ok(Distinct {
        wall,
        events: api.stored_counts().len(),
        errors,
    })
}

/// Runs scenario 4 without waiting on each publish (our `emit`, then
/// `shutdown` to know when all is written; for kube-rs, a task per
/// publish). Our queue holds the whole burst (`queue_capacity` 8192), so
/// nothing is dropped.
pub(crate) async fn distinct_emit<C: Contender>(
    transport: Transport,
    objects: usize,
    reasons: usize,
) -> Result<Distinct, String> {
    let (client, api) = transport.start(Options::storing()).await?;
    let setup = Setup {
        queue_capacity: Some(8_192),
        ..Setup::default()
    };
    let recorder: C = build(client, setup, objects, reasons)?;
    let items = pairs(objects, reasons);
    let start = Instant::now();
    let errors = recorder.publish_detached(&items).await;
    let wall = start.elapsed();
    Ok(Distinct {
        wall,
        events: api.stored_counts().len(),
        errors,
    })
}

/// Scenario 5, bounded: heap held after `keys` distinct keys with the
/// default cache size.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Bounded {
    /// Heap bytes held by the recorder.
    pub(crate) bytes: u64,
    /// Keys it caches.
    pub(crate) cached: Option<usize>,
}

/// Runs the bounded-memory part of scenario 5.
pub(crate) async fn bounded_memory<C: Contender>(
    keys: usize,
    live_bytes: fn() -> u64,
) -> Result<Bounded, String> {
    let (client, _api) = InProcessApi::counting();
    let inputs = C::inputs(keys, 1);
    // Recorders of earlier scenarios free their caches when their
    // background tasks end: let them, so that is not counted as ours.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let before = live_bytes();
    let recorder = C::new(client, Setup::default(), inputs)?;
    for object in 0..keys {
        recorder.publish(0, object).await?;
    }
    Ok(Bounded {
        bytes: live_bytes().saturating_sub(before),
        cached: recorder.cached_keys(),
    })
}

/// Scenario 6: a live series whose event is deleted on the server, then
/// `more` occurrences.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Expired {
    /// Errors returned by those occurrences (and the final flush, for ours).
    pub(crate) errors: u64,
    /// Write requests after the deletion.
    pub(crate) writes: u64,
    /// Creates after the deletion.
    pub(crate) creates: u64,
    /// The sum of the stored counts at the end.
    pub(crate) stored: u64,
}

/// Runs scenario 6.
pub(crate) async fn expired<C: Contender>(
    transport: Transport,
    more: usize,
) -> Result<Expired, String> {
    let (client, api) = transport.start(Options::storing()).await?;
    let recorder: C = build(client, Setup::default(), 1, 1)?;
    recorder.publish(0, 0).await?;
    recorder.publish(0, 0).await?;
    api.delete_all();
    api.reset_requests();
    let mut errors = 0;
    for _ in 0..more {
        if recorder.publish(0, 0).await.is_err() {
            errors += 1;
        }
    }
    recorder.finish().await;
    let requests = api.requests();
    Ok(Expired {
        errors: errors + recorder.failed_writes(),
        writes: requests.writes(),
        creates: requests.creates,
        stored: api.stored_counts().iter().sum(),
    })
}

/// Scenario 7's figures: one recorder with default settings publishing
/// `rounds` rounds over `keys` live keys, in order.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Identity {
    /// Events stored at the end (one per key is the target).
    pub(crate) events: usize,
    /// The sum of the stored counts (`rounds × keys`).
    pub(crate) stored: u64,
    /// Requests (creates, patches, reads) per publish after the first
    /// round: every key has left a bounded cache by its next round.
    pub(crate) requests_per_repeat: f64,
}

/// Runs scenario 7 over `keys` keys.
pub(crate) async fn identity<C: Contender>(
    transport: Transport,
    keys: usize,
    rounds: usize,
) -> Result<Identity, String> {
    let (client, api) = transport.start(Options::storing()).await?;
    let recorder: C = build(client, Setup::default(), keys, 1)?;
    for round in 0..rounds {
        if round == 1 {
            api.reset_requests();
        }
        for i in 0..keys {
            recorder.publish(0, i).await?;
        }
    }
    recorder.finish().await;
    let requests = api.requests();
    let counts = api.stored_counts();
    let repeats = (keys * rounds.saturating_sub(1)).max(1);
    Ok(Identity {
        events: counts.len(),
        stored: counts.iter().sum(),
        requests_per_repeat: (requests.writes() + requests.reads) as f64 / repeats as f64,
    })
}

/// Scenario 7's restart: `half` occurrences of one event, a new recorder
/// with the same reporter over the same server, `half` more. Returns the
/// Events stored and the sum of their counts.
pub(crate) async fn restart<C: Contender>(
    transport: Transport,
    half: usize,
) -> Result<(usize, u64), String> {
    let (client, api) = transport.start(Options::storing()).await?;
    for _ in 0..2 {
        let recorder: C = build(client.clone(), Setup::default(), 1, 1)?;
        for _ in 0..half {
            recorder.publish(0, 0).await?;
        }
        recorder.finish().await;
    }
    let counts = api.stored_counts();
    Ok((counts.len(), counts.iter().sum()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contenders::{KubeRs, Ours};

    const IN_PROCESS: Transport = Transport::InProcess;
    const LOOPBACK: Transport = Transport::Loopback;

    fn no_heap() -> u64 {
        0
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn series_past_the_default_cache_and_a_restart_stay_one_event_each() {
        let keys = event_core::config::DEFAULT_MAX_CACHED_KEYS + 100;
        let ours = identity::<Ours>(IN_PROCESS, keys, 2).await.unwrap();
        assert_eq!((ours.events, ours.stored), (keys, 2 * keys as u64));
        // Every repeat: a create answered 409, a read, a patch.
        assert!((ours.requests_per_repeat - 3.0).abs() < 0.05, "{ours:?}");
        assert_eq!(restart::<Ours>(IN_PROCESS, 5).await.unwrap(), (1, 10));
        assert_eq!(restart::<KubeRs>(IN_PROCESS, 5).await.unwrap(), (2, 10));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn flood_writes_three_times_for_us_and_every_time_for_kube_rs() {
        for (transport, n) in [(IN_PROCESS, 500), (LOOPBACK, 100)] {
            let ours = flood::<Ours>(transport, n).await.unwrap();
            assert_eq!((ours.writes, ours.events, ours.stored), (3, 1, n as u64));
            let kube = flood::<KubeRs>(transport, n).await.unwrap();
            assert_eq!(
                (kube.writes, kube.events, kube.stored),
                (n as u64, 1, n as u64)
            );
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn repeats_are_counted_by_us_and_written_by_kube_rs() {
        let plan = RepeatPlan {
            sizes: vec![10, 20],
            batch: 10,
            runs: 2,
            fills: 2,
            hot: 5,
        };
        let mut labels = Vec::new();
        let ours = repeat_cost::<Ours, _>(&plan, no_heap, |m| labels.push(m))
            .await
            .unwrap();
        assert_eq!(ours.points.len(), 2);
        assert_eq!(ours.points[1].0, 20);
        assert!(ours.points.iter().all(|(_, runs)| runs.len() == 2));
        assert_eq!(ours.hot.len(), 2);
        assert_eq!(ours.cached, Some(20));
        // Filling: a create and the count-2 patch per key; repeats only count.
        assert_eq!((ours.requests.creates, ours.requests.patches), (20, 20));
        assert_eq!(labels.len(), 5);

        let plan = RepeatPlan { fills: 1, ..plan };
        let kube = repeat_cost::<KubeRs, _>(&plan, no_heap, |_| ())
            .await
            .unwrap();
        assert_eq!(kube.cached, None);
        // Every repeat is a patch: (2 sizes + the hot keys) x (warm-up + 2
        // runs) x 10.
        assert_eq!((kube.requests.creates, kube.requests.patches), (20, 90));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_first_publishes_make_one_event_for_us() {
        for (transport, tasks) in [(IN_PROCESS, 16), (IN_PROCESS, 64), (LOOPBACK, 16)] {
            let ours = concurrency::<Ours>(transport, tasks).await.unwrap();
            assert_eq!(ours.creates, 1);
            assert_eq!(ours.events, 1);
            assert_eq!(ours.largest, tasks as u64);
            assert_eq!(ours.stored, tasks as u64);
            assert_eq!(ours.errors, 0);
        }
        // kube-rs's outcome depends on scheduling; it makes at least one.
        let kube = concurrency::<KubeRs>(IN_PROCESS, 16).await.unwrap();
        assert!(kube.creates >= 1 && kube.events >= 1);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn distinct_events_are_all_written_in_both_modes() {
        for transport in [IN_PROCESS, LOOPBACK] {
            for run in [
                distinct_publish::<Ours>(transport, 10, 3).await.unwrap(),
                distinct_emit::<Ours>(transport, 10, 3).await.unwrap(),
                distinct_publish::<KubeRs>(transport, 10, 3).await.unwrap(),
                distinct_emit::<KubeRs>(transport, 10, 3).await.unwrap(),
            ] {
                assert_eq!((run.events, run.errors), (30, 0));
                assert!(run.rate() > 0.0);
            }
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn our_cache_stays_within_its_default_bound() {
        let bounded = bounded_memory::<Ours>(4_200, no_heap).await.unwrap();
        assert_eq!(
            bounded.cached,
            Some(event_core::config::DEFAULT_MAX_CACHED_KEYS)
        );
        assert_eq!(bounded.bytes, 0);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_expired_event_is_created_again_by_us_only() {
        for transport in [IN_PROCESS, LOOPBACK] {
            let ours = expired::<Ours>(transport, 10).await.unwrap();
            // The 10 occurrences are counted; the flush's patch finds no
            // event and one create carries the whole count.
            assert_eq!(
                (ours.errors, ours.writes, ours.creates, ours.stored),
                (0, 2, 1, 12)
            );
            let kube = expired::<KubeRs>(transport, 10).await.unwrap();
            assert_eq!(
                (kube.errors, kube.writes, kube.creates, kube.stored),
                (10, 10, 0, 0)
            );
        }
    }
}
