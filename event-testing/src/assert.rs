//! Assertions on a [`MemorySink`] against an [`Expectation`].
//!
//! A failed assertion panics with the expectation in words and every
//! recorded event as `kubectl describe` tables, so the test output shows
//! what the controller did say.

use std::borrow::Borrow;

use event_core::sink::EventRecord;

use crate::MemorySink;
use crate::describe::grouped;
use crate::expect::Expectation;

impl MemorySink {
    /// The current events that meet `expectation`, in creation order.
    pub fn matching(&self, expectation: &Expectation) -> Vec<EventRecord> {
        self.current(|r| expectation.matches(r))
    }

    /// Asserts that at least one current event meets `expectation`, and
    /// returns the first that does.
    ///
    /// Like every assertion here it takes the expectation by value or by
    /// reference (`&expectation`, to reuse it).
    ///
    /// # Panics
    ///
    /// When no event matches. The message shows the expectation and every
    /// recorded event:
    ///
    /// ```should_panic
    /// use std::{sync::Arc, time::Duration};
    /// use event_core::{Event, ObjectRef, Recorder};
    /// use event_testing::{ManualClock, MemorySink, expect};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), event_core::Error> {
    /// let clock = ManualClock::default();
    /// let sink = MemorySink::with_clock(clock.clone());
    /// let recorder = Recorder::builder(sink.arc(), "example.com/widgets")
    ///     .clock(Arc::new(clock.clone()))
    ///     .build()?;
    /// let widget = ObjectRef::new("example.com/v1", "Widget", "w1").within("shop");
    ///
    /// recorder.publish(&Event::normal("Reconciled", "Reconciling").note("3 replicas"), &widget).await?;
    /// clock.advance(Duration::from_secs(5));
    ///
    /// sink.assert_emitted(expect::warning("ReconcileFailed").regarding(&widget));
    /// // panics with:
    /// // expected an event matching: a Warning event with reason "ReconcileFailed", regarding Widget shop/w1
    /// // but none of the 1 recorded events matches. Recorded events:
    /// // Widget shop/w1:
    /// //   Type    Reason      Age   From                 Message
    /// //   ----    ------      ----  ----                 -------
    /// //   Normal  Reconciled  5s    example.com/widgets  3 replicas
    /// # Ok(()) }
    /// ```
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
    /// recorder.publish(&Event::normal("Reconciled", "Reconciling"), &widget).await?;
    ///
    /// let event = sink.assert_emitted(expect::normal("Reconciled").regarding(&widget));
    /// assert_eq!(event.namespace, "shop");
    /// # Ok(()) }
    /// ```
    #[track_caller]
    pub fn assert_emitted(&self, expectation: impl Borrow<Expectation>) -> EventRecord {
        let expectation = expectation.borrow();
        let all = self.events();
        if let Some(found) = all.iter().find(|r| expectation.matches(r)) {
            return found.clone();
        }
        panic!(
            "expected an event matching: {expectation}\nbut none of the {} recorded events matches. Recorded events:\n{}",
            all.len(),
            self.render(&all)
        );
    }

    /// Asserts that no current event meets `expectation`.
    ///
    /// # Panics
    ///
    /// When an event matches. The message shows the matching events and
    /// every recorded event:
    ///
    /// ```should_panic
    /// use event_core::{Event, ObjectRef, Recorder};
    /// use event_testing::{MemorySink, expect};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), event_core::Error> {
    /// let sink = MemorySink::new();
    /// let recorder = Recorder::builder(sink.arc(), "example.com/widgets").build()?;
    /// let widget = ObjectRef::new("example.com/v1", "Widget", "w1").within("shop");
    /// let err = std::io::Error::other("quota exceeded");
    /// recorder.publish(&Event::from_error("ReconcileFailed", "Reconciling", &err), &widget).await?;
    ///
    /// sink.assert_not_emitted(expect::warning("ReconcileFailed"));
    /// // panics with:
    /// // expected no event matching: a Warning event with reason "ReconcileFailed"
    /// // but 1 of the 1 recorded events matches:
    /// // Widget shop/w1:
    /// //   Type     Reason           Age   From                 Message
    /// //   ----     ------           ----  ----                 -------
    /// //   Warning  ReconcileFailed  0s    example.com/widgets  quota exceeded
    /// // Recorded events:
    /// // (the same table again: here every recorded event matches)
    /// # Ok(()) }
    /// ```
    #[track_caller]
    pub fn assert_not_emitted(&self, expectation: impl Borrow<Expectation>) {
        let expectation = expectation.borrow();
        let all = self.events();
        let found: Vec<EventRecord> = all
            .iter()
            .filter(|r| expectation.matches(r))
            .cloned()
            .collect();
        if found.is_empty() {
            return;
        }
        panic!(
            "expected no event matching: {expectation}\nbut {} of the {} recorded events {}:\n{}Recorded events:\n{}",
            found.len(),
            all.len(),
            if found.len() == 1 { "matches" } else { "match" },
            self.render(&found),
            self.render(&all)
        );
    }

