//! The harness: real market-data, portfolio and sentiment instances per tier pool on loopback,
//! each recording the gRPC calls it receives, behind a gateway built from [`GatewayArgs`].
//!
//! An instance is the service's real implementation on the test's SQLite store (demo data
//! loaded), wrapped in a [`Recorder`] layer that notes every call's method, tier and request
//! message and can delay calls (so concurrent requests overlap) or be stopped (so a pool goes
//! down). The risk pools point at a closed port: no test here needs them.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use bourse_cache::{Cache, CacheConfig};
use bourse_gateway::keys;
use bourse_gateway::{GatewayArgs, GatewayState};
use bourse_market_data::demo;
use bourse_market_data::import::{self, BarImport, ImportOptions};
use bourse_market_data::{MarketData, QuoteBus};
use bourse_portfolio::{MarketDataClient, PortfolioBook};
use bourse_proto::market_data::v1::market_data_service_server::MarketDataServiceServer;
use bourse_proto::portfolio::v1::portfolio_service_server::PortfolioServiceServer;
use bourse_proto::sentiment::v1::sentiment_service_server::SentimentServiceServer;
use bourse_runtime::grpc_client::ClientConfig;
use bourse_runtime::tier::{TIER_METADATA_KEY, Tier};
use bourse_runtime::upstream::{MarketDataPools, PortfolioPools, RiskPools, SentimentPools};
use bourse_test_support::{TestDb, sqlite_db};
use bytes::Bytes;
use futures::future::BoxFuture;
use http_body_util::{BodyExt as _, Full};
use prost::Message;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// The services the harness runs instances of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Service {
    MarketData,
    Portfolio,
    Sentiment,
}

impl Service {
    pub(crate) const ALL: [Service; 3] = [Self::MarketData, Self::Portfolio, Self::Sentiment];
}

/// One gRPC call as an instance received it.
#[derive(Debug, Clone)]
pub(crate) struct Call {
    /// The method name, e.g. `GetQuote`.
    pub(crate) method: String,
    /// The tier the gateway marked the call with.
    pub(crate) tier: Option<Tier>,
    /// The request message, without the gRPC frame header.
    pub(crate) message: Bytes,
}

/// What one instance has received, and how it treats the next calls.
#[derive(Debug, Default)]
pub(crate) struct Recorder {
    calls: Mutex<Vec<Call>>,
    delay: Mutex<Duration>,
}

impl Recorder {
    /// Every call received so far, health checks excluded.
    pub(crate) fn calls(&self) -> Vec<Call> {
        self.calls
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The calls of `method` received so far.
    pub(crate) fn calls_of(&self, method: &str) -> Vec<Call> {
        self.calls()
            .into_iter()
            .filter(|call| call.method == method)
            .collect()
    }

    /// The request messages of every `method` call, decoded.
    pub(crate) fn messages<M: Message + Default>(&self, method: &str) -> Vec<M> {
        self.calls_of(method)
            .iter()
            .map(|call| M::decode(call.message.clone()).expect("a well-formed request message"))
            .collect()
    }

    /// Forgets the calls received so far.
    pub(crate) fn clear(&self) {
        self.calls
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }

    /// Delays every following call by `delay` before the service handles it.
    pub(crate) fn set_delay(&self, delay: Duration) {
        *self.delay.lock().unwrap_or_else(PoisonError::into_inner) = delay;
    }

    /// Notes `call` and says how long to hold it. Health checks are neither noted nor held: the
    /// gateway's pools must keep seeing the instance as healthy.
    fn record(&self, call: Call) -> Duration {
        if call.method == "Check" || call.method == "Watch" {
            return Duration::ZERO;
        }
        self.calls
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(call);
        *self.delay.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The tower layer that feeds a [`Recorder`].
#[derive(Debug, Clone)]
struct RecordLayer(Arc<Recorder>);

impl<S> tower::Layer<S> for RecordLayer {
    type Service = Recording<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Recording {
            inner,
            recorder: self.0.clone(),
        }
    }
}

#[derive(Debug, Clone)]
struct Recording<S> {
    inner: S,
    recorder: Arc<Recorder>,
}

impl<S> tower::Service<http::Request<tonic::body::Body>> for Recording<S>
where
    S: tower::Service<http::Request<tonic::body::Body>> + Clone + Send + 'static,
    S::Future: Send,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<S::Response, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<tonic::body::Body>) -> Self::Future {
        // The ready service is used for this call; a clone takes its place for the next.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let recorder = self.recorder.clone();
        Box::pin(async move {
            let (parts, body) = request.into_parts();
            // Unary and server-streaming requests carry one message: read it whole.
            let bytes = body
                .collect()
                .await
                .map(|collected| collected.to_bytes())
                .unwrap_or_default();
            let method = parts.uri.path().rsplit('/').next().unwrap_or("").to_owned();
            let tier = parts
                .headers
                .get(TIER_METADATA_KEY)
                .and_then(|value| value.to_str().ok())
                .and_then(|value| value.parse().ok());
            let message = bytes.slice(bytes.len().min(5)..);
            let delay = recorder.record(Call {
                method,
                tier,
                message,
            });
            if !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
            let request =
                http::Request::from_parts(parts, tonic::body::Body::new(Full::new(bytes)));
            inner.call(request).await
        })
    }
}

