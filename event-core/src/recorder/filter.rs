//! What a Recorder publishes at all ([`Filter`]) and how its spam filter
//! groups new events ([`SpamKey`]).

use std::collections::HashSet;

use crate::EventType;

/// What the spam filter's token buckets are keyed by.
///
/// Each new event (a create) of an object takes a token from its bucket;
/// repeats of a live series never do.
///
/// # Example
///
/// ```
/// use std::sync::Arc;
/// use event_core::{DropReason, Event, ObjectRef, Published, Recorder};
/// use event_core::config::{SpamFilter, SpamKey};
/// # use event_core::sink::{EventRecord, EventSink, SinkError};
/// # struct Nothing;
/// # #[async_trait::async_trait] impl EventSink for Nothing {
/// #   async fn create(&self, _: &EventRecord) -> Result<(), SinkError> { Ok(()) }
/// #   async fn patch_series(&self, _: &EventRecord, _: event_core::sink::Series) -> Result<(), SinkError> { Ok(()) }
/// # }
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), event_core::Error> {
/// let recorder = Recorder::builder(Arc::new(Nothing), "example.com/widgets")
///     .spam_filter(SpamFilter::new(1, std::time::Duration::from_secs(300)))
///     .spam_key(SpamKey::ObjectAndReason)
///     .build()?;
/// let pod = ObjectRef::new("v1", "Pod", "web-0").within("shop");
/// let probing = Event::warning("Noisy", "Probing");
/// assert_eq!(recorder.publish(&probing, &pod).await?, Published::Created);
/// // A second new event with that reason: over its bucket of one.
/// let checking = Event::warning("Noisy", "Checking");
/// assert_eq!(recorder.publish(&checking, &pod).await?, Published::Dropped(DropReason::Spam));
/// // Another reason on the same object has its own bucket.
/// let failed = Event::warning("ReconcileFailed", "Reconciling");
/// assert_eq!(recorder.publish(&failed, &pod).await?, Published::Created);
/// # Ok(()) }
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SpamKey {
    /// One bucket per object and type (as client-go has it): one noisy
    /// reason can use up the budget of every other reason on the object.
    #[default]
    Object,
    /// One bucket per object, type and reason: each reason has its own
    /// budget.
    ObjectAndReason,
}

/// The filter settings of a Recorder: events off, a minimum type, reasons
/// to drop or to keep. Built through the [`RecorderBuilder`](crate::RecorderBuilder)
/// setters.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Filter {
    pub(crate) off: bool,
    pub(crate) minimum: EventType,
    pub(crate) drop: HashSet<Box<str>>,
    /// When set, only these reasons are published.
    pub(crate) keep: Option<HashSet<Box<str>>>,
}

impl Filter {
    /// Whether any setting differs from "publish everything".
    pub(crate) fn is_active(&self) -> bool {
        self.off
            || self.minimum != EventType::Normal
            || !self.drop.is_empty()
            || self.keep.is_some()
    }

    /// Whether an occurrence of this type and reason is turned off.
    pub(crate) fn drops(&self, type_: EventType, reason: &str) -> bool {
        self.off
            || type_ < self.minimum
            || self.drop.contains(reason)
            || self
                .keep
                .as_ref()
                .is_some_and(|keep| !keep.contains(reason))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(reasons: &[&str]) -> HashSet<Box<str>> {
        reasons.iter().map(|r| Box::from(*r)).collect()
    }

    #[test]
    fn each_setting_drops_what_it_names() {
        use EventType::{Normal, Warning};
        let all = Filter::default();
        assert!(!all.is_active());
        assert!(!all.drops(Normal, "Synced") && !all.drops(Warning, "Failed"));

        let off = Filter {
            off: true,
            ..Filter::default()
        };
        assert!(off.drops(Normal, "Synced") && off.drops(Warning, "Failed"));

        let warnings = Filter {
            minimum: Warning,
            ..Filter::default()
        };
        assert!(warnings.drops(Normal, "Synced") && !warnings.drops(Warning, "Failed"));

        let without = Filter {
            drop: set(&["Synced"]),
            ..Filter::default()
        };
        assert!(without.drops(Normal, "Synced") && !without.drops(Normal, "Scaled"));

        let only = Filter {
            keep: Some(set(&["Failed"])),
            ..Filter::default()
        };
        assert!(only.drops(Warning, "BackOff") && !only.drops(Warning, "Failed"));
        // Dropping wins over keeping.
        let both = Filter {
            drop: set(&["Failed"]),
            keep: Some(set(&["Failed"])),
            ..Filter::default()
        };
        assert!(both.drops(Warning, "Failed"));
        assert!(
            [off, warnings, without, only, both]
                .iter()
                .all(Filter::is_active)
        );
    }
}
