//! The `kubectl describe` Events table, rendered from records.
//!
//! The layout follows what `kubectl describe` prints under `Events:`:
//! columns `Type`, `Reason`, `Age`, `From`, `Message`, separated by at least
//! two spaces; `From` is the reporting controller; `Age` is the time since
//! the first occurrence, or for a series `LAST (xCOUNT over FIRST)`, both
//! in kubectl's short duration style (`45s`, `2m30s`, `3h`, `5d`). Columns
//! are aligned the way kubectl's column writer aligns them, line breaks in
//! notes included.

use std::time::Duration;

use event_core::sink::EventRecord;

use event_core::ObjectRef;

use event_core::key::RefKey;
use jiff::Timestamp;

use crate::columns;

/// Formats how long ago something happened the way kubectl does: whole
/// seconds up to two minutes (`119s`), then minutes and seconds
/// (`2m30s`) up to ten minutes, minutes (`45m`) up to three hours, hours
/// and minutes (`3h20m`) up to eight hours, hours (`30h`) up to two days,
/// then days and hours (`3d4h`), days (`20d`), years and days (`2y10d`),
/// years (`9y`).
///
/// # Example
///
/// ```
/// use std::time::Duration;
/// use event_testing::format_age;
///
/// assert_eq!(format_age(Duration::from_secs(5)), "5s");
/// assert_eq!(format_age(Duration::from_secs(150)), "2m30s");
/// assert_eq!(format_age(Duration::from_secs(30 * 60)), "30m");
/// assert_eq!(format_age(Duration::from_secs(5 * 3600 + 60)), "5h1m");
/// assert_eq!(format_age(Duration::from_secs(3 * 86_400)), "3d");
/// ```
pub fn format_age(age: Duration) -> String {
    const MINUTE: u64 = 60;
    const HOUR: u64 = 60 * MINUTE;
    const DAY: u64 = 24 * HOUR;
    const YEAR: u64 = 365 * DAY;

    let secs = age.as_secs();
    let with_rest = |big: u64, big_unit: &str, small: u64, small_unit: &str| {
        if small == 0 {
            format!("{big}{big_unit}")
        } else {
            format!("{big}{big_unit}{small}{small_unit}")
        }
    };
    if secs < 2 * MINUTE {
        return format!("{secs}s");
    }
    let minutes = secs / MINUTE;
    if minutes < 10 {
        return with_rest(minutes, "m", secs % MINUTE, "s");
    }
    if minutes < 3 * 60 {
        return format!("{minutes}m");
    }
    let hours = secs / HOUR;
    if hours < 8 {
        return with_rest(hours, "h", minutes % 60, "m");
    }
    if hours < 48 {
        return format!("{hours}h");
    }
    let days = secs / DAY;
    if hours < 8 * 24 {
        return with_rest(days, "d", hours % 24, "h");
    }
    if days < 2 * 365 {
        return format!("{days}d");
    }
    let years = secs / YEAR;
    if days < 8 * 365 {
        return with_rest(years, "y", days % 365, "d");
    }
    format!("{years}y")
}

/// How long before `now` the instant `then` was, as kubectl prints it; a
/// time in the future shows as `0s`.
fn age_between(now: Timestamp, then: Timestamp) -> String {
    let elapsed = now.duration_since(then);
    format_age(elapsed.try_into().unwrap_or(Duration::ZERO))
}

/// The `Age` cell of one event: `5s`, or `5s (x3 over 2m)` for a series.
///
/// # Example
///
/// ```
/// use std::time::Duration;
/// use event_core::sink::Series;
/// use event_testing::{age_cell, sample_record};
///
/// let mut record = sample_record();
/// let now = record.event_time + Duration::from_secs(125);
/// assert_eq!(age_cell(&record, now), "2m5s");
/// record.series = Some(Series {
///     count: 3,
///     last_observed_time: record.event_time + Duration::from_secs(120),
/// });
/// assert_eq!(age_cell(&record, now), "5s (x3 over 2m5s)");
/// ```
pub fn age_cell(record: &EventRecord, now: Timestamp) -> String {
    let first = age_between(now, record.event_time);
    match record.series {
        Some(series) => format!(
            "{} (x{} over {first})",
            age_between(now, series.last_observed_time),
            series.count
        ),
        None => first,
    }
}