    /// Asserts that the events meeting `expectation` stand for exactly `n`
    /// occurrences in all: the sum of their counts (a series counts its
    /// occurrences, a single event 1). Counts are what the sink holds: after
    /// repeats, `recorder.flush().await` first.
    ///
    /// # Panics
    ///
    /// When the total differs:
    ///
    /// ```should_panic
    /// use event_core::{Event, ObjectRef, Recorder};
    /// use event_testing::{MemorySink, expect};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), event_core::Error> {
    /// let sink = MemorySink::new();
    /// let recorder = Recorder::builder(sink.arc(), "example.com/widgets").build()?;
    /// let widget = ObjectRef::new("example.com/v1", "Widget", "w1").within("shop");
    /// let synced = Event::normal("Synced", "Reconciling");
    /// recorder.publish(&synced, &widget).await?;
    /// recorder.publish(&synced, &widget).await?;
    ///
    /// sink.assert_count(expect::normal("Synced"), 3);
    /// // panics with:
    /// // expected 3 occurrences of: a Normal event with reason "Synced"
    /// // but found 2 (in 1 matching event). Recorded events:
    /// // Widget shop/w1:
    /// //   Type    Reason  Age              From                 Message
    /// //   ----    ------  ----             ----                 -------
    /// //   Normal  Synced  0s (x2 over 0s)  example.com/widgets
    /// # Ok(()) }
    /// ```
    #[track_caller]
    pub fn assert_count(&self, expectation: impl Borrow<Expectation>, n: u64) {
        let expectation = expectation.borrow();
        let all = self.events();
        let found: Vec<&EventRecord> = all.iter().filter(|r| expectation.matches(r)).collect();
        let total: u64 = found.iter().map(|r| u64::from(r.count())).sum();
        if total == n {
            return;
        }
        panic!(
            "expected {n} occurrences of: {expectation}\nbut found {total} (in {} matching event{}). Recorded events:\n{}",
            found.len(),
            if found.len() == 1 { "" } else { "s" },
            self.render(&all)
        );
    }

    /// Asserts that exactly one current event meets `expectation` and that
    /// it stands for `n` occurrences (its series count; 1 when it has no
    /// series). Counts are what the sink holds: after repeats,
    /// `recorder.flush().await` first.
    ///
    /// # Panics
    ///
    /// When no event or several events match, or the one that matches has
    /// another count:
    ///
    /// ```should_panic
    /// use event_core::{Event, ObjectRef, Recorder};
    /// use event_testing::{MemorySink, expect};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), event_core::Error> {
    /// let sink = MemorySink::new();
    /// let recorder = Recorder::builder(sink.arc(), "example.com/widgets").build()?;
    /// let widget = ObjectRef::new("example.com/v1", "Widget", "w1").within("shop");
    /// let backoff = Event::warning("BackOff", "Reconciling");
    /// for _ in 0..3 {
    ///     recorder.publish(&backoff, &widget).await?;
    /// }
    /// // No flush: the third occurrence is still only counted in the recorder.
    /// sink.assert_series_count(expect::warning("BackOff"), 3);
    /// // panics with:
    /// // expected one event with count 3 matching: a Warning event with reason "BackOff"
    /// // but the matching event has count 2. Recorded events:
    /// // Widget shop/w1:
    /// //   Type     Reason   Age              From                 Message
    /// //   ----     ------   ----             ----                 -------
    /// //   Warning  BackOff  0s (x2 over 0s)  example.com/widgets
    /// # Ok(()) }
    /// ```
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
    /// let backoff = Event::warning("BackOff", "Reconciling");
    /// for _ in 0..3 {
    ///     recorder.publish(&backoff, &widget).await?;
    /// }
    /// recorder.flush().await;
    /// sink.assert_series_count(expect::warning("BackOff").regarding(&widget), 3);
    /// # Ok(()) }
    /// ```
    #[track_caller]
    pub fn assert_series_count(&self, expectation: impl Borrow<Expectation>, n: u32) {
        let expectation = expectation.borrow();
        let all = self.events();
        let found: Vec<&EventRecord> = all.iter().filter(|r| expectation.matches(r)).collect();
        let problem = match found.as_slice() {
            [one] if one.count() == n => return,
            [one] => format!("the matching event has count {}", one.count()),
            [] => "no event matches".to_owned(),
            many => format!("{} events match", many.len()),
        };
        panic!(
            "expected one event with count {n} matching: {expectation}\nbut {problem}. Recorded events:\n{}",
            self.render(&all)
        );
    }

    fn render(&self, records: &[EventRecord]) -> String {
        grouped(records, self.clock().now())
    }
}
