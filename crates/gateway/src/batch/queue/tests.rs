//! The batcher's gathering rules, on paused time.

use std::sync::Mutex;

use futures::future::join_all;
use tonic::Code;

use super::*;

/// Records every call's items and answers each item with itself, an item `"missing"` with
/// NOT_FOUND, after `delay`.
#[derive(Clone, Default)]
struct Echo {
    calls: Arc<Mutex<Vec<Vec<String>>>>,
    delay: Duration,
}

impl BatchCall for Echo {
    type Item = String;
    type Output = String;

    fn call(&self, items: Vec<String>) -> BatchFuture<String> {
        self.calls.lock().expect("calls lock").push(items.clone());
        let delay = self.delay;
        Box::pin(async move {
            tokio::time::sleep(delay).await;
            Ok(items
                .into_iter()
                .map(|item| match item.as_str() {
                    "missing" => Err(Status::not_found("unknown symbol missing")),
                    _ => Ok(item),
                })
                .collect())
        })
    }
}

impl Echo {
    fn calls(&self) -> Vec<Vec<String>> {
        self.calls.lock().expect("calls lock").clone()
    }
}

const WAIT: Duration = Duration::from_millis(10);

fn batcher(echo: &Echo, max_size: usize) -> Batcher<Echo> {
    let policy = BatchPolicy {
        max_size,
        wait: WAIT,
        max_in_flight: 4,
    };
    let labels = BatchLabels {
        batch: "test",
        tier: Tier::Shared,
    };
    Batcher::spawn(echo.clone(), policy, labels)
}

/// Submits `items` all at once, as concurrent requests do.
async fn submit_all(
    batcher: &Batcher<Echo>,
    items: &[&str],
) -> Vec<Result<(String, Duration), Status>> {
    join_all(items.iter().map(|item| batcher.submit((*item).to_owned()))).await
}

#[tokio::test(start_paused = true)]
async fn a_lone_item_is_flushed_without_waiting() {
    let echo = Echo::default();
    let batcher = batcher(&echo, 8);
    let started = Instant::now();
    let (answer, _) = batcher.submit("AAPL".to_owned()).await.expect("answer");
    assert_eq!(answer, "AAPL");
    assert_eq!(started.elapsed(), Duration::ZERO, "no added wait");
    assert_eq!(echo.calls(), vec![vec!["AAPL".to_owned()]]);
}

#[tokio::test(start_paused = true)]
async fn queued_items_are_flushed_together_within_the_wait() {
    let echo = Echo::default();
    let batcher = batcher(&echo, 8);
    let started = Instant::now();
    let answers = submit_all(&batcher, &["A", "B", "C"]).await;
    let answers: Vec<String> = answers
        .into_iter()
        .map(|answer| answer.expect("answer").0)
        .collect();
    assert_eq!(answers, ["A", "B", "C"]);
    assert_eq!(echo.calls(), vec![vec!["A", "B", "C"]]);
    // Not full, so the batch waited for company, but no longer than the wait.
    assert_eq!(started.elapsed(), WAIT);
}

#[tokio::test(start_paused = true)]
async fn a_full_batch_is_flushed_before_the_wait() {
    let echo = Echo::default();
    let batcher = batcher(&echo, 2);
    let started = Instant::now();
    let answers = submit_all(&batcher, &["A", "B", "C", "D"]).await;
    assert!(answers.iter().all(Result::is_ok));
    assert_eq!(echo.calls(), vec![vec!["A", "B"], vec!["C", "D"]]);
    assert_eq!(started.elapsed(), Duration::ZERO, "full batches never wait");
}

#[tokio::test(start_paused = true)]
async fn items_arriving_after_the_wait_go_to_the_next_batch() {
    let echo = Echo::default();
    let batcher = batcher(&echo, 8);
    let first = submit_all(&batcher, &["A", "B"]);
    let late = async {
        tokio::time::sleep(WAIT + Duration::from_millis(1)).await;
        batcher.submit("C".to_owned()).await
    };
    let (first, late) = tokio::join!(first, late);
    assert!(first.iter().all(Result::is_ok));
    assert_eq!(late.expect("late answer").0, "C");
    assert_eq!(echo.calls(), vec![vec!["A", "B"], vec!["C"]]);
}

#[tokio::test(start_paused = true)]
async fn equal_items_are_asked_once_and_answered_to_each() {
    let echo = Echo::default();
    let batcher = batcher(&echo, 8);
    let answers = submit_all(&batcher, &["A", "B", "A", "A"]).await;
    let answers: Vec<String> = answers
        .into_iter()
        .map(|answer| answer.expect("answer").0)
        .collect();
    assert_eq!(answers, ["A", "B", "A", "A"]);
    assert_eq!(echo.calls(), vec![vec!["A", "B"]]);
}

#[tokio::test(start_paused = true)]
async fn an_item_error_reaches_only_its_waiter() {
    let echo = Echo::default();
    let batcher = batcher(&echo, 8);
    let answers = submit_all(&batcher, &["A", "missing"]).await;
    assert_eq!(answers[0].as_ref().expect("A answered").0, "A");
    let error = answers[1].as_ref().expect_err("missing fails");
    assert_eq!(error.code(), Code::NotFound);
}

#[tokio::test(start_paused = true)]
async fn a_slow_call_does_not_stop_the_next_batch() {
    let echo = Echo {
        delay: Duration::from_secs(1),
        ..Echo::default()
    };
    let batcher = batcher(&echo, 1);
    let started = Instant::now();
    let answers = submit_all(&batcher, &["A", "B", "C"]).await;
    assert!(answers.iter().all(Result::is_ok));
    assert_eq!(echo.calls().len(), 3);
    // Three calls of one second each, concurrently.
    assert_eq!(started.elapsed(), Duration::from_secs(1));
}

#[tokio::test(start_paused = true)]
async fn while_every_call_is_busy_queued_items_form_the_next_batch() {
    let echo = Echo {
        delay: Duration::from_secs(1),
        ..Echo::default()
    };
    let policy = BatchPolicy {
        max_size: 8,
        wait: WAIT,
        max_in_flight: 1,
    };
    let labels = BatchLabels {
        batch: "test",
        tier: Tier::Premium,
    };
    let batcher = Batcher::spawn(echo.clone(), policy, labels);
    let first = tokio::spawn({
        let batcher = batcher.clone();
        async move { batcher.submit("A".to_owned()).await }
    });
    while echo.calls().is_empty() {
        tokio::task::yield_now().await;
    }
    let started = Instant::now();
    let later = submit_all(&batcher, &["B", "C", "D"]).await;
    assert!(later.iter().all(Result::is_ok));
    assert!(first.await.expect("first").is_ok());
    assert_eq!(echo.calls(), vec![vec!["A"], vec!["B", "C", "D"]]);
    // They waited for the first call to end, then for their own; the gathering wait had
    // passed by then.
    assert_eq!(started.elapsed(), Duration::from_secs(2));
}
