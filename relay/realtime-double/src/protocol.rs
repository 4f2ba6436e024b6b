//! Shared protocol plumbing: API errors as the real server words them, ids, and a strict
//! reader for client JSON that names the offending parameter the way the API does.

use serde_json::{Map, Value};
use std::sync::atomic::{AtomicU64, Ordering};

/// An error the server reports with an `error` event; the connection stays up.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct ApiError {
    /// `error.type`, nearly always `invalid_request_error`.
    pub kind: &'static str,
    /// `error.code`.
    pub code: Option<&'static str>,
    /// `error.message`.
    pub message: String,
    /// `error.param`: the offending parameter's path.
    pub param: Option<String>,
}

impl ApiError {
    /// Builds an `invalid_request_error` with a code and message.
    pub fn new(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            kind: "invalid_request_error",
            code: Some(code),
            message: message.into(),
            param: None,
        }
    }

    /// Sets the offending parameter.
    pub fn with_param(mut self, param: impl Into<String>) -> ApiError {
        self.param = Some(param.into());
        self
    }

    /// Reports a parameter the API does not know (beta leftovers land here).
    pub fn unknown_parameter(path: &str) -> ApiError {
        ApiError::new("unknown_parameter", format!("Unknown parameter: '{path}'.")).with_param(path)
    }

    /// Reports a required parameter that is missing.
    pub fn missing(path: &str) -> ApiError {
        ApiError::new(
            "missing_required_parameter",
            format!("Missing required parameter: '{path}'."),
        )
        .with_param(path)
    }

    /// Reports a value of the wrong JSON type.
    pub fn invalid_type(path: &str, expected: &str, got: &Value) -> ApiError {
        ApiError::new(
            "invalid_type",
            format!(
                "Invalid type for '{path}': expected {expected}, but got {} instead.",
                json_kind(got)
            ),
        )
        .with_param(path)
    }

    /// Reports a value outside the allowed set.
    pub fn invalid_value(path: &str, got: &str, supported: &[&str]) -> ApiError {
        let list = supported
            .iter()
            .map(|s| format!("'{s}'"))
            .collect::<Vec<_>>()
            .join(", ");
        ApiError::new(
            "invalid_value",
            format!("Invalid value: '{got}'. Supported values are: {list}."),
        )
        .with_param(path)
    }

    /// Builds the `error` server event; `client_event_id` is the offending event's own id.
    pub fn to_event(&self, event_id: String, client_event_id: Option<&str>) -> Value {
        serde_json::json!({
            "type": "error",
            "event_id": event_id,
            "error": {
                "type": self.kind,
                "code": self.code,
                "message": self.message,
                "param": self.param,
                "event_id": client_event_id,
            }
        })
    }
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "an integer",
        Value::Number(_) => "a decimal",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Makes ids unique within one double, shaped like the real ones (`item_…`, `resp_…`).
#[derive(Debug, Default)]
pub(crate) struct Ids {
    /// The last number handed out; shared by every kind of id so none repeats.
    last: AtomicU64,
}

impl Ids {
    /// Returns a fresh id with `prefix` (`event`, `item`, `resp`, `call`, `sess`, `conv`).
    pub fn make(&self, prefix: &str) -> String {
        let n = self.last.fetch_add(1, Ordering::Relaxed) + 1;
        format!("{prefix}_Dbl{n:017}")
    }
}

/// A JSON object read strictly: every key must be known, every value of the right type.
pub(crate) struct Fields<'a> {
    /// The object itself.
    map: &'a Map<String, Value>,
    /// Its path for error messages, e.g. `session.audio.input` (empty at the event's top level).
    path: String,
}