/// One running service instance.
#[derive(Debug)]
pub(crate) struct Instance {
    pub(crate) service: Service,
    pub(crate) tier: Tier,
    pub(crate) addr: SocketAddr,
    pub(crate) recorder: Arc<Recorder>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl Instance {
    /// `http://addr`, as pools list it.
    pub(crate) fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops serving and closes the connections already open (HTTP/2 GOAWAY), so a client
    /// holding one sees the instance go away; later connections are refused. Aborts the server
    /// when it has not closed within [`STOP_GRACE`].
    pub(crate) async fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(mut task) = self.task.take()
            && tokio::time::timeout(STOP_GRACE, &mut task).await.is_err()
        {
            task.abort();
            let _ = task.await;
        }
    }
}

/// How long [`Instance::stop`] waits for the server to close its connections.
const STOP_GRACE: Duration = Duration::from_secs(2);

/// How to start a [`Platform`].
#[derive(Debug, Clone)]
pub(crate) struct Setup {
    /// Instances per tier pool of each service.
    pub(crate) per_pool: usize,
    /// Redis for the gateway's rate limits, if any.
    pub(crate) redis_url: Option<String>,
}

impl Default for Setup {
    fn default() -> Self {
        Self {
            per_pool: 1,
            redis_url: None,
        }
    }
}

