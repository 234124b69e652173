//! gRPC client plumbing: channels to a pool of service replicas, trace-context and tier
//! propagation, and deadline budgets.
//!
//! A service calling another builds one [`channel`] at start-up (no connection is made until the
//! first call), wraps its generated client with [`Propagate`] so the trace continues, marks each
//! request's tier with [`with_tier`] and passes on what is left of its own deadline with
//! [`remaining_deadline`] and `Request::set_timeout`.

use std::time::Duration;

use tonic::Request;
use tonic::metadata::MetadataValue;
use tonic::transport::{Channel, Endpoint};
use tracing_opentelemetry::OpenTelemetrySpanExt as _;

use crate::tier::{TIER_METADATA_KEY, Tier};
use crate::trace_context::MetadataInjector;

/// Timeouts of the channels a service opens to other services.
#[derive(Clone, Debug)]
pub struct ClientConfig {
    /// Longest wait for a TCP connection to one replica.
    pub connect_timeout: Duration,
    /// Longest a call may take end to end, unless the request carries a shorter deadline. Not
    /// sent to the server: use `Request::set_timeout` for that.
    pub request_timeout: Duration,
    /// HTTP/2 ping interval, so dead connections are noticed while idle.
    pub keepalive_interval: Duration,
}

impl Default for ClientConfig {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(1),
            request_timeout: Duration::from_secs(5),
            keepalive_interval: Duration::from_secs(30),
        }
    }
}

/// Why a channel could not be built.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// No endpoint was given.
    #[error("no endpoints given: expected at least one http://host:port")]
    NoEndpoints,
    /// An endpoint is not an `http://host:port` URI.
    #[error("invalid gRPC endpoint {endpoint:?}: {reason} (expected http://host:port)")]
    InvalidEndpoint {
        /// The endpoint as given.
        endpoint: String,
        /// What is wrong with it.
        reason: String,
    },
}

/// A channel that balances calls over every endpoint, connecting lazily.
///
/// Must be called inside a Tokio runtime (the balancer runs as a task). Replicas that cannot be
/// reached are skipped by the balancer; calls fail with `UNAVAILABLE` only when none can.
///
/// # Errors
/// No endpoints, or an endpoint that is not an absolute `http://host:port` URI (TLS is not
/// built in).
pub fn channel(endpoints: &[String], config: &ClientConfig) -> Result<Channel, ClientError> {
    if endpoints.is_empty() {
        return Err(ClientError::NoEndpoints);
    }
    let endpoints = endpoints
        .iter()
        .map(|endpoint| parse_endpoint(endpoint, config))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Channel::balance_list(endpoints.into_iter()))
}

fn parse_endpoint(endpoint: &str, config: &ClientConfig) -> Result<Endpoint, ClientError> {
    Ok(configure(Endpoint::from(parse_uri(endpoint)?), config))
}

/// Parses an endpoint as given in a pool list: an absolute `http://host:port` URI (TLS is not
/// built in).
///
/// # Errors
/// Anything else, with the endpoint and the reason in the message.
pub fn parse_uri(endpoint: &str) -> Result<http::Uri, ClientError> {
    let invalid = |reason: String| ClientError::InvalidEndpoint {
        endpoint: endpoint.to_owned(),
        reason,
    };
    let uri: http::Uri = endpoint
        .parse()
        .map_err(|error| invalid(format!("{error}")))?;
    match uri.scheme_str() {
        Some("http") => {}
        Some(other) => return Err(invalid(format!("unsupported scheme {other:?}"))),
        None => return Err(invalid("missing scheme".to_owned())),
    }
    if uri.host().is_none_or(str::is_empty) {
        return Err(invalid("missing host".to_owned()));
    }
    Ok(uri)
}

/// `endpoint` with the timeouts, keep-alive and `TCP_NODELAY` every Bourse client uses.
pub fn configure(endpoint: Endpoint, config: &ClientConfig) -> Endpoint {
    endpoint
        .connect_timeout(config.connect_timeout)
        .timeout(config.request_timeout)
        .http2_keep_alive_interval(config.keepalive_interval)
        .keep_alive_while_idle(true)
        .tcp_nodelay(true)
}

/// A tonic interceptor that injects the current span's W3C trace context into each request, so
/// the called service's span joins the caller's trace.
///
/// Use with `MyClient::with_interceptor(channel, Propagate)`.
#[derive(Clone, Copy, Debug, Default)]
pub struct Propagate;

