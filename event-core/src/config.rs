//! Settings of the [`Recorder`](crate::Recorder): the types its builder takes,
//! their defaults and bounds, and the names under which it reports (log
//! target, metric prefix).
//!
//! Each default is listed, with its value, in the table of the crate's
//! documentation; a test pins them.

pub use crate::key::NotePolicy;
#[cfg(feature = "prometheus")]
pub use crate::recorder::METRICS_PREFIX;
pub use crate::recorder::{
    DEFAULT_BUDGET_MAX_WAIT, DEFAULT_HEARTBEAT, DEFAULT_MAX_CACHED_KEYS, DEFAULT_QUEUE_CAPACITY,
    DEFAULT_RETRY_ATTEMPTS, DEFAULT_RETRY_INITIAL_BACKOFF, DEFAULT_RETRY_MAX_BACKOFF,
    DEFAULT_RETRY_MAX_ELAPSED, DEFAULT_SERIES_FLUSH_INTERVAL, DEFAULT_SERIES_TTL,
    DEFAULT_WRITE_BURST, DEFAULT_WRITE_RATE, DEFAULT_WRITERS, EVENT_LOG_TARGET, MAX_QUEUE_CAPACITY,
    MAX_RETRY_AFTER, MAX_WRITERS, RetryPolicy, SpamKey, THROTTLED_PAUSE, WriteBudget,
};
pub use crate::spam::{DEFAULT_SPAM_BURST, DEFAULT_SPAM_MAX_KEYS, DEFAULT_SPAM_REFILL, SpamFilter};
pub use crate::validate::{ClusterScopedNamespace, NoteOverflow};