/// A running gateway replica.
#[derive(Debug)]
pub(crate) struct Gateway {
    pub(crate) addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl Gateway {
    /// The absolute URL of `path` on this replica.
    pub(crate) fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Stops the replica, letting in-flight requests finish.
    pub(crate) async fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

/// Instances of every service and tier, a gateway in front, and one API key per tier.
#[derive(Debug)]
pub(crate) struct Platform {
    pub(crate) instances: Vec<Instance>,
    pub(crate) gateway: Gateway,
    pub(crate) shared_key: String,
    pub(crate) premium_key: String,
    pub(crate) http: reqwest::Client,
    /// A port nothing listens on, for pools that must not be reached.
    pub(crate) closed_endpoint: String,
    pub(crate) redis_url: Option<String>,
    /// Declared last: the store outlives everything that uses it.
    pub(crate) db: TestDb,
}

impl Platform {
    /// One instance per tier pool, default gateway options.
    pub(crate) async fn start() -> Self {
        Self::start_with(Setup::default(), |_| {}).await
    }

    /// Instances as `setup` says, and a gateway whose options `configure` may change (its pools
    /// are already the instances).
    pub(crate) async fn start_with(setup: Setup, configure: impl FnOnce(&mut GatewayArgs)) -> Self {
        let db = sqlite_db().await;
        load_recent_demo(&db).await;
        let closed_endpoint = closed_endpoint().await;
        let cache = Cache::in_process(CacheConfig::default());
        let mut instances = Vec::new();
        for service in Service::ALL {
            for tier in Tier::ALL {
                for _ in 0..setup.per_pool {
                    // Portfolio instances find market data through the pools started so far.
                    let market_data = pools_of(&instances, Service::MarketData);
                    let instance = start_instance(service, tier, &db, &cache, market_data).await;
                    instances.push(instance);
                }
            }
        }
        let mut platform = Self {
            instances,
            gateway: Gateway {
                addr: SocketAddr::from(([127, 0, 0, 1], 0)),
                stop: None,
                task: None,
            },
            shared_key: String::new(),
            premium_key: String::new(),
            http: reqwest::Client::new(),
            closed_endpoint,
            redis_url: setup.redis_url,
            db,
        };
        let mut args = platform.gateway_args();
        configure(&mut args);
        platform.gateway = platform.start_gateway(&args).await;
        platform.shared_key = platform.key(Tier::Shared, None).await;
        platform.premium_key = platform.key(Tier::Premium, None).await;
        platform
    }

    /// Gateway options whose pools are this platform's instances (risk: a closed port).
    pub(crate) fn gateway_args(&self) -> GatewayArgs {
        let pool = |service, tier| {
            self.instances
                .iter()
                .filter(|instance| instance.service == service && instance.tier == tier)
                .map(Instance::endpoint)
                .collect::<Vec<_>>()
        };
        GatewayArgs {
            market_data: MarketDataPools {
                market_data_shared: pool(Service::MarketData, Tier::Shared),
                market_data_premium: pool(Service::MarketData, Tier::Premium),
            },
            portfolio: PortfolioPools {
                portfolio_shared: pool(Service::Portfolio, Tier::Shared),
                portfolio_premium: pool(Service::Portfolio, Tier::Premium),
            },
            risk: RiskPools {
                risk_shared: vec![self.closed_endpoint.clone()],
                risk_premium: vec![self.closed_endpoint.clone()],
            },
            sentiment: SentimentPools {
                sentiment_shared: pool(Service::Sentiment, Tier::Shared),
                sentiment_premium: pool(Service::Sentiment, Tier::Premium),
            },
            ..GatewayArgs::default()
        }
    }

    /// Starts another gateway replica with `args` on the same store and Redis.
    pub(crate) async fn start_gateway(&self, args: &GatewayArgs) -> Gateway {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a loopback port");
        let addr = listener.local_addr().expect("bound address");
        let state = GatewayState::new(args, self.db.db.clone(), self.redis_url.as_deref())
            .expect("the gateway state builds");
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let shutdown = async {
                let _ = stopped.await;
            };
            bourse_gateway::serve(listener, Arc::new(state), shutdown)
                .await
                .expect("the gateway serves");
        });
        Gateway {
            addr,
            stop: Some(stop),
            task: Some(task),
        }
    }

    /// A new API key of `tier` for account `demo`, with its own rate limit when given.
    pub(crate) async fn key(&self, tier: Tier, rate_limit_per_second: Option<i32>) -> String {
        self.key_for("demo", tier, rate_limit_per_second).await
    }

    /// A new API key of `tier` for `account`.
    pub(crate) async fn key_for(
        &self,
        account: &str,
        tier: Tier,
        rate_limit_per_second: Option<i32>,
    ) -> String {
        keys::create(&self.db.db, account, tier, rate_limit_per_second)
            .await
            .expect("the key is created")
            .key
    }

    /// A GET of `path` on the main gateway with `key`.
    pub(crate) fn get(&self, key: &str, path: &str) -> reqwest::RequestBuilder {
        self.http.get(self.gateway.url(path)).bearer_auth(key)
    }

    /// A POST of `path` on the main gateway with `key`.
    pub(crate) fn post(&self, key: &str, path: &str) -> reqwest::RequestBuilder {
        self.http.post(self.gateway.url(path)).bearer_auth(key)
    }

    /// The instances of one service and tier.
    pub(crate) fn pool(&self, service: Service, tier: Tier) -> Vec<&Instance> {
        self.instances
            .iter()
            .filter(|instance| instance.service == service && instance.tier == tier)
            .collect()
    }

    /// Stops every instance of one service and tier.
    pub(crate) async fn stop_pool(&mut self, service: Service, tier: Tier) {
        for instance in &mut self.instances {
            if instance.service == service && instance.tier == tier {
                instance.stop().await;
            }
        }
    }

    /// Every call the instances of one service and tier received.
    pub(crate) fn calls(&self, service: Service, tier: Tier) -> Vec<Call> {
        self.pool(service, tier)
            .into_iter()
            .flat_map(|instance| instance.recorder.calls())
            .collect()
    }

