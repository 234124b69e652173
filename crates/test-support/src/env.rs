//! The skip-locally, fail-in-CI rule for tests that need a backing service.

use std::env;

/// Whether we run in CI (`CI` set to anything but empty, `0` or `false`),
/// where a missing backing service must fail the test rather than skip it.
pub(crate) fn in_ci() -> bool {
    matches!(env::var("CI"), Ok(value) if !value.is_empty() && value != "0" && value != "false")
}

/// The name of the running test: libtest names each test's thread after it.
pub(crate) fn current_test_name() -> String {
    std::thread::current()
        .name()
        .unwrap_or("<unnamed test>")
        .to_owned()
}

/// Gives up on a `service` test: prints
/// `skipping {service} test {test}: {why}` and returns `None`, or panics
/// with the same information in CI.
pub(crate) fn skip<T>(service: &str, test: &str, why: &str) -> Option<T> {
    assert!(
        !in_ci(),
        "{service} test {test} cannot run: {why}. CI=true, so this is a failure, not a skip"
    );
    eprintln!("skipping {service} test {test}: {why}");
    None
}

/// The value of the environment variable `name`, if set and not blank.
pub(crate) fn non_empty_var(name: &str) -> Option<String> {
    env::var(name).ok().filter(|value| !value.trim().is_empty())
}
