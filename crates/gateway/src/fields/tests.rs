//! The selection rule on representative bodies, and the middleware around a router.

use axum::Router;
use axum::extract::RawQuery;
use axum::http::StatusCode;
use axum::middleware::from_fn;
use axum::routing::get;
use serde_json::json;
use tower::ServiceExt as _;

use super::*;

fn select(fields: &str, body: Value) -> Value {
    Selection::parse([fields]).expect("a selection").apply(body)
}

fn quote() -> Value {
    json!({ "symbol": "AAPL", "last": 125.674, "ts": "2022-12-28T21:00:00Z", "bid": null })
}

#[test]
fn top_level_names_keep_those_fields() {
    assert_eq!(
        select("symbol,last", quote()),
        json!({ "symbol": "AAPL", "last": 125.674 })
    );
}

#[test]
fn other_names_select_fields_of_each_list_item() {
    let list = json!({ "quotes": [quote(), quote()], "next_page_token": "abc" });
    assert_eq!(
        select("symbol", list.clone()),
        json!({ "quotes": [{ "symbol": "AAPL" }, { "symbol": "AAPL" }] })
    );
    assert_eq!(
        select("quotes.last,next_page_token", list.clone()),
        json!({ "quotes": [{ "last": 125.674 }, { "last": 125.674 }], "next_page_token": "abc" })
    );
    assert_eq!(
        select("quotes", list.clone()),
        json!({ "quotes": [quote(), quote()] }),
        "a named list stays whole"
    );
    assert_eq!(
        select("symbol", json!({ "quotes": [], "next_page_token": "" })),
        json!({ "quotes": [] }),
        "an empty list is kept when items are selected"
    );
}

#[test]
fn unknown_names_are_ignored() {
    assert_eq!(select("nope", quote()), json!({}));
    assert_eq!(select("symbol,nope", quote()), json!({ "symbol": "AAPL" }));
    assert!(Selection::parse([""]).is_none());
    assert!(Selection::parse([" , "]).is_none());
}

#[test]
fn query_values_are_percent_decoded() {
    assert_eq!(percent_decode("symbol%2Clast"), "symbol,last");
    assert_eq!(percent_decode("a+b%zz"), "a b%zz");
}

fn app() -> Router {
    Router::new()
        .route(
            "/quote",
            get(|RawQuery(query): RawQuery| async move {
                axum::Json(json!({ "symbol": "AAPL", "last": 1.5, "query": query }))
            }),
        )
        .route(
            "/missing",
            get(|| async { Problem::new(Code::NotFound, "no such quote") }),
        )
        .layer(from_fn(select_fields))
}

async fn call(uri: &str) -> (StatusCode, Value) {
    let request = Request::get(uri).body(Body::empty()).expect("request");
    let response = app().oneshot(request).await.expect("response");
    let status = response.status();
    let bytes = to_bytes(response.into_body(), 1 << 20).await.expect("body");
    (status, serde_json::from_slice(&bytes).expect("JSON"))
}

#[tokio::test]
async fn the_handler_never_sees_fields_and_the_response_is_narrowed() {
    let (status, body) = call("/quote?a=1&fields=symbol,query&b=2").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!({ "symbol": "AAPL", "query": "a=1&b=2" }));
    let (_, body) = call("/quote?fields=query").await;
    assert_eq!(body, json!({ "query": null }), "no query string is left");
}

#[tokio::test]
async fn errors_are_not_narrowed() {
    let (status, body) = call("/missing?fields=symbol").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["code"], "NOT_FOUND");
    assert_eq!(body["detail"], "no such quote");
}
