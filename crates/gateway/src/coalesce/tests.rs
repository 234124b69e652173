use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::middleware::{from_fn, from_fn_with_state};
use axum::routing::get;
use futures::future::join_all;
use tower::ServiceExt as _;

use super::*;

const HANDLER_TIME: Duration = Duration::from_millis(10);

/// Counts its calls and answers `call N` after [`HANDLER_TIME`], so concurrent requests
/// overlap.
async fn slow(State(calls): State<Arc<AtomicUsize>>) -> Response {
    let call = calls.fetch_add(1, Ordering::SeqCst) + 1;
    tokio::time::sleep(HANDLER_TIME).await;
    let mut response = format!("call {call}").into_response();
    response.extensions_mut().insert(BackendTime(HANDLER_TIME));
    response
}

/// The caller whose account is the `x-account` header, as authentication would set it.
async fn authenticate(mut request: Request, next: Next) -> Response {
    let account = request
        .headers()
        .get("x-account")
        .and_then(|value| value.to_str().ok())
        .unwrap_or("acct-1")
        .to_owned();
    request.extensions_mut().insert(Caller {
        key_id: "key".to_owned(),
        account,
        tier: Tier::Shared,
        rate_limit_per_second: None,
    });
    next.run(request).await
}

fn app(max_body: usize, calls: &Arc<AtomicUsize>) -> Router {
    let args = BatchArgs {
        coalescing_max_body: max_body,
        ..BatchArgs::default()
    };
    let coalescer = Arc::new(Coalescer::new(&args));
    Router::new()
        .route("/v1/portfolios/{id}", get(slow).post(slow))
        .route("/v1/quotes/{symbol}", get(slow))
        .route("/v1/bars/{symbol}", get(slow))
        .route_layer(from_fn_with_state(
            coalescer,
            |State(coalescer): State<Arc<Coalescer>>, request: Request, next: Next| async move {
                coalescer.run(request, next).await
            },
        ))
        .route_layer(from_fn(authenticate))
        .with_state(calls.clone())
}

fn request(method: Method, uri: &str, account: &'static str, accept: &'static str) -> Request {
    Request::builder()
        .method(method)
        .uri(uri)
        .header("x-account", account)
        .header(header::ACCEPT, accept)
        .body(Body::empty())
        .expect("request")
}

/// Sends `requests` concurrently; the bodies, in order.
async fn send_all(app: &Router, requests: Vec<Request>) -> Vec<(StatusCode, String)> {
    let responses = join_all(
        requests
            .into_iter()
            .map(|request| app.clone().oneshot(request)),
    );
    let mut answers = Vec::new();
    for response in responses.await {
        let response = response.expect("response");
        let status = response.status();
        let body = response.into_body().collect().await.expect("body");
        answers.push((
            status,
            String::from_utf8_lossy(&body.to_bytes()).into_owned(),
        ));
    }
    answers
}

#[tokio::test(start_paused = true)]
async fn identical_gets_share_one_call_and_one_response() {
    let calls = Arc::new(AtomicUsize::new(0));
    let app = app(1024, &calls);
    let requests = (0..20)
        .map(|_| request(Method::GET, "/v1/portfolios/p1?x=1", "acct-1", "*/*"))
        .collect();
    let answers = send_all(&app, requests).await;
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    assert!(
        answers
            .iter()
            .all(|answer| *answer == (StatusCode::OK, "call 1".to_owned()))
    );
    // The flight is forgotten once answered: the next request makes its own call.
    send_all(
        &app,
        vec![request(
            Method::GET,
            "/v1/portfolios/p1?x=1",
            "acct-1",
            "*/*",
        )],
    )
    .await;
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}

#[tokio::test(start_paused = true)]
async fn accounts_are_kept_apart_except_on_public_routes() {
    let calls = Arc::new(AtomicUsize::new(0));
    let app = app(1024, &calls);
    let private = vec![
        request(Method::GET, "/v1/portfolios/p1", "acct-1", "*/*"),
        request(Method::GET, "/v1/portfolios/p1", "acct-2", "*/*"),
    ];
    send_all(&app, private).await;
    assert_eq!(calls.load(Ordering::SeqCst), 2, "one call per account");

    let public = vec![
        request(Method::GET, "/v1/quotes/AAPL", "acct-1", "*/*"),
        request(Method::GET, "/v1/quotes/AAPL", "acct-2", "*/*"),
    ];
    send_all(&app, public).await;
    assert_eq!(
        calls.load(Ordering::SeqCst),
        3,
        "quotes are the same for everyone"
    );
}

#[tokio::test(start_paused = true)]
async fn different_queries_posts_and_csv_are_not_coalesced() {
    let calls = Arc::new(AtomicUsize::new(0));
    let app = app(1024, &calls);
    let requests = vec![
        request(Method::GET, "/v1/quotes/AAPL", "acct-1", "*/*"),
        request(Method::GET, "/v1/quotes/MSFT", "acct-1", "*/*"),
        request(Method::POST, "/v1/portfolios/p1", "acct-1", "*/*"),
        request(Method::POST, "/v1/portfolios/p1", "acct-1", "*/*"),
        request(Method::GET, "/v1/bars/AAPL", "acct-1", "text/csv"),
        request(Method::GET, "/v1/bars/AAPL", "acct-1", "text/csv"),
    ];
    send_all(&app, requests).await;
    assert_eq!(calls.load(Ordering::SeqCst), 6);
}

#[tokio::test(start_paused = true)]
async fn a_body_over_the_cap_is_not_shared_and_waiters_make_their_own_call() {
    let calls = Arc::new(AtomicUsize::new(0));
    let app = app(3, &calls);
    let requests = (0..3)
        .map(|_| request(Method::GET, "/v1/quotes/AAPL", "acct-1", "*/*"))
        .collect();
    let answers = send_all(&app, requests).await;
    assert_eq!(calls.load(Ordering::SeqCst), 3);
    assert!(answers.iter().all(|(status, _)| *status == StatusCode::OK));
}

#[tokio::test(start_paused = true)]
async fn waiters_are_answered_when_the_leader_goes_away() {
    let calls = Arc::new(AtomicUsize::new(0));
    let app = app(1024, &calls);
    let leader =
        tokio::spawn(
            app.clone()
                .oneshot(request(Method::GET, "/v1/quotes/AAPL", "acct-1", "*/*")),
        );
    while calls.load(Ordering::SeqCst) == 0 {
        tokio::task::yield_now().await;
    }
    let follower = tokio::spawn(async move {
        send_all(
            &app,
            vec![request(Method::GET, "/v1/quotes/AAPL", "acct-1", "*/*")],
        )
        .await
    });
    tokio::task::yield_now().await;
    leader.abort();
    let answers = follower.await.expect("follower");
    assert_eq!(answers, vec![(StatusCode::OK, "call 1".to_owned())]);
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}