impl tonic::service::Interceptor for Propagate {
    fn call(&mut self, mut request: Request<()>) -> Result<Request<()>, tonic::Status> {
        let context = tracing::Span::current().context();
        opentelemetry::global::get_text_map_propagator(|propagator| {
            propagator.inject_context(&context, &mut MetadataInjector(request.metadata_mut()));
        });
        Ok(request)
    }
}

/// Marks `request` as made on behalf of a `tier` customer.
pub fn with_tier<T>(request: &mut Request<T>, tier: Tier) {
    request
        .metadata_mut()
        .insert(TIER_METADATA_KEY, MetadataValue::from_static(tier.as_str()));
}

/// An outgoing request for `tier`, carrying what is left of the caller's deadline when there is
/// one (see [`remaining_deadline`]).
pub fn outgoing<T>(message: T, tier: Tier, deadline: Option<Duration>) -> Request<T> {
    let mut request = Request::new(message);
    with_tier(&mut request, tier);
    if let Some(deadline) = deadline {
        request.set_timeout(deadline);
    }
    request
}

/// The tier a request was made for: `Shared` when the metadata is absent or not a valid tier.
pub fn tier_of<T>(request: &Request<T>) -> Tier {
    request
        .metadata()
        .get(TIER_METADATA_KEY)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse().ok())
        .unwrap_or_default()
}

/// The deadline the caller gave this request (its `grpc-timeout`), to pass on to onward calls
/// with `Request::set_timeout`. `None` when the caller set none or sent an invalid value.
///
/// This is the budget as sent; subtract the time already spent handling the request if that is
/// significant.
pub fn remaining_deadline<T>(request: &Request<T>) -> Option<Duration> {
    let value = request.metadata().get("grpc-timeout")?.to_str().ok()?;
    parse_grpc_timeout(value)
}

/// Parses a `grpc-timeout` value: at most 8 ASCII digits and a unit (H, M, S, m, u, n).
fn parse_grpc_timeout(value: &str) -> Option<Duration> {
    let split = value.len().checked_sub(1)?;
    let (digits, unit) = value.split_at_checked(split)?;
    if digits.is_empty() || digits.len() > 8 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let amount: u64 = digits.parse().ok()?;
    Some(match unit {
        "H" => Duration::from_secs(amount * 3600),
        "M" => Duration::from_secs(amount * 60),
        "S" => Duration::from_secs(amount),
        "m" => Duration::from_millis(amount),
        "u" => Duration::from_micros(amount),
        "n" => Duration::from_nanos(amount),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_grpc_timeout_unit() {
        assert_eq!(parse_grpc_timeout("2H"), Some(Duration::from_secs(7200)));
        assert_eq!(parse_grpc_timeout("3M"), Some(Duration::from_secs(180)));
        assert_eq!(parse_grpc_timeout("5S"), Some(Duration::from_secs(5)));
        assert_eq!(parse_grpc_timeout("250m"), Some(Duration::from_millis(250)));
        assert_eq!(parse_grpc_timeout("7u"), Some(Duration::from_micros(7)));
        assert_eq!(
            parse_grpc_timeout("99999999n"),
            Some(Duration::from_nanos(99_999_999))
        );
    }

    #[test]
    fn rejects_malformed_grpc_timeouts() {
        for bad in ["", "S", "5", "5s", "123456789S", "-1S", "1.5S", "é"] {
            assert_eq!(parse_grpc_timeout(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn reads_back_what_tonic_sends() {
        let mut request = Request::new(());
        request.set_timeout(Duration::from_millis(1500));
        assert_eq!(
            remaining_deadline(&request),
            Some(Duration::from_millis(1500))
        );
    }

    #[test]
    fn tier_round_trips_through_metadata() {
        let mut request = Request::new(());
        assert_eq!(tier_of(&request), Tier::Shared);
        with_tier(&mut request, Tier::Premium);
        assert_eq!(tier_of(&request), Tier::Premium);
        request
            .metadata_mut()
            .insert(TIER_METADATA_KEY, MetadataValue::from_static("gold"));
        assert_eq!(tier_of(&request), Tier::Shared);
    }

    #[test]
    fn rejects_endpoints_that_are_not_http_uris() {
        let config = ClientConfig::default();
        for bad in ["not a uri", "localhost:50051", "https://x:1", "http://"] {
            let error = parse_endpoint(bad, &config).expect_err(bad);
            assert!(error.to_string().contains(bad), "{error}");
        }
        assert!(parse_endpoint("http://127.0.0.1:50051", &config).is_ok());
    }
}
