//! Conversation items the client creates (`conversation.item.create`), checked against the GA
//! item shapes and completed with the fields the server adds (`id`, `object`, `status`).

use crate::protocol::{ApiError, Fields, Ids, one_of};
use serde_json::{Value, json};

/// Checks a client-supplied item and returns it as the server echoes it.
pub(crate) fn normalize_item(item: &Value, ids: &Ids) -> Result<Value, ApiError> {
    const PATH: &str = "item";
    let kind = match item.get("type") {
        Some(Value::String(kind)) => kind.as_str(),
        Some(other) => return Err(ApiError::invalid_type("item.type", "a string", other)),
        None => return Err(ApiError::missing("item.type")),
    };
    let kind = one_of(
        "item.type",
        kind,
        &["message", "function_call", "function_call_output"],
    )?;
    let common = ["id", "type", "object", "status"];
    let with = |extra: &[&'static str]| -> Vec<&'static str> {
        common.iter().chain(extra.iter()).copied().collect()
    };
    let allowed = match kind {
        "message" => with(&["role", "content"]),
        "function_call" => with(&["call_id", "name", "arguments"]),
        _ => with(&["call_id", "output"]),
    };
    let f = Fields::new(item, PATH, &allowed)?;
    let id = match f.str("id")? {
        Some(id) if !id.is_empty() => id.to_string(),
        _ => ids.make("item"),
    };
    if let Some(object) = f.str("object")? {
        one_of(&f.at("object"), object, &["realtime.item"])?;
    }
    if let Some(status) = f.str("status")? {
        one_of(
            &f.at("status"),
            status,
            &["completed", "incomplete", "in_progress"],
        )?;
    }
    let mut out = json!({"id": id, "type": kind, "object": "realtime.item", "status": "completed"});
    match kind {
        "message" => {
            let role = one_of(
                &f.at("role"),
                f.required_str("role")?,
                &["user", "assistant", "system"],
            )?;
            let content = f
                .array("content")?
                .ok_or_else(|| ApiError::missing("item.content"))?;
            let parts = content
                .iter()
                .enumerate()
                .map(|(i, part)| normalize_part(role, part, &format!("item.content[{i}]")))
                .collect::<Result<Vec<_>, _>>()?;
            out["role"] = json!(role);
            out["content"] = Value::Array(parts);
        }
        "function_call" => {
            out["call_id"] = json!(
                f.str("call_id")?
                    .map(str::to_string)
                    .unwrap_or_else(|| ids.make("call"))
            );
            out["name"] = json!(f.required_str("name")?);
            out["arguments"] = json!(f.required_str("arguments")?);
        }
        _ => {
            out["call_id"] = json!(f.required_str("call_id")?);
            out["output"] = json!(f.required_str("output")?);
        }
    }
    Ok(out)
}

fn normalize_part(role: &str, part: &Value, path: &str) -> Result<Value, ApiError> {
    let allowed_types: &[&str] = match role {
        "user" => &["input_text", "input_audio", "input_image"],
        "assistant" => &["output_text", "output_audio"],
        _ => &["input_text"],
    };
    let kind = match part.get("type") {
        Some(Value::String(kind)) => kind.as_str(),
        Some(other) => {
            return Err(ApiError::invalid_type(
                &format!("{path}.type"),
                "a string",
                other,
            ));
        }
        None => return Err(ApiError::missing(&format!("{path}.type"))),
    };
    let kind = one_of(&format!("{path}.type"), kind, allowed_types)?;
    let keys: &[&str] = match kind {
        "input_text" | "output_text" => &["type", "text"],
        "input_audio" => &["type", "audio", "transcript"],
        "output_audio" => &["type", "audio", "transcript"],
        _ => &["type", "image_url", "detail"],
    };
    let f = Fields::new(part, path, keys)?;
    Ok(match kind {
        "input_text" | "output_text" => json!({"type": kind, "text": f.required_str("text")?}),
        "input_audio" | "output_audio" => {
            let mut out = json!({"type": kind, "transcript": f.str("transcript")?});
            if let Some(audio) = f.str("audio")? {
                out["audio"] = json!(audio);
            }
            out
        }
        _ => {
            let mut out = json!({"type": kind, "image_url": f.required_str("image_url")?});
            if let Some(detail) = f.str("detail")? {
                out["detail"] = json!(one_of(&f.at("detail"), detail, &["auto", "low", "high"])?);
            }
            out
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn completes_a_function_call_output() {
        let item = normalize_item(
            &json!({"type": "function_call_output", "call_id": "call_1", "output": "{\"ok\":true}"}),
            &Ids::default(),
        )
        .unwrap();
        assert_eq!(item["object"], "realtime.item");
        assert_eq!(item["status"], "completed");
        assert!(item["id"].as_str().unwrap().starts_with("item_"));
    }

    #[test]
    fn restores_messages_of_both_roles() {
        let ids = Ids::default();
        let user = json!({"type": "message", "role": "user",
                          "content": [{"type": "input_text", "text": "Bună ziua"}]});
        let assistant = json!({"type": "message", "role": "assistant", "id": "item_x",
                               "content": [{"type": "output_text", "text": "Salut"}]});
        assert_eq!(
            normalize_item(&user, &ids).unwrap()["content"][0]["text"],
            "Bună ziua"
        );
        assert_eq!(normalize_item(&assistant, &ids).unwrap()["id"], "item_x");
    }

    #[test]
    fn refuses_a_user_part_on_the_assistant_and_beta_part_names() {
        let ids = Ids::default();
        let wrong_role = json!({"type": "message", "role": "assistant",
                                "content": [{"type": "input_text", "text": "x"}]});
        assert_eq!(
            normalize_item(&wrong_role, &ids).unwrap_err().code,
            Some("invalid_value")
        );
        let beta = json!({"type": "message", "role": "assistant",
                          "content": [{"type": "text", "text": "x"}]});
        assert_eq!(
            normalize_item(&beta, &ids).unwrap_err().code,
            Some("invalid_value")
        );
    }

    #[test]
    fn requires_the_output_of_a_function_call_output() {
        let err = normalize_item(
            &json!({"type": "function_call_output", "call_id": "call_1"}),
            &Ids::default(),
        )
        .unwrap_err();
        assert_eq!(err.param.as_deref(), Some("item.output"));
    }
}
