//! What template.yaml tells API Gateway and Lambda, read so the test cannot drift from it:
//! which function each route invokes, in which payload format, and each function's variables.
//! A line reader, enough for this one template's layout (two-space YAML, one key a line).

use std::collections::HashMap;

/// A resource's name and its `key: value` lines (trimmed, first of each key).
struct Resource {
    name: String,
    fields: HashMap<String, String>,
    /// The names under its `Environment: Variables:`.
    variables: Vec<String>,
}

fn resources() -> Vec<Resource> {
    let text = include_str!("../../../../template.yaml");
    let mut out: Vec<Resource> = Vec::new();
    let mut section = "";
    // The indent of the `Variables:` line being read, and of its entries.
    let mut vars: Option<(usize, Option<usize>)> = None;
    for line in text.lines() {
        let indent = line.len() - line.trim_start().len();
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        if indent == 0 {
            vars = None;
            section = trimmed.trim_end_matches(':');
            if section == "Globals" {
                out.push(Resource {
                    name: "Globals".into(),
                    fields: HashMap::new(),
                    variables: Vec::new(),
                });
            }
            continue;
        }
        if section != "Globals" && section != "Resources" {
            continue;
        }
        if section == "Resources" && indent == 2 {
            vars = None;
            out.push(Resource {
                name: trimmed.trim_end_matches(':').to_owned(),
                fields: HashMap::new(),
                variables: Vec::new(),
            });
            continue;
        }
        let Some(current) = out.last_mut() else {
            continue;
        };
        if let Some((at, entries)) = vars {
            if indent <= at {
                vars = None;
            } else {
                let entries = entries.unwrap_or(indent);
                vars = Some((at, Some(entries)));
                if indent == entries {
                    let name = trimmed.split(':').next().unwrap_or_default();
                    current.variables.push(name.to_owned());
                }
                continue;
            }
        }
        if trimmed == "Variables:" {
            vars = Some((indent, None));
        } else if let Some((key, value)) = trimmed.split_once(": ") {
            current
                .fields
                .entry(key.to_owned())
                .or_insert_with(|| value.trim_matches('"').to_owned());
        }
    }
    out
}

/// The route keys whose integration invokes `function`, each checked to send format 2.0.
pub fn routes_of(function: &str) -> Vec<String> {
    let all = resources();
    let by_name: HashMap<&str, &Resource> = all.iter().map(|r| (r.name.as_str(), r)).collect();
    all.iter()
        .filter_map(|route| {
            let key = route.fields.get("RouteKey")?;
            let target = route.fields.get("Target")?;
            let integration = target.split("${").nth(1)?.trim_end_matches(['}', '"']);
            let integration = by_name[integration];
            let uri = &integration.fields["IntegrationUri"];
            (uri == &format!("!GetAtt {function}.Arn")).then(|| {
                assert_eq!(integration.fields["PayloadFormatVersion"], "2.0", "{key}");
                key.clone()
            })
        })
        .collect()
}

/// The variables template.yaml gives `function`: the globals and its own.
pub fn variables_of(function: &str) -> Vec<String> {
    resources()
        .into_iter()
        .filter(|r| r.name == "Globals" || r.name == function)
        .flat_map(|r| r.variables)
        .collect()
}

/// A setting of every function (`Globals: Function:`), such as `Timeout`.
pub fn global(key: &str) -> String {
    let globals = resources().into_iter().find(|r| r.name == "Globals");
    globals
        .and_then(|g| g.fields.get(key).cloned())
        .unwrap_or_else(|| panic!("template.yaml sets no global {key}"))
}
