//! Request bodies in Kubernetes' protobuf encoding, for the kinds kubectl's
//! imperative commands send that way (`kubectl create configmap`,
//! `create namespace`, `auth can-i`, `auth whoami`), turned into the JSON
//! the rest of the server reads.
//!
//! A body is the four bytes `k8s\0` and a `runtime.Unknown` message: its
//! type (`apiVersion`, `kind`) and the object's own message. Only the
//! fields of the kinds below are read; the others are skipped, as a
//! protobuf reader skips fields it does not know.

use serde_json::{Map, Value, json};

use crate::kubeconfig::base64;
use crate::status::ApiError;

/// The media type of Kubernetes' protobuf encoding.
pub(crate) const MEDIA_TYPE: &str = "application/vnd.kubernetes.protobuf";
const MAGIC: &[u8] = b"k8s\0";

/// One field of a message: its number and its value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Field<'a> {
    Varint(u32, u64),
    Bytes(u32, &'a [u8]),
    Fixed(u32),
}

fn bad(what: &str) -> ApiError {
    ApiError::bad_request(format!("the protobuf body could not be decoded: {what}"))
}

fn varint(buf: &[u8], pos: &mut usize) -> Result<u64, ApiError> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let byte = *buf.get(*pos).ok_or_else(|| bad("truncated varint"))?;
        *pos += 1;
        value |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Ok(value);
        }
    }
    Err(bad("varint too long"))
}

/// The fields of one message, in order.
fn fields(buf: &[u8]) -> Result<Vec<Field<'_>>, ApiError> {
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < buf.len() {
        let key = varint(buf, &mut pos)?;
        let number = u32::try_from(key >> 3).map_err(|_| bad("field number"))?;
        match key & 7 {
            0 => out.push(Field::Varint(number, varint(buf, &mut pos)?)),
            1 | 5 => {
                pos += if key & 7 == 1 { 8 } else { 4 };
                if pos > buf.len() {
                    return Err(bad("truncated fixed-size field"));
                }
                out.push(Field::Fixed(number));
            }
            2 => {
                let len = usize::try_from(varint(buf, &mut pos)?).map_err(|_| bad("length"))?;
                let end = pos.checked_add(len).filter(|&e| e <= buf.len());
                let end = end.ok_or_else(|| bad("truncated field"))?;
                out.push(Field::Bytes(number, &buf[pos..end]));
                pos = end;
            }
            _ => return Err(bad("unsupported wire type")),
        }
    }
    Ok(out)
}

fn text(bytes: &[u8]) -> Result<String, ApiError> {
    String::from_utf8(bytes.to_vec()).map_err(|_| bad("a string is not UTF-8"))
}

/// The string fields of a message, by name.
fn strings(buf: &[u8], names: &[(u32, &str)]) -> Result<Map<String, Value>, ApiError> {
    let mut out = Map::new();
    for field in fields(buf)? {
        if let Field::Bytes(n, b) = field
            && let Some((_, name)) = names.iter().find(|(num, _)| *num == n)
        {
            out.insert((*name).to_owned(), json!(text(b)?));
        }
    }
    Ok(out)
}

/// A `map<string, string>` entry (or `map<string, bytes>` as base64).
fn map_entry(buf: &[u8], bytes_value: bool) -> Result<(String, Value), ApiError> {
    let (mut key, mut value) = (String::new(), json!(""));
    for field in fields(buf)? {
        match field {
            Field::Bytes(1, b) => key = text(b)?,
            Field::Bytes(2, b) if bytes_value => value = json!(base64(b)),
            Field::Bytes(2, b) => value = json!(text(b)?),
            _ => {}
        }
    }
    Ok((key, value))
}

fn object_meta(buf: &[u8]) -> Result<Value, ApiError> {
    let mut meta = strings(
        buf,
        &[
            (1, "name"),
            (2, "generateName"),
            (3, "namespace"),
            (5, "uid"),
            (6, "resourceVersion"),
        ],
    )?;
    let (mut labels, mut annotations, mut finalizers) = (Map::new(), Map::new(), Vec::new());
    for field in fields(buf)? {
        match field {
            Field::Bytes(11, b) => {
                let (k, v) = map_entry(b, false)?;
                labels.insert(k, v);
            }
            Field::Bytes(12, b) => {
                let (k, v) = map_entry(b, false)?;
                annotations.insert(k, v);
            }
            Field::Bytes(14, b) => finalizers.push(json!(text(b)?)),
            _ => {}
        }
    }
    for (key, value) in [("labels", labels), ("annotations", annotations)] {
        if !value.is_empty() {
            meta.insert(key.to_owned(), Value::Object(value));
        }
    }
    if !finalizers.is_empty() {
        meta.insert("finalizers".to_owned(), Value::Array(finalizers));
    }
    Ok(Value::Object(meta))
}

fn config_map(buf: &[u8]) -> Result<Value, ApiError> {
    let mut out = json!({});
    let (mut data, mut binary) = (Map::new(), Map::new());
    for field in fields(buf)? {
        match field {
            Field::Bytes(1, b) => out["metadata"] = object_meta(b)?,
            Field::Bytes(2, b) => {
                let (k, v) = map_entry(b, false)?;
                data.insert(k, v);
            }
            Field::Bytes(3, b) => {
                let (k, v) = map_entry(b, true)?;
                binary.insert(k, v);
            }
            Field::Varint(4, v) => out["immutable"] = json!(v != 0),
            _ => {}
        }
    }
    if !data.is_empty() {
        out["data"] = Value::Object(data);
    }
    if !binary.is_empty() {
        out["binaryData"] = Value::Object(binary);
    }
    Ok(out)
}

