//! Expectations: describe the event you expect, then assert it against a
//! [`MemorySink`](crate::MemorySink), or, with the feature `cluster`,
//! against the Events of a real cluster or the API double
//! (`ClusterEvents`): the same values, the same calls.
//!
//! Start from [`warning`], [`normal`] or [`event`], narrow with the builder
//! methods, and hand the result to
//! [`assert_emitted`](crate::MemorySink::assert_emitted),
//! [`assert_not_emitted`](crate::MemorySink::assert_not_emitted),
//! [`assert_count`](crate::MemorySink::assert_count) or
//! [`assert_series_count`](crate::MemorySink::assert_series_count).
//! Everything not narrowed matches anything.

use std::collections::BTreeMap;
use std::fmt;

use event_core::sink::EventRecord;

use event_core::{EventType, ObjectRef};

use event_core::key::RefKey;

use crate::describe::object_label;

/// An expected Warning event with this reason.
pub fn warning(reason: impl Into<String>) -> Expectation {
    Expectation::new(Some(EventType::Warning), Some(reason.into()))
}

/// An expected Normal event with this reason.
pub fn normal(reason: impl Into<String>) -> Expectation {
    Expectation::new(Some(EventType::Normal), Some(reason.into()))
}

/// An expected event of either type with this reason.
pub fn event(reason: impl Into<String>) -> Expectation {
    Expectation::new(None, Some(reason.into()))
}

/// An expected event of any type and reason; narrow it with the builder
/// methods.
pub fn any() -> Expectation {
    Expectation::new(None, None)
}

/// A description of an expected event; see the [module docs](self).
///
/// Each builder method adds one condition; an event matches when it meets
/// all of them. [`Display`](fmt::Display) writes the conditions in words,
/// as failed assertions show them.
///
/// # Example
///
/// ```
/// use event_core::ObjectRef;
/// use event_testing::expect;
///
/// let pod = ObjectRef::new("v1", "Pod", "web-0").within("shop");
/// let e = expect::warning("BackOff").regarding(&pod).note_contains("exit code 1").count(3);
/// assert_eq!(
///     e.to_string(),
///     r#"a Warning event with reason "BackOff", regarding Pod shop/web-0, with a note containing "exit code 1", with count 3"#
/// );
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Expectation {
    type_: Option<EventType>,
    reason: Option<String>,
    regarding: Option<ObjectRef>,
    related: Option<Option<ObjectRef>>,
    action: Option<String>,
    note: Option<Option<String>>,
    note_contains: Vec<String>,
    count: Option<u32>,
    count_at_least: Option<u32>,
    series_count: Option<u32>,
    reporting_controller: Option<String>,
    annotations: BTreeMap<String, String>,
}

impl Expectation {
    fn new(type_: Option<EventType>, reason: Option<String>) -> Self {
        Self {
            type_,
            reason,
            ..Self::default()
        }
    }

    /// The event is about `object` (compared without the resource version).
    #[must_use]
    pub fn regarding(mut self, object: &ObjectRef) -> Self {
        self.regarding = Some(object.clone());
        self
    }

    /// The event's related object is `object` (compared without the
    /// resource version).
    #[must_use]
    pub fn related(mut self, object: &ObjectRef) -> Self {
        self.related = Some(Some(object.clone()));
        self
    }

    /// The event has no related object.
    #[must_use]
    pub fn no_related(mut self) -> Self {
        self.related = Some(None);
        self
    }

    /// The event's action is `action`.
    #[must_use]
    pub fn action(mut self, action: impl Into<String>) -> Self {
        self.action = Some(action.into());
        self
    }

    /// The event's note is exactly `note`.
    #[must_use]
    pub fn note(mut self, note: impl Into<String>) -> Self {
        self.note = Some(Some(note.into()));
        self
    }

    /// The event has no note.
    #[must_use]
    pub fn no_note(mut self) -> Self {
        self.note = Some(None);
        self
    }

    /// The event's note contains `text`. May be given several times; all
    /// must be contained.
    #[must_use]
    pub fn note_contains(mut self, text: impl Into<String>) -> Self {
        self.note_contains.push(text.into());
        self
    }

    /// The event stands for exactly `n` occurrences: its series count, or
    /// 1 for an event without a series. The count is what the sink holds,
    /// so after repeats call `recorder.flush().await` first.
    #[must_use]
    pub fn count(mut self, n: u32) -> Self {
        self.count = Some(n);
        self
    }

    /// The event stands for at least `n` occurrences: its series count has
    /// reached `n` (a single event counts 1).
    ///
    /// A stored count only grows, and a series is written at most once per
    /// flush interval, so on a cluster this is the form to wait for
    /// (`ClusterEvents::wait_for`, feature `cluster`); on a
    /// [`MemorySink`](crate::MemorySink) it holds once the Recorder has
    /// written that many.
    ///
    /// # Example
    ///
    /// ```
    /// use event_core::{Event, ObjectRef, Recorder};
    /// use event_testing::{MemorySink, expect};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), event_core::Error> {
    /// let sink = MemorySink::new();
    /// let recorder = Recorder::builder(sink.arc(), "example.com/widgets").build()?;
    /// let widget = ObjectRef::new("example.com/v1", "Widget", "w1").within("shop");
    /// for _ in 0..5 {
    ///     recorder.publish(&Event::warning("BackOff", "Reconciling"), &widget).await?;
    /// }
    /// recorder.flush().await;
    /// sink.assert_emitted(expect::warning("BackOff").count_at_least(3));
    /// sink.assert_not_emitted(expect::warning("BackOff").count_at_least(6));
    /// # Ok(()) }
    /// ```
    #[must_use]
    pub fn count_at_least(mut self, n: u32) -> Self {
        self.count_at_least = Some(n);
        self
    }

