//! `GET /v1/bars/{symbol}`: OHLCV history as one JSON page (AIP-158), or, when the client's
//! `Accept` prefers `text/csv`, the whole window as one streamed CSV.
//!
//! The CSV is written page by page as the service answers, following `next_page_token` on the
//! server, so memory stays at one page however long the window. The first page is fetched before
//! the response starts, so a bad request or an unknown symbol is still an ordinary problem
//! response; a failure on a later page can only cut the body short, which the client sees as an
//! incomplete transfer (no final chunk), and it is logged.

use std::fmt::Write as _;
use std::sync::Arc;

use axum::Extension;
use axum::body::Body;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::Response;
use bourse_proto::market_data::v1::{Bar, ListBarsRequest, ListBarsResponse};
use bourse_proto::time::{from_timestamp, to_timestamp};
use bytes::Bytes;
use chrono::DateTime;
use futures::{Stream, StreamExt as _, stream};
use pbjson_types::Timestamp;
use serde::Deserialize;
use tonic::Code;

use super::{MarketDataClient, caching, client};
use crate::GatewayState;
use crate::backend::{request_for, timed};
use crate::keys::Caller;
use crate::observe::BackendTime;
use crate::problem::Problem;
use crate::routes::query;

/// The first line of a bars CSV.
pub const CSV_HEADER: &str = "ts,open,high,low,close,volume,vwap,trades\n";

/// Query parameters of `GET /v1/bars/{symbol}`; see `ListBarsRequest` for their values.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BarsParams {
    #[serde(default)]
    pub interval: String,
    /// Inclusive start, RFC 3339 (e.g. `2022-01-03T00:00:00Z`; an offset's `+` must be sent
    /// as `%2B`).
    pub start: Option<String>,
    /// Exclusive end, RFC 3339.
    pub end: Option<String>,
    #[serde(default)]
    pub period: String,
    #[serde(default)]
    pub adjustment: String,
    #[serde(default)]
    pub page_size: i32,
    #[serde(default)]
    pub page_token: String,
}

impl BarsParams {
    /// The `ListBars` request for `symbol`, or a 400 naming a malformed timestamp.
    pub fn into_request(self, symbol: String) -> Result<ListBarsRequest, Problem> {
        Ok(ListBarsRequest {
            symbol,
            interval: self.interval,
            start: timestamp("start", self.start.as_deref())?,
            end: timestamp("end", self.end.as_deref())?,
            period: self.period,
            adjustment: self.adjustment,
            page_size: self.page_size,
            page_token: self.page_token,
        })
    }
}

fn timestamp(field: &str, raw: Option<&str>) -> Result<Option<Timestamp>, Problem> {
    raw.filter(|raw| !raw.is_empty())
        .map(|raw| {
            DateTime::parse_from_rfc3339(raw)
                .map(|time| to_timestamp(time.to_utc()))
                .map_err(|error| {
                    Problem::new(
                        Code::InvalidArgument,
                        format!("{field}: {raw:?} is not an RFC 3339 timestamp ({error})"),
                    )
                })
        })
        .transpose()
}

/// `GET /v1/bars/{symbol}?interval=&start=&end=&period=&adjustment=&page_size=&page_token=`.
pub async fn list_bars(
    State(state): State<Arc<GatewayState>>,
    Extension(caller): Extension<Caller>,
    headers: HeaderMap,
    Path(symbol): Path<String>,
    params: Result<Query<BarsParams>, QueryRejection>,
) -> Result<Response, Problem> {
    let Query(params) = query(params)?;
    let message = params.into_request(symbol)?;
    let mut client = client(&state, &caller);
    let (page, backend) = timed(client.list_bars(request_for(&caller, message.clone())?)).await?;
    let mut response = if wants_csv(&headers) {
        csv_response(client, caller, message, page, backend)
    } else {
        caching::json_response(&page, backend, caching::BARS, Some(&headers))?
    };
    response
        .headers_mut()
        .insert(header::VARY, HeaderValue::from_static("accept"));
    Ok(response)
}

/// Whether `Accept` asks for `text/csv` at least as much as for JSON (`q=0` refuses it).
pub fn wants_csv(headers: &HeaderMap) -> bool {
    let mut csv = 0.0_f32;
    let mut json = 0.0_f32;
    for range in headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
    {
        let mut parts = range.split(';').map(str::trim);
        let media = parts.next().unwrap_or_default().to_ascii_lowercase();
        let weight = parts
            .filter_map(|param| param.strip_prefix("q="))
            .find_map(|q| q.parse::<f32>().ok())
            .unwrap_or(1.0);
        match media.as_str() {
            "text/csv" => csv = csv.max(weight),
            "application/json" => json = json.max(weight),
            _ => {}
        }
    }
    csv > 0.0 && csv >= json
}

