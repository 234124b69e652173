//! Bad configuration ends the process with one readable line and a failure exit code.

use std::process::{Command, Output};

fn bourse(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_bourse"))
        .args(args)
        .env_remove("DATABASE_URL")
        .env_remove("REDIS_URL")
        .env("BOURSE_LOG", "off")
        .output()
        .expect("run bourse")
}

/// Asserts a failure reported on one line that contains `expected`, and no panic.
fn assert_one_line_error(output: &Output, expected: &str) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "should fail; stderr: {stderr}");
    let lines: Vec<&str> = stderr
        .lines()
        .filter(|line| !line.trim().is_empty())
        .collect();
    assert_eq!(lines.len(), 1, "one line expected: {stderr}");
    assert!(lines[0].starts_with("bourse: error:"), "{stderr}");
    assert!(lines[0].contains(expected), "{expected:?} not in {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn an_unparseable_database_url_is_one_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data_dir = dir.path().to_str().expect("utf-8 path");
    let output = bourse(&[
        "migrate",
        "--data-dir",
        data_dir,
        "--database-url",
        "postgres//nohost",
    ]);
    assert_one_line_error(&output, "connecting to PostgreSQL");
}

#[test]
fn an_unreachable_database_is_one_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data_dir = dir.path().to_str().expect("utf-8 path");
    let url = "postgres://bourse:secret@127.0.0.1:1/bourse";
    let output = bourse(&["migrate", "--data-dir", data_dir, "--database-url", url]);
    assert_one_line_error(&output, "127.0.0.1:1");
    assert!(
        !String::from_utf8_lossy(&output.stderr).contains("secret"),
        "the password leaked"
    );
}

#[test]
fn a_port_in_use_is_one_line() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = taken.local_addr().expect("addr").to_string();
    let dir = tempfile::tempdir().expect("tempdir");
    let data_dir = dir.path().to_str().expect("utf-8 path");
    let output = bourse(&[
        "serve",
        "market-data",
        "--listen",
        &addr,
        "--data-dir",
        data_dir,
    ]);
    assert_one_line_error(&output, &format!("binding {addr}"));
}

#[test]
fn an_unknown_tier_is_refused_by_the_parser() {
    let output = bourse(&["keys", "create", "--account", "acme", "--tier", "gold"]);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("unknown tier \"gold\""));
}

#[test]
fn the_command_line_has_no_conflicting_options() {
    use clap::CommandFactory as _;
    // Panics naming the clash when two flattened option groups declare the same flag.
    bourse::cli::Cli::command().debug_assert();
}
