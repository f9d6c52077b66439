//! The Recorder's metrics in a `prometheus-client` registry (feature
//! `prometheus`): its counters, read from [`Stats`](super::Stats) at each
//! scrape, two gauges, and a histogram of request latency.

use std::sync::{Arc, Weak};

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::{Registry, Unit};

use super::entry::lock;
use super::outcome::ERROR_CLASSES;
use super::{Engine, Recorder};

/// The prefix of every metric name.
pub const METRICS_PREFIX: &str = "kube_events";

/// The latency histogram's buckets: 5 ms doubling to about 10 s.
pub(crate) fn latency_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.005, 2.0, 12))
}

impl Recorder {
    /// Registers this Recorder's metrics in `registry`, under the prefix
    /// [`METRICS_PREFIX`]. Labels are few and fixed (no object names, no
    /// reasons).
    ///
    /// | metric | type | meaning |
    /// | --- | --- | --- |
    /// | `kube_events_published_total` | counter | occurrences accepted |
    /// | `kube_events_created_total` | counter | events created |
    /// | `kube_events_patched_total` | counter | series patches written |
    /// | `kube_events_coalesced_total` | counter | occurrences counted without a write of their own |
    /// | `kube_events_skipped_total` | counter | events about events, never written |
    /// | `kube_events_dropped_total{cause}` | counter | occurrences dropped: `spam`, `queue_full`, `filtered`, `unwritten` (refused as invalid, or too many unwritten series left the cache), `namespace_terminating` |
    /// | `kube_events_write_failures_total{class}` | counter | requests answered with an error, by [`SinkError`](crate::sink::SinkError) class: `not_found`, `already_exists`, `invalid`, `forbidden`, `namespace_terminating`, `throttled`, `transient`, `fatal` |
    /// | `kube_events_writes_failed_total` | counter | writes that failed for good |
    /// | `kube_events_retries_total` | counter | attempts repeated after a retryable failure |
    /// | `kube_events_evictions_total` | counter | keys evicted from the cache |
    /// | `kube_events_adoptions_total` | counter | stored events continued after an eviction or a restart |
    /// | `kube_events_budget_waits_total` | counter | requests that waited for the write budget |
    /// | `kube_events_budget_wait_seconds_total` | counter | the time they waited |
    /// | `kube_events_deferred_total` | counter | writes put off to a later background write by the budget (nothing is lost) |
    /// | `kube_events_throttled_total` | counter | 429 answers, each pausing every request |
    /// | `kube_events_cached_keys` | gauge | keys in the correlation cache |
    /// | `kube_events_queue_depth` | gauge | writes waiting in the `emit` queue |
    /// | `kube_events_request_duration_seconds` | histogram | time of each request to the sink |
    ///
    /// Register one Recorder per registry (or give each its own
    /// sub-registry with labels); the metrics stop reporting once every
    /// clone of the Recorder is dropped.
    ///
    /// # Example
    ///
    /// ```
    /// use std::sync::Arc;
    /// use event_core::{Event, ObjectRef, Recorder};
    /// use prometheus_client::{encoding::text::encode, registry::Registry};
    /// # use event_core::sink::{EventRecord, EventSink, SinkError};
    /// # struct Nothing;
    /// # #[async_trait::async_trait] impl EventSink for Nothing {
    /// #   async fn create(&self, _: &EventRecord) -> Result<(), SinkError> { Ok(()) }
    /// #   async fn patch_series(&self, _: &EventRecord, _: event_core::sink::Series) -> Result<(), SinkError> { Ok(()) }
    /// # }
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let recorder = Recorder::builder(Arc::new(Nothing), "example.com/widgets").build()?;
    /// let mut registry = Registry::default();
    /// recorder.register_metrics(&mut registry);
    ///
    /// let pod = ObjectRef::new("v1", "Pod", "web-0").within("shop");
    /// recorder.publish(&Event::normal("Synced", "Reconciling"), &pod).await?;
    /// let mut text = String::new();
    /// encode(&mut text, &registry)?;
    /// assert!(text.contains("kube_events_created_total 1\n"));
    /// # Ok(()) }
    /// ```
    pub fn register_metrics(&self, registry: &mut Registry) {
        let registry = registry.sub_registry_with_prefix(METRICS_PREFIX);
        registry.register_with_unit(
            "request_duration",
            "Time of each request to the event sink",
            Unit::Seconds,
            self.engine.latency.clone(),
        );
        registry.register_collector(Box::new(Metrics(Arc::downgrade(&self.engine))));
    }
}

