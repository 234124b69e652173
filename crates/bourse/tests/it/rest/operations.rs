//! The operations routes and the gateway's cross-cutting HTTP behaviour: the OpenAPI document and
//! the explorer, startup health, compression, `fields=`, the gateway's own problems, and the check
//! that every `google.api.http` binding of the contract is served.

use bourse_gateway::openapi::{contract, http_bindings};
use reqwest::header::{
    ACCEPT_ENCODING, ALLOW, CACHE_CONTROL, CONNECTION, CONTENT_ENCODING, CONTENT_TYPE, HeaderMap,
};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::{Rest, problem, send};

/// `path` with every `{param}` replaced by `x`.
fn concrete(path: &str) -> String {
    let mut out = String::new();
    let mut rest = path;
    while let Some((before, after)) = rest.split_once('{') {
        out.push_str(before);
        out.push('x');
        rest = after.split_once('}').map_or("", |(_, tail)| tail);
    }
    out.push_str(rest);
    out
}

fn header(headers: &HeaderMap, name: impl reqwest::header::AsHeaderName) -> &str {
    headers
        .get(name)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread")]
async fn every_google_api_http_binding_is_served() {
    let rest = Rest::start().await;
    let pool = contract().expect("the contract decodes");
    let bindings = http_bindings(&pool);
    assert!(bindings.len() >= 25, "{} bindings", bindings.len());
    let mut unserved = Vec::new();
    for binding in &bindings {
        let method = Method::from_bytes(binding.method.as_bytes()).expect("an HTTP method");
        let path = concrete(&binding.path);
        let mut request = rest
            .http
            .request(method, rest.url(&path))
            .bearer_auth(&rest.shared_key);
        if !binding.body.is_empty() {
            request = request.json(&json!({}));
        }
        // Only the status and the problem body matter; a stream is dropped after its headers.
        let response = request.send().await.expect("a response");
        let status = response.status();
        let not_routed = match status {
            StatusCode::METHOD_NOT_ALLOWED => true,
            StatusCode::NOT_FOUND => {
                let body: Value = response.json().await.unwrap_or_default();
                body["detail"] == "no such route"
            }
            _ => false,
        };
        if not_routed {
            unserved.push(format!(
                "{} {} ({}.{}) -> {status}",
                binding.method,
                binding.path,
                binding.rpc.parent_service().name(),
                binding.rpc.name()
            ));
        }
    }
    assert!(
        unserved.is_empty(),
        "{} of {} google.api.http bindings have no REST route:\n{}",
        unserved.len(),
        bindings.len(),
        unserved.join("\n")
    );
    rest.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn operations_routes_serve_the_document_the_explorer_and_startup() {
    let rest = Rest::start().await;

    // No API key for any of them.
    let response = rest
        .http
        .get(rest.url("/openapi.json"))
        .send()
        .await
        .expect("response");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(header(response.headers(), CONTENT_TYPE), "application/json");
    let document: Value = response.json().await.expect("JSON");
    assert_eq!(document["openapi"], "3.1.0");
    let pool = contract().expect("the contract decodes");
    for binding in http_bindings(&pool) {
        let operation =
            &document["paths"][binding.openapi_path()][binding.method.to_ascii_lowercase()];
        assert!(
            operation.is_object(),
            "{} {} is documented",
            binding.method,
            binding.path
        );
    }
    assert!(document["paths"]["/health/startup"]["get"].is_object());

    let response = rest
        .http
        .get(rest.url("/docs"))
        .send()
        .await
        .expect("response");
    assert_eq!(response.status(), StatusCode::OK);
    assert!(header(response.headers(), CONTENT_TYPE).starts_with("text/html"));
    let page = response.text().await.expect("text");
    let script = page
        .split("<script src=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the page loads a script")
        .to_owned();
    assert!(
        script.starts_with("/docs/"),
        "served by the gateway, not a CDN: {script}"
    );
    assert!(page.contains("/openapi.json"));
    let response = rest
        .http
        .get(rest.url(&script))
        .send()
        .await
        .expect("response");
    assert_eq!(response.status(), StatusCode::OK);
    assert!(header(response.headers(), CACHE_CONTROL).contains("max-age=31536000"));
    assert!(header(response.headers(), CONTENT_TYPE).starts_with("text/javascript"));
    let bundle = response.bytes().await.expect("bytes");
    assert!(bundle.len() > 100_000, "{} bytes", bundle.len());

    let response = rest
        .http
        .get(rest.url("/health/startup"))
        .send()
        .await
        .expect("response");
    assert_eq!(response.status(), StatusCode::OK);
    rest.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn http_behaviour_compression_fields_and_gateway_problems() {
    let rest = Rest::start().await;

    // Compression: only when accepted, only over 1 KB.
    let response = rest
        .get("/v1/instruments?page_size=50")
        .header(ACCEPT_ENCODING, "gzip")
        .send()
        .await
        .expect("response");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(header(response.headers(), CONTENT_ENCODING), "gzip");
    let compressed = response.bytes().await.expect("bytes");
    assert_eq!(
        compressed.get(..2),
        Some(&[0x1f, 0x8b][..]),
        "a gzip stream"
    );
    let response = rest
        .get("/v1/instruments?page_size=50")
        .send()
        .await
        .expect("response");
    assert!(response.headers().get(CONTENT_ENCODING).is_none());
    let plain = response.bytes().await.expect("bytes");
    assert!(
        plain.len() > compressed.len(),
        "{} vs {}",
        plain.len(),
        compressed.len()
    );
    let response = rest
        .get("/v1/quotes/AAPL?fields=symbol")
        .header(ACCEPT_ENCODING, "gzip, br, zstd")
        .send()
        .await
        .expect("response");
    assert!(
        response.headers().get(CONTENT_ENCODING).is_none(),
        "a body under 1 KB is sent as is"
    );
    let response = rest
        .get("/v1/instruments?page_size=50")
        .header(ACCEPT_ENCODING, "br")
        .send()
        .await
        .expect("response");
    assert_eq!(header(response.headers(), CONTENT_ENCODING), "br");

    // Server-Sent Events are never compressed: each event must reach the client when sent.
    let response = rest
        .get("/v1/stream/quotes?symbols=AAPL")
        .header(ACCEPT_ENCODING, "gzip, br, zstd")
        .send()
        .await
        .expect("response");
    assert_eq!(response.status(), StatusCode::OK);
    assert!(header(response.headers(), CONTENT_TYPE).starts_with("text/event-stream"));
    assert!(response.headers().get(CONTENT_ENCODING).is_none());
    drop(response);

    // fields=: top-level fields of a resource, and fields of each list item.
    let (status, quote) = send(rest.get("/v1/quotes/AAPL?fields=symbol,last")).await;
    assert_eq!(status, StatusCode::OK, "{quote}");
    assert_eq!(quote, json!({ "symbol": "AAPL", "last": 125.674 }));
    let (status, list) = send(rest.get("/v1/instruments?page_size=3&fields=symbol")).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    let items = list["instruments"].as_array().expect("the list is kept");
    assert_eq!(items.len(), 3);
    assert!(
        items
            .iter()
            .all(|item| item.as_object().is_some_and(|item| {
                item.len() == 1 && item.get("symbol").is_some_and(Value::is_string)
            })),
        "{list}"
    );
    assert_eq!(
        list.as_object().map(|object| object.len()),
        Some(1),
        "{list}"
    );
    let (status, page) =
        send(rest.get("/v1/instruments?page_size=2&fields=instruments.name,next_page_token")).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page["next_page_token"].is_string(), "{page}");
    assert!(page["instruments"][0]["name"].is_string(), "{page}");
    assert!(page["instruments"][0].get("symbol").is_none(), "{page}");

    // The gateway's own problems.
    let response = rest
        .post("/v1/quotes:batchGet")
        .header(CONTENT_TYPE, "application/json")
        .body(vec![b' '; 2 << 20])
        .send()
        .await
        .expect("response");
    assert_eq!(
        header(response.headers(), CONNECTION),
        "close",
        "the unread body leaves the connection unusable"
    );
    let body = problem(response, 413).await;
    assert_eq!(body["code"], "RESOURCE_EXHAUSTED", "{body}");

    let response = rest
        .delete("/v1/quotes/AAPL")
        .send()
        .await
        .expect("response");
    let allow = header(response.headers(), ALLOW).to_owned();
    assert!(allow.contains("GET"), "Allow: {allow}");
    let body = problem(response, 405).await;
    assert_eq!(body["code"], "UNIMPLEMENTED", "{body}");
    assert!(body["trace_id"].is_string(), "{body}");

    let response = rest.get("/v1/nowhere").send().await.expect("response");
    let body = problem(response, 404).await;
    assert_eq!(body["detail"], "no such route");

    // A validation failure names its field.
    let response = rest
        .get("/v1/instruments?page_token=not-a-token")
        .send()
        .await
        .expect("response");
    let body = problem(response, 400).await;
    assert_eq!(body["code"], "INVALID_ARGUMENT", "{body}");
    assert_eq!(body["errors"][0]["field"], "page_token", "{body}");
    assert!(
        body["errors"][0]["reason"]
            .as_str()
            .is_some_and(|r| !r.is_empty()),
        "{body}"
    );

    // An unknown query parameter is refused by name on every route, with or without a body.
    for request in [
        rest.get("/v1/quotes/AAPL?bogus=1"),
        rest.get("/v1/instruments/AAPL?bogus=1"),
        rest.post("/v1/sentiment:score?bogus=1")
            .json(&serde_json::json!({"text": "up"})),
        rest.post("/v1/risk:analyze?bogus=1")
            .json(&serde_json::json!({})),
    ] {
        let response = request.send().await.expect("response");
        let body = problem(response, 400).await;
        assert!(
            body["detail"].as_str().is_some_and(|d| d.contains("bogus")),
            "{body}"
        );
    }
    rest.stop().await;
}
