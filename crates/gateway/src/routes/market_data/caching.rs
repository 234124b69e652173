//! HTTP caching of market-data responses: `Cache-Control` per data class and strong `ETag`s
//! answered with `304 Not Modified` when the client already holds the representation.

use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use sha2::{Digest, Sha256};
use tonic::Code;

use crate::observe::BackendTime;
use crate::problem::Problem;

/// `Cache-Control` of quotes: they change with every tick, so a client may reuse one for a second.
pub const QUOTES: &str = "private, max-age=1";
/// `Cache-Control` of bars: history changes only as the current bar fills.
pub const BARS: &str = "private, max-age=60";
/// `Cache-Control` of instruments: reference data that changes rarely.
pub const INSTRUMENTS: &str = "private, max-age=3600";
/// `Cache-Control` of the quote stream: never stored.
pub const STREAM: &str = "no-store";

/// Hex digits of the SHA-256 of the body kept in an `ETag`: 128 bits, plenty to tell versions of
/// one resource apart.
const ETAG_HEX_DIGITS: usize = 32;

/// A 200 JSON response with `cache_control`; with `validate`, also a strong `ETag` (a hash of the
/// body), and a bodiless 304 when `request` says it already holds that tag in `If-None-Match`.
pub fn json_response<T: Serialize>(
    body: &T,
    backend: Duration,
    cache_control: &'static str,
    validate: Option<&HeaderMap>,
) -> Result<Response, Problem> {
    let bytes = serde_json::to_vec(body).map_err(|error| {
        tracing::error!(%error, "serialising a response");
        Problem::new(Code::Internal, "the response could not be encoded")
    })?;
    let mut response = match validate {
        None => json_body(bytes),
        Some(request) => {
            let tag = etag(&bytes);
            let mut response = if holds(request, &tag) {
                StatusCode::NOT_MODIFIED.into_response()
            } else {
                json_body(bytes)
            };
            response.headers_mut().insert(header::ETAG, tag);
            response
        }
    };
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(cache_control),
    );
    response.extensions_mut().insert(BackendTime(backend));
    Ok(response)
}

fn json_body(bytes: Vec<u8>) -> Response {
    let mut response = Response::new(Body::from(bytes));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// The strong entity tag of a body: its SHA-256, truncated, in quotes.
pub fn etag(body: &[u8]) -> HeaderValue {
    let digest = hex::encode(Sha256::digest(body));
    let tag = format!("\"{}\"", digest.get(..ETAG_HEX_DIGITS).unwrap_or(&digest));
    HeaderValue::from_str(&tag).unwrap_or_else(|_| HeaderValue::from_static("\"\""))
}

/// Whether `If-None-Match` lists `tag` (or is `*`). RFC 9110 §13.1.2 compares weakly, so a
/// `W/` prefix sent back by an intermediary still matches.
fn holds(request: &HeaderMap, tag: &HeaderValue) -> bool {
    let Ok(tag) = tag.to_str() else {
        return false;
    };
    request
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .any(|candidate| candidate == "*" || candidate.trim_start_matches("W/") == tag)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn if_none_match(value: &'static str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::IF_NONE_MATCH, HeaderValue::from_static(value));
        headers
    }

    #[test]
    fn the_tag_is_a_quoted_truncated_sha256() {
        // SHA-256("{}") = 44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a
        assert_eq!(etag(b"{}"), "\"44136fa355b3678a1146ad16f7e8649e\"");
    }

    #[test]
    fn if_none_match_matches_listed_weak_and_wildcard_tags() {
        let tag = HeaderValue::from_static("\"abc\"");
        assert!(holds(&if_none_match("\"x\", \"abc\""), &tag));
        assert!(holds(&if_none_match("W/\"abc\""), &tag));
        assert!(holds(&if_none_match("*"), &tag));
        assert!(!holds(&if_none_match("\"abcd\""), &tag));
        assert!(!holds(&HeaderMap::new(), &tag));
    }
}
