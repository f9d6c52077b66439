//! Event names: always a valid DNS-1123 subdomain.

use crate::validate::MAX_DNS_SUBDOMAIN;

/// Hex digits of the key hash at the end of every event name.
const HASH_HEX: usize = 16;

/// The name of a series' Event: the object's name made DNS-safe, `.`, and
/// 16 hex digits of `hash` (the series' key, reporter and rename
/// generation). Always a valid DNS-1123 subdomain of at most 253
/// characters, and the same for the same inputs in every process, so a
/// repeat seen after an eviction or a restart finds the stored Event.
///
/// The object's name is lowercased, characters outside `[a-z0-9.-]` become
/// `-`, each dot-separated part loses leading and trailing `-`, and the whole
/// is cut to fit. When nothing usable remains (an empty name, or one made
/// only of symbols), `fallback` (the controller name) is tried the same way,
/// and then the word `event`.
pub(crate) fn series_name(object_name: &str, fallback: &str, hash: u64) -> String {
    let room = MAX_DNS_SUBDOMAIN - 1 - HASH_HEX;
    let base = [object_name, fallback]
        .into_iter()
        .map(|candidate| sanitize(candidate, room))
        .find(|s| !s.is_empty())
        .unwrap_or_else(|| "event".to_owned());
    format!("{base}.{hash:016x}")
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
            let n = series_name(name, "example.com/ctl", u64::MAX);
            assert!(is_dns_subdomain(&n), "{name:?} -> {n:?}");
        }
        assert_eq!(series_name("web-0", "c", 0xab), "web-0.00000000000000ab");
        assert_eq!(
            series_name("system:controller:Foo", "c", 1),
            "system-controller-foo.0000000000000001"
        );
        assert_eq!(
            series_name("💥", "example.com/c", 2),
            "example.com-c.0000000000000002"
        );
        assert_eq!(series_name("", "", 3), "event.0000000000000003");
    }

    proptest! {
        #[test]
        fn always_a_dns_subdomain(object in any::<String>(), controller in any::<String>(), hash in any::<u64>()) {
            let n = series_name(&object, &controller, hash);
            prop_assert!(is_dns_subdomain(&n), "{n:?}");
            prop_assert!(n.len() <= 253);
            prop_assert_eq!(n, series_name(&object, &controller, hash));
        }

        #[test]
        fn long_ascii_names_fill_the_room(object in "[a-z0-9.-]{200,400}") {
            let n = series_name(&object, "c", 7);
            prop_assert!(is_dns_subdomain(&n), "{n:?}");
        }
    }
}
