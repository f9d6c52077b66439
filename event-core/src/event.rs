//! [`Event`] and [`EventType`]: what a controller says about an object.

use std::collections::BTreeMap;
use std::fmt;

use crate::ObjectRef;

/// The type of an event: the only two values the API accepts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EventType {
    /// Nothing is wrong; something happened.
    #[default]
    Normal,
    /// Something may need attention.
    Warning,
}

impl EventType {
    /// The value written to the API: `Normal` or `Warning`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Normal => "Normal",
            Self::Warning => "Warning",
        }
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Something a controller wants to say about an object.
///
/// Field names match kube-rs's `kube::runtime::events::Event`, so code that
/// builds events with struct literals moves over with a `use` change (plus
/// `annotations: Default::default()` or `..Event::default()`).
///
/// # Example
///
/// ```
/// use event_core::{Event, EventType, ObjectRef};
///
/// let e = Event::warning("BackOff", "Reconciling")
///     .note("retrying in 10s")
///     .related(&ObjectRef::new("v1", "Secret", "creds").within("shop"))
///     .annotation("example.com/attempt", "3");
/// assert_eq!(e.type_, EventType::Warning);
/// assert_eq!(e.note.as_deref(), Some("retrying in 10s"));
/// assert_eq!(e.annotations["example.com/attempt"], "3");
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Event {
    /// Normal or Warning.
    pub type_: EventType,
    /// Why the action was taken, `UpperCamelCase` by convention
    /// (`ReconcileFailed`). Required, at most 128 bytes.
    pub reason: String,
    /// Human-readable description, at most 1024 bytes (longer notes are
    /// truncated or rejected, see [`NoteOverflow`](crate::validate::NoteOverflow)).
    pub note: Option<String>,
    /// What was done or failed (`Reconciling`, `Scheduling`). Required, at
    /// most 128 bytes.
    pub action: String,
    /// A second object involved (written as `related`).
    pub secondary: Option<ObjectRef>,
    /// Annotations written on the Event object's metadata.
    pub annotations: BTreeMap<String, String>,
}

impl Event {
    /// A Normal event.
    pub fn normal(reason: impl Into<String>, action: impl Into<String>) -> Self {
        Self::new(EventType::Normal, reason, action)
    }

    /// A Warning event.
    pub fn warning(reason: impl Into<String>, action: impl Into<String>) -> Self {
        Self::new(EventType::Warning, reason, action)
    }

    /// An event of the given type.
    pub fn new(type_: EventType, reason: impl Into<String>, action: impl Into<String>) -> Self {
        Self {
            type_,
            reason: reason.into(),
            note: None,
            action: action.into(),
            secondary: None,
            annotations: BTreeMap::new(),
        }
    }

    /// A Warning whose note is the error's message followed by its chain of
    /// sources, one `caused by:` line each.
    ///
    /// # Example
    ///
    /// ```
    /// use event_core::Event;
    ///
    /// let err = std::io::Error::new(std::io::ErrorKind::TimedOut, "connect timed out");
    /// let e = Event::from_error("ReconcileFailed", "Reconciling", &err);
    /// assert_eq!(e.note.as_deref(), Some("connect timed out"));
    /// ```
    pub fn from_error(
        reason: impl Into<String>,
        action: impl Into<String>,
        error: &(dyn std::error::Error + 'static),
    ) -> Self {
        let mut note = error.to_string();
        let mut source = error.source();
        while let Some(cause) = source {
            note.push_str("\ncaused by: ");
            note.push_str(&cause.to_string());
            source = cause.source();
        }
        Self::warning(reason, action).note(note)
    }

    /// Sets the note.
    #[must_use]
    pub fn note(mut self, note: impl Into<String>) -> Self {
        self.note = Some(note.into());
        self
    }

    /// Sets the related (secondary) object.
    #[must_use]
    pub fn related(mut self, object: &ObjectRef) -> Self {
        self.secondary = Some(object.clone());
        self
    }

    /// Adds an annotation to the Event object.
    #[must_use]
    pub fn annotation(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.annotations.insert(key.into(), value.into());
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Outer(std::io::Error);
    impl fmt::Display for Outer {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("applying ConfigMap failed")
        }
    }
    impl std::error::Error for Outer {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.0)
        }
    }

    #[test]
    fn from_error_includes_the_source_chain() {
        let err = Outer(std::io::Error::other("connection refused"));
        let e = Event::from_error("ApplyFailed", "Reconciling", &err);
        assert_eq!(e.type_, EventType::Warning);
        assert_eq!(
            e.note.as_deref(),
            Some("applying ConfigMap failed\ncaused by: connection refused")
        );
    }

    #[test]
    fn display_matches_api_values() {
        assert_eq!(EventType::Normal.to_string(), "Normal");
        assert_eq!(EventType::Warning.to_string(), "Warning");
        assert_eq!(EventType::Warning.as_str(), "Warning");
        assert_eq!(EventType::default(), EventType::Normal);
    }
}
