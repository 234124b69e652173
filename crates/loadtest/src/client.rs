//! Sending requests: the [`Client`] the load drivers use, its HTTP implementation, and the
//! set-up a scenario needs before the load (a portfolio per tier key).

use std::future::Future;
use std::time::Duration;

use anyhow::Context as _;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderValue};
use url::Url;

use crate::scenario::{PortfolioSetup, Prepared, Vars};
use crate::stats::Status;

/// Sends one prepared request and says how it ended. The drivers only need this, so their tests
/// can stand in a client with a known service time on a paused clock.
pub trait Client: Clone + Send + Sync + 'static {
    fn send(&self, request: Prepared) -> impl Future<Output = Status> + Send;
}

/// The REST gateway, with one tier's API key.
#[derive(Debug, Clone)]
pub struct HttpClient {
    http: reqwest::Client,
    base: Url,
    authorization: HeaderValue,
}

impl HttpClient {
    /// A client of `base` sending `key`, with `timeout` per request (connection included).
    pub fn new(base: &Url, key: &str, timeout: Duration) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .tcp_nodelay(true)
            .pool_max_idle_per_host(usize::MAX)
            .no_proxy()
            .build()
            .context("building the HTTP client")?;
        let mut authorization = HeaderValue::from_str(&format!("Bearer {key}"))
            .context("the API key is not a valid header value")?;
        authorization.set_sensitive(true);
        Ok(Self {
            http,
            base: base.clone(),
            authorization,
        })
    }

    fn request(&self, request: &Prepared) -> anyhow::Result<reqwest::RequestBuilder> {
        let url = self
            .base
            .join(&request.path)
            .with_context(|| format!("{:?} is not a valid path", request.path))?;
        let mut builder = self
            .http
            .request(request.method.clone(), url)
            .header(AUTHORIZATION, self.authorization.clone());
        for (name, value) in &request.headers {
            builder = builder.header(name, value);
        }
        if let Some(body) = &request.body {
            builder = builder
                .header(CONTENT_TYPE, "application/json")
                .body(body.clone());
        }
        Ok(builder)
    }

    /// Creates the scenario's portfolio for this key and buys its holdings; returns the
    /// placeholders it fills.
    pub async fn set_up(&self, portfolio: &PortfolioSetup, run: &str) -> anyhow::Result<Vars> {
        let create = Prepared {
            template: 0,
            method: reqwest::Method::POST,
            path: "/v1/portfolios".to_owned(),
            headers: Vec::new(),
            body: Some(
                serde_json::json!({
                    "name": format!("loadtest {run}"),
                    "base_currency": "USD",
                    "cash": portfolio.cash,
                })
                .to_string(),
            ),
        };
        let created = self.call(&create).await.context("creating the portfolio")?;
        let id = created["id"]
            .as_str()
            .context("the created portfolio has no id")?
            .to_owned();
        for (index, holding) in portfolio.holdings.iter().enumerate() {
            let buy = Prepared {
                template: 0,
                method: reqwest::Method::POST,
                path: format!("/v1/portfolios/{id}/orders"),
                headers: vec![(
                    "Idempotency-Key".to_owned(),
                    format!("loadtest-setup-{index}"),
                )],
                body: Some(
                    serde_json::json!({
                        "symbol": holding.symbol,
                        "side": "ORDER_SIDE_BUY",
                        "quantity": holding.quantity,
                        "type": "ORDER_TYPE_MARKET",
                    })
                    .to_string(),
                ),
            };
            self.call(&buy)
                .await
                .with_context(|| format!("buying {} {}", holding.quantity, holding.symbol))?;
        }
        Ok(Vars {
            portfolio: Some(id),
        })
    }

    /// Sends a set-up request; anything but a 2xx answer is an error carrying the body.
    async fn call(&self, request: &Prepared) -> anyhow::Result<serde_json::Value> {
        let response = self.request(request)?.send().await?;
        let status = response.status();
        let body = response.text().await?;
        anyhow::ensure!(
            status.is_success(),
            "{} {} answered {status}: {body}",
            request.method,
            request.path
        );
        serde_json::from_str(&body).with_context(|| format!("the answer is not JSON: {body}"))
    }
}

impl Client for HttpClient {
    async fn send(&self, request: Prepared) -> Status {
        let Ok(builder) = self.request(&request) else {
            return Status::Transport;
        };
        let response = match builder.send().await {
            Ok(response) => response,
            Err(error) => return status_of(&error),
        };
        let status = Status::Http(response.status().as_u16());
        // The answer counts once its whole body has arrived.
        match response.bytes().await {
            Ok(_) => status,
            Err(error) => status_of(&error),
        }
    }
}

fn status_of(error: &reqwest::Error) -> Status {
    if error.is_timeout() {
        Status::Timeout
    } else {
        Status::Transport
    }
}
