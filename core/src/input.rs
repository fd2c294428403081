//! Reading JSON request bodies field by field, so every wrong type or value
//! becomes a `VALIDATION_ERROR` that names the field (never a panic).

use crate::error::{ApiError, ApiResult};
use serde_json::{Map, Value};

pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Parses a request body as a JSON object.
pub fn parse_object(body: &[u8]) -> ApiResult<Map<String, Value>> {
    if body.len() > MAX_BODY_BYTES {
        return Err(ApiError::PayloadTooLarge(format!(
            "Request body must be at most {MAX_BODY_BYTES} bytes"
        )));
    }
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::validation("body", "a JSON object is required"));
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(ApiError::validation("body", "must be a JSON object")),
        Err(e) => Err(ApiError::validation(
            "body",
            format!("malformed JSON at line {} column {}", e.line(), e.column()),
        )),
    }
}

/// PATCH semantics: a field the request carries replaces the stored one.
pub fn set<T>(dst: &mut T, v: Option<T>) {
    if let Some(v) = v {
        *dst = v;
    }
}

/// One JSON object being read. Each getter distinguishes "absent" (None)
/// from `null` (Some(None)) so PATCH can clear a field.
pub struct Fields<'a> {
    pub map: &'a Map<String, Value>,
}

impl<'a> Fields<'a> {
    pub fn new(map: &'a Map<String, Value>) -> Self {
        Fields { map }
    }

    /// Rejects fields outside `known` (typos such as `url` for `destinationUrl`).
    /// A body that may carry only the `known` fields (any other one is a
    /// `VALIDATION_ERROR` naming it).
    pub fn only(map: &'a Map<String, Value>, known: &[&str]) -> ApiResult<Self> {
        let f = Fields::new(map);
        f.deny_unknown(known, &[])?;
        Ok(f)
    }

    pub fn deny_unknown(&self, known: &[&str], ignored: &[&str]) -> ApiResult<()> {
        for k in self.map.keys() {
            if !known.contains(&k.as_str()) && !ignored.contains(&k.as_str()) {
                let hint = if k == "url" {
                    " (did you mean destinationUrl?)"
                } else {
                    ""
                };
                return Err(ApiError::validation(
                    k.as_str(),
                    format!("unknown field{hint}"),
                ));
            }
        }
        Ok(())
    }

    fn get(&self, name: &str) -> Option<&'a Value> {
        self.map.get(name)
    }

    pub fn has(&self, name: &str) -> bool {
        self.map.contains_key(name)
    }

    /// A string up to `max` characters; `null` clears it.
    pub fn nullable_string(&self, name: &str, max: usize) -> ApiResult<Option<Option<String>>> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Null) => Ok(Some(None)),
            Some(Value::String(s)) => {
                if s.chars().count() > max {
                    return Err(ApiError::validation(
                        name,
                        format!("must be at most {max} characters"),
                    ));
                }
                Ok(Some(Some(s.clone())))
            }
            Some(_) => Err(ApiError::validation(name, "must be a string")),
        }
    }

    /// A string that may not be null.
    pub fn string(&self, name: &str, max: usize) -> ApiResult<Option<String>> {
        match self.nullable_string(name, max)? {
            None => Ok(None),
            Some(None) => Err(ApiError::validation(name, "must not be null")),
            Some(Some(s)) => Ok(Some(s)),
        }
    }

    pub fn required_string(&self, name: &str, max: usize) -> ApiResult<String> {
        match self.string(name, max)? {
            Some(s) if !s.trim().is_empty() => Ok(s),
            Some(_) => Err(ApiError::validation(name, "must not be empty")),
            None => Err(ApiError::validation(name, "is required")),
        }
    }

    pub fn bool(&self, name: &str) -> ApiResult<Option<bool>> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(_) => Err(ApiError::validation(name, "must be true or false")),
        }
    }

    /// A whole number in `min..=max`; `null` clears it.
    pub fn nullable_int(&self, name: &str, min: i64, max: i64) -> ApiResult<Option<Option<i64>>> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Null) => Ok(Some(None)),
            Some(v) => Ok(Some(Some(int_in(v, name, min, max)?))),
        }
    }

    pub fn int(&self, name: &str, min: i64, max: i64) -> ApiResult<Option<i64>> {
        match self.nullable_int(name, min, max)? {
            None => Ok(None),
            Some(None) => Err(ApiError::validation(name, "must not be null")),
            Some(Some(n)) => Ok(Some(n)),
        }
    }

    /// An array of strings, each up to `max_len`, at most `max_items`.
    pub fn string_list(
        &self,
        name: &str,
        max_items: usize,
        max_len: usize,
    ) -> ApiResult<Option<Vec<String>>> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Null) => Ok(Some(Vec::new())),
            Some(Value::Array(items)) => {
                if items.len() > max_items {
                    return Err(ApiError::validation(
                        name,
                        format!("at most {max_items} items"),
                    ));
                }
                items
                    .iter()
                    .map(|v| match v {
                        Value::String(s) if !s.trim().is_empty() && s.chars().count() <= max_len => {
                            Ok(s.trim().to_string())
                        }
                        _ => Err(ApiError::validation(
                            name,
                            format!("must be an array of non-empty strings of at most {max_len} characters"),
                        )),
                    })
                    .collect::<ApiResult<Vec<_>>>()
                    .map(Some)
            }
            Some(_) => Err(ApiError::validation(name, "must be an array of strings")),
        }
    }

    /// An object of string values (`null` → empty).
    pub fn string_map(
        &self,
        name: &str,
        max_items: usize,
    ) -> ApiResult<Option<Vec<(String, String)>>> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Null) => Ok(Some(Vec::new())),
            Some(Value::Object(m)) => {
                if m.len() > max_items {
                    return Err(ApiError::validation(
                        name,
                        format!("at most {max_items} entries"),
                    ));
                }
                m.iter()
                    .map(|(k, v)| match v {
                        Value::String(s) => Ok((k.clone(), s.clone())),
                        _ => Err(ApiError::validation(
                            format!("{name}.{k}"),
                            "must be a URL string",
                        )),
                    })
                    .collect::<ApiResult<Vec<_>>>()
                    .map(Some)
            }
            Some(_) => Err(ApiError::validation(name, "must be an object")),
        }
    }
}

