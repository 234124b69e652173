//! The risk and sentiment routes end to end: ad-hoc analyses equal the numpy reference, batches
//! answer per item, query parameters reach the service as the proto's `optional` fields, and
//! news ingested over REST is listed and counted in its symbol's sentiment.

use reqwest::StatusCode;
use reqwest::header::LOCATION;
use serde_json::{Value, json};

use super::{Rest, problem, send};

/// The 20 stocks of the vendored data set.
const STOCKS: [&str; 20] = [
    "AAPL", "AMD", "BAC", "BBY", "CVX", "GE", "HD", "JNJ", "JPM", "KO", "LLY", "MRK", "MSFT",
    "PEP", "PFE", "PG", "RRC", "UNH", "WMT", "XOM",
];

/// Historical VaR 99% over 10 days of the equal-weight 20 stocks (numpy, `scripts/risk_reference.py`).
const REFERENCE_VAR_99_10D: f64 = 0.08985365106220482;

/// An `AnalyzePositionsRequest` of the 20 stocks at equal weight on a 1,000,000 portfolio.
fn equal_weights(confidence: f64, horizon_days: i32) -> Value {
    let positions: Vec<Value> = STOCKS
        .iter()
        .map(|symbol| json!({"symbol": symbol, "weight": 0.05}))
        .collect();
    json!({
        "positions": positions,
        "portfolio_value": 1e6,
        "method": "historical",
        "confidence": confidence,
        "horizon_days": horizon_days,
    })
}

/// Asserts `actual` is within 1e-9 relative of `expected`.
fn assert_rel(actual: &Value, expected: f64, what: &str) {
    let actual = actual
        .as_f64()
        .unwrap_or_else(|| panic!("{what}: {actual} is not a number"));
    assert!(
        ((actual - expected) / expected).abs() < 1e-9,
        "{what}: {actual} vs {expected}"
    );
}

/// Asserts `body` is a 400 problem whose detail names `field`.
fn assert_names(body: &Value, field: &str) {
    assert_eq!(body["code"], "INVALID_ARGUMENT", "{body}");
    let detail = body["detail"].as_str().unwrap_or_default();
    assert!(detail.contains(field), "detail should name {field}: {body}");
}

