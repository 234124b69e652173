//! `GET /docs`: the API explorer (Redoc), its script vendored into the binary so the page works
//! without reaching any CDN. See `assets/README.md` for the origin and licence of the bundle.

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;

use crate::openapi::OPENAPI_PATH;

/// The version of the vendored Redoc bundle; part of its URL, so the URL can be cached forever.
pub const REDOC_VERSION: &str = "2.5.4";

/// Where the explorer's script is served.
pub const REDOC_SCRIPT_PATH: &str = "/docs/redoc-2.5.4.standalone.js";

/// Redoc's standalone bundle (MIT).
static REDOC_SCRIPT: &[u8] = include_bytes!("../assets/redoc.standalone.js");

/// The explorer's page: Redoc rendering the gateway's own OpenAPI document.
fn page() -> String {
    format!(
        r#"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Bourse REST API</title>
</head>
<body>
<redoc spec-url="{OPENAPI_PATH}"></redoc>
<script src="{REDOC_SCRIPT_PATH}"></script>
</body>
</html>
"#
    )
}

/// `GET /docs` and its script; no API key needed.
pub fn router() -> Router {
    Router::new()
        .route("/docs", get(|| async { Html(page()) }))
        .route(REDOC_SCRIPT_PATH, get(script))
}

async fn script() -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/javascript; charset=utf-8"),
            ),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=31536000, immutable"),
            ),
        ],
        REDOC_SCRIPT,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_loads_the_vendored_script_and_the_document() {
        let page = page();
        assert!(page.contains(r#"<script src="/docs/redoc-2.5.4.standalone.js">"#));
        assert!(page.contains(r#"spec-url="/openapi.json""#));
        assert!(!page.contains("http"), "nothing is fetched from elsewhere");
        assert!(REDOC_SCRIPT_PATH.contains(REDOC_VERSION));
        assert!(REDOC_SCRIPT.len() > 100_000, "the bundle is vendored");
    }
}
