//! Reading an OpenAPI description as tests need it: its operations, its references and schema names,
//! and [`Contract`], which checks that a response is one the description allows.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, OnceLock};

use anyhow::Context;
use serde_json::Value;

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "patch", "head", "options", "trace",
];

/// The operations of an OpenAPI description (JSON) as (METHOD, path) pairs, the method upper-case:
/// `("GET", "/api/v1/courses/{courseId}")`.
pub fn operations(doc: &Value) -> BTreeSet<(String, String)> {
    let Some(paths) = doc["paths"].as_object() else {
        return BTreeSet::new();
    };
    paths
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .into_iter()
                .flat_map(|methods| methods.keys())
                .filter(|method| METHODS.contains(&method.as_str()))
                .map(move |method| (method.to_uppercase(), path.clone()))
        })
        .collect()
}

/// Every local `$ref` of the description (`#/components/schemas/X`) that points at nothing, with
/// where it was found.
pub fn dangling_refs(doc: &Value) -> Vec<String> {
    fn walk(doc: &Value, value: &Value, at: &str, dangling: &mut Vec<String>) {
        match value {
            Value::Object(fields) => {
                if let Some(Value::String(target)) = fields.get("$ref") {
                    let resolves = target
                        .strip_prefix('#')
                        .is_some_and(|pointer| doc.pointer(pointer).is_some());
                    if !resolves {
                        dangling.push(format!("{target} (at {at})"));
                    }
                }
                for (key, child) in fields {
                    let key = key.replace('~', "~0").replace('/', "~1");
                    walk(doc, child, &format!("{at}/{key}"), dangling);
                }
            }
            Value::Array(items) => {
                for (i, child) in items.iter().enumerate() {
                    walk(doc, child, &format!("{at}/{i}"), dangling);
                }
            }
            _ => {}
        }
    }
    let mut dangling = Vec::new();
    walk(doc, doc, "#", &mut dangling);
    dangling
}

/// Schema names two types share. OpenAPI generators key schemas by name, so when two types of the
/// same name meet in one description, one's schema silently replaces the other's. `parts` are
/// descriptions of single operations (`(name, description)`), each made alone, where every schema
/// is still its own type's; any schema of a part that differs from the one of the same name in
/// `merged` is such a collision: that operation's references now mean another type.
pub fn schema_collisions(merged: &Value, parts: &[(String, Value)]) -> Vec<String> {
    let mut collisions = Vec::new();
    for (operation, part) in parts {
        let Some(schemas) = part["components"]["schemas"].as_object() else {
            continue;
        };
        for (name, schema) in schemas {
            let kept = &merged["components"]["schemas"][name];
            if kept != schema {
                collisions.push(format!(
                    "`{name}` of {operation} is {schema}, but the description keeps {kept}"
                ));
            }
        }
    }
    collisions
}

/// The base URI under which [`Contract`] registers the description, so that its references
/// (`#/components/schemas/X`) resolve from a schema compiled on its own.
const DOCUMENT_URI: &str = "urn:lectern:openapi";

/// Path prefixes the server answers that are no part of the API it describes: the local server's
/// interactive documentation and its local payment provider's simulation.
pub const UNDESCRIBED_PREFIXES: &[&str] = &["/docs", "/api/v1/dev/"];

/// An OpenAPI 3.1 description as a contract responses are checked against: the status must be one
/// the matched operation lists, the content type one that status documents, and a JSON body valid
/// against its schema (JSON Schema 2020-12, `$ref`s resolved in the description). A request that
/// matches no operation (an unknown path, a method the path does not have) must be answered with an
/// error in the error shape (`#/components/schemas/ErrorBody`).
///
/// Schemas are compiled on first use and kept, so a test process compiles each once.
pub struct Contract {
    doc: Value,
    registry: jsonschema::Registry<'static>,
    validators: Mutex<HashMap<String, Arc<jsonschema::Validator>>>,
}

/// What a response did wrong, naming the operation, the status and where in the body.
#[derive(Debug)]
pub struct Breach(pub String);

impl std::fmt::Display for Breach {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// One response to check: the request's method and path (a query string is ignored), and what came
/// back.
pub struct Exchange<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub status: u16,
    pub content_type: Option<&'a str>,
    pub body: &'a [u8],
}