#[tokio::test(flavor = "multi_thread")]
async fn risk_routes_analyze_over_rest() {
    let rest = Rest::start().await;

    let (status, report) = send(rest.post("/v1/risk:analyze").json(&equal_weights(0.99, 10))).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_rel(
        &report["value_at_risk"]["fraction"],
        REFERENCE_VAR_99_10D,
        "VaR fraction",
    );
    assert_rel(
        &report["value_at_risk"]["amount"],
        REFERENCE_VAR_99_10D * 1e6,
        "VaR amount",
    );
    assert_eq!(report["observations"], 504);
    assert_eq!(report["parameters"]["method"], "historical");
    assert_eq!(report["parameters"]["horizon_days"], 10);
    assert_eq!(report["portfolio_id"], "");
    assert_eq!(report["holdings"].as_array().map(Vec::len), Some(20));

    // A bad body is a 400 problem naming what was wrong, before any backend call.
    let response = rest
        .post("/v1/risk:analyze")
        .json(&json!({"positions": [], "portfolio_valu": 1}))
        .send()
        .await
        .expect("response");
    let body = problem(response, 400).await;
    assert!(
        body["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("portfolio_valu"),
        "{body}"
    );

    // A batch answers per item, in request order: a bad item does not fail the others.
    let batch = json!({"requests": [
        {"positions": equal_weights(0.99, 10)},
        {"positions": equal_weights(1.5, 10)},
        {"portfolio": {"portfolio_id": "no-such"}},
    ]});
    let (status, response) = send(rest.post("/v1/risk:batchAnalyze").json(&batch)).await;
    assert_eq!(status, StatusCode::OK, "{response}");
    let results = response["results"].as_array().expect("results");
    assert_eq!(results.len(), 3, "{response}");
    assert_rel(
        &results[0]["report"]["value_at_risk"]["fraction"],
        REFERENCE_VAR_99_10D,
        "batch item VaR",
    );
    assert!(results[0].get("error").is_none(), "{response}");
    assert_eq!(
        results[1]["error"]["code"], "INVALID_ARGUMENT",
        "{response}"
    );
    let message = results[1]["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("confidence"), "{response}");
    assert!(results[1].get("report").is_none(), "{response}");
    assert_eq!(results[2]["error"]["code"], "NOT_FOUND", "{response}");

    // A stored portfolio's analysis: the query parameters are the request's optional fields.
    // Absent parameters take the service's defaults, so only the portfolio is missing...
    let response = rest
        .get("/v1/portfolios/no-such/risk")
        .send()
        .await
        .expect("response");
    let body = problem(response, 404).await;
    assert_eq!(body["code"], "NOT_FOUND", "{body}");
    // ...while an explicit 0 reaches the service as a value and is refused with its name.
    let response = rest
        .get("/v1/portfolios/no-such/risk?method=historical&horizon_days=0")
        .send()
        .await
        .expect("response");
    assert_names(&problem(response, 400).await, "horizon_days");
    let response = rest
        .get("/v1/portfolios/no-such/risk?confidence=1.5&lookback_days=250")
        .send()
        .await
        .expect("response");
    assert_names(&problem(response, 400).await, "confidence");
    // Parameters that are not numbers, and parameters the request does not have, are refused
    // by the gateway with their names.
    let response = rest
        .get("/v1/portfolios/no-such/risk?paths=many")
        .send()
        .await
        .expect("response");
    assert_names(&problem(response, 400).await, "paths");
    let response = rest
        .get("/v1/portfolios/no-such/risk?horizon=10")
        .send()
        .await
        .expect("response");
    assert_names(&problem(response, 400).await, "horizon");
    let response = rest
        .get("/v1/portfolios/no-such/risk/reports?sort=newest")
        .send()
        .await
        .expect("response");
    assert_names(&problem(response, 400).await, "sort");

    rest.stop().await;
}

/// The number of articles about `symbol` in the last day, from `GET /v1/sentiment/{symbol}`.
async fn articles_today(rest: &Rest, symbol: &str) -> i64 {
    let (status, sentiment) = send(rest.get(&format!("/v1/sentiment/{symbol}?window=1d"))).await;
    assert_eq!(status, StatusCode::OK, "{sentiment}");
    assert_eq!(sentiment["symbol"], symbol);
    assert_eq!(sentiment["window"], "1d");
    // int64 is a string in the proto3 JSON mapping.
    sentiment["article_count"]
        .as_str()
        .and_then(|count| count.parse().ok())
        .unwrap_or_else(|| panic!("article_count of {sentiment}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn sentiment_routes_score_ingest_and_aggregate() {
    let rest = Rest::start().await;

    // Batch scores come back in request order, with a per-item error for the empty text.
    let texts = json!({"texts": [
        "Profits soared and the outlook is excellent",
        "The company is bankrupt and shares collapsed in a terrible crash",
        "",
        "The meeting is on Tuesday",
    ]});
    let (status, batch) = send(rest.post("/v1/sentiment:batchScore").json(&texts)).await;
    assert_eq!(status, StatusCode::OK, "{batch}");
    let results = batch["results"].as_array().expect("results");
    assert_eq!(results.len(), 4, "{batch}");
    assert_eq!(
        results[0]["score"]["label"], "SENTIMENT_LABEL_POSITIVE",
        "{batch}"
    );
    assert!(
        results[0]["score"]["score"].as_f64() >= Some(0.05),
        "{batch}"
    );
    assert_eq!(
        results[1]["score"]["label"], "SENTIMENT_LABEL_NEGATIVE",
        "{batch}"
    );
    assert!(
        results[1]["score"]["score"].as_f64() <= Some(-0.05),
        "{batch}"
    );
    assert_eq!(results[2]["error"]["code"], "INVALID_ARGUMENT", "{batch}");
    assert!(results[2].get("score").is_none(), "{batch}");
    assert_eq!(
        results[3]["score"]["label"], "SENTIMENT_LABEL_NEUTRAL",
        "{batch}"
    );

    // One empty text is a 400 problem naming the field.
    let response = rest
        .post("/v1/sentiment:score")
        .json(&json!({"text": ""}))
        .send()
        .await
        .expect("response");
    assert_names(&problem(response, 400).await, "text");

    // An ingested article answers 201 without a Location (no route reads one article back)...
    let before = articles_today(&rest, "KO").await;
    let article = json!({
        "id": "rest-test-ko-1",
        "symbols": ["KO"],
        "headline": "Coca-Cola reports record profits and strong growth",
        "source": "rest-test",
        "url": "https://example.com/ko-record-profits",
    });
    let response = rest
        .post("/v1/news")
        .json(&article)
        .send()
        .await
        .expect("response");
    assert_eq!(response.status(), StatusCode::CREATED);
    assert!(response.headers().get(LOCATION).is_none());
    let stored: Value = response.json().await.expect("a JSON body");
    assert_eq!(stored["id"], "rest-test-ko-1", "{stored}");
    assert_eq!(stored["symbols"], json!(["KO"]), "{stored}");
    assert_eq!(
        stored["sentiment"]["label"], "SENTIMENT_LABEL_POSITIVE",
        "{stored}"
    );

    // ...is listed for its symbol, and counted in the symbol's sentiment.
    let (status, news) = send(rest.get("/v1/news?symbol=KO&page_size=100")).await;
    assert_eq!(status, StatusCode::OK, "{news}");
    let listed = news["articles"].as_array().expect("articles");
    assert!(
        listed
            .iter()
            .any(|a| a["id"] == "rest-test-ko-1" && a["source"] == "rest-test"),
        "{news}"
    );
    assert!(listed.iter().all(|a| {
        a["symbols"]
            .as_array()
            .is_some_and(|s| s.contains(&json!("KO")))
    }));
    assert!(news.get("next_page_token").is_some(), "{news}");
    assert_eq!(articles_today(&rest, "KO").await, before + 1);

    // Bad input is a 400 problem naming the field: an article without a headline, a window the
    // service does not know, a query parameter the request does not have.
    let response = rest
        .post("/v1/news")
        .json(&json!({"symbols": ["KO"], "source": "rest-test"}))
        .send()
        .await
        .expect("response");
    assert_names(&problem(response, 400).await, "headline");
    let response = rest
        .get("/v1/sentiment/KO?window=2w")
        .send()
        .await
        .expect("response");
    assert_names(&problem(response, 400).await, "window");
    let response = rest
        .get("/v1/news?ticker=KO")
        .send()
        .await
        .expect("response");
    assert_names(&problem(response, 400).await, "ticker");

    rest.stop().await;
}
