//! Batching and coalescing end to end: what the market-data, sentiment and portfolio instances
//! receive when many requests arrive at once, and that batched answers read exactly as single
//! calls' answers.
//!
//! Calls are made to overlap by delaying them at the instances. To make batches deterministic,
//! the batchers allow one call in flight: the first request's call is then alone, and every
//! request arriving while it is delayed joins the next batch.

use std::time::Duration;

use bourse_gateway::GatewayArgs;
use bourse_proto::market_data::v1::BatchGetQuotesRequest;
use bourse_proto::sentiment::v1::BatchScoreTextRequest;
use bourse_runtime::tier::Tier;
use futures::future::join_all;
use reqwest::StatusCode;
use serde_json::Value;

use crate::support::{Platform, Service, Setup};

/// How long the instances hold each call: long enough for every concurrent request to arrive.
const OVERLAP: Duration = Duration::from_millis(300);

/// Demo symbols.
const SYMBOLS: [&str; 8] = ["AAPL", "BAC", "CVX", "GE", "JNJ", "JPM", "KO", "LLY"];

/// A response as the client sees it: status, the headers that describe the content, the body.
#[derive(Debug, PartialEq)]
struct Answer {
    status: StatusCode,
    content_type: Option<String>,
    cache_control: Option<String>,
    body: Value,
}

async fn answer(response: reqwest::Response) -> Answer {
    let header = |name| {
        response
            .headers()
            .get(name)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned)
    };
    let status = response.status();
    let content_type = header("content-type");
    let cache_control = header("cache-control");
    let mut body: Value = response.json().await.expect("a JSON body");
    // The trace id differs per request by design.
    if let Some(problem) = body.as_object_mut() {
        problem.remove("trace_id");
    }
    Answer {
        status,
        content_type,
        cache_control,
        body,
    }
}

/// Batching with one call in flight per pool, and batch deadlines well past [`OVERLAP`].
fn batched(args: &mut GatewayArgs) {
    args.batching.batching = true;
    args.batching.batch_max_in_flight = 1;
    args.balancing.shared_deadline = 10 * OVERLAP;
    args.balancing.premium_deadline = 10 * OVERLAP;
}

/// Neither batching nor coalescing: every request makes its own single call.
fn unbatched(args: &mut GatewayArgs) {
    args.batching.batching = false;
    args.batching.coalescing = false;
}

async fn start(configure: impl FnOnce(&mut GatewayArgs)) -> Platform {
    Platform::start_with(Setup::default(), configure).await
}

fn delay(platform: &Platform, service: Service, tier: Tier, delay: Duration) {
    for instance in platform.pool(service, tier) {
        instance.recorder.set_delay(delay);
    }
}

/// GETs every path at once with `key`.
async fn get_all(platform: &Platform, key: &str, paths: &[String]) -> Vec<Answer> {
    let responses = join_all(paths.iter().map(|path| platform.get(key, path).send())).await;
    join_all(
        responses
            .into_iter()
            .map(|response| answer(response.expect("the gateway answers"))),
    )
    .await
}

/// POSTs `{"text": ...}` for every text at once with `key`.
async fn score_all(platform: &Platform, key: &str, texts: &[&str]) -> Vec<Answer> {
    let responses = join_all(texts.iter().map(|text| {
        platform
            .post(key, "/v1/sentiment:score")
            .json(&serde_json::json!({ "text": text }))
            .send()
    }))
    .await;
    join_all(
        responses
            .into_iter()
            .map(|response| answer(response.expect("the gateway answers"))),
    )
    .await
}

fn quote_paths(symbols: &[&str]) -> Vec<String> {
    symbols
        .iter()
        .map(|symbol| format!("/v1/quotes/{symbol}"))
        .collect()
}

#[tokio::test]
async fn identical_concurrent_gets_make_one_backend_call() {
    let platform = start(|_| {}).await;
    delay(&platform, Service::MarketData, Tier::Shared, OVERLAP);
    platform.clear_calls();

    let paths = vec!["/v1/instruments/AAPL".to_owned(); 20];
    let answers = get_all(&platform, &platform.shared_key, &paths).await;

    let calls = platform.calls(Service::MarketData, Tier::Shared);
    assert_eq!(
        calls.len(),
        1,
        "one backend call for 20 requests: {calls:?}"
    );
    assert_eq!(answers[0].status, StatusCode::OK);
    assert_eq!(answers[0].body["symbol"], "AAPL");
    assert!(answers.iter().all(|answer| *answer == answers[0]));
    platform.stop().await;
}

#[tokio::test]
async fn concurrent_single_quotes_arrive_as_batches() {
    let platform = start(batched).await;
    delay(&platform, Service::MarketData, Tier::Shared, OVERLAP);
    platform.clear_calls();

    let answers = get_all(&platform, &platform.shared_key, &quote_paths(&SYMBOLS)).await;

    for (answer, symbol) in answers.iter().zip(SYMBOLS) {
        assert_eq!(answer.status, StatusCode::OK, "{symbol}: {answer:?}");
        assert_eq!(answer.body["symbol"], symbol);
    }
    let pool = &platform.pool(Service::MarketData, Tier::Shared);
    let recorder = &pool[0].recorder;
    assert!(recorder.calls_of("GetQuote").is_empty());
    let batches: Vec<BatchGetQuotesRequest> = recorder.messages("BatchGetQuotes");
    let mut asked: Vec<&str> = batches
        .iter()
        .flat_map(|batch| batch.symbols.iter().map(String::as_str))
        .collect();
    asked.sort_unstable();
    assert_eq!(asked, SYMBOLS, "every symbol asked once");
    assert!(
        batches.iter().any(|batch| batch.symbols.len() > 1),
        "some call carries several symbols: {batches:?}"
    );
    assert!(batches.len() < SYMBOLS.len());
    platform.stop().await;
}

