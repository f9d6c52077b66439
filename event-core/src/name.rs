//! Event names: always a valid DNS-1123 subdomain.

use jiff::Timestamp;

use crate::validate::MAX_DNS_SUBDOMAIN;

/// Length of the random part at the end of every event name.
pub const NAME_RANDOM_LEN: usize = 5;

/// Builds an event name: the object's name made DNS-safe, `.`, the time in
/// hex nanoseconds, `-`, and a short random suffix. The result is always a
/// valid DNS-1123 subdomain of at most 253 characters.
///
/// The object's name is lowercased, characters outside `[a-z0-9.-]` become
/// `-`, each dot-separated part loses leading and trailing `-`, and the whole
/// is cut to fit. When nothing usable remains (an empty name, or one made
/// only of symbols), `fallback` (usually the controller name) is tried the
/// same way, and then the word `event`.
pub fn event_name(object_name: &str, fallback: &str, time: Timestamp) -> String {
    let nanos = time.as_nanosecond();
    // Times before the epoch never occur in practice; keep the name valid
    // anyway by writing the magnitude.
    let stamp = format!("{:x}", nanos.unsigned_abs());
    let mut random = String::with_capacity(NAME_RANDOM_LEN);
    for _ in 0..NAME_RANDOM_LEN {
        random.push(fastrand::alphanumeric().to_ascii_lowercase());
    }
    let suffix_len = 1 + stamp.len() + 1 + random.len();
    let room = MAX_DNS_SUBDOMAIN - suffix_len;
    let base = [object_name, fallback]
        .into_iter()
        .map(|candidate| sanitize(candidate, room))
        .find(|s| !s.is_empty())
        .unwrap_or_else(|| "event".to_owned());
    format!("{base}.{stamp}-{random}")
}

/// Makes `s` a DNS-1123 subdomain of at most `max` characters, or returns an
/// empty string when nothing usable remains.
fn sanitize(s: &str, max: usize) -> String {
    let mapped: String = s
        .chars()
        .map(|c| match c {
            'a'..='z' | '0'..='9' | '.' | '-' => c,
            'A'..='Z' => c.to_ascii_lowercase(),
            _ => '-',
        })
        .collect();
    let mut out = String::with_capacity(mapped.len().min(max));
    for label in mapped.split('.') {
        let label = label.trim_matches('-');
        if label.is_empty() {
            continue;
        }
        let sep = usize::from(!out.is_empty());
        if out.len() + sep >= max {
            break;
        }
        let room = max - out.len() - sep;
        let piece = label[..label.len().min(room)].trim_end_matches('-');
        if piece.is_empty() {
            break;
        }
        if sep == 1 {
            out.push('.');
        }
        out.push_str(piece);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate::is_dns_subdomain;
    use proptest::prelude::*;

    fn t() -> Timestamp {
        Timestamp::from_nanosecond(1_700_000_000_123_456_000).unwrap()
    }

    #[test]
    fn hard_names() {
        let long = "a".repeat(253);
        for name in [
            "web-0",
            "system:controller:foo",
            &long,
            "Ünïcødé-名前",
            "",
            "...",
            "-a-.-b-",
            "UPPER.case",
        ] {
            let n = event_name(name, "example.com/ctl", t());
            assert!(is_dns_subdomain(&n), "{name:?} -> {n:?}");
        }
        assert!(event_name("web-0", "c", t()).starts_with("web-0.17979cfe3d85ca00-"));
        assert!(event_name("", "", t()).starts_with("event."));
        assert!(
            event_name("system:controller:Foo", "c", t()).starts_with("system-controller-foo.")
        );
        assert!(event_name("💥", "example.com/c", t()).starts_with("example.com-c."));
        let name = event_name("web-0", "c", t());
        let random = name.rsplit('-').next().unwrap_or_default();
        assert_eq!(random.len(), NAME_RANDOM_LEN);
    }

    #[test]
    fn names_are_unique_for_the_same_instant() {
        let a = event_name("web-0", "c", t());
        let b = event_name("web-0", "c", t());
        assert_ne!(a, b);
    }

    proptest! {
        #[test]
        fn always_a_dns_subdomain(object in any::<String>(), controller in any::<String>(), nanos in any::<i64>()) {
            let time = Timestamp::from_nanosecond(i128::from(nanos)).unwrap_or(Timestamp::UNIX_EPOCH);
            let n = event_name(&object, &controller, time);
            prop_assert!(is_dns_subdomain(&n), "{n:?}");
            prop_assert!(n.len() <= 253);
        }

        #[test]
        fn long_ascii_names_fill_the_room(object in "[a-z0-9.-]{200,400}") {
            let n = event_name(&object, "c", t());
            prop_assert!(is_dns_subdomain(&n), "{n:?}");
        }
    }
}
