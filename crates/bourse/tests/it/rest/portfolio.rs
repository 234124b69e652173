//! The portfolio routes end to end: a portfolio's whole life over REST, and each documented error.

use reqwest::StatusCode;
use reqwest::header::LOCATION;
use serde_json::{Value, json};

use super::{Rest, problem, send};

/// The last AAPL close in the vendored demo data (2022-12-28): the demo quote, hence the fill.
const AAPL_LAST_CLOSE: f64 = 125.674;

/// A decimal string field of `body` as a number.
fn decimal(body: &Value, field: &str) -> f64 {
    body[field]
        .as_str()
        .and_then(|text| text.parse().ok())
        .unwrap_or_else(|| panic!("{field} is not a decimal string in {body}"))
}

/// Creates a portfolio with `cash` and returns its id, checking the 201 and its `Location`.
async fn create(rest: &Rest, name: &str, cash: &str) -> String {
    let response = rest
        .post("/v1/portfolios")
        .json(&json!({"name": name, "cash": cash}))
        .send()
        .await
        .expect("create");
    assert_eq!(response.status(), StatusCode::CREATED);
    let location = response.headers()[LOCATION]
        .to_str()
        .expect("ASCII Location")
        .to_owned();
    let created: Value = response.json().await.expect("json");
    let id = created["id"].as_str().expect("an id").to_owned();
    assert_eq!(location, format!("/v1/portfolios/{id}"));
    assert_eq!(created["name"], name, "{created}");
    assert_eq!(
        decimal(&created, "cash"),
        cash.parse::<f64>().expect("cash")
    );

    let (status, fetched) = send(rest.get(&location)).await;
    assert_eq!(status, StatusCode::OK, "{fetched}");
    assert_eq!(
        fetched, created,
        "GET of the Location is the created portfolio"
    );
    id
}