impl<'a> Fields<'a> {
    /// Reads `value` at `path` as an object whose keys must all be in `allowed`.
    pub fn new(value: &'a Value, path: &str, allowed: &[&str]) -> Result<Fields<'a>, ApiError> {
        let Value::Object(map) = value else {
            return Err(ApiError::invalid_type(path, "an object", value));
        };
        let fields = Fields {
            map,
            path: path.to_string(),
        };
        if let Some(key) = map.keys().find(|k| !allowed.contains(&k.as_str())) {
            return Err(ApiError::unknown_parameter(&fields.at(key)));
        }
        Ok(fields)
    }

    /// Returns the path of `key` inside this object.
    pub fn at(&self, key: &str) -> String {
        if self.path.is_empty() {
            key.to_string()
        } else {
            format!("{}.{key}", self.path)
        }
    }

    /// Returns the raw value of `key`, `None` when absent (a JSON null is returned as such).
    pub fn raw(&self, key: &str) -> Option<&'a Value> {
        self.map.get(key)
    }

    /// Returns the string at `key`, `None` when absent or null.
    pub fn str(&self, key: &str) -> Result<Option<&'a str>, ApiError> {
        match self.map.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(other) => Err(ApiError::invalid_type(&self.at(key), "a string", other)),
        }
    }

    /// Returns the string at `key`, which must be present.
    pub fn required_str(&self, key: &str) -> Result<&'a str, ApiError> {
        self.str(key)?
            .ok_or_else(|| ApiError::missing(&self.at(key)))
    }

    /// Returns the non-negative integer at `key`, `None` when absent or null.
    pub fn uint(&self, key: &str) -> Result<Option<u64>, ApiError> {
        match self.map.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) if n.as_u64().is_some() => Ok(n.as_u64()),
            Some(other) => Err(ApiError::invalid_type(
                &self.at(key),
                "a non-negative integer",
                other,
            )),
        }
    }

    /// Returns the number at `key`, `None` when absent or null.
    pub fn number(&self, key: &str) -> Result<Option<f64>, ApiError> {
        match self.map.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) => Ok(n.as_f64()),
            Some(other) => Err(ApiError::invalid_type(&self.at(key), "a number", other)),
        }
    }

    /// Returns the boolean at `key`, `None` when absent or null.
    pub fn bool(&self, key: &str) -> Result<Option<bool>, ApiError> {
        match self.map.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(other) => Err(ApiError::invalid_type(&self.at(key), "a boolean", other)),
        }
    }

    /// Returns the array at `key`, `None` when absent or null.
    pub fn array(&self, key: &str) -> Result<Option<&'a Vec<Value>>, ApiError> {
        match self.map.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Array(items)) => Ok(Some(items)),
            Some(other) => Err(ApiError::invalid_type(&self.at(key), "an array", other)),
        }
    }
}

/// Checks that `got` is one of `allowed`, naming `path` otherwise.
pub(crate) fn one_of<'v>(path: &str, got: &'v str, allowed: &[&str]) -> Result<&'v str, ApiError> {
    if allowed.contains(&got) {
        Ok(got)
    } else {
        Err(ApiError::invalid_value(path, got, allowed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names_the_unknown_parameter_with_its_path() {
        let value = json!({"format": {}, "sample_rate": 8000});
        let err = Fields::new(&value, "session.audio.input", &["format"])
            .err()
            .unwrap();
        assert_eq!(err.code, Some("unknown_parameter"));
        assert_eq!(
            err.param.as_deref(),
            Some("session.audio.input.sample_rate")
        );
    }

    #[test]
    fn reports_wrong_types() {
        let value = json!({"silence_duration_ms": "500"});
        let fields = Fields::new(&value, "t", &["silence_duration_ms"]).unwrap();
        let err = fields.uint("silence_duration_ms").unwrap_err();
        assert_eq!(err.code, Some("invalid_type"));
        assert!(err.message.contains("got a string"), "{}", err.message);
    }

    #[test]
    fn ids_do_not_repeat() {
        let ids = Ids::default();
        assert_ne!(ids.make("item"), ids.make("item"));
        assert!(ids.make("resp").starts_with("resp_"));
    }
}