/// Renders records as the Events section of `kubectl describe`, ages
/// computed at `now`. Rows keep the order of `records`.
///
/// With no records it prints `Events:  <none>`, as kubectl does. The text
/// is what `kubectl describe` prints for the same events, byte for byte:
/// a note with line breaks continues on lines of its own, unindented, and
/// the rows after it are aligned anew (kubectl's column writer starts a new
/// block after a line without columns); a row with no note keeps the
/// padding after its `From` cell.
///
/// # Example
///
/// ```
/// use std::time::Duration;
/// use event_core::sink::EventRecord;
/// use event_core::{Event, ObjectRef};
/// use event_testing::describe_records;
///
/// let t0: jiff::Timestamp = "2025-01-01T00:00:00Z".parse().unwrap();
/// let record = EventRecord::new(
///     "web-0.1",
///     "shop",
///     t0,
///     ObjectRef::new("v1", "Pod", "web-0").within("shop"),
///     Event::normal("Started", "Starting").note("started container app"),
///     "example.com/widgets",
///     "widgets-0",
/// );
/// let now = t0 + Duration::from_secs(42);
/// assert_eq!(
///     describe_records(&[record], now),
///     "Events:\n\
///     \x20 Type    Reason   Age   From                 Message\n\
///     \x20 ----    ------   ----  ----                 -------\n\
///     \x20 Normal  Started  42s   example.com/widgets  started container app\n"
/// );
/// assert_eq!(describe_records(&[], now), "Events:  <none>\n");
/// ```
pub fn describe_records(records: &[EventRecord], now: Timestamp) -> String {
    if records.is_empty() {
        return "Events:  <none>\n".to_owned();
    }
    let mut out = String::from("Events:\n");
    out.push_str(&table(records, now));
    out
}

/// The table rows of [`describe_records`] without the `Events:` line, each
/// indented by two spaces: the lines kubectl hands its column writer, one
/// per event with the note trimmed of surrounding white space as kubectl
/// trims it, aligned as kubectl aligns them (see [`columns`](crate::columns)).
/// A note's line breaks are kept, so its row continues on lines of its own,
/// exactly as `kubectl describe` prints it.
pub(crate) fn table(records: &[EventRecord], now: Timestamp) -> String {
    let mut text =
        String::from("  Type\tReason\tAge\tFrom\tMessage\n  ----\t------\t----\t----\t-------\n");
    for record in records {
        let cells = [
            record.type_.as_str(),
            &record.reason,
            &age_cell(record, now),
            &record.reporting_controller,
        ];
        text.push_str("  ");
        for cell in cells {
            text.push_str(cell);
            text.push('\t');
        }
        text.push_str(record.note.as_deref().unwrap_or("").trim());
        text.push('\n');
    }
    columns::align(&text)
}

/// Records as tables grouped by regarding object, in order of each
/// object's first record, each headed by `Kind namespace/name:`;
/// `No events recorded.` when there are none.
pub(crate) fn grouped(records: &[EventRecord], now: Timestamp) -> String {
    if records.is_empty() {
        return "No events recorded.\n".to_owned();
    }
    let mut groups: Vec<(RefKey, &ObjectRef, Vec<EventRecord>)> = Vec::new();
    for record in records {
        let key = RefKey::from(&record.regarding);
        match groups.iter_mut().find(|(k, _, _)| *k == key) {
            Some((_, _, members)) => members.push(record.clone()),
            None => groups.push((key, &record.regarding, vec![record.clone()])),
        }
    }
    let mut out = String::new();
    for (_, object, members) in &groups {
        out.push_str(&object_label(object));
        out.push_str(":\n");
        out.push_str(&table(members, now));
    }
    out
}

/// `Pod shop/web-0`, or `Node worker-1` for a cluster-scoped object.
pub(crate) fn object_label(object: &ObjectRef) -> String {
    match object.namespace.as_deref().filter(|ns| !ns.is_empty()) {
        Some(ns) => format!("{} {ns}/{}", object.kind, object.name),
        None => format!("{} {}", object.kind, object.name),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn age(secs: u64) -> String {
        format_age(Duration::from_secs(secs))
    }

    #[test]
    fn ages_like_kubectl() {
        let cases = [
            (0, "0s"),
            (59, "59s"),
            (119, "119s"),
            (120, "2m"),
            (150, "2m30s"),
            (599, "9m59s"),
            (600, "10m"),
            (30 * 60, "30m"),
            (3 * 3600 - 1, "179m"),
            (3 * 3600, "3h"),
            (3 * 3600 + 20 * 60, "3h20m"),
            (8 * 3600, "8h"),
            (47 * 3600 + 59 * 60, "47h"),
            (48 * 3600, "2d"),
            (3 * 86_400 + 4 * 3600, "3d4h"),
            (8 * 86_400, "8d"),
            (729 * 86_400, "729d"),
            (730 * 86_400, "2y"),
            (740 * 86_400, "2y10d"),
            (8 * 365 * 86_400, "8y"),
            (20 * 365 * 86_400, "20y"),
        ];
        for (secs, want) in cases {
            assert_eq!(age(secs), want, "{secs}s");
        }
    }

    #[test]
    fn future_times_are_zero() {
        let now = Timestamp::UNIX_EPOCH;
        assert_eq!(age_between(now, Timestamp::constant(10, 0)), "0s");
    }
}
