//! Correlation: from one occurrence to its series, and whether its caller
//! must write.

use std::borrow::Cow;
use std::cell::Cell;

use jiff::Timestamp;

use super::DropReason;
use super::Engine;
use super::body::{Field, KeyHash, NewBody, Values, encode, key_hash, values};
use super::cache::{Cache, Fallout};
use super::decide::{Mode, decide};
use super::entry::{Entry, lock};
use super::filter::SpamKey;
use super::outcome::bump;
use super::state::{Abandon, Lifecycle};
use crate::key::NotePolicy;
use crate::key::RefKey;
use crate::spam::Admission;
use crate::validate::{check_event, fit_note, validate_regarding, validate_size};
use crate::{Error, Event, ObjectRef};

/// What an occurrence needs.
pub(crate) enum Observation {
    /// An event about an Event: never written.
    Skipped,
    /// Turned off by the filter settings: never written.
    Filtered,
    /// A new event refused by the spam filter; `first` for the first refusal
    /// of this object.
    Dropped { first: bool },
    /// Counted; a later write carries it.
    Coalesced(u32),
    /// Counted, and dropped at once: the server refused this event (as
    /// invalid, or because its namespace is being deleted).
    Refused(DropReason),
    /// The caller writes (or queues the write) and holds the claim.
    Write(Claim),
}

/// A caller's undertaking to bring a series' server count to `level`
/// (1: created, 2: series started).
pub(crate) struct Claim {
    pub(crate) entry: Entry,
    pub(crate) level: u8,
    /// The series was created by this occurrence.
    pub(crate) new: bool,
    /// The series' count with this occurrence.
    pub(crate) count: u32,
}

/// One validated occurrence, as correlation needs it.
struct Occurrence<'a> {
    hash: KeyHash,
    /// The canonical encoding of its key.
    encoded: &'a [u8],
    event: &'a Event,
    regarding: &'a ObjectRef,
    values: &'a Values<'a>,
    now: Timestamp,
    awaited: bool,
}

thread_local! {
    /// The encoding buffer, reused. Taken out while in use, so a nested call
    /// on this thread (a tracing subscriber that publishes) gets its own.
    static KEY_BUF: Cell<Vec<u8>> = const { Cell::new(Vec::new()) };
}

/// The largest encoding buffer kept for reuse. Keys are seldom over a few
/// hundred bytes; a larger one (a long field path, or an oversized
/// reference refused once its size is checked, after its key was encoded)
/// is encoded in a buffer of its own, so no thread keeps more than this.
const KEY_BUF_KEPT: usize = 16 * 1024;

/// The spam filter's key for an object: the reference without its field
/// path (one budget per object, as client-go has it), and the reason when
/// the setting asks for one budget per reason.
fn spam_key<'a>(regarding: &ObjectRef, reason: &'a str, by: SpamKey) -> (RefKey, Option<&'a str>) {
    let mut key = RefKey::from(regarding);
    key.field_path = None;
    (key, (by == SpamKey::ObjectAndReason).then_some(reason))
}

impl Engine {
    /// Validates one occurrence, finds or starts its series, and counts it.
    /// `awaited`: the caller writes a claimed write itself (`publish`), and
    /// its claim guard lists the series if that write does not go through.
    pub(crate) fn observe(
        &self,
        event: &Event,
        regarding: &ObjectRef,
        awaited: bool,
    ) -> Result<Observation, Error> {
        if regarding.is_event() {
            bump(&self.stats.skipped);
            tracing::debug!(kind = %regarding.kind, name = %regarding.name, "skipped an event about an Event");
            return Ok(Observation::Skipped);
        }
        // Before validation: a filtered event is never written, so it is
        // never an error either.
        let filter = &self.config.filter;
        if filter.is_active() && filter.drops(event.type_, &event.reason) {
            bump(&self.stats.dropped_filtered);
            return Ok(Observation::Filtered);
        }
        match (
            check_event(event, self.config.note_overflow),
            validate_regarding(regarding),
        ) {
            (Ok(()), Ok(())) => {}
            (Err(a), Err(b)) => return Err(Error::Invalid(a.merge(b))),
            (Err(e), _) | (_, Err(e)) => return Err(Error::Invalid(e)),
        }
        // A note outside the key is cut to size only for a new series'
        // body (see `correlate`): a repeat never reads it.
        let note = match self.config.note_policy {
            NotePolicy::Distinct => event.note.as_deref().map(fit_note),
            NotePolicy::Ignore => event.note.as_deref().map(Cow::Borrowed),
        };
        let values = values(event, note.as_deref(), regarding);
        let mut buf = KEY_BUF.take();
        encode(&mut buf, event.type_, &values, self.config.note_policy);
        let hash = key_hash(&buf);
        let now = self.clock.now();
        let mut fallout = Fallout::default();
        let occurrence = Occurrence {
            hash,
            encoded: &buf,
            event,
            regarding,
            values: &values,
            now,
            awaited,
        };
        let seen = self.correlate(&occurrence, &mut fallout);
        if buf.capacity() <= KEY_BUF_KEPT {
            KEY_BUF.set(buf);
        }
        // Logged with no lock held: a subscriber may do anything, even
        // publish events.
        self.settle(fallout);
        let seen = seen?;
        if let Observation::Dropped { first: true } = seen {
            tracing::debug!(
                kind = %regarding.kind,
                name = %regarding.name,
                reason = %event.reason,
                "spam filter dropped a new event for this object"
            );
        }
        Ok(seen)
    }