/// Reads the Recorder's counters at each scrape.
struct Metrics(Weak<Engine>);

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

fn counter(
    encoder: &mut DescriptorEncoder<'_>,
    name: &str,
    help: &str,
    value: u64,
) -> Result<(), std::fmt::Error> {
    let metric = ConstCounter::new(value);
    metric.encode(encoder.encode_descriptor(name, help, None, metric.metric_type())?)
}

fn gauge(
    encoder: &mut DescriptorEncoder<'_>,
    name: &str,
    help: &str,
    value: usize,
) -> Result<(), std::fmt::Error> {
    let metric = ConstGauge::new(i64::try_from(value).unwrap_or(i64::MAX));
    metric.encode(encoder.encode_descriptor(name, help, None, metric.metric_type())?)
}

fn family(
    encoder: &mut DescriptorEncoder<'_>,
    name: &str,
    help: &str,
    label: &str,
    values: &[(&str, u64)],
) -> Result<(), std::fmt::Error> {
    let mut metric = encoder.encode_descriptor(
        name,
        help,
        None,
        prometheus_client::metrics::MetricType::Counter,
    )?;
    for &(value, count) in values {
        let labels = [(label, value)];
        ConstCounter::new(count).encode(metric.encode_family(&labels)?)?;
    }
    Ok(())
}

impl Collector for Metrics {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let Some(engine) = self.0.upgrade() else {
            return Ok(());
        };
        let s = engine.stats.snapshot();
        let e = &mut encoder;
        counter(e, "published", "Occurrences accepted", s.published)?;
        counter(e, "created", "Events created", s.created)?;
        counter(e, "patched", "Series patches written", s.patched)?;
        counter(
            e,
            "coalesced",
            "Occurrences counted without a write of their own",
            s.coalesced,
        )?;
        counter(
            e,
            "skipped",
            "Events about events, never written",
            s.skipped,
        )?;
        family(
            e,
            "dropped",
            "Occurrences dropped, by cause",
            "cause",
            &[
                ("spam", s.dropped_spam),
                ("queue_full", s.dropped_queue_full),
                ("filtered", s.dropped_filtered),
                ("unwritten", s.dropped_unwritten),
                ("namespace_terminating", s.dropped_namespace_terminating),
            ],
        )?;
        let errors: Vec<(&str, u64)> = ERROR_CLASSES
            .iter()
            .zip(engine.stats.errors.iter())
            .map(|(class, n)| (*class, n.load(std::sync::atomic::Ordering::Relaxed)))
            .collect();
        family(
            e,
            "write_failures",
            "Requests to the event sink answered with an error, by class",
            "class",
            &errors,
        )?;
        counter(e, "writes_failed", "Writes that failed for good", s.failed)?;
        counter(
            e,
            "retries",
            "Attempts repeated after a retryable failure",
            s.retried,
        )?;
        counter(e, "evictions", "Keys evicted from the cache", s.evicted)?;
        counter(
            e,
            "adoptions",
            "Stored events continued after an eviction or a restart",
            s.adopted,
        )?;
        counter(
            e,
            "budget_waits",
            "Requests that waited for the write budget",
            s.budget_waits,
        )?;
        let waited = ConstCounter::new(s.budget_wait.as_secs_f64());
        waited.encode(e.encode_descriptor(
            "budget_wait",
            "Time requests waited for the write budget",
            Some(&Unit::Seconds),
            waited.metric_type(),
        )?)?;
        counter(
            e,
            "deferred",
            "Writes put off to a later background write by the write budget",
            s.budget_deferred,
        )?;
        counter(
            e,
            "throttled",
            "429 answers, each pausing every request of the recorder",
            s.throttled,
        )?;
        let cached = lock(&engine.cache).cached_len();
        gauge(e, "cached_keys", "Keys in the correlation cache", cached)?;
        gauge(
            e,
            "queue_depth",
            "Writes waiting in the emit queue",
            engine.queue_tx.len(),
        )?;
        Ok(())
    }
}