#[tokio::test]
async fn with_batching_off_quotes_arrive_as_single_calls() {
    let platform = start(unbatched).await;
    platform.clear_calls();

    let answers = get_all(&platform, &platform.shared_key, &quote_paths(&SYMBOLS)).await;

    assert!(answers.iter().all(|answer| answer.status == StatusCode::OK));
    let calls = platform.calls(Service::MarketData, Tier::Shared);
    assert_eq!(calls.len(), SYMBOLS.len());
    assert!(
        calls.iter().all(|call| call.method == "GetQuote"),
        "{calls:?}"
    );
    platform.stop().await;
}

#[tokio::test]
async fn batched_quotes_and_errors_read_as_single_calls() {
    let mut platform = start(batched).await;
    let single = platform
        .start_gateway(&{
            let mut args = platform.gateway_args();
            unbatched(&mut args);
            args
        })
        .await;
    delay(&platform, Service::MarketData, Tier::Shared, OVERLAP);
    platform.clear_calls();

    // The first request's call holds the pool; the others, the unknown and the malformed
    // symbol among them, are gathered into the next batch.
    let symbols = ["AAPL", "BAC", "NOPE", "KO", "a%20b"];
    let batched_answers = get_all(&platform, &platform.shared_key, &quote_paths(&symbols)).await;
    let batches: Vec<BatchGetQuotesRequest> = platform.pool(Service::MarketData, Tier::Shared)[0]
        .recorder
        .messages("BatchGetQuotes");
    assert!(
        batches
            .iter()
            .any(|batch| batch.symbols.contains(&"NOPE".to_owned()) && batch.symbols.len() > 1),
        "the unknown symbol was batched with others: {batches:?}"
    );

    delay(&platform, Service::MarketData, Tier::Shared, Duration::ZERO);
    let main = std::mem::replace(&mut platform.gateway, single);
    let single_answers = get_all(&platform, &platform.shared_key, &quote_paths(&symbols)).await;
    platform.gateway = main;

    assert_eq!(batched_answers[2].status, StatusCode::NOT_FOUND);
    assert_eq!(batched_answers[4].status, StatusCode::BAD_REQUEST);
    assert_eq!(batched_answers[0].status, StatusCode::OK);
    for ((batched, single), symbol) in batched_answers.iter().zip(&single_answers).zip(symbols) {
        assert_eq!(
            batched, single,
            "{symbol}: batched and single answers differ"
        );
    }
    platform.stop().await;
}

#[tokio::test]
async fn concurrent_scores_arrive_as_batches_and_read_as_single_calls() {
    let mut platform = start(batched).await;
    let single = platform
        .start_gateway(&{
            let mut args = platform.gateway_args();
            unbatched(&mut args);
            args
        })
        .await;
    delay(&platform, Service::Sentiment, Tier::Premium, OVERLAP);
    platform.clear_calls();

    let texts = [
        "Record profits lift the shares",
        "The company warns of a steep loss",
        "",
        "Guidance is unchanged",
        "Record profits lift the shares",
    ];
    let batched_answers = score_all(&platform, &platform.premium_key, &texts).await;
    let recorder = &platform.pool(Service::Sentiment, Tier::Premium)[0].recorder;
    assert!(recorder.calls_of("ScoreText").is_empty());
    let batches: Vec<BatchScoreTextRequest> = recorder.messages("BatchScoreText");
    assert!(
        batches.iter().any(|batch| batch.texts.len() > 1),
        "some call carries several texts: {batches:?}"
    );
    assert!(
        batches
            .iter()
            .any(|batch| batch.texts.contains(&String::new())),
        "the empty text went through a batch: {batches:?}"
    );

    delay(&platform, Service::Sentiment, Tier::Premium, Duration::ZERO);
    let main = std::mem::replace(&mut platform.gateway, single);
    let single_answers = score_all(&platform, &platform.premium_key, &texts).await;
    platform.gateway = main;

    // An empty text is the same 400 problem, naming the `text` field, either way.
    assert_eq!(batched_answers[2].status, StatusCode::BAD_REQUEST);
    assert_eq!(batched_answers[2].body["errors"][0]["field"], "text");
    assert_eq!(batched_answers[0].status, StatusCode::OK);
    for ((batched, single), text) in batched_answers.iter().zip(&single_answers).zip(texts) {
        assert_eq!(
            batched, single,
            "{text:?}: batched and single answers differ"
        );
    }
    platform.stop().await;
}

#[tokio::test]
async fn coalescing_never_merges_two_accounts_portfolio_reads() {
    let platform = start(|_| {}).await;
    let alice = platform.key_for("alice", Tier::Shared, None).await;
    let bob = platform.key_for("bob", Tier::Shared, None).await;
    delay(&platform, Service::Portfolio, Tier::Shared, OVERLAP);
    platform.clear_calls();

    let paths = vec!["/v1/portfolios".to_owned(); 3];
    let (alices, bobs) = tokio::join!(
        get_all(&platform, &alice, &paths),
        get_all(&platform, &bob, &paths)
    );

    assert!(
        alices
            .iter()
            .chain(&bobs)
            .all(|answer| answer.status == StatusCode::OK)
    );
    let calls = platform.calls(Service::Portfolio, Tier::Shared);
    assert_eq!(calls.len(), 2, "one call per account: {calls:?}");
    assert!(alices.iter().all(|answer| *answer == alices[0]));
    platform.stop().await;
}
