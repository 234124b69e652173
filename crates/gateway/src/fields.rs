//! `fields=`: partial responses. The middleware removes the `fields` query parameter before the
//! request is routed (so no handler's query parameters ever see it) and narrows successful JSON
//! responses to the selected fields. `fields` is a comma-separated list of names; it may repeat.
//!
//! The rule, for a response whose body is a JSON object:
//! - a name that is a top-level field of the response (`fields=symbol,last` on a quote) keeps that
//!   field whole;
//! - every other plain name selects that field of each item of the response's top-level lists
//!   (`fields=symbol,last` on `GET /v1/quotes?symbols=...` keeps `symbol` and `last` of every
//!   quote), and a dotted name `list.name` does the same within `list` only
//!   (`fields=portfolios.id,next_page_token`); a dotted name on a top-level object narrows that
//!   object;
//! - a top-level list is kept when some item has a selected field (or it is empty and there are
//!   item selectors), or when it is named itself (`fields=quotes` keeps it whole);
//! - names that match nothing are ignored: selecting only unknown names answers `{}`.
//!
//! Errors (`application/problem+json`), non-JSON bodies (CSV, SSE) and non-2xx answers are never
//! narrowed. An empty `fields=` selects everything.

use axum::body::{Body, to_bytes};
use axum::extract::Request;
use axum::http::uri::PathAndQuery;
use axum::http::{HeaderValue, Uri, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};
use tonic::Code;

use crate::problem::Problem;

/// The query parameter that selects fields.
pub const FIELDS_PARAM: &str = "fields";

/// The largest response the middleware narrows; JSON responses are far smaller in practice.
const MAX_NARROWED_BYTES: usize = 64 << 20;

/// The fields a request selected.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selection {
    /// Names without a dot: a top-level field, or a field of each list item.
    plain: Vec<String>,
    /// `list.name` paths: a field of each item of one top-level list (or of one object).
    dotted: Vec<(String, String)>,
}

impl Selection {
    /// Parses `fields` values; `None` when they select nothing (absent or empty).
    pub fn parse<'a>(values: impl IntoIterator<Item = &'a str>) -> Option<Self> {
        let mut selection = Self::default();
        for name in values
            .into_iter()
            .flat_map(|value| value.split(','))
            .map(str::trim)
            .filter(|name| !name.is_empty())
        {
            match name.split_once('.') {
                Some((list, field)) => selection.dotted.push((list.to_owned(), field.to_owned())),
                None => selection.plain.push(name.to_owned()),
            }
        }
        (!selection.plain.is_empty() || !selection.dotted.is_empty()).then_some(selection)
    }

    /// Narrows a response body by the module's rule.
    pub fn apply(&self, body: Value) -> Value {
        match body {
            Value::Object(object) => Value::Object(self.narrow(object)),
            other => other,
        }
    }

    fn narrow(&self, object: Map<String, Value>) -> Map<String, Value> {
        let item_level: Vec<&str> = self
            .plain
            .iter()
            .map(String::as_str)
            .filter(|name| !object.contains_key(*name))
            .collect();
        object
            .into_iter()
            .filter_map(|(key, value)| {
                let whole = self.plain.contains(&key);
                let mut names: Vec<&str> = self
                    .dotted
                    .iter()
                    .filter(|(list, _)| *list == key)
                    .map(|(_, field)| field.as_str())
                    .collect();
                let kept = match value {
                    Value::Array(items) if items.iter().all(Value::is_object) => {
                        names.extend(&item_level);
                        let hit = (items.is_empty() && !names.is_empty())
                            || items
                                .iter()
                                .any(|item| names.iter().any(|name| item.get(*name).is_some()));
                        if hit {
                            Some(Value::Array(
                                items.into_iter().map(|item| keep(item, &names)).collect(),
                            ))
                        } else {
                            whole.then_some(Value::Array(items))
                        }
                    }
                    Value::Object(_) if !names.is_empty() => Some(keep(value, &names)),
                    other => whole.then_some(other),
                };
                kept.map(|value| (key, value))
            })
            .collect()
    }
}

/// `value` (an object) with only the fields in `names`.
fn keep(value: Value, names: &[&str]) -> Value {
    match value {
        Value::Object(object) => Value::Object(
            object
                .into_iter()
                .filter(|(key, _)| names.contains(&key.as_str()))
                .collect(),
        ),
        other => other,
    }
}

/// Strips `fields` from the request and narrows the response it selects.
pub async fn select_fields(mut request: Request, next: Next) -> Response {
    let selection = take_fields(&mut request);
    let response = next.run(request).await;
    match selection {
        Some(selection) => narrow_response(response, &selection).await,
        None => response,
    }
}

/// Removes every `fields` parameter from the request's URI and parses their values.
fn take_fields(request: &mut Request) -> Option<Selection> {
    let query = request.uri().query()?;
    if !query
        .split('&')
        .any(|pair| pair.split('=').next() == Some(FIELDS_PARAM))
    {
        return None;
    }
    let (fields, rest): (Vec<&str>, Vec<&str>) = query
        .split('&')
        .partition(|pair| pair.split('=').next() == Some(FIELDS_PARAM));
    let values: Vec<String> = fields
        .iter()
        .map(|pair| percent_decode(pair.split_once('=').map_or("", |(_, value)| value)))
        .collect();
    let rest: Vec<&str> = rest.into_iter().filter(|pair| !pair.is_empty()).collect();
    let path_and_query = if rest.is_empty() {
        request.uri().path().to_owned()
    } else {
        format!("{}?{}", request.uri().path(), rest.join("&"))
    };
    let mut parts = request.uri().clone().into_parts();
    if let Ok(path_and_query) = PathAndQuery::try_from(path_and_query) {
        parts.path_and_query = Some(path_and_query);
        if let Ok(uri) = Uri::from_parts(parts) {
            *request.uri_mut() = uri;
        }
    }
    Selection::parse(values.iter().map(String::as_str))
}

/// Decodes `%XX` escapes and `+` of a query value; malformed escapes stay as they are.
fn percent_decode(value: &str) -> String {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while let Some(&byte) = bytes.get(index) {
        let escaped = (byte == b'%')
            .then(|| bytes.get(index + 1..index + 3))
            .flatten()
            .and_then(|hex| std::str::from_utf8(hex).ok())
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match (byte, escaped) {
            (_, Some(decoded)) => {
                out.push(decoded);
                index += 3;
            }
            (b'+', None) => {
                out.push(b' ');
                index += 1;
            }
            (other, None) => {
                out.push(other);
                index += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Narrows a 2xx `application/json` response; anything else passes through untouched.
async fn narrow_response(response: Response, selection: &Selection) -> Response {
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("application/json"));
    if !response.status().is_success() || !is_json {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let bytes = match to_bytes(body, MAX_NARROWED_BYTES).await {
        Ok(bytes) => bytes,
        Err(error) => {
            tracing::error!(%error, "reading a response to narrow it");
            return Problem::new(Code::Internal, "the response could not be narrowed")
                .into_response();
        }
    };
    let narrowed = serde_json::from_slice::<Value>(&bytes)
        .ok()
        .map(|value| selection.apply(value))
        .and_then(|value| serde_json::to_vec(&value).ok());
    let Some(narrowed) = narrowed else {
        return Response::from_parts(parts, Body::from(bytes));
    };
    parts.headers.remove(header::CONTENT_LENGTH);
    if let Ok(length) = HeaderValue::try_from(narrowed.len().to_string()) {
        parts.headers.insert(header::CONTENT_LENGTH, length);
    }
    Response::from_parts(parts, Body::from(narrowed))
}

#[cfg(test)]
mod tests;
