//! Patch bodies: JSON merge patch (also used for strategic merge patch and
//! apply, which agree with it on the objects this server stores).

use serde_json::Value;

/// Applies an RFC 7386 merge patch: objects merge key by key, `null`
/// deletes, anything else replaces.
pub(crate) fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(patch_map) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(serde_json::Map::new());
    }
    if let Value::Object(target_map) = target {
        for (key, value) in patch_map {
            if value.is_null() {
                target_map.remove(key);
            } else {
                merge_patch(target_map.entry(key.clone()).or_insert(Value::Null), value);
            }
        }
    }
}

/// Removes strategic-merge-patch directives (`$patch`, `$retainKeys`, ...)
/// that a merge patch would otherwise store as fields.
pub(crate) fn strip_directives(v: &mut Value) {
    match v {
        Value::Object(map) => {
            map.retain(|k, _| !k.starts_with('$'));
            for value in map.values_mut() {
                strip_directives(value);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(strip_directives),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn merge() {
        let mut doc = json!({"a": 1, "series": {"count": 2, "lastObservedTime": "x"}, "keep": [1]});
        merge_patch(
            &mut doc,
            &json!({"a": null, "series": {"count": 5}, "new": {"b": true}}),
        );
        assert_eq!(
            doc,
            json!({"series": {"count": 5, "lastObservedTime": "x"}, "keep": [1], "new": {"b": true}})
        );
    }

    #[test]
    fn directives_are_dropped() {
        let mut v = json!({"$patch": "replace", "data": {"$retainKeys": ["a"], "a": "1"}});
        strip_directives(&mut v);
        assert_eq!(v, json!({"data": {"a": "1"}}));
    }
}
