//! A configured pool endpoint (`http://host:port`) and the connections made from it: an IP
//! literal is one replica as given; a host name stands for every address it resolves to.

use std::net::{IpAddr, SocketAddr};

use bourse_runtime::grpc_client::{self, ClientConfig, ClientError};
use tonic::transport::{Channel, Endpoint};

/// One entry of a pool's endpoint list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Target {
    /// The host as written: a name, an IPv4 literal or a bracketed IPv6 literal.
    host: String,
    port: u16,
    /// Whether `host` is an IP literal, used as given and never resolved.
    literal: bool,
}

impl Target {
    /// Parses `http://host:port` (the port defaults to 80).
    ///
    /// # Errors
    /// Not an absolute `http` URI with a host (TLS is not built in).
    pub(crate) fn parse(endpoint: &str) -> Result<Self, ClientError> {
        let uri = grpc_client::parse_uri(endpoint)?;
        // `parse_uri` guarantees a host.
        let host = uri.host().unwrap_or_default();
        let literal = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
            .is_ok();
        Ok(Self {
            host: host.to_owned(),
            port: uri.port_u16().unwrap_or(80),
            literal,
        })
    }

    /// Whether the target is a host name to be resolved again and again.
    pub(crate) fn needs_resolution(&self) -> bool {
        !self.literal
    }

    /// `host:port` as configured: the address of the replica used before (or instead of) a
    /// resolution.
    pub(crate) fn address(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }

    /// The addresses the host name resolves to now, sorted and without duplicates.
    ///
    /// # Errors
    /// The lookup failed.
    pub(crate) async fn resolve(&self) -> std::io::Result<Vec<String>> {
        let addresses = tokio::net::lookup_host((self.host.as_str(), self.port)).await?;
        let mut addresses: Vec<String> = addresses.map(|a: SocketAddr| a.to_string()).collect();
        addresses.sort();
        addresses.dedup();
        Ok(addresses)
    }
}

/// A lazily connecting channel to `address` (`host:port`), configured as every Bourse client
/// ([`grpc_client::configure`]).
///
/// # Errors
/// `address` does not make a valid URI.
pub(crate) fn connect_lazy(address: &str, config: &ClientConfig) -> Result<Channel, ClientError> {
    let endpoint = Endpoint::from_shared(format!("http://{address}")).map_err(|error| {
        ClientError::InvalidEndpoint {
            endpoint: address.to_owned(),
            reason: error.to_string(),
        }
    })?;
    Ok(grpc_client::configure(endpoint, config).connect_lazy())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ip_literals_are_used_as_given_and_names_are_resolved() {
        let ip = Target::parse("http://127.0.0.1:50051").expect("valid");
        assert!(!ip.needs_resolution());
        assert_eq!(ip.address(), "127.0.0.1:50051");
        let v6 = Target::parse("http://[::1]:50051").expect("valid");
        assert!(!v6.needs_resolution());
        assert_eq!(v6.address(), "[::1]:50051");
        let name = Target::parse("http://market-data-premium.bourse.svc:50051").expect("valid");
        assert!(name.needs_resolution());
    }

    #[test]
    fn rejects_endpoints_that_are_not_http_uris() {
        for bad in ["not a uri", "localhost:50051", "https://x:1", "http://"] {
            let error = Target::parse(bad).expect_err(bad);
            assert!(error.to_string().contains(bad), "{error}");
        }
    }

    #[tokio::test]
    async fn localhost_resolves_to_loopback_addresses() {
        let target = Target::parse("http://localhost:4000").expect("valid");
        let addresses = target.resolve().await.expect("localhost resolves");
        assert!(!addresses.is_empty());
        assert!(
            addresses
                .iter()
                .all(|a| a == "127.0.0.1:4000" || a == "[::1]:4000"),
            "{addresses:?}"
        );
    }
}
