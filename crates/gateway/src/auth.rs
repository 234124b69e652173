//! Authentication: the API key decides the caller's account and tier.
//!
//! Keys come in `Authorization: Bearer KEY` or `X-API-Key: KEY`. The `X-User-Tier` header is
//! honoured only with `--trust-tier-header`, so no caller can promote itself to premium.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use bourse_runtime::tier::Tier;
use tonic::Code;

use crate::GatewayState;
use crate::problem::Problem;

/// The header that tells a client which tier served it.
pub const TIER_HEADER: &str = "x-bourse-tier";
/// The tier override header of the seed documents, trusted only behind a proxy that sets it.
pub const USER_TIER_HEADER: &str = "x-user-tier";

fn presented_key(headers: &HeaderMap) -> Option<&str> {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "));
    bearer
        .or_else(|| {
            headers
                .get("x-api-key")
                .and_then(|value| value.to_str().ok())
        })
        .map(str::trim)
        .filter(|key| !key.is_empty())
}

/// Resolves the caller, stores it as a request extension and labels the response with its tier.
pub async fn authenticate(
    State(state): State<Arc<GatewayState>>,
    mut request: Request,
    next: Next,
) -> Response {
    let Some(key) = presented_key(request.headers()) else {
        return Problem::new(
            Code::Unauthenticated,
            "missing API key: send Authorization: Bearer KEY or X-API-Key: KEY",
        )
        .into_response();
    };
    let mut caller = match state.keys.lookup(key).await {
        Ok(Some(caller)) => caller,
        Ok(None) => {
            return Problem::new(Code::Unauthenticated, "unknown or revoked API key")
                .into_response();
        }
        Err(error) => {
            tracing::error!(error = %error, "API key lookup failed");
            return Problem::new(
                Code::Unavailable,
                "cannot verify API keys right now, retry later",
            )
            .into_response();
        }
    };
    if state.trust_tier_header {
        let claimed = request
            .headers()
            .get(USER_TIER_HEADER)
            .and_then(|v| v.to_str().ok());
        if let Some(tier) = claimed.and_then(|v| v.parse::<Tier>().ok()) {
            caller.tier = tier;
        }
    }
    let tier = caller.tier;
    request.extensions_mut().insert(caller);
    let mut response = next.run(request).await;
    response
        .headers_mut()
        .insert(TIER_HEADER, HeaderValue::from_static(tier.as_str()));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_bearer_and_api_key_headers() {
        let mut headers = HeaderMap::new();
        assert_eq!(presented_key(&headers), None);
        headers.insert("x-api-key", HeaderValue::from_static("bk_two"));
        assert_eq!(presented_key(&headers), Some("bk_two"));
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer bk_one"),
        );
        assert_eq!(presented_key(&headers), Some("bk_one"));
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Basic Zm9vOmJhcg=="),
        );
        assert_eq!(presented_key(&headers), Some("bk_two"));
    }
}
