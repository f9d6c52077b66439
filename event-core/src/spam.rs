//! The spam filter: a token bucket per object limiting new events.

use std::num::NonZeroUsize;
use std::time::Duration;

use jiff::Timestamp;
use lru::LruCache;

use crate::EventType;

use crate::key::RefKey;

/// Creates allowed in a burst for one (reporter, object, type).
pub const DEFAULT_SPAM_BURST: u32 = 25;
/// One more create is allowed per this interval.
pub const DEFAULT_SPAM_REFILL: Duration = Duration::from_secs(300);
/// Objects whose buckets are remembered (least recently used forgotten).
pub const DEFAULT_SPAM_MAX_KEYS: usize = 4096;

/// Settings of the spam filter: a token bucket per (reporter, regarding
/// object, type). Each new event (a Create) takes a token; repeats of a live
/// series never do, so they are never dropped. The reporter is fixed per
/// Recorder, so the bucket key is the object and the type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SpamFilter {
    /// Tokens in a full bucket.
    pub(crate) burst: u32,
    /// Time to regain one token.
    pub(crate) refill: Duration,
    /// Buckets remembered at most.
    pub(crate) max_keys: usize,
}

impl Default for SpamFilter {
    fn default() -> Self {
        Self {
            burst: DEFAULT_SPAM_BURST,
            refill: DEFAULT_SPAM_REFILL,
            max_keys: DEFAULT_SPAM_MAX_KEYS,
        }
    }
}

impl SpamFilter {
    /// A filter with the given burst and refill interval, remembering
    /// [`DEFAULT_SPAM_MAX_KEYS`] objects.
    ///
    /// # Example
    ///
    /// A controller that touches each object rarely but in bursts: 50
    /// new events at once, then one a minute, for up to 20,000 objects.
    ///
    /// ```
    /// use std::time::Duration;
    /// use event_core::config::SpamFilter;
    /// use event_core::Recorder;
    /// # fn f(sink: std::sync::Arc<dyn event_core::sink::EventSink>) -> Result<(), event_core::Error> {
    /// let filter = SpamFilter::new(50, Duration::from_secs(60)).max_keys(20_000);
    /// let recorder = Recorder::builder(sink, "example.com/widgets").spam_filter(filter).build()?;
    /// # Ok(()) }
    /// ```
    pub fn new(burst: u32, refill: Duration) -> Self {
        Self {
            burst,
            refill,
            ..Self::default()
        }
    }

    /// Sets the tokens in a full bucket: the new events one object may get
    /// at once.
    #[must_use]
    pub fn burst(mut self, burst: u32) -> Self {
        self.burst = burst;
        self
    }

    /// Sets the time to regain one token.
    #[must_use]
    pub fn refill(mut self, refill: Duration) -> Self {
        self.refill = refill;
        self
    }

    /// Sets how many objects' buckets are remembered (the least recently
    /// used are forgotten, which refills them).
    #[must_use]
    pub fn max_keys(mut self, max_keys: usize) -> Self {
        self.max_keys = max_keys;
        self
    }
}

struct Bucket {
    tokens: f64,
    updated: Timestamp,
    warned: bool,
}

/// Result of asking the filter for a token.
pub(crate) enum Admission {
    Allowed,
    /// Denied; `first` is true the first time this bucket denies.
    Denied {
        first: bool,
    },
}

pub(crate) struct SpamBuckets {
    config: SpamFilter,
    buckets: LruCache<(RefKey, EventType, Option<Box<str>>), Bucket>,
}

impl SpamBuckets {
    pub(crate) fn new(config: SpamFilter) -> Self {
        let cap = NonZeroUsize::new(config.max_keys.max(1)).unwrap_or(NonZeroUsize::MIN);
        Self {
            config,
            buckets: LruCache::sparse(cap),
        }
    }

    /// Takes a token for a new event about `object` of `type_` (and of
    /// `reason`, when buckets are kept per reason).
    pub(crate) fn admit(
        &mut self,
        object: &RefKey,
        reason: Option<&str>,
        type_: EventType,
        now: Timestamp,
    ) -> Admission {
        let burst = f64::from(self.config.burst);
        let refill = self.config.refill.as_secs_f64();
        let key = (object.clone(), type_, reason.map(Box::from));
        let bucket = self.buckets.get_or_insert_mut(key, || Bucket {
            tokens: burst,
            updated: now,
            warned: false,
        });
        let elapsed = now.duration_since(bucket.updated).as_secs_f64().max(0.0);
        if refill > 0.0 {
            bucket.tokens = (bucket.tokens + elapsed / refill).min(burst);
        } else {
            bucket.tokens = burst;
        }
        bucket.updated = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            bucket.warned = false;
            Admission::Allowed
        } else {
            let first = !bucket.warned;
            bucket.warned = true;
            Admission::Denied { first }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ObjectRef;

    #[test]
    fn burst_then_refill() {
        let mut f = SpamBuckets::new(SpamFilter::new(3, Duration::from_secs(10)));
        let obj = RefKey::from(&ObjectRef::new("v1", "Pod", "p").within("ns"));
        let t0 = Timestamp::UNIX_EPOCH;
        let mut allowed = 0;
        for _ in 0..5 {
            if matches!(
                f.admit(&obj, None, EventType::Warning, t0),
                Admission::Allowed
            ) {
                allowed += 1;
            }
        }
        assert_eq!(allowed, 3);
        // Normal has its own bucket.
        assert!(matches!(
            f.admit(&obj, None, EventType::Normal, t0),
            Admission::Allowed
        ));
        let t1 = t0 + Duration::from_secs(10);
        assert!(matches!(
            f.admit(&obj, None, EventType::Warning, t1),
            Admission::Allowed
        ));
        assert!(matches!(
            f.admit(&obj, None, EventType::Warning, t1),
            Admission::Denied { first: true }
        ));
        assert!(matches!(
            f.admit(&obj, None, EventType::Warning, t1),
            Admission::Denied { first: false }
        ));
        // Per reason: each reason has a bucket of its own.
        let mut reason = |r| f.admit(&obj, Some(r), EventType::Warning, t1);
        assert!(matches!(reason("A"), Admission::Allowed));
        assert!(matches!(reason("B"), Admission::Allowed));
    }
}