impl Contract {
    /// The committed description (`docs/openapi.json`), loaded once per process.
    pub fn committed() -> &'static Contract {
        static CONTRACT: OnceLock<Contract> = OnceLock::new();
        CONTRACT.get_or_init(|| {
            let path = crate::tools::workspace().join("docs/openapi.json");
            let text = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
            let doc = serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()));
            Contract::new(doc).unwrap_or_else(|e| panic!("{}: {e:#}", path.display()))
        })
    }

    /// A contract of the description `doc`.
    pub fn new(doc: Value) -> anyhow::Result<Contract> {
        let registry = jsonschema::Registry::new()
            .add(DOCUMENT_URI, doc.clone())
            .context("registering the description")?
            .prepare()
            .context("resolving the description's references")?;
        Ok(Contract {
            doc,
            registry,
            validators: Mutex::new(HashMap::new()),
        })
    }

    /// The description.
    pub fn document(&self) -> &Value {
        &self.doc
    }

    /// Checks one response.
    pub fn check(&self, exchange: &Exchange<'_>) -> Result<(), Breach> {
        let path = exchange.path.split('?').next().unwrap_or_default();
        let method = exchange.method.to_ascii_lowercase();
        let status = exchange.status;
        let Some((template, operation)) = self.operation(&method, path) else {
            return self.check_error(exchange, path);
        };
        let name = format!(
            "{} {template} ({})",
            exchange.method.to_ascii_uppercase(),
            operation["operationId"]
                .as_str()
                .unwrap_or("no operationId")
        );
        let responses = &operation["responses"];
        let key = [status.to_string(), format!("{}XX", status / 100)]
            .into_iter()
            .chain(["default".to_owned()])
            .find(|key| responses.get(key).is_some());
        let Some(key) = key else {
            let listed: Vec<&String> = responses
                .as_object()
                .map(|r| r.keys().collect())
                .unwrap_or_default();
            return Err(Breach(format!(
                "{name} answered {status}, a status its description does not list ({}); body: {}",
                listed
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                String::from_utf8_lossy(exchange.body)
            )));
        };
        let response = self.resolve(&responses[&key]);
        let content = response["content"].as_object().filter(|c| !c.is_empty());
        let Some(content) = content else {
            if exchange.body.is_empty() {
                return Ok(());
            }
            return Err(Breach(format!(
                "{name} answered {status} with a body, but its description has none: {}",
                String::from_utf8_lossy(exchange.body)
            )));
        };
        let media = exchange
            .content_type
            .and_then(|t| t.split(';').next())
            .map(|t| t.trim().to_ascii_lowercase())
            .unwrap_or_default();
        let Some((documented, media_type)) = content
            .iter()
            .find(|(documented, _)| media_matches(documented, &media))
        else {
            return Err(Breach(format!(
                "{name} answered {status} as `{media}`, but its description has {}",
                content.keys().cloned().collect::<Vec<_>>().join(", ")
            )));
        };
        if !is_json(&media) {
            return Ok(());
        }
        let body: Value = serde_json::from_slice(exchange.body).map_err(|e| {
            Breach(format!(
                "{name} answered {status} as `{media}` with a body that is not JSON ({e}): {}",
                String::from_utf8_lossy(exchange.body)
            ))
        })?;
        if media_type.get("schema").is_none() {
            return Ok(());
        }
        let pointer = format!(
            "/paths/{}/{method}/responses/{key}/content/{}/schema",
            escape(template),
            escape(documented)
        );
        self.validate(&pointer, &body)
            .map_err(|errors| Breach(format!("{name} answered {status}: {errors}; body: {body}")))
    }

    /// The operation a request reaches, as the router chooses it: of the path templates that match,
    /// the one whose literal segments come first; then that path's method.
    fn operation<'d>(&'d self, method: &str, path: &str) -> Option<(&'d str, &'d Value)> {
        let segments: Vec<&str> = path.split('/').collect();
        let paths = self.doc["paths"].as_object()?;
        let (template, item) = paths
            .iter()
            .filter_map(|(template, item)| {
                let parts: Vec<&str> = template.split('/').collect();
                if parts.len() != segments.len() {
                    return None;
                }
                let mut rank = Vec::with_capacity(parts.len());
                for (part, segment) in parts.iter().zip(&segments) {
                    let is_param = part.starts_with('{') && part.ends_with('}');
                    if is_param {
                        if segment.is_empty() {
                            return None;
                        }
                    } else if part != segment {
                        return None;
                    }
                    rank.push(!is_param);
                }
                Some((rank, template, item))
            })
            .max_by(|a, b| a.0.cmp(&b.0))
            .map(|(_, template, item)| (template, item))?;
        item.get(method)
            .map(|operation| (template.as_str(), operation))
    }

    /// A request that reached no operation: an error, in the error shape.
    fn check_error(&self, exchange: &Exchange<'_>, path: &str) -> Result<(), Breach> {
        let name = format!("{} {path} (no operation)", exchange.method);
        let status = exchange.status;
        if status < 400 {
            return Err(Breach(format!(
                "{name} answered {status}: a request that matches no described operation must be \
                 an error"
            )));
        }
        let media = exchange.content_type.unwrap_or_default();
        if !is_json(
            &media
                .split(';')
                .next()
                .unwrap_or_default()
                .to_ascii_lowercase(),
        ) {
            return Err(Breach(format!(
                "{name} answered {status} as `{media}`, not the JSON error shape"
            )));
        }
        let body: Value = serde_json::from_slice(exchange.body).map_err(|e| {
            Breach(format!(
                "{name} answered {status} with a body that is not JSON ({e})"
            ))
        })?;
        self.validate("/components/schemas/ErrorBody", &body)
            .map_err(|errors| Breach(format!("{name} answered {status}: {errors}; body: {body}")))
    }

    /// A `$ref` to a reusable response, followed.
    fn resolve<'d>(&'d self, value: &'d Value) -> &'d Value {
        match value["$ref"].as_str().and_then(|r| r.strip_prefix('#')) {
            Some(pointer) => self.doc.pointer(pointer).unwrap_or(&Value::Null),
            None => value,
        }
    }

    /// Validates `instance` against the schema at `pointer` in the description (compiled once).
    fn validate(&self, pointer: &str, instance: &Value) -> Result<(), String> {
        let validator = self.validator(pointer)?;
        let errors: Vec<String> = validator
            .iter_errors(instance)
            .take(5)
            .map(|e| {
                let at = e.instance_path().to_string();
                format!(
                    "at `{}`: {e}",
                    if at.is_empty() { "/" } else { at.as_str() }
                )
            })
            .collect();
        if errors.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "the body does not match its schema ({pointer}): {}",
                errors.join("; ")
            ))
        }
    }

    fn validator(&self, pointer: &str) -> Result<Arc<jsonschema::Validator>, String> {
        let mut validators = self
            .validators
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(validator) = validators.get(pointer) {
            return Ok(validator.clone());
        }
        let schema = serde_json::json!({ "$ref": format!("{DOCUMENT_URI}#{pointer}") });
        let validator = jsonschema::options()
            .with_draft(jsonschema::Draft::Draft202012)
            .with_registry(&self.registry)
            .should_validate_formats(true)
            .build(&schema)
            .map_err(|e| format!("the schema at {pointer} does not compile: {e}"))?;
        let validator = Arc::new(validator);
        validators.insert(pointer.to_owned(), validator.clone());
        Ok(validator)
    }
}

