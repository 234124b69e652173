//! Market-data routes end to end against the demo data: instruments, quotes (one, batch by query
//! and by body), bars as JSON pages and as one streamed CSV, the SSE quote stream, HTTP caching
//! (ETag/304, Cache-Control) and the documented errors.

use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{ACCEPT, CACHE_CONTROL, CONTENT_TYPE, ETAG, IF_NONE_MATCH};
use serde_json::{Value, json};

use super::{Rest, problem, send};

/// AAPL's last close in the vendored demo data (2022-12-28), which is also its quote.
const AAPL_LAST_CLOSE: f64 = 125.674;
/// AAPL's first close of December 2022 in the demo data.
const AAPL_2022_12_01_CLOSE: f64 = 147.879;
/// Trading days from 2022-12-01 to 2022-12-28 (the 26th was a holiday): the bars of
/// [`DECEMBER`].
const DECEMBER_BARS: usize = 19;
/// Daily bars per real demo stock: 2013-01-02 to 2022-12-28.
const AAPL_HISTORY_BARS: usize = 2_516;
/// AAPL's daily bars of December 2022.
const DECEMBER: &str =
    "/v1/bars/AAPL?interval=1d&start=2022-12-01T00:00:00Z&end=2022-12-29T00:00:00Z";

fn header(response: &reqwest::Response, name: impl reqwest::header::AsHeaderName) -> String {
    response
        .headers()
        .get(name)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

fn detail(problem: &Value) -> String {
    problem["detail"].as_str().unwrap_or_default().to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn instruments_and_quotes() {
    let rest = Rest::start().await;

    // One quote, cacheable for a second.
    let response = rest.get("/v1/quotes/AAPL").send().await.expect("quote");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(header(&response, CACHE_CONTROL), "private, max-age=1");
    let quote: Value = response.json().await.expect("json");
    assert_eq!(
        (quote["symbol"].clone(), quote["last"].clone()),
        (json!("AAPL"), json!(AAPL_LAST_CLOSE))
    );
    let missing = rest.get("/v1/quotes/NOPE").send().await.expect("response");
    assert_eq!(problem(missing, 404).await["code"], "NOT_FOUND");

    // Batch by query: request order, duplicates kept, an unknown symbol in its own result.
    let (status, batch) = send(rest.get("/v1/quotes?symbols=MSFT,NOPE,AAPL,MSFT")).await;
    assert_eq!(status, StatusCode::OK, "{batch}");
    let results = batch["results"].as_array().expect("results");
    let symbols: Vec<&str> = results
        .iter()
        .filter_map(|r| r["symbol"].as_str())
        .collect();
    assert_eq!(symbols, ["MSFT", "NOPE", "AAPL", "MSFT"], "{batch}");
    assert_eq!(results[1]["error"]["code"], "NOT_FOUND", "{batch}");
    assert!(results[1].get("quote").is_none(), "{batch}");
    assert_eq!(
        results[2]["quote"]["last"],
        json!(AAPL_LAST_CLOSE),
        "{batch}"
    );
    assert_eq!(results[0]["quote"], results[3]["quote"], "{batch}");

    // Batch by body answers the same.
    let (status, posted) = send(
        rest.post("/v1/quotes:batchGet")
            .json(&json!({"symbols": ["MSFT", "NOPE", "AAPL", "MSFT"]})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{posted}");
    assert_eq!(posted, batch);

    // More than 1,000 symbols, either way, is a 400 naming `symbols`.
    let many: Vec<String> = (0..1_001).map(|n| format!("S{n}")).collect();
    let response = rest
        .get(&format!("/v1/quotes?symbols={}", many.join(",")))
        .send()
        .await
        .expect("response");
    let refused = problem(response, 400).await;
    assert!(detail(&refused).contains("symbols"), "{refused}");
    let response = rest
        .post("/v1/quotes:batchGet")
        .json(&json!({ "symbols": many }))
        .send()
        .await
        .expect("response");
    let refused = problem(response, 400).await;
    assert!(detail(&refused).contains("symbols"), "{refused}");
    let response = rest
        .post("/v1/quotes:batchGet")
        .json(&json!({"symbols": "AAPL"}))
        .send()
        .await
        .expect("response");
    problem(response, 400).await;

    // Instrument search: `q=AA` finds AAPL by prefix; every match fits the query.
    let response = rest.get("/v1/instruments?q=AA").send().await.expect("list");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(header(&response, CACHE_CONTROL), "private, max-age=3600");
    let list: Value = response.json().await.expect("json");
    let found = list["instruments"].as_array().expect("instruments");
    assert!(found.iter().any(|i| i["symbol"] == "AAPL"), "{list}");
    for instrument in found {
        let symbol = instrument["symbol"].as_str().unwrap_or_default();
        let name = instrument["name"]
            .as_str()
            .unwrap_or_default()
            .to_lowercase();
        assert!(
            symbol.starts_with("AA") || name.contains("aa"),
            "{instrument}"
        );
    }
    assert_eq!(list["next_page_token"], "", "{list}");

    // Pages of the whole list: 50 demo instruments, two per page at first.
    let (_, page) = send(rest.get("/v1/instruments?page_size=2")).await;
    assert_eq!(
        page["instruments"].as_array().map(Vec::len),
        Some(2),
        "{page}"
    );
    let token = page["next_page_token"].as_str().unwrap_or_default();
    assert!(!token.is_empty(), "{page}");
    let (status, next) =
        send(rest.get(&format!("/v1/instruments?page_size=2&page_token={token}"))).await;
    assert_eq!(status, StatusCode::OK, "{next}");
    assert_ne!(next["instruments"][0], page["instruments"][0], "{next}");

    // One instrument.
    let response = rest.get("/v1/instruments/AAPL").send().await.expect("get");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(header(&response, CACHE_CONTROL), "private, max-age=3600");
    let etag = header(&response, ETAG);
    let instrument: Value = response.json().await.expect("json");
    assert_eq!(instrument["symbol"], "AAPL", "{instrument}");
    assert_eq!(instrument["exchange"], "XNAS", "{instrument}");
    assert_eq!(
        instrument["asset_class"], "ASSET_CLASS_EQUITY",
        "{instrument}"
    );

    // ETag round trip: the tag is strong and stable, and sending it back is a bodiless 304.
    assert!(
        etag.starts_with('"') && etag.ends_with('"') && etag.len() > 2,
        "{etag}"
    );
    let again = rest.get("/v1/instruments/AAPL").send().await.expect("get");
    assert_eq!(header(&again, ETAG), etag);
    let cached = rest
        .get("/v1/instruments/AAPL")
        .header(IF_NONE_MATCH, &etag)
        .send()
        .await
        .expect("get");
    assert_eq!(cached.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(header(&cached, ETAG), etag);
    assert!(cached.bytes().await.expect("body").is_empty());
    let msft = rest
        .get("/v1/instruments/MSFT")
        .header(IF_NONE_MATCH, &etag)
        .send()
        .await
        .expect("get");
    assert_eq!(
        msft.status(),
        StatusCode::OK,
        "another resource, another tag"
    );
    assert_ne!(header(&msft, ETAG), etag);
    let list = rest.get("/v1/instruments?q=AA").send().await.expect("list");
    let list_tag = header(&list, ETAG);
    let list = rest
        .get("/v1/instruments?q=AA")
        .header(IF_NONE_MATCH, &list_tag)
        .send()
        .await
        .expect("list");
    assert_eq!(list.status(), StatusCode::NOT_MODIFIED);

    // Errors: unknown instrument, unknown query parameter.
    let missing = rest
        .get("/v1/instruments/NOPE")
        .send()
        .await
        .expect("response");
    assert_eq!(problem(missing, 404).await["code"], "NOT_FOUND");
    let response = rest
        .get("/v1/instruments?colour=red")
        .send()
        .await
        .expect("response");
    let refused = problem(response, 400).await;
    assert!(detail(&refused).contains("colour"), "{refused}");
    let response = rest
        .get("/v1/quotes?symbols=AAPL&colour=red")
        .send()
        .await
        .expect("response");
    let refused = problem(response, 400).await;
    assert!(detail(&refused).contains("colour"), "{refused}");

    rest.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn bars_as_json_pages_and_streamed_csv() {
    let rest = Rest::start().await;

    // A JSON page of five bars, then the next page through its token.
    let response = rest
        .get(&format!("{DECEMBER}&page_size=5"))
        .send()
        .await
        .expect("bars");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(header(&response, CACHE_CONTROL), "private, max-age=60");
    let etag = header(&response, ETAG);
    let page: Value = response.json().await.expect("json");
    let bars = page["bars"].as_array().expect("bars");
    assert_eq!(bars.len(), 5, "{page}");
    assert_eq!(page["symbol"], "AAPL");
    assert_eq!(page["interval"], "1d");
    let first_ts = bars[0]["ts"].as_str().unwrap_or_default();
    assert!(first_ts.starts_with("2022-12-01T00:00:00"), "{page}");
    assert_eq!(bars[0]["close"], json!(AAPL_2022_12_01_CLOSE), "{page}");
    let token = page["next_page_token"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(!token.is_empty(), "{page}");
    let (status, next) = send(
        rest.get(&format!("{DECEMBER}&page_size=5"))
            .query(&[("page_token", &token)]),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{next}");
    let next_ts = next["bars"][0]["ts"].as_str().unwrap_or_default();
    assert!(next_ts.starts_with("2022-12-08T00:00:00"), "{next}");
    let (_, whole) = send(rest.get(DECEMBER)).await;
    let whole = whole["bars"].as_array().expect("bars").clone();
    assert_eq!(whole.len(), DECEMBER_BARS);
    assert_eq!(whole[DECEMBER_BARS - 1]["close"], json!(AAPL_LAST_CLOSE));

    // ETag round trip on bars.
    assert!(etag.starts_with('"'), "{etag}");
    let cached = rest
        .get(&format!("{DECEMBER}&page_size=5"))
        .header(IF_NONE_MATCH, &etag)
        .send()
        .await
        .expect("bars");
    assert_eq!(cached.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(header(&cached, ETAG), etag);
    assert!(cached.bytes().await.expect("body").is_empty());

    // The same window as CSV, fetched page by page (five bars each) by the gateway and streamed
    // as one body.
    let response = rest
        .get(&format!("{DECEMBER}&page_size=5"))
        .header(ACCEPT, "text/csv")
        .send()
        .await
        .expect("csv");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(header(&response, CONTENT_TYPE), "text/csv; charset=utf-8");
    assert_eq!(header(&response, CACHE_CONTROL), "private, max-age=60");
    let csv = response.text().await.expect("text");
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 1 + DECEMBER_BARS, "{csv}");
    assert_eq!(lines[0], "ts,open,high,low,close,volume,vwap,trades");
    // The vendored stocks are close-only: open = high = low = close, volume 0.
    assert_eq!(
        lines[1],
        "2022-12-01T00:00:00+00:00,147.879,147.879,147.879,147.879,0,,"
    );
    assert!(
        lines[DECEMBER_BARS].starts_with("2022-12-28T00:00:00+00:00,125.674,"),
        "{csv}"
    );
    // The same bars as the JSON: timestamps and closes written alike.
    let cells = |column: usize| -> Vec<String> {
        lines[1..]
            .iter()
            .filter_map(|l| l.split(',').nth(column))
            .map(str::to_owned)
            .collect()
    };
    let json_cells = |field: &str| -> Vec<String> {
        whole
            .iter()
            .map(|b| {
                b[field]
                    .as_str()
                    .map_or_else(|| b[field].to_string(), str::to_owned)
            })
            .collect()
    };
    assert_eq!(cells(0), json_cells("ts"));
    assert_eq!(cells(4), json_cells("close"));

    // The whole history: three default pages of up to 1,000 bars, one response.
    let response = rest
        .get("/v1/bars/AAPL?interval=1d")
        .header(ACCEPT, "text/csv")
        .send()
        .await
        .expect("csv");
    assert_eq!(response.status(), StatusCode::OK);
    let csv = response.text().await.expect("text");
    assert_eq!(csv.lines().count(), 1 + AAPL_HISTORY_BARS);
    assert!(
        csv.lines()
            .nth(1)
            .is_some_and(|l| l.starts_with("2013-01-02T00:00:00+00:00,16.814,"))
    );

    // Errors, as problems even when CSV was asked for.
    let response = rest
        .get("/v1/bars/NOPE")
        .header(ACCEPT, "text/csv")
        .send()
        .await
        .expect("r");
    assert_eq!(problem(response, 404).await["code"], "NOT_FOUND");
    let response = rest
        .get("/v1/bars/AAPL?interval=2d")
        .send()
        .await
        .expect("r");
    let refused = problem(response, 400).await;
    assert!(detail(&refused).contains("interval"), "{refused}");
    let response = rest
        .get("/v1/bars/AAPL?start=yesterday")
        .send()
        .await
        .expect("r");
    let refused = problem(response, 400).await;
    assert!(detail(&refused).contains("start"), "{refused}");
    let response = rest
        .get("/v1/bars/AAPL?end=2022-13-01T00:00:00Z")
        .send()
        .await
        .expect("r");
    let refused = problem(response, 400).await;
    assert!(detail(&refused).contains("end"), "{refused}");
    let response = rest
        .get("/v1/bars/AAPL?granularity=1d")
        .send()
        .await
        .expect("r");
    let refused = problem(response, 400).await;
    assert!(detail(&refused).contains("granularity"), "{refused}");

    rest.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn quote_stream_as_server_sent_events() {
    let rest = Rest::start().await;

    let mut response = rest
        .get("/v1/stream/quotes?symbols=AAPL")
        .send()
        .await
        .expect("stream");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(header(&response, CONTENT_TYPE), "text/event-stream");
    assert_eq!(header(&response, CACHE_CONTROL), "no-store");

    // The stream opens with the current quote of each requested symbol.
    let mut received = String::new();
    while !received.contains("\n\n") {
        let chunk = tokio::time::timeout(Duration::from_secs(10), response.chunk())
            .await
            .expect("an event in time")
            .expect("a chunk")
            .expect("the stream stays open");
        received.push_str(&String::from_utf8_lossy(&chunk));
    }
    let event = received.split("\n\n").next().unwrap_or_default();
    assert!(event.lines().any(|line| line == "event: quote"), "{event}");
    let data = event
        .lines()
        .find_map(|line| line.strip_prefix("data: "))
        .expect("a data line");
    let update: Value = serde_json::from_str(data).expect("JSON data");
    assert_eq!(update["quote"]["symbol"], "AAPL", "{update}");
    assert_eq!(update["quote"]["last"], json!(AAPL_LAST_CLOSE), "{update}");

    // Without a feed nothing more comes, but the stream stays open.
    let more = tokio::time::timeout(Duration::from_millis(300), response.chunk()).await;
    assert!(
        !matches!(more, Ok(Ok(None)) | Ok(Err(_))),
        "the stream ended: {more:?}"
    );
    drop(response);

    let response = rest
        .get("/v1/stream/quotes?symbols=not a symbol")
        .send()
        .await
        .expect("r");
    let refused = problem(response, 400).await;
    assert!(detail(&refused).contains("symbols"), "{refused}");

    rest.stop().await;
}