fn namespace(buf: &[u8]) -> Result<Value, ApiError> {
    let mut out = json!({});
    for field in fields(buf)? {
        match field {
            Field::Bytes(1, b) => out["metadata"] = object_meta(b)?,
            Field::Bytes(2, spec) => {
                let finalizers: Result<Vec<Value>, ApiError> = fields(spec)?
                    .into_iter()
                    .filter_map(|f| match f {
                        Field::Bytes(1, b) => Some(text(b).map(Value::String)),
                        _ => None,
                    })
                    .collect();
                out["spec"] = json!({"finalizers": finalizers?});
            }
            _ => {}
        }
    }
    Ok(out)
}

fn access_review(buf: &[u8]) -> Result<Value, ApiError> {
    let mut out = json!({"spec": {}});
    for field in fields(buf)? {
        if let Field::Bytes(2, spec) = field {
            for part in fields(spec)? {
                match part {
                    Field::Bytes(1, b) => {
                        out["spec"]["resourceAttributes"] = Value::Object(strings(
                            b,
                            &[
                                (1, "namespace"),
                                (2, "verb"),
                                (3, "group"),
                                (4, "version"),
                                (5, "resource"),
                                (6, "subresource"),
                                (7, "name"),
                            ],
                        )?);
                    }
                    Field::Bytes(2, b) => {
                        out["spec"]["nonResourceAttributes"] =
                            Value::Object(strings(b, &[(1, "path"), (2, "verb")])?);
                    }
                    _ => {}
                }
            }
        }
    }
    Ok(out)
}

/// The JSON form of a protobuf request body, for the kinds listed in the
/// module docs.
///
/// # Errors
///
/// 400 when the body is not a protobuf object; 415 for another kind.
pub(crate) fn to_json(body: &[u8]) -> Result<Value, ApiError> {
    let envelope = body
        .strip_prefix(MAGIC)
        .ok_or_else(|| bad("the body does not start with the protobuf prefix"))?;
    let (mut type_meta, mut raw) = (Map::new(), None);
    for field in fields(envelope)? {
        match field {
            Field::Bytes(1, b) => type_meta = strings(b, &[(1, "apiVersion"), (2, "kind")])?,
            Field::Bytes(2, b) => raw = Some(b),
            _ => {}
        }
    }
    let raw = raw.unwrap_or_default();
    let kind = type_meta.get("kind").and_then(Value::as_str).unwrap_or("");
    let mut object = match kind {
        "ConfigMap" => config_map(raw)?,
        "Namespace" => namespace(raw)?,
        "SelfSubjectAccessReview" => access_review(raw)?,
        "SelfSubjectReview" => json!({}),
        _ => return Err(ApiError::unsupported_media_type(MEDIA_TYPE)),
    };
    if let Some(o) = object.as_object_mut() {
        o.extend(type_meta);
    }
    Ok(object)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bytes_field(number: u8, value: &[u8]) -> Vec<u8> {
        let mut out = vec![(number << 3) | 2, u8::try_from(value.len()).unwrap()];
        out.extend_from_slice(value);
        out
    }

    fn envelope(api_version: &str, kind: &str, raw: &[u8]) -> Vec<u8> {
        let type_meta = [
            bytes_field(1, api_version.as_bytes()),
            bytes_field(2, kind.as_bytes()),
        ]
        .concat();
        [
            MAGIC.to_vec(),
            bytes_field(1, &type_meta),
            bytes_field(2, raw),
        ]
        .concat()
    }

    #[test]
    fn a_configmap_decodes() {
        let entry = |k: &str, v: &[u8]| [bytes_field(1, k.as_bytes()), bytes_field(2, v)].concat();
        let meta = [
            bytes_field(1, b"settings"),
            bytes_field(3, b"shop"),
            bytes_field(11, &entry("app", b"web")),
        ]
        .concat();
        let raw = [
            bytes_field(1, &meta),
            bytes_field(2, &entry("mode", b"fast")),
            bytes_field(3, &entry("blob", &[0xff, 0x00])),
            vec![4 << 3, 1],
        ]
        .concat();
        let v = to_json(&envelope("v1", "ConfigMap", &raw)).unwrap();
        assert_eq!(
            v,
            json!({
                "apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": "settings", "namespace": "shop", "labels": {"app": "web"}},
                "data": {"mode": "fast"}, "binaryData": {"blob": "/wA="}, "immutable": true,
            })
        );
    }

    #[test]
    fn bad_bodies_are_refused() {
        assert_eq!(to_json(b"{}").unwrap_err().code, 400);
        let truncated = [MAGIC.to_vec(), vec![(2 << 3) | 2, 50, 1, 2]].concat();
        assert_eq!(to_json(&truncated).unwrap_err().code, 400);
        let pod = envelope("v1", "Pod", &[]);
        assert_eq!(to_json(&pod).unwrap_err().code, 415);
        let review = envelope("authentication.k8s.io/v1", "SelfSubjectReview", &[]);
        assert_eq!(to_json(&review).unwrap()["kind"], "SelfSubjectReview");
    }
}
