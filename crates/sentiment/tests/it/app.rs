//! [`TestApp`]: the sentiment service on a loopback port, with a scorer that counts its calls.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use bourse_cache::{Cache, CacheConfig};
use bourse_proto::sentiment::v1::sentiment_service_client::SentimentServiceClient;
use bourse_runtime::grpc_server::GrpcServerConfig;
use bourse_sentiment::error::SentimentError;
use bourse_sentiment::text::DEFAULT_MAX_TEXT_CHARS;
use bourse_sentiment::{LexiconScorer, Predictor, Score, Scorer, Sentiment};
use bourse_store::Db;
use bourse_test_support::grpc::{Served, serve_on_loopback};
use tonic::transport::Channel;

/// The lexicon scorer, counting the texts it is asked to score (cache misses).
#[derive(Debug, Default)]
pub(crate) struct CountingScorer {
    inner: LexiconScorer,
    pub(crate) texts_scored: AtomicUsize,
    pub(crate) calls: AtomicUsize,
}

#[tonic::async_trait]
impl Scorer for CountingScorer {
    fn model_id(&self) -> &str {
        self.inner.model_id()
    }

    async fn score_many(&self, texts: Vec<String>) -> Result<Vec<Score>, SentimentError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        self.texts_scored.fetch_add(texts.len(), Ordering::SeqCst);
        self.inner.score_many(texts).await
    }
}

/// A running sentiment service and a client of it.
pub(crate) struct TestApp {
    pub(crate) client: SentimentServiceClient<Channel>,
    pub(crate) scorer: Arc<CountingScorer>,
    pub(crate) served: Served<bourse_runtime::grpc_server::ServeError>,
}

impl TestApp {
    /// Starts the service on `db` with an in-process cache and the given text limit.
    pub(crate) async fn start(db: &Db, max_text_chars: usize) -> Self {
        let scorer = Arc::new(CountingScorer::default());
        let cache = Cache::in_process(CacheConfig::default());
        let predictor = Predictor::new(scorer.clone(), cache);
        let sentiment = Sentiment::new(db.clone(), predictor, max_text_chars);
        let served = serve_on_loopback(move |listener, shutdown| {
            bourse_sentiment::serve_service(
                listener,
                sentiment,
                GrpcServerConfig::default(),
                shutdown,
            )
        })
        .await;
        Self {
            client: SentimentServiceClient::new(served.channel.clone()),
            scorer,
            served,
        }
    }

    /// Starts the service with the default limits.
    pub(crate) async fn start_default(db: &Db) -> Self {
        Self::start(db, DEFAULT_MAX_TEXT_CHARS).await
    }

    pub(crate) fn texts_scored(&self) -> usize {
        self.scorer.texts_scored.load(Ordering::SeqCst)
    }

    pub(crate) fn scorer_calls(&self) -> usize {
        self.scorer.calls.load(Ordering::SeqCst)
    }
}
