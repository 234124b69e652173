//! One OpenAPI operation per REST binding, and the hand-written operations routes.

use prost_reflect::{FieldDescriptor, Kind, MessageDescriptor};
use serde_json::{Map, Value, json};

use super::CREATED;
use super::bindings::HttpBinding;
use super::comments::{description, summary};
use super::schema::Schemas;

/// The OpenAPI operation of `binding`, registering the schemas it uses in `schemas`.
pub(crate) fn operation(binding: &HttpBinding, id: String, schemas: &mut Schemas) -> Value {
    let rpc = &binding.rpc;
    let service = rpc.parent_service();
    let text = description(&rpc.parent_file(), rpc.path());
    let mut operation = Map::new();
    operation.insert("operationId".to_owned(), json!(id));
    operation.insert(
        "summary".to_owned(),
        json!(
            text.as_deref()
                .map_or_else(|| rpc.name().to_owned(), summary)
        ),
    );
    if let Some(text) = text {
        operation.insert("description".to_owned(), json!(text));
    }
    operation.insert("tags".to_owned(), json!([service.name()]));
    operation.insert(
        "parameters".to_owned(),
        Value::Array(parameters(binding, schemas)),
    );
    if let Some(body) = request_body(binding, schemas) {
        operation.insert("requestBody".to_owned(), body);
    }
    operation.insert("responses".to_owned(), responses(binding, schemas));
    Value::Object(operation)
}

fn parameters(binding: &HttpBinding, schemas: &mut Schemas) -> Vec<Value> {
    let input = binding.rpc.input();
    let path_params = binding.path_params();
    let mut parameters: Vec<Value> = path_params
        .iter()
        .map(|name| {
            let schema = input.get_field_by_name(name).map_or_else(
                || json!({ "type": "string" }),
                |field| schemas.field(&field),
            );
            json!({ "name": name, "in": "path", "required": true, "schema": schema })
        })
        .collect();
    if binding.body == "*" {
        return parameters;
    }
    for field in input.fields() {
        let name = field.name();
        if path_params.iter().any(|param| param == name) || name == binding.body {
            continue;
        }
        if !is_query_parameter(&field) {
            continue;
        }
        let mut parameter = json!({ "name": name, "in": "query", "schema": schemas.field(&field) });
        if field.is_list() {
            // Lists are comma-separated: `symbols=A,B,C`.
            parameter["style"] = json!("form");
            parameter["explode"] = json!(false);
        }
        parameters.push(parameter);
    }
    parameters
}

/// Whether a request field can travel in the query string: scalars, enums, timestamps and lists
/// of those (not maps or other messages).
fn is_query_parameter(field: &FieldDescriptor) -> bool {
    if field.is_map() {
        return false;
    }
    match field.kind() {
        Kind::Message(message) => message.full_name() == "google.protobuf.Timestamp",
        _ => true,
    }
}

fn request_body(binding: &HttpBinding, schemas: &mut Schemas) -> Option<Value> {
    let input = binding.rpc.input();
    let schema = match binding.body.as_str() {
        "" => return None,
        "*" => schemas.message(&input),
        field => schemas.field(&input.get_field_by_name(field)?),
    };
    Some(json!({
        "required": true,
        "content": { "application/json": { "schema": schema } }
    }))
}

fn responses(binding: &HttpBinding, schemas: &mut Schemas) -> Value {
    let rpc = &binding.rpc;
    let output = rpc.output();
    let problem = json!({ "$ref": "#/components/responses/Problem" });
    let success = if rpc.is_server_streaming() {
        json!({
            "description": format!(
                "Server-Sent Events; the data of each event is one JSON `{}`.",
                output.name()
            ),
            "content": {
                "text/event-stream": {
                    "schema": { "type": "string" },
                    "x-event-schema": schemas.message(&output)
                }
            }
        })
    } else {
        let schema = response_schema(&output, &binding.response_body, schemas);
        json!({
            "description": format!("The `{}`.", output.name()),
            "content": { "application/json": { "schema": schema } }
        })
    };
    let created = binding.method == "POST" && CREATED.contains(&rpc.name());
    let mut success = success;
    success["headers"] = json!({
        "RateLimit": { "$ref": "#/components/headers/RateLimit" },
        "RateLimit-Policy": { "$ref": "#/components/headers/RateLimit-Policy" }
    });
    let mut responses = Map::new();
    if created {
        success["description"] = json!(format!("Created: the new `{}`.", output.name()));
        success["headers"]["Location"] = json!({
            "description": "The URL of the created resource.",
            "schema": { "type": "string" }
        });
        responses.insert("201".to_owned(), success);
    } else {
        responses.insert("200".to_owned(), success);
    }
    for status in ["400", "401", "404"] {
        responses.insert(status.to_owned(), problem.clone());
    }
    responses.insert(
        "429".to_owned(),
        json!({ "$ref": "#/components/responses/RateLimited" }),
    );
    responses.insert(
        "503".to_owned(),
        json!({ "$ref": "#/components/responses/Unavailable" }),
    );
    responses.insert("default".to_owned(), problem);
    Value::Object(responses)
}

fn response_schema(output: &MessageDescriptor, field: &str, schemas: &mut Schemas) -> Value {
    match output.get_field_by_name(field) {
        Some(field) => schemas.field(&field),
        None => schemas.message(output),
    }
}

/// The operations routes, which the contract does not declare: health, metrics, this document
/// and the explorer. None needs an API key.
pub(crate) fn operations_paths() -> Vec<(&'static str, Value)> {
    let plain = |id: &str, summary: &str, media: &str| {
        json!({
            "get": {
                "operationId": id,
                "summary": summary,
                "tags": ["Operations"],
                "security": [],
                "responses": {
                    "200": {
                        "description": "OK",
                        "content": { media: { "schema": { "type": "string" } } }
                    }
                }
            }
        })
    };
    let mut openapi = plain(
        "Operations.OpenApi",
        "This OpenAPI 3.1 document",
        "application/json",
    );
    openapi["get"]["responses"]["200"]["content"]["application/json"]["schema"] =
        json!({ "type": "object" });
    let mut ready = plain(
        "Operations.Ready",
        "Readiness: every backend pool answers its health check",
        "application/json",
    );
    ready["get"]["responses"]["503"] =
        json!({ "description": "Not ready: a backend pool failed its health check." });
    vec![
        (
            "/health/live",
            plain(
                "Operations.Live",
                "Liveness: the process answers",
                "text/plain",
            ),
        ),
        ("/health/ready", ready),
        (
            "/health/startup",
            plain(
                "Operations.Startup",
                "Startup: the gateway has started",
                "text/plain",
            ),
        ),
        (
            "/metrics",
            plain("Operations.Metrics", "Prometheus metrics", "text/plain"),
        ),
        ("/openapi.json", openapi),
        (
            "/docs",
            plain("Operations.Docs", "The API explorer (Redoc)", "text/html"),
        ),
    ]
}