#[tokio::test(flavor = "multi_thread")]
async fn a_portfolio_lives_its_whole_life_over_rest() {
    let rest = Rest::start().await;
    let id = create(&rest, "Growth", "100000").await;
    let base = format!("/v1/portfolios/{id}");

    let (status, list) = send(rest.get("/v1/portfolios")).await;
    assert_eq!(status, StatusCode::OK);
    let listed = list["portfolios"].as_array().expect("portfolios");
    assert!(listed.iter().any(|p| p["id"] == id.as_str()), "{list}");
    // Both demo keys belong to the account "demo": the premium key sees the same book.
    let premium = rest
        .http
        .get(rest.url(&base))
        .bearer_auth(&rest.premium_key);
    let (status, same) = send(premium).await;
    assert_eq!(
        (status, &same["id"]),
        (StatusCode::OK, &json!(id)),
        "{same}"
    );

    // A market buy fills at the demo quote, and its Location reads it back.
    let buy = json!({"symbol": "AAPL", "side": "ORDER_SIDE_BUY", "quantity": "10",
                     "type": "ORDER_TYPE_MARKET"});
    let place = || {
        rest.post(&format!("{base}/orders"))
            .header("idempotency-key", "buy-aapl-1")
            .json(&buy)
    };
    let response = place().send().await.expect("place");
    assert_eq!(response.status(), StatusCode::CREATED);
    let location = response.headers()[LOCATION]
        .to_str()
        .expect("ASCII")
        .to_owned();
    let order: Value = response.json().await.expect("json");
    let order_id = order["id"].as_str().expect("an order id").to_owned();
    assert_eq!(location, format!("{base}/orders/{order_id}"));
    assert_eq!(order["status"], "ORDER_STATUS_FILLED", "{order}");
    assert_eq!(order["idempotency_key"], "buy-aapl-1", "{order}");
    assert!((decimal(&order, "average_fill_price") - AAPL_LAST_CLOSE).abs() < 1e-9);
    assert!((decimal(&order, "filled_quantity") - 10.0).abs() < 1e-9);

    // The same key and order again: the first order, not a second fill.
    let (status, replay) = send(place()).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(replay["id"], order_id.as_str(), "{replay}");
    // The same key with another order is a conflict.
    let other = rest
        .post(&format!("{base}/orders"))
        .header("idempotency-key", "buy-aapl-1")
        .json(&json!({"symbol": "AAPL", "side": "ORDER_SIDE_BUY", "quantity": "11"}));
    problem(other.send().await.expect("response"), 409).await;

    let (status, fetched) = send(rest.get(&location)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(fetched, order);

    // A limit buy far below the market rests, then is canceled.
    let limit = json!({"symbol": "AAPL", "side": "ORDER_SIDE_BUY", "quantity": "5",
                       "type": "ORDER_TYPE_LIMIT", "limit_price": "1.00",
                       "time_in_force": "TIME_IN_FORCE_GTC"});
    let (status, resting) = send(rest.post(&format!("{base}/orders")).json(&limit)).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(resting["status"], "ORDER_STATUS_ACCEPTED", "{resting}");
    let resting_id = resting["id"].as_str().expect("id").to_owned();

    let filled = format!("{base}/orders?status=ORDER_STATUS_FILLED");
    let (status, page) = send(rest.get(&filled)).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let ids: Vec<&Value> = page["orders"].as_array().expect("orders").iter().collect();
    assert_eq!(ids.len(), 1, "only the market order is filled: {page}");
    assert_eq!(ids[0]["id"], order_id.as_str());
    let (_, open) = send(rest.get(&format!("{base}/orders?status=accepted&symbol=aapl"))).await;
    assert_eq!(open["orders"][0]["id"], resting_id.as_str(), "{open}");
    assert_eq!(open["orders"].as_array().map(Vec::len), Some(1), "{open}");
    let (_, all) = send(rest.get(&format!("{base}/orders?page_size=1"))).await;
    assert_eq!(all["orders"].as_array().map(Vec::len), Some(1), "{all}");
    assert_ne!(
        all["next_page_token"], "",
        "two orders, pages of one: {all}"
    );
    let (_, later) =
        send(rest.get(&format!("{base}/orders?start_time=2100-01-01T00:00:00Z"))).await;
    assert_eq!(later["orders"], json!([]), "{later}");

    let cancel = format!("{base}/orders/{resting_id}:cancel");
    let (status, canceled) = send(rest.post(&cancel)).await;
    assert_eq!(status, StatusCode::OK, "{canceled}");
    assert_eq!(canceled["status"], "ORDER_STATUS_CANCELED", "{canceled}");
    assert_eq!(canceled["id"], resting_id.as_str());
    // Canceling a filled order is a conflict.
    let response = rest
        .post(&format!("{base}/orders/{order_id}:cancel"))
        .json(&json!({}))
        .send()
        .await
        .expect("response");
    let conflict = problem(response, 409).await;
    assert_eq!(conflict["code"], "FAILED_PRECONDITION", "{conflict}");

    // Holdings.
    let (status, positions) = send(rest.get(&format!("{base}/positions"))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(positions["positions"][0]["symbol"], "AAPL", "{positions}");
    assert!((decimal(&positions["positions"][0], "quantity") - 10.0).abs() < 1e-9);
    let (status, valuation) = send(rest.get(&format!("{base}/valuation"))).await;
    assert_eq!(status, StatusCode::OK);
    let market_value = 10.0 * AAPL_LAST_CLOSE;
    assert!(
        (decimal(&valuation, "market_value") - market_value).abs() < 0.005,
        "{valuation}"
    );
    assert!(
        (decimal(&valuation, "total_value") - 100_000.0).abs() < 0.005,
        "cash spent equals the value bought: {valuation}"
    );

    // Delete: 204 without a body, then the portfolio is gone.
    let response = rest.delete(&base).send().await.expect("delete");
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(response.bytes().await.expect("body").len(), 0);
    let gone = problem(rest.get(&base).send().await.expect("get"), 404).await;
    assert_eq!(gone["code"], "NOT_FOUND", "{gone}");
    rest.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn portfolio_errors_are_problems_naming_what_was_wrong() {
    let rest = Rest::start().await;
    let id = create(&rest, "Errors", "1000").await;
    let orders = format!("/v1/portfolios/{id}/orders");
    let rejects = async |request: reqwest::RequestBuilder, status: u16, needle: &str| {
        let body = problem(request.send().await.expect("response"), status).await;
        let detail = body["detail"].as_str().unwrap_or_default();
        assert!(detail.contains(needle), "{needle:?} not in {body}");
        body
    };

    let bad_quantity = json!({"symbol": "AAPL", "side": "ORDER_SIDE_BUY", "quantity": "-3"});
    let body = rejects(
        rest.post(&orders).json(&bad_quantity),
        400,
        "order.quantity",
    )
    .await;
    assert_eq!(body["errors"][0]["field"], "order.quantity", "{body}");
    let no_name = rest.post("/v1/portfolios").json(&json!({"cash": "5"}));
    rejects(no_name, 400, "portfolio.name").await;
    let unknown_field = rest
        .post("/v1/portfolios")
        .json(&json!({"name": "x", "colour": 1}));
    rejects(unknown_field, 400, "colour").await;

    let buy = json!({"symbol": "AAPL", "side": "ORDER_SIDE_BUY", "quantity": "1",
                     "idempotency_key": "body-key"});
    let disagree = rest
        .post(&orders)
        .header("idempotency-key", "header-key")
        .json(&buy);
    let body = rejects(disagree, 400, "idempotency_key").await;
    assert_eq!(body["errors"][0]["field"], "idempotency_key", "{body}");

    let unknown = "/v1/portfolios/no-such-portfolio";
    rejects(rest.get(unknown), 404, "no-such-portfolio").await;
    rejects(rest.get(&format!("{unknown}/valuation")), 404, "not found").await;
    rejects(
        rest.post(&format!("{unknown}/orders")).json(&buy),
        404,
        "not found",
    )
    .await;
    rejects(rest.delete(unknown), 404, "not found").await;

    rejects(rest.get(&format!("{orders}?colour=red")), 400, "colour").await;
    rejects(
        rest.get(&format!("/v1/portfolios/{id}?verbose=1")),
        400,
        "verbose",
    )
    .await;
    let body = rejects(rest.get(&format!("{orders}?status=done")), 400, "status").await;
    assert_eq!(body["errors"][0]["field"], "status", "{body}");
    rejects(
        rest.get(&format!("{orders}?start_time=yesterday")),
        400,
        "start_time",
    )
    .await;
    rejects(rest.post(&format!("{orders}/abc:archive")), 404, ":cancel").await;
    rejects(rest.post(&format!("{orders}/abc")), 404, ":cancel").await;
    let wrong_body = rest
        .post(&format!("{orders}/abc:cancel"))
        .json(&json!({"order_id": "xyz"}));
    rejects(wrong_body, 400, "order_id").await;
    rejects(rest.post(&format!("{orders}/abc:cancel")), 404, "not found").await;
    rest.stop().await;
}
