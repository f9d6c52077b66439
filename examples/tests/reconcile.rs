//! Offline tests of the example reconcile: no cluster, deterministic time,
//! each case asserted in a few lines.

mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use event_core::{Clock, ObjectRef, Recorder};
use event_testing::{ManualClock, MemorySink, TokioClock, expect};
use examples::reconcile::{ApplyError, Cluster, Context, Widget, reconcile};

/// A cluster that fails with a given message, or succeeds.
#[derive(Default)]
struct FakeCluster {
    failure: Mutex<Option<String>>,
}

#[async_trait::async_trait]
impl Cluster for FakeCluster {
    async fn apply(&self, _: &Widget) -> Result<(), ApplyError> {
        match self.failure.lock().expect("not poisoned").clone() {
            Some(message) => Err(ApplyError::new(message)),
            None => Ok(()),
        }
    }
}

/// The controller's context on a `MemorySink`, with the clock both share.
struct Harness<C> {
    ctx: Context,
    sink: MemorySink,
    clock: C,
    cluster: Arc<FakeCluster>,
    widget: Widget,
    obj: ObjectRef,
}

impl<C: Clock + Clone + 'static> Harness<C> {
    fn new(clock: C) -> Self {
        let sink = MemorySink::with_clock(clock.clone());
        let recorder = Recorder::builder(sink.arc(), "example.com/widget-controller")
            .clock(Arc::new(clock.clone()))
            .build()
            .expect("valid reporter");
        let cluster = Arc::new(FakeCluster::default());
        let ctx = Context {
            recorder,
            cluster: cluster.clone(),
        };
        let widget = Widget::new("shop", "w1", 3);
        let obj = widget.object_ref();
        Self {
            ctx,
            sink,
            clock,
            cluster,
            widget,
            obj,
        }
    }

    fn failing(self, message: &str) -> Self {
        self.set_failure(Some(message));
        self
    }

    fn set_failure(&self, message: Option<&str>) {
        *self.cluster.failure.lock().expect("not poisoned") = message.map(str::to_owned);
    }

    async fn reconcile(&self) -> Result<(), examples::reconcile::ReconcileError> {
        reconcile(&self.widget, &self.ctx).await
    }
}

/// Tests read the sink through the harness: `t.assert_emitted(..)`.
impl<C> std::ops::Deref for Harness<C> {
    type Target = MemorySink;
    fn deref(&self) -> &MemorySink {
        &self.sink
    }
}

fn harness() -> Harness<ManualClock> {
    Harness::new(ManualClock::default())
}

#[tokio::test]
async fn success_emits_a_normal_event() {
    let t = harness();
    t.reconcile().await.unwrap();
    let reconciled = expect::normal("Reconciled").regarding(&t.obj);
    t.assert_emitted(reconciled.note("Deployment shop/w1 has 3 replicas"));
    t.assert_not_emitted(expect::warning("ReconcileFailed"));
}

#[tokio::test]
async fn failure_emits_a_warning_with_the_cause() {
    let t = harness().failing("connection refused");
    assert!(t.reconcile().await.is_err());
    let failed = expect::warning("ReconcileFailed").regarding(&t.obj);
    t.assert_emitted(failed.note_contains("caused by: connection refused"));
}

#[tokio::test]
async fn repeated_failures_become_one_event_with_a_count() {
    let t = harness().failing("connection refused");
    for _ in 0..5 {
        let _ = t.reconcile().await;
        t.clock.advance(Duration::from_secs(15)); // past the 10 s flush interval
    }
    t.ctx.recorder.flush().await;
    t.assert_series_count(expect::warning("ReconcileFailed"), 5);
}

#[tokio::test]
async fn repeated_failures_cost_three_writes() {
    let t = harness().failing("connection refused");
    for _ in 0..100 {
        let _ = t.reconcile().await;
    }
    t.ctx.recorder.flush().await;
    assert_eq!((t.creates(), t.patches()), (1, 2));
}

#[tokio::test]
async fn recovery_shows_both_events() {
    let t = harness().failing("connection refused");
    let _ = t.reconcile().await;
    t.set_failure(None);
    t.reconcile().await.unwrap();
    t.assert_count(expect::any().regarding(&t.obj), 2);
}

#[tokio::test]
async fn describe_prints_what_kubectl_would_show() {
    let t = harness().failing("connection refused");
    for _ in 0..3 {
        let _ = t.reconcile().await;
        t.clock.advance(Duration::from_secs(20));
    }
    t.set_failure(None);
    t.reconcile().await.unwrap();
    t.ctx.recorder.flush().await;
    assert_eq!(
        t.describe(&t.obj),
        "Events:
  Type     Reason           Age                From                           Message
  ----     ------           ----               ----                           -------
  Warning  ReconcileFailed  20s (x3 over 60s)  example.com/widget-controller  applying Deployment shop/w1 failed
caused by: connection refused
  Normal  Reconciled  0s  example.com/widget-controller  Deployment shop/w1 has 3 replicas
"
    );
}

#[tokio::test(start_paused = true)]
async fn the_background_task_writes_counts_under_paused_time() {
    let t = Harness::new(TokioClock::default()).failing("connection refused");
    for _ in 0..5 {
        let _ = t.reconcile().await;
        tokio::time::sleep(Duration::from_secs(15)).await; // no flush() call
    }
    t.assert_series_count(expect::warning("ReconcileFailed"), 5);
}

#[tokio::test]
async fn a_failed_assertion_shows_what_was_recorded() {
    let t = harness();
    t.reconcile().await.unwrap();
    let failed = expect::warning("ReconcileFailed").regarding(&t.obj);
    let panic = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| t.assert_emitted(failed)));
    let message = *panic.unwrap_err().downcast::<String>().unwrap();
    assert_eq!(
        message,
        "expected an event matching: a Warning event with reason \"ReconcileFailed\", regarding Widget shop/w1
but none of the 1 recorded events matches. Recorded events:
Widget shop/w1:
  Type    Reason      Age   From                           Message
  ----    ------      ----  ----                           -------
  Normal  Reconciled  0s    example.com/widget-controller  Deployment shop/w1 has 3 replicas
"
    );
}

#[test]
fn the_readme_shows_the_reconcile_as_it_is() {
    support::assert_readme_shows(include_str!("../src/reconcile.rs"), "the reconcile");
}
