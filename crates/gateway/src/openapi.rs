//! The OpenAPI 3.1 document of the REST API, generated at start-up from the contract itself:
//! every `google.api.http` binding in `bourse_proto::FILE_DESCRIPTOR_SET` becomes an operation,
//! and every message it uses a component schema (see [`schema`]). Nothing is written twice, so
//! the document cannot drift from the routes the contract declares.

mod bindings;
mod comments;
mod operations;
mod schema;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use prost_reflect::{DescriptorError, DescriptorPool};
use serde_json::{Map, Value, json};
use tonic::Code;

pub use bindings::{HttpBinding, contract, http_bindings};

use crate::problem::Problem;
use comments::description;
use schema::Schemas;

/// The route the document is served on.
pub const OPENAPI_PATH: &str = "/openapi.json";

/// The RPCs that create a resource: their POST answers 201 with a `Location` header.
pub const CREATED: &[&str] = &["CreatePortfolio", "PlaceOrder", "IngestNews"];

/// The OpenAPI document of the contract compiled into this binary.
pub fn document() -> Result<Value, DescriptorError> {
    Ok(document_for(&contract()?))
}

/// The OpenAPI document of the REST bindings in `pool`.
pub fn document_for(pool: &DescriptorPool) -> Value {
    let mut schemas = Schemas::default();
    schemas.insert("Problem", problem_schema());
    let mut paths = Map::new();
    let mut seen = std::collections::HashSet::new();
    for binding in http_bindings(pool) {
        let mut id = binding.operation_id();
        if !seen.insert(id.clone()) {
            id = format!("{id}.{}", binding.method.to_ascii_lowercase());
        }
        let operation = operations::operation(&binding, id, &mut schemas);
        let item = paths
            .entry(binding.openapi_path())
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(item) = item {
            item.insert(binding.method.to_ascii_lowercase(), operation);
        }
    }
    for (path, item) in operations::operations_paths() {
        paths.insert(path.to_owned(), item);
    }
    let tags: Vec<Value> = pool
        .services()
        .filter(|service| service.package_name().starts_with("bourse."))
        .map(|service| {
            let text = description(&service.parent_file(), service.path()).unwrap_or_default();
            json!({ "name": service.name(), "description": text })
        })
        .chain([
            json!({ "name": "Operations", "description": "Health, metrics and this document." }),
        ])
        .collect();
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Bourse REST API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Market data, portfolios, risk and sentiment over REST/JSON. Generated \
                from the gRPC contract's google.api.http options. JSON uses the proto3 mapping \
                with proto field names: 64-bit integers are strings, enums their value names, \
                timestamps RFC 3339 UTC. Every error is application/problem+json (RFC 9457). \
                Any JSON response accepts `fields=a,b` to keep only those top-level fields \
                (and those fields of each item of a top-level list)."
        },
        "tags": tags,
        "paths": paths,
        "components": {
            "schemas": schemas.into_components(),
            "responses": {
                "Problem": {
                    "description": "An error, as RFC 9457 problem details.",
                    "content": {
                        "application/problem+json": {
                            "schema": { "$ref": "#/components/schemas/Problem" }
                        }
                    }
                },
                "RateLimited": {
                    "description": "Over the API key's rate limit: retry after `Retry-After` seconds.",
                    "headers": {
                        "Retry-After": { "$ref": "#/components/headers/Retry-After" },
                        "RateLimit": { "$ref": "#/components/headers/RateLimit" },
                        "RateLimit-Policy": { "$ref": "#/components/headers/RateLimit-Policy" }
                    },
                    "content": {
                        "application/problem+json": {
                            "schema": { "$ref": "#/components/schemas/Problem" }
                        }
                    }
                },
                "Unavailable": {
                    "description": "The gateway shed the request (shared traffic first) or no \
                        backend could answer: retry after `Retry-After` seconds when given.",
                    "headers": {
                        "Retry-After": { "$ref": "#/components/headers/Retry-After" }
                    },
                    "content": {
                        "application/problem+json": {
                            "schema": { "$ref": "#/components/schemas/Problem" }
                        }
                    }
                }
            },
            "headers": {
                "RateLimit": {
                    "description": "The key's remaining quota (IETF draft-ietf-httpapi-ratelimit-headers): \
                        `\"<tier>\";r=<requests left now>;t=<seconds until the whole burst is back>`.",
                    "schema": { "type": "string" }
                },
                "RateLimit-Policy": {
                    "description": "The key's quota policy: `\"<tier>\";q=<burst>;w=<seconds an empty \
                        burst takes to refill>`, so q/w is the sustained rate per second.",
                    "schema": { "type": "string" }
                },
                "Retry-After": {
                    "description": "Seconds to wait before retrying.",
                    "schema": { "type": "integer", "minimum": 1 }
                }
            },
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "An API key: `Authorization: Bearer KEY`."
                },
                "apiKey": { "type": "apiKey", "in": "header", "name": "X-API-Key" }
            }
        },
        "security": [{ "bearer": [] }, { "apiKey": [] }]
    })
}

/// The schema of [`Problem`] bodies.
fn problem_schema() -> Value {
    json!({
        "type": "object",
        "description": "RFC 9457 problem details with the gRPC code name and the trace id.",
        "required": ["type", "title", "status", "detail", "code", "trace_id"],
        "properties": {
            "type": { "type": "string", "format": "uri-reference" },
            "title": { "type": "string" },
            "status": { "type": "integer", "minimum": 400, "maximum": 599 },
            "detail": { "type": "string" },
            "code": { "type": "string", "description": "The gRPC status code name, e.g. NOT_FOUND." },
            "trace_id": { "type": "string", "description": "The W3C trace id; empty when untraced." },
            "errors": {
                "type": "array",
                "description": "Validation failures, one per offending field.",
                "items": {
                    "type": "object",
                    "required": ["field", "reason"],
                    "properties": {
                        "field": { "type": "string" },
                        "reason": { "type": "string" }
                    }
                }
            }
        }
    })
}

/// `GET /openapi.json`, built once here and served from memory; no API key needed.
pub fn router() -> Router {
    let body = match document().map(|document| serde_json::to_vec(&document)) {
        Ok(Ok(bytes)) => Some(Bytes::from(bytes)),
        Ok(Err(error)) => {
            tracing::error!(%error, "serializing the OpenAPI document");
            None
        }
        Err(error) => {
            tracing::error!(%error, "decoding the contract for the OpenAPI document");
            None
        }
    };
    Router::new()
        .route(OPENAPI_PATH, get(serve))
        .with_state(body)
}

async fn serve(State(body): State<Option<Bytes>>) -> Response {
    match body {
        Some(body) => (
            [
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                ),
                (
                    header::CACHE_CONTROL,
                    HeaderValue::from_static("public, max-age=300"),
                ),
            ],
            body,
        )
            .into_response(),
        None => Problem::new(Code::Internal, "the API description is unavailable").into_response(),
    }
}

#[cfg(test)]
mod tests;
