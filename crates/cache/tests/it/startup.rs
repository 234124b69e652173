//! `Cache::connect` fails fast, with a clear message and no password, when Redis cannot be used.

use std::time::{Duration, Instant};

use bourse_cache::{Cache, CacheError};

use crate::support::config;

#[tokio::test]
async fn a_bad_url_is_an_invalid_url_error_without_the_password() {
    for url in [
        "http://:hunter2@127.0.0.1:6379",
        "redis://:hunter2@127.0.0.1:notaport",
    ] {
        let err = Cache::connect(config(Some(url.to_owned()), "bad_url"))
            .await
            .expect_err("the URL does not parse");
        let message = err.to_string();
        assert!(
            matches!(err, CacheError::InvalidUrl { .. }),
            "{url}: {err:?}"
        );
        assert!(message.contains("127.0.0.1"), "says which URL: {message}");
        assert!(
            !message.contains("hunter2"),
            "leaks the password: {message}"
        );
    }
}

#[tokio::test]
async fn an_unreachable_redis_at_start_up_is_an_error_without_the_password() {
    // A port that was just free: nothing listens on it.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a probe port");
    let port = listener.local_addr().expect("its address").port();
    drop(listener);
    let url = format!("redis://:hunter2@127.0.0.1:{port}");

    let started = Instant::now();
    let err = Cache::connect(config(Some(url), "unreachable"))
        .await
        .expect_err("nothing listens there");
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "took {:?}",
        started.elapsed()
    );
    let message = err.to_string();
    assert!(matches!(err, CacheError::Unreachable { .. }), "{err:?}");
    assert!(
        message.contains(&format!("127.0.0.1:{port}")),
        "says where: {message}"
    );
    assert!(
        !message.contains("hunter2"),
        "leaks the password: {message}"
    );
    assert!(!message.contains('\n'), "one line: {message}");
}
