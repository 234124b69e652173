//! `bourse import`: the binary on temp CSV files, into an embedded SQLite store in a temp
//! data directory.

use std::path::Path;
use std::process::{Command, Output};

use bourse_market_data::store;
use bourse_store::{Db, StoreConfig};

fn bourse(data_dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_bourse"))
        .args(args)
        .arg("--data-dir")
        .arg(data_dir)
        .env_remove("DATABASE_URL")
        .env_remove("REDIS_URL")
        .env("BOURSE_LOG", "off")
        .output()
        .expect("run bourse")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

const INSTRUMENTS: &str = "symbol,name,exchange,currency,asset_class,sector
AAPL,Apple Inc.,XNAS,USD,equity,Information Technology
MSFT,Microsoft Corporation,XNAS,USD,equity,Information Technology
";

const BARS: &str = "symbol,ts,open,high,low,close,volume,vwap,trades
AAPL,2024-03-14,170,175,169,173,1000,172,10
AAPL,2024-03-15,173,174,170,172.62,1000,,
MSFT,2024-03-15,420,430,410,425.22,500,,
MSFT,2024-03-18,420,419,410,425,500,,
";

/// The latest stored quote of `symbol`, read from the SQLite store in `data_dir`.
async fn last_price(data_dir: &Path, symbol: &str) -> Option<f64> {
    let db = Db::connect(&StoreConfig::embedded(data_dir))
        .await
        .expect("open the store");
    let quotes = store::quotes_for(&db, &[symbol]).await.expect("quotes");
    quotes.first().map(|quote| quote.last)
}

#[tokio::test(flavor = "multi_thread")]
async fn imports_csv_files_and_reports_bad_rows_by_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data_dir = dir.path().join("store");
    let instruments = dir.path().join("instruments.csv");
    let bars = dir.path().join("bars.csv");
    std::fs::write(&instruments, INSTRUMENTS).expect("write instruments");
    std::fs::write(&bars, BARS).expect("write bars");
    let path = |p: &Path| p.to_str().expect("utf-8 path").to_owned();

    let output = bourse(&data_dir, &["import", "instruments", &path(&instruments)]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(
        text(&output.stdout).starts_with("imported 2 of 2 instruments"),
        "{}",
        text(&output.stdout)
    );

    // All or nothing: line 5 is bad, so nothing is stored and the exit code says so.
    let refused = bourse(
        &data_dir,
        &["import", "bars", &path(&bars), "--all-or-nothing"],
    );
    let (stdout, stderr) = (text(&refused.stdout), text(&refused.stderr));
    assert!(!refused.status.success(), "{stdout}");
    assert!(stdout.starts_with("refused 4 bars"), "{stdout}");
    assert!(stdout.contains("line 5 MSFT: high:"), "{stdout}");
    assert!(
        stderr.contains("bourse: error: import refused: 1 bad row(s)"),
        "{stderr}"
    );
    assert_eq!(last_price(&data_dir, "AAPL").await, None, "nothing stored");

    // Skipping bad rows: the good ones land, and the latest quotes follow the daily bars.
    let output = bourse(&data_dir, &["import", "bars", &path(&bars)]);
    let stdout = text(&output.stdout);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(stdout.starts_with("imported 3 of 4 bars"), "{stdout}");
    assert!(stdout.contains("rejected 1"), "{stdout}");
    assert!(
        stdout.contains("line 5 MSFT: high: 419 is below"),
        "{stdout}"
    );
    assert!(stdout.contains("for 2 symbol(s)"), "{stdout}");
    assert_eq!(last_price(&data_dir, "AAPL").await, Some(172.62));
    assert_eq!(last_price(&data_dir, "MSFT").await, Some(425.22));
}

#[test]
fn a_bad_header_or_interval_is_one_error_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bars = dir.path().join("bars.csv");
    std::fs::write(&bars, "symbol,date,close\nAAPL,2024-03-15,1\n").expect("write");
    let bars = bars.to_str().expect("utf-8 path");

    let output = bourse(dir.path(), &["import", "bars", bars]);
    let stderr = text(&output.stderr);
    assert!(!output.status.success());
    assert!(
        stderr.starts_with("bourse: error: importing bars from")
            && stderr.contains("unknown column \"date\""),
        "{stderr}"
    );

    let output = bourse(dir.path(), &["import", "bars", bars, "--interval", "2d"]);
    assert!(!output.status.success());
    assert!(text(&output.stderr).contains("--interval \"2d\""));
}