    /// Forgets every instance's calls (e.g. the portfolio instances' start-up reads).
    pub(crate) fn clear_calls(&self) {
        for instance in &self.instances {
            instance.recorder.clear();
        }
    }

    /// Stops the gateway and every instance.
    pub(crate) async fn stop(mut self) {
        self.gateway.stop().await;
        for instance in &mut self.instances {
            instance.stop().await;
        }
    }
}

/// The market-data pools made of `instances` so far.
fn pools_of(instances: &[Instance], service: Service) -> MarketDataPools {
    let pool = |tier| {
        instances
            .iter()
            .filter(|instance| instance.service == service && instance.tier == tier)
            .map(Instance::endpoint)
            .collect::<Vec<_>>()
    };
    MarketDataPools {
        market_data_shared: pool(Tier::Shared),
        market_data_premium: pool(Tier::Premium),
    }
}

/// The demo instruments and their last weeks of daily bars: every symbol has a quote, and the
/// store loads in a fraction of the time the whole history takes.
async fn load_recent_demo(db: &TestDb) {
    let data = demo::build().expect("the vendored demo data");
    let newest = data.bars.iter().map(|bar| bar.ts).max().expect("demo bars");
    let since = newest - chrono::Duration::days(RECENT_DAYS);
    let bars: Vec<_> = data
        .bars
        .into_iter()
        .filter(|bar| bar.ts >= since)
        .collect();
    let options = ImportOptions {
        all_or_nothing: true,
        max_buffered_rows: bars.len(),
    };
    let instruments =
        import::import_instruments(&db.db, data.instruments.into_iter().map(Ok), options)
            .await
            .expect("the demo instruments import");
    assert!(!instruments.refused, "demo instruments refused");
    let mut import = BarImport::new(db.db.clone(), options);
    import
        .push(bars.into_iter().map(Ok))
        .await
        .expect("the demo bars import");
    let report = import.finish().await.expect("the demo bars import");
    assert!(!report.refused, "demo bars refused");
}

/// How many days of demo history the harness loads.
const RECENT_DAYS: i64 = 20;

/// `http://127.0.0.1:PORT` where nothing listens.
async fn closed_endpoint() -> String {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind a loopback port");
    let addr = listener.local_addr().expect("bound address");
    drop(listener);
    format!("http://{addr}")
}

async fn start_instance(
    service: Service,
    tier: Tier,
    db: &TestDb,
    cache: &Cache,
    market_data: MarketDataPools,
) -> Instance {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind a loopback port");
    let addr = listener.local_addr().expect("bound address");
    let recorder = Arc::new(Recorder::default());
    let (health, health_service) = tonic_health::server::health_reporter();
    // `health_reporter` serves "" as SERVING already; keep the reporter alive with the server.
    let router = tonic::transport::Server::builder()
        .layer(RecordLayer(recorder.clone()))
        .add_service(health_service);
    let router =
        match service {
            Service::MarketData => router.add_service(MarketDataServiceServer::new(
                MarketData::new(db.db.clone(), cache.clone(), QuoteBus::default()),
            )),
            Service::Portfolio => {
                let quotes = MarketDataClient::new(&market_data, &ClientConfig::default())
                    .expect("market-data clients");
                let book =
                    PortfolioBook::new(db.db.clone(), Arc::new(quotes)).with_cache(cache.clone());
                router.add_service(PortfolioServiceServer::new(book))
            }
            Service::Sentiment => {
                let sentiment = bourse_sentiment::args::SentimentArgs::default()
                    .build(db.db.clone(), cache.clone())
                    .expect("the sentiment service builds");
                router.add_service(SentimentServiceServer::new(sentiment))
            }
        };
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let _health = health;
        let shutdown = async {
            let _ = stopped.await;
        };
        router
            // Accepted as the real servers accept (TCP_NODELAY).
            .serve_with_incoming_shutdown(bourse_runtime::grpc_server::incoming(listener), shutdown)
            .await
            .expect("the instance serves");
    });
    Instance {
        service,
        tier,
        addr,
        recorder,
        stop: Some(stop),
        task: Some(task),
    }
}