    /// The series part of [`observe`](Self::observe), under the cache lock.
    fn correlate(
        &self,
        occurrence: &Occurrence<'_>,
        fallout: &mut Fallout,
    ) -> Result<Observation, Error> {
        let &Occurrence {
            hash,
            encoded,
            event,
            regarding,
            values,
            now,
            awaited,
        } = occurrence;
        let mut cache = lock(&self.cache);
        // Checked under the lock `shutdown` sets it under: an occurrence
        // counted here is seen by the shutdown's final report.
        if self.is_shut_down() {
            return Err(Error::ShutDown);
        }
        let mut collision = false;
        if let Some(entry) = cache.find(hash, now, fallout) {
            // The key's lines at once, not one after another.
            entry.warm();
            if entry.body().is_key(encoded) {
                let mut st = entry.state();
                if let Lifecycle::Abandoned(why) = st.life {
                    if why == Abandon::NamespaceTerminating {
                        bump(&self.stats.dropped_namespace_terminating);
                        return Ok(Observation::Refused(DropReason::NamespaceTerminating));
                    }
                    bump(&self.stats.dropped_unwritten);
                    return Ok(Observation::Refused(DropReason::Refused));
                }
                st.observe(now);
                let promote = Cache::touch(&mut st, now);
                let list = Cache::to_list(&mut st);
                let claim = decide(&st, Mode::Occurrence, now, &self.timing).map(|_| {
                    let level = st.count.min(2) as u8;
                    st.claim = level;
                    level
                });
                let count = st.count;
                drop(st);
                // A repeat that only counts, listed already (the common
                // case), takes no reference to its series.
                let dirty = list.then(|| entry.clone());
                let claimed = claim.map(|level| (entry.clone(), level));
                if promote {
                    cache.promote(hash);
                }
                if let Some(entry) = dirty {
                    cache.put_dirty(entry);
                }
                return Ok(match claimed {
                    Some((entry, level)) => Observation::Write(Claim {
                        entry,
                        level,
                        new: false,
                        count,
                    }),
                    None => {
                        self.stats.count_repeat();
                        Observation::Coalesced(count)
                    }
                });
            }
            // Another key with the same 64-bit hash: its series is written
            // without being cached.
            collision = true;
        }
        // The size of the whole event matters only for what is written: a
        // new series' body. A repeat's key was checked with its series;
        // its note and annotations were checked above and are not written.
        let note = values[Field::Note as usize].map(fit_note);
        let mut values = *values;
        values[Field::Note as usize] = note.as_deref();
        let note_bytes = note.as_deref().map_or(0, str::len);
        // Before the spam filter: an event refused for its size takes no
        // token, and leaves no bucket keyed by its oversized reference.
        validate_size(event, note_bytes, regarding).map_err(Error::Invalid)?;
        if let Some(spam) = &self.spam {
            let (object, reason) = spam_key(regarding, &event.reason, self.config.spam_key);
            if let Admission::Denied { first } = lock(spam).admit(&object, reason, event.type_, now)
            {
                bump(&self.stats.dropped_spam);
                return Ok(Observation::Dropped { first });
            }
        }
        let body = NewBody::new(encoded, event, &values, self.config.note_policy);
        let entry = Entry::new(body, hash, cache.event_time(now));
        {
            let mut st = entry.state();
            st.claim = 1;
            if collision {
                st.place = super::state::Place::Gone;
            } else {
                cache.insert(&entry, &mut st, !awaited, fallout);
            }
        }
        Ok(Observation::Write(Claim {
            entry,
            level: 1,
            new: true,
            count: 1,
        }))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::super::body::SAME_HASH;
    use crate::config::WriteBudget;
    use crate::sink::{Answer, SinkError};
    use crate::{Error, Event, ObjectRef, Recorder};

    /// A key whose hash is a cached key's cannot be kept for a later
    /// write: when its own write fails, its occurrence is counted as
    /// dropped, not lost without a trace.
    #[test]
    fn a_colliding_series_whose_write_fails_is_counted_as_dropped() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let refusing = Answer::new(Err(SinkError::Forbidden {
            message: "no".into(),
        }));
        let rec = Recorder::builder(Arc::new(refusing), "example.com/c")
            .no_spam_filter()
            .write_budget(WriteBudget::unlimited())
            .build()
            .unwrap();
        let pod = |name: &str| ObjectRef::new("v1", "Pod", name).within("shop");
        SAME_HASH.set(Some(7));
        runtime.block_on(async {
            let first = rec.publish(&Event::normal("A", "A"), &pod("a")).await;
            assert!(matches!(first, Err(Error::Sink(_))), "{first:?}");
            let colliding = rec.publish(&Event::normal("B", "B"), &pod("b")).await;
            assert!(matches!(colliding, Err(Error::Sink(_))), "{colliding:?}");
        });
        SAME_HASH.set(None);
        // The first is cached and owes its write; the second is gone.
        assert_eq!(rec.cached_keys(), 1);
        let stats = rec.stats();
        assert_eq!((stats.published, stats.dropped_unwritten), (2, 1));
    }
}