pub fn int_in(v: &Value, name: &str, min: i64, max: i64) -> ApiResult<i64> {
    let n = match v {
        Value::Number(n) => n.as_i64().or_else(|| {
            n.as_f64()
                .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15)
                .map(|f| f as i64)
        }),
        _ => None,
    };
    match n {
        Some(n) if (min..=max).contains(&n) => Ok(n),
        Some(_) => Err(ApiError::validation(
            name,
            format!("must be between {min} and {max}"),
        )),
        None => Err(ApiError::validation(name, "must be a whole number")),
    }
}

/// Query-string integers (`page`, `perPage`, ...).
pub fn query_int(
    raw: Option<&str>,
    name: &str,
    default: i64,
    min: i64,
    max: i64,
) -> ApiResult<i64> {
    match raw {
        None | Some("") => Ok(default),
        Some(s) => match s.parse::<i64>() {
            Ok(n) if (min..=max).contains(&n) => Ok(n),
            Ok(_) => Err(ApiError::validation(
                name,
                format!("must be between {min} and {max}"),
            )),
            Err(_) => Err(ApiError::validation(name, "must be a whole number")),
        },
    }
}

pub fn query_bool(raw: Option<&str>, name: &str) -> ApiResult<Option<bool>> {
    match raw {
        None | Some("") => Ok(None),
        Some("true") | Some("1") => Ok(Some(true)),
        Some("false") | Some("0") => Ok(Some(false)),
        Some(_) => Err(ApiError::validation(name, "must be true or false")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn body_errors_are_4xx() {
        assert_eq!(parse_object(b"{").unwrap_err().code(), "VALIDATION_ERROR");
        assert_eq!(parse_object(b"[1]").unwrap_err().field(), Some("body"));
        assert_eq!(parse_object(b"").unwrap_err().status(), 400);
        let big = vec![b' '; MAX_BODY_BYTES + 1];
        assert_eq!(parse_object(&big).unwrap_err().status(), 413);
        assert!(parse_object(br#"{"a":1}"#).is_ok());
    }

    #[test]
    fn getters_name_the_field() {
        let m =
            obj(json!({"t": 5, "n": "x", "b": "yes", "l": [1], "i": 1.5, "big": 10, "ok": 3.0}));
        let f = Fields::new(&m);
        assert_eq!(f.string("t", 10).unwrap_err().field(), Some("t"));
        assert_eq!(f.bool("b").unwrap_err().field(), Some("b"));
        assert_eq!(f.string_list("l", 5, 5).unwrap_err().field(), Some("l"));
        assert_eq!(f.int("i", 0, 5).unwrap_err().field(), Some("i"));
        assert_eq!(f.int("big", 0, 5).unwrap_err().field(), Some("big"));
        assert_eq!(f.int("ok", 0, 5).unwrap(), Some(3));
        assert_eq!(f.string("n", 0).unwrap_err().field(), Some("n"));
        assert_eq!(f.string("missing", 5).unwrap(), None);
        assert_eq!(
            f.deny_unknown(&["t"], &["n", "b", "l", "i", "big"])
                .unwrap_err()
                .field(),
            Some("ok")
        );
    }

    #[test]
    fn query_values() {
        assert_eq!(query_int(None, "page", 1, 1, 10).unwrap(), 1);
        assert_eq!(
            query_int(Some("101"), "perPage", 20, 1, 100)
                .unwrap_err()
                .field(),
            Some("perPage")
        );
        assert_eq!(
            query_int(Some("x"), "page", 1, 1, 10).unwrap_err().field(),
            Some("page")
        );
        assert_eq!(
            query_bool(Some("maybe"), "archived").unwrap_err().field(),
            Some("archived")
        );
        assert_eq!(query_bool(Some("true"), "archived").unwrap(), Some(true));
    }
}