    /// The event has a series with count `n` (so `n` is at least 2).
    #[must_use]
    pub fn series_count(mut self, n: u32) -> Self {
        self.series_count = Some(n);
        self
    }

    /// The event was reported by `controller` (`reportingController`).
    #[must_use]
    pub fn from(mut self, controller: impl Into<String>) -> Self {
        self.reporting_controller = Some(controller.into());
        self
    }

    /// The event carries the annotation `key` with `value`.
    #[must_use]
    pub fn annotation(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.annotations.insert(key.into(), value.into());
        self
    }

    /// The object the event must be about, if the expectation names one.
    #[cfg(feature = "cluster")]
    pub(crate) fn regarding_object(&self) -> Option<&ObjectRef> {
        self.regarding.as_ref()
    }

    /// Whether `record` meets every condition.
    ///
    /// # Example
    ///
    /// ```
    /// use event_testing::{expect, sample_record};
    ///
    /// let record = sample_record(); // a Normal "Started" event
    /// assert!(expect::normal("Started").matches(&record));
    /// assert!(!expect::warning("BackOff").matches(&record));
    /// ```
    pub fn matches(&self, record: &EventRecord) -> bool {
        let same_ref = |a: &ObjectRef, b: &ObjectRef| RefKey::from(a) == RefKey::from(b);
        self.type_.is_none_or(|t| t == record.type_)
            && self.reason.as_ref().is_none_or(|r| *r == record.reason)
            && self
                .regarding
                .as_ref()
                .is_none_or(|o| same_ref(o, &record.regarding))
            && self
                .related
                .as_ref()
                .is_none_or(|want| match (want, &record.related) {
                    (None, None) => true,
                    (Some(a), Some(b)) => same_ref(a, b),
                    _ => false,
                })
            && self.action.as_ref().is_none_or(|a| *a == record.action)
            && self.note.as_ref().is_none_or(|n| *n == record.note)
            && self.note_contains.iter().all(|part| {
                record
                    .note
                    .as_deref()
                    .is_some_and(|note| note.contains(part.as_str()))
            })
            && self.count.is_none_or(|n| n == record.count())
            && self.count_at_least.is_none_or(|n| record.count() >= n)
            && self
                .series_count
                .is_none_or(|n| record.series.is_some_and(|s| s.count == n))
            && self
                .reporting_controller
                .as_ref()
                .is_none_or(|c| *c == record.reporting_controller)
            && self
                .annotations
                .iter()
                .all(|(k, v)| record.annotations.get(k) == Some(v))
    }
}

impl fmt::Display for Expectation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.type_ {
            Some(t) => write!(f, "a {t} event")?,
            None => f.write_str("an event")?,
        }
        let mut sep = " ";
        let mut part = |f: &mut fmt::Formatter<'_>, text: fmt::Arguments<'_>| {
            let result = write!(f, "{sep}{text}");
            sep = ", ";
            result
        };
        if let Some(reason) = &self.reason {
            part(f, format_args!("with reason {reason:?}"))?;
        }
        if let Some(object) = &self.regarding {
            part(f, format_args!("regarding {}", object_label(object)))?;
        }
        match &self.related {
            Some(Some(object)) => part(f, format_args!("related to {}", object_label(object)))?,
            Some(None) => part(f, format_args!("without a related object"))?,
            None => {}
        }
        if let Some(action) = &self.action {
            part(f, format_args!("with action {action:?}"))?;
        }
        match &self.note {
            Some(Some(note)) => part(f, format_args!("with note {note:?}"))?,
            Some(None) => part(f, format_args!("without a note"))?,
            None => {}
        }
        for text in &self.note_contains {
            part(f, format_args!("with a note containing {text:?}"))?;
        }
        if let Some(n) = self.count {
            part(f, format_args!("with count {n}"))?;
        }
        if let Some(n) = self.count_at_least {
            part(f, format_args!("with count at least {n}"))?;
        }
        if let Some(n) = self.series_count {
            part(f, format_args!("with series count {n}"))?;
        }
        if let Some(controller) = &self.reporting_controller {
            part(f, format_args!("from {controller:?}"))?;
        }
        for (key, value) in &self.annotations {
            part(f, format_args!("with annotation {key:?}={value:?}"))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use event_core::ObjectRef;

    use super::*;

    #[test]
    fn an_expectation_reads_as_what_it_asks_for() {
        let pod = ObjectRef::new("v1", "Pod", "web-0").within("shop");
        let cases = [
            (warning("Failed"), r#"a Warning event with reason "Failed""#),
            (normal("Synced"), r#"a Normal event with reason "Synced""#),
            (event("Scaled"), r#"an event with reason "Scaled""#),
            (any().regarding(&pod), "an event regarding Pod shop/web-0"),
            (
                normal("Synced").no_related().no_note(),
                r#"a Normal event with reason "Synced", without a related object, without a note"#,
            ),
            (
                warning("BackOff")
                    .action("Starting")
                    .note_contains("exit code 1")
                    .series_count(10_000)
                    .from("example.com/widgets"),
                r#"a Warning event with reason "BackOff", with action "Starting", with a note containing "exit code 1", with series count 10000, from "example.com/widgets""#,
            ),
            (
                normal("Synced").count_at_least(3),
                r#"a Normal event with reason "Synced", with count at least 3"#,
            ),
        ];
        for (expectation, text) in cases {
            assert_eq!(expectation.to_string(), text);
        }
    }
}