/// A JSON pointer token (RFC 6901) of `key`, percent-encoded for a URI fragment.
fn escape(key: &str) -> String {
    let token = key.replace('~', "~0").replace('/', "~1");
    let mut encoded = String::with_capacity(token.len());
    for byte in token.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                encoded.push(byte as char)
            }
            _ => encoded.push_str(&format!("%{byte:02X}")),
        }
    }
    encoded
}

fn is_json(media: &str) -> bool {
    media == "application/json" || (media.starts_with("application/") && media.ends_with("+json"))
}

/// Whether a response's media type is one a description's content key (`application/json`,
/// `image/*`, `*/*`) admits.
fn media_matches(documented: &str, media: &str) -> bool {
    let documented = documented.to_ascii_lowercase();
    match documented.split_once('/') {
        Some(("*", "*")) => true,
        Some((kind, "*")) => media.split('/').next() == Some(kind),
        _ => documented == media,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A small description: one operation whose 200 is a `Student` with a required `username`.
    fn description() -> Value {
        json!({
            "openapi": "3.1.0",
            "info": {"title": "t", "version": "1"},
            "paths": {
                "/students/{id}": {"get": {
                    "operationId": "get_student",
                    "responses": {
                        "200": {"description": "ok", "content": {"application/json": {
                            "schema": {"$ref": "#/components/schemas/Student"}}}},
                        "204": {"description": "nothing"},
                        "404": {"description": "no", "content": {"application/json": {
                            "schema": {"$ref": "#/components/schemas/ErrorBody"}}}}
                    }
                }},
                "/students/me": {"put": {
                    "operationId": "update_me",
                    "responses": {"200": {"description": "ok"}}
                }}
            },
            "components": {"schemas": {
                "Student": {"type": "object", "required": ["username"], "properties": {
                    "username": {"type": "string"},
                    "joinedAt": {"type": "string", "format": "date-time"}
                }},
                "ErrorBody": {"type": "object", "required": ["error", "code", "requestId"],
                    "properties": {"error": {"type": "string"}, "code": {"type": "string"},
                                   "requestId": {"type": "string"}}}
            }}
        })
    }

    fn exchange<'a>(method: &'a str, path: &'a str, status: u16, body: &'a str) -> Exchange<'a> {
        Exchange {
            method,
            path,
            status,
            content_type: Some("application/json"),
            body: body.as_bytes(),
        }
    }

    #[test]
    fn a_response_that_matches_its_schema_passes() {
        let contract = Contract::new(description()).unwrap();
        let ok = r#"{"username": "ada", "joinedAt": "2026-01-01T00:00:00Z"}"#;
        contract
            .check(&exchange("GET", "/students/7?x=1", 200, ok))
            .unwrap();
    }

    #[test]
    fn a_body_that_breaks_its_schema_fails_naming_operation_status_and_place() {
        let contract = Contract::new(description()).unwrap();
        let breach = contract
            .check(&exchange("GET", "/students/7", 200, r#"{"name": "ada"}"#))
            .unwrap_err()
            .0;
        assert!(
            breach.contains("GET /students/{id} (get_student)"),
            "{breach}"
        );
        assert!(breach.contains("200"), "{breach}");
        assert!(breach.contains("username"), "{breach}");
        let wrong_format = r#"{"username": "ada", "joinedAt": "yesterday"}"#;
        let breach = contract
            .check(&exchange("GET", "/students/7", 200, wrong_format))
            .unwrap_err()
            .0;
        assert!(breach.contains("/joinedAt"), "{breach}");
    }

    #[test]
    fn an_undocumented_status_fails() {
        let contract = Contract::new(description()).unwrap();
        let breach = contract
            .check(&exchange("GET", "/students/7", 409, r#"{}"#))
            .unwrap_err()
            .0;
        assert!(breach.contains("409"), "{breach}");
        assert!(breach.contains("200, 204, 404"), "{breach}");
    }

    #[test]
    fn a_wrong_content_type_or_an_unexpected_body_fails() {
        let contract = Contract::new(description()).unwrap();
        let mut text = exchange("GET", "/students/7", 200, "ada");
        text.content_type = Some("text/plain");
        assert!(contract.check(&text).unwrap_err().0.contains("text/plain"));
        let body_on_204 = exchange("GET", "/students/7", 204, "{}");
        assert!(contract.check(&body_on_204).is_err());
        let empty_204 = exchange("GET", "/students/7", 204, "");
        contract.check(&empty_204).unwrap();
    }

    #[test]
    fn a_literal_segment_wins_over_a_parameter_as_in_the_router() {
        let contract = Contract::new(description()).unwrap();
        // PUT /students/me is `update_me`, documented without a body.
        contract
            .check(&exchange("PUT", "/students/me", 200, ""))
            .unwrap();
        // GET /students/me reaches the literal path, which has no GET: the router's 405, which
        // must be in the error shape.
        let error =
            r#"{"error": "method not allowed", "code": "method_not_allowed", "requestId": "r"}"#;
        contract
            .check(&exchange("GET", "/students/me", 405, error))
            .unwrap();
        let breach = contract
            .check(&exchange(
                "GET",
                "/students/me",
                200,
                r#"{"username": "ada"}"#,
            ))
            .unwrap_err()
            .0;
        assert!(breach.contains("no operation"), "{breach}");
    }

    #[test]
    fn a_request_to_no_operation_must_be_answered_in_the_error_shape() {
        let contract = Contract::new(description()).unwrap();
        let breach = contract
            .check(&exchange("GET", "/nowhere", 404, r#"{"message": "no"}"#))
            .unwrap_err()
            .0;
        assert!(breach.contains("code"), "{breach}");
    }

    #[test]
    fn dangling_references_are_found() {
        let mut doc = description();
        doc["paths"]["/students/{id}"]["get"]["responses"]["200"]["content"]["application/json"]
            ["schema"] = json!({"$ref": "#/components/schemas/Missing"});
        let dangling = dangling_refs(&doc);
        assert_eq!(dangling.len(), 1, "{dangling:?}");
        assert!(dangling[0].contains("Missing"), "{dangling:?}");
        assert!(dangling_refs(&description()).is_empty());
    }

    #[test]
    fn a_schema_name_two_types_share_is_a_collision() {
        let merged = description();
        let mut alone = description();
        alone["components"]["schemas"]["Student"] = json!({"type": "object",
            "required": ["id"], "properties": {"id": {"type": "string"}}});
        let collisions = schema_collisions(&merged, &[("GET /grades (report)".to_owned(), alone)]);
        assert_eq!(collisions.len(), 1, "{collisions:?}");
        assert!(collisions[0].contains("`Student` of GET /grades (report)"));
        assert!(schema_collisions(&merged, &[("same".to_owned(), description())]).is_empty());
    }
}
