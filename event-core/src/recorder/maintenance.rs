//! Background upkeep: the flush tick (dirty series once per interval,
//! series that left the cache at once), the heartbeat, expiry of idle keys,
//! and the drain that ends a Recorder's life.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use super::Engine;
use super::cache::Fallout;
use super::decide::Mode;
use super::entry::{Entry, lock};
use super::queue::CatchUnwind;

impl Engine {
    /// The maintenance task: a tick every half flush interval until the
    /// Recorder is shut down or dropped; on drop, a last bounded drain.
    pub(crate) async fn maintain(self: Arc<Self>) {
        let tick = (self.config.series_flush_interval / 2)
            .clamp(Duration::from_millis(10), Duration::from_secs(60));
        loop {
            tokio::select! {
                () = tokio::time::sleep(tick) => {
                    let due = self.collect(Mode::Tick);
                    self.run_all(due).await;
                }
                () = self.stop.notified() => break,
            }
        }
        let first_to_stop = {
            let _cache = lock(&self.cache);
            !self.shut_down.swap(true, Ordering::AcqRel)
        };
        if first_to_stop {
            let limit = self.config.retry.max_elapsed;
            let _ = tokio::time::timeout(limit, Arc::clone(&self).drain()).await;
        }
    }

    /// The series that need a write in `mode` now.
    pub(crate) fn collect(&self, mode: Mode) -> Vec<(Entry, Mode)> {
        let now = self.clock.now();
        let mut fallout = Fallout::default();
        let due = lock(&self.cache).collect(
            mode,
            now,
            &self.timing,
            self.config.series_ttl,
            &mut fallout,
        );
        self.settle(fallout);
        due
    }

    /// Writes `due`, `writers` at a time.
    pub(crate) async fn run_all(self: &Arc<Self>, due: Vec<(Entry, Mode)>) {
        if due.is_empty() {
            return;
        }
        let mut set = tokio::task::JoinSet::new();
        for (entry, mode) in due {
            while set.len() >= self.config.writers {
                let _ = set.join_next().await;
            }
            let engine = Arc::clone(self);
            set.spawn(async move {
                if CatchUnwind(Box::pin(engine.write(&entry, mode)))
                    .await
                    .is_none()
                {
                    engine.sink_panicked();
                }
            });
        }
        while set.join_next().await.is_some() {}
    }

    /// Writes in rounds until nothing is owed, or until as many rounds in a
    /// row as the retry policy has attempts wrote nothing. Progress is
    /// measured on the series themselves: the occurrences they still owe.
    pub(crate) async fn drain(self: Arc<Self>) {
        let mut fruitless = 0u32;
        for round in 0u32.. {
            // Every owed write once; after that only those whose last
            // failure may pass (a Forbidden would only be refused again).
            let mode = if round == 0 { Mode::Flush } else { Mode::Drain };
            let due = self.collect(mode);
            if due.is_empty() {
                return;
            }
            let entries: Vec<Entry> = due.iter().map(|(e, _)| e.clone()).collect();
            let owed = |entries: &[Entry]| -> u64 {
                entries.iter().map(|e| u64::from(e.state().owed())).sum()
            };
            let before = owed(&entries);
            self.run_all(due).await;
            let after = owed(&entries);
            if after == 0 {
                fruitless = 0;
                continue;
            }
            if after < before {
                fruitless = 0;
            } else {
                fruitless += 1;
                if fruitless >= self.config.retry.max_attempts {
                    return;
                }
            }
            let wait = self.config.retry.backoff(round.min(8) + 1, fastrand::f64());
            tokio::time::sleep(wait).await;
        }
    }
}
