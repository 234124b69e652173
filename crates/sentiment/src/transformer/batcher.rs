//! The micro-batcher: one worker thread owns the model and joins concurrent requests into
//! forward passes of bounded size, routing each request's results back to it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use tokio::sync::oneshot;

use super::model::{ModelError, SequenceClassifier};
use crate::error::SentimentError;
use crate::scorer::Score;

/// How requests are joined into forward passes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchConfig {
    /// The most texts in one forward pass.
    pub max_batch: usize,
    /// How long the first request of a batch waits for others to join it. Zero still joins
    /// whatever is already queued when the worker becomes free.
    pub max_wait: Duration,
}

impl Default for BatchConfig {
    fn default() -> Self {
        Self {
            max_batch: 32,
            max_wait: Duration::from_millis(5),
        }
    }
}

/// One caller's texts and where its scores go.
struct Job {
    texts: Vec<String>,
    reply: oneshot::Sender<Result<Vec<Score>, SentimentError>>,
}

/// The handle requests go through; the worker stops when it is dropped.
#[derive(Debug)]
pub(super) struct Batcher {
    jobs: mpsc::Sender<Job>,
    /// Forward passes run so far.
    passes: Arc<AtomicU64>,
}

impl Batcher {
    /// Starts the worker thread that owns `model`.
    pub(super) fn start(
        model: SequenceClassifier,
        config: BatchConfig,
    ) -> Result<Self, ModelError> {
        let (jobs, queue) = mpsc::channel::<Job>();
        let config = BatchConfig {
            max_batch: config.max_batch.max(1),
            ..config
        };
        let passes = Arc::new(AtomicU64::new(0));
        let counter = passes.clone();
        std::thread::Builder::new()
            .name("sentiment-transformer".into())
            .spawn(move || worker(&model, &queue, config, &counter))
            .map_err(|e| ModelError::Inference(format!("starting the worker thread: {e}")))?;
        Ok(Self { jobs, passes })
    }

    /// Forward passes run so far.
    pub(super) fn passes(&self) -> u64 {
        self.passes.load(Ordering::Relaxed)
    }

    /// Scores `texts` in the next forward passes, in order.
    pub(super) async fn score(&self, texts: Vec<String>) -> Result<Vec<Score>, SentimentError> {
        let (reply, answer) = oneshot::channel();
        let stopped = || SentimentError::Scorer("the transformer worker stopped".into());
        self.jobs
            .send(Job { texts, reply })
            .map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

/// Runs until every [`Batcher`] handle is dropped.
fn worker(
    model: &SequenceClassifier,
    queue: &mpsc::Receiver<Job>,
    config: BatchConfig,
    passes: &AtomicU64,
) {
    while let Ok(first) = queue.recv() {
        let mut jobs = vec![first];
        let mut queued: usize = jobs[0].texts.len();
        let deadline = Instant::now() + config.max_wait;
        while queued < config.max_batch {
            let next = match deadline.checked_duration_since(Instant::now()) {
                Some(left) if !left.is_zero() => queue.recv_timeout(left).ok(),
                _ => queue.try_recv().ok(),
            };
            let Some(job) = next else { break };
            queued += job.texts.len();
            jobs.push(job);
        }
        run(model, jobs, config.max_batch, passes);
    }
}

/// Scores every job's texts in passes of at most `max_batch` and answers each job.
fn run(model: &SequenceClassifier, jobs: Vec<Job>, max_batch: usize, passes: &AtomicU64) {
    let texts: Vec<String> = jobs
        .iter()
        .flat_map(|job| job.texts.iter().cloned())
        .collect();
    let mut scores = Vec::with_capacity(texts.len());
    let mut failure = None;
    for chunk in texts.chunks(max_batch) {
        passes.fetch_add(1, Ordering::Relaxed);
        match model.score_batch(chunk) {
            Ok(chunk_scores) => scores.extend(chunk_scores),
            Err(error) => {
                failure = Some(error.to_string());
                break;
            }
        }
    }
    metrics::histogram!(BATCH_TEXTS).record(texts.len() as f64);
    let mut scores = scores.into_iter();
    for job in jobs {
        let answer = match &failure {
            Some(reason) => Err(SentimentError::Scorer(reason.clone())),
            None => Ok(scores.by_ref().take(job.texts.len()).collect()),
        };
        // A caller that went away no longer wants its answer.
        let _ = job.reply.send(answer);
    }
}

/// Histogram of texts per worker round (one or more forward passes).
pub const BATCH_TEXTS: &str = "bourse_sentiment_transformer_batch_texts";
