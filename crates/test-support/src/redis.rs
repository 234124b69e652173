//! Redis for tests: the server from `REDIS_URL`, and a key prefix per test so
//! tests can share that server without seeing each other's keys.

use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

use url::Url;
use uuid::Uuid;

use crate::env::{current_test_name, non_empty_var, skip};

/// How long a TCP connect to the Redis server may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// `REDIS_URL`, once a TCP connection to it succeeds.
///
/// Returns `None` (after printing `skipping Redis test <name>: ...` to stderr)
/// when it is unset or unreachable, except with `CI=true`, where both panic.
pub fn redis_url() -> Option<String> {
    let test = current_test_name();
    let Some(url) = non_empty_var("REDIS_URL") else {
        return skip("Redis", &test, "REDIS_URL not set");
    };
    match check_reachable(&url) {
        Ok(()) => Some(url),
        Err(why) => skip("Redis", &test, &format!("REDIS_URL unreachable: {why}")),
    }
}

/// A key prefix no other test (or run) uses, such as
/// `bourse-test:quote_cache:6f1c...:`, naming the test for debugging.
pub fn unique_prefix(test: &str) -> String {
    format!("bourse-test:{test}:{}:", Uuid::new_v4().simple())
}

/// Whether something accepts TCP connections where `url` points. Unix-socket
/// URLs are not checked.
fn check_reachable(url: &str) -> Result<(), String> {
    let parsed = Url::parse(url).map_err(|error| format!("unparseable URL ({error})"))?;
    if parsed.scheme().contains("unix") {
        return Ok(());
    }
    let host = parsed.host_str().ok_or("the URL has no host")?;
    let port = parsed.port().unwrap_or(6379);
    let addresses = (host, port)
        .to_socket_addrs()
        .map_err(|error| format!("cannot resolve {host}: {error}"))?;
    let mut last_error = format!("{host} resolves to no address");
    for address in addresses {
        match TcpStream::connect_timeout(&address, CONNECT_TIMEOUT) {
            Ok(_stream) => return Ok(()),
            Err(error) => last_error = format!("{address}: {error}"),
        }
    }
    Err(last_error)
}

#[cfg(test)]
mod tests {
    use super::{check_reachable, unique_prefix};

    #[test]
    fn reachability_is_a_tcp_connect() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("address").port();
        assert_eq!(
            check_reachable(&format!("redis://127.0.0.1:{port}/0")),
            Ok(())
        );
        drop(listener);
        let refused = check_reachable(&format!("redis://127.0.0.1:{port}/0"))
            .expect_err("nothing listens any more");
        assert!(refused.contains(&format!("127.0.0.1:{port}")), "{refused}");
        assert!(check_reachable("not a url").is_err());
    }

    #[test]
    fn prefixes_differ_between_calls_and_name_the_test() {
        let first = unique_prefix("cache_ttl");
        let second = unique_prefix("cache_ttl");
        assert_ne!(first, second);
        assert!(first.starts_with("bourse-test:cache_ttl:"), "{first}");
        assert!(first.ends_with(':'), "{first}");
    }
}