/// The streamed CSV of the whole window, starting with `first`.
fn csv_response(
    client: MarketDataClient,
    caller: Caller,
    message: ListBarsRequest,
    first: ListBarsResponse,
    backend: std::time::Duration,
) -> Response {
    let header = stream::once(async { Ok(Bytes::from_static(CSV_HEADER.as_bytes())) });
    let body = Body::from_stream(header.chain(csv_pages(client, caller, message, first)));
    let mut response = Response::new(body);
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(caching::BARS),
    );
    response.extensions_mut().insert(BackendTime(backend));
    response
}

/// What the CSV stream does next.
enum Step {
    /// Write a page already fetched.
    Write(ListBarsResponse),
    /// Fetch the page with this token.
    Fetch(String),
    Done,
}

/// The CSV lines of `first` and of every page after it, one chunk per page.
fn csv_pages(
    client: MarketDataClient,
    caller: Caller,
    message: ListBarsRequest,
    first: ListBarsResponse,
) -> impl Stream<Item = Result<Bytes, std::io::Error>> + Send {
    stream::unfold(
        (Step::Write(first), client, caller, message),
        |(step, mut client, caller, mut message)| async move {
            let page = match step {
                Step::Done => return None,
                Step::Write(page) => page,
                Step::Fetch(token) => {
                    message.page_token = token;
                    match fetch(&mut client, &caller, message.clone()).await {
                        Ok(page) => page,
                        Err(error) => {
                            tracing::warn!(%error, symbol = message.symbol, "bars CSV cut short");
                            let error = std::io::Error::other(error);
                            return Some((Err(error), (Step::Done, client, caller, message)));
                        }
                    }
                }
            };
            let next = if page.next_page_token.is_empty() {
                Step::Done
            } else {
                Step::Fetch(page.next_page_token.clone())
            };
            Some((Ok(csv_lines(&page.bars)), (next, client, caller, message)))
        },
    )
}

async fn fetch(
    client: &mut MarketDataClient,
    caller: &Caller,
    message: ListBarsRequest,
) -> Result<ListBarsResponse, String> {
    let request = request_for(caller, message).map_err(|problem| problem.detail)?;
    client
        .list_bars(request)
        .await
        .map(tonic::Response::into_inner)
        .map_err(|status| format!("{:?}: {}", status.code(), status.message()))
}

/// One CSV line per bar; an absent `vwap` or `trades` is an empty cell. `ts` is written as the
/// JSON form writes it (RFC 3339, UTC as `+00:00`), so both forms of a bar agree.
pub fn csv_lines(bars: &[Bar]) -> Bytes {
    let mut out = String::with_capacity(bars.len() * 96);
    for bar in bars {
        let ts = bar
            .ts
            .as_ref()
            .and_then(from_timestamp)
            .map(|t| t.to_rfc3339())
            .unwrap_or_default();
        let vwap = bar.vwap.map(|v| v.to_string()).unwrap_or_default();
        let trades = bar.trades.map(|t| t.to_string()).unwrap_or_default();
        // Writing to a String cannot fail.
        let _ = writeln!(
            out,
            "{ts},{},{},{},{},{},{vwap},{trades}",
            bar.open, bar.high, bar.low, bar.close, bar.volume
        );
    }
    Bytes::from(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accept(value: &'static str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT, HeaderValue::from_static(value));
        headers
    }

    #[test]
    fn csv_is_chosen_only_when_asked_for() {
        assert!(wants_csv(&accept("text/csv")));
        assert!(wants_csv(&accept("application/json;q=0.5, text/csv")));
        assert!(!wants_csv(&accept("application/json, text/csv;q=0.9")));
        assert!(!wants_csv(&accept("text/csv;q=0")));
        assert!(!wants_csv(&accept("*/*")));
        assert!(!wants_csv(&HeaderMap::new()));
    }

    #[test]
    fn a_bar_is_one_line_with_empty_optional_cells() {
        let bar = Bar {
            ts: Some(Timestamp {
                seconds: 1_672_185_600,
                nanos: 0,
            }),
            open: 1.5,
            high: 2.0,
            low: 1.0,
            close: 125.674,
            volume: 1000.0,
            vwap: None,
            trades: Some(7),
        };
        assert_eq!(
            csv_lines(&[bar]),
            "2022-12-28T00:00:00+00:00,1.5,2,1,125.674,1000,,7\n"
        );
    }
}
