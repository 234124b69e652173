//! Cost of each risk method on a realistic portfolio: the 20 vendored stocks, equal weights, over
//! all of the vendored history (2,516 closes, i.e. 2,515 daily returns per stock), at 99 %
//! confidence. Monte Carlo and the bootstrap simulate 10,000 paths ([`DEFAULT_PATHS`]); the
//! requirement is Monte Carlo "well under 100 ms on one core" (every bench runs on one thread).
//! The parametric bench is the baseline the others compare against.
//!
//! `cargo bench -p bourse-risk --bench methods`

use std::hint::black_box;

use bourse_risk::analysis::{Subject, analyze};
use bourse_risk::covariance::{Moments, correlation_matrix};
use bourse_risk::history::Window;
use bourse_risk::montecarlo::{DEFAULT_PATHS, bootstrap, monte_carlo};
use bourse_risk::params::{Confidence, Horizon};
use bourse_risk::request::{Holding, HoldingSize, Params, RawParams};
use bourse_risk::returns::{portfolio_returns, simple_returns};
use bourse_risk::var::{component_var, cornish_fisher, historical, parametric};
use chrono::{NaiveDate, TimeDelta};
use criterion::{Criterion, criterion_group, criterion_main};

const STOCKS: &str = include_str!("../../market-data/data/sp500_20_stocks_daily_close.csv");
const INDEX: &str = include_str!("../../market-data/data/sp500_index_daily_close.csv");

/// The closing-price columns of a vendored `Date,SYM,...` CSV, oldest first.
fn closes(csv: &str) -> Vec<Vec<f64>> {
    let mut closes: Vec<Vec<f64>> = Vec::new();
    for line in csv.lines().skip(1).filter(|l| !l.is_empty()) {
        let fields = line.split(',').skip(1);
        if closes.is_empty() {
            closes = vec![Vec::new(); fields.clone().count()];
        }
        for (col, field) in closes.iter_mut().zip(fields) {
            col.push(field.parse::<f64>().expect("vendored CSV holds numbers"));
        }
    }
    closes
}

/// Each stock's daily returns over the whole vendored history, one series per stock.
fn stock_returns() -> Vec<Vec<f64>> {
    closes(STOCKS)
        .iter()
        .map(|c| simple_returns(c).expect("vendored closes are positive"))
        .collect()
}

/// A whole request's computation, as the engine runs it on the CPU pool: VaR/ES by `method`,
/// component VaR, every statistic and the correlation matrix, over the full history.
fn analyses(crit: &mut Criterion) {
    let stocks = closes(STOCKS);
    let benchmark = closes(INDEX).swap_remove(0);
    let start = NaiveDate::from_ymd_opt(2013, 1, 2)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .expect("valid date");
    let window = Window {
        dates: (0..benchmark.len() as i64)
            .map(|d| start + TimeDelta::days(d))
            .collect(),
        closes: stocks,
        benchmark,
        dates_left_out: 0,
    };
    let symbols = STOCKS
        .lines()
        .next()
        .map(|h| h.split(',').skip(1))
        .expect("header");
    let subject = Subject {
        holdings: symbols
            .map(|s| Holding {
                symbol: s.to_owned(),
                size: HoldingSize::Weight(0.05),
            })
            .collect(),
        cash: 0.0,
        value: Some(1_000_000.0),
        currency: "USD".to_owned(),
    };
    for method in ["historical", "monte_carlo"] {
        let params = Params::parse(&RawParams {
            method,
            confidence: Some(0.99),
            horizon_days: Some(10),
            lookback_days: Some(2_515),
            benchmark: "SPX",
            paths: None,
            seed: None,
            risk_free_rate: 0.04,
        })
        .expect("valid parameters");
        crit.bench_function(&format!("whole analysis, {method} h=10"), |b| {
            b.iter(|| analyze(black_box(&params), black_box(&subject), &window).expect("valid"))
        });
    }
}

fn methods(crit: &mut Criterion) {
    let holdings = stock_returns();
    assert_eq!(holdings.len(), 20);
    assert_eq!(holdings[0].len(), 2_515);
    let weights = vec![1.0 / holdings.len() as f64; holdings.len()];
    let daily = portfolio_returns(&holdings, &weights).expect("consistent shapes");
    let c = Confidence::new(0.99).expect("valid confidence");
    let one_day = Horizon::new(1).expect("valid horizon");
    let ten_days = Horizon::new(10).expect("valid horizon");

    let moments = Moments::of(&holdings).expect("consistent shapes");

    crit.bench_function("portfolio_returns", |b| {
        b.iter(|| portfolio_returns(black_box(&holdings), black_box(&weights)))
    });
    crit.bench_function("historical h=1", |b| {
        b.iter(|| historical(black_box(&daily), c, one_day))
    });
    crit.bench_function("historical h=10", |b| {
        b.iter(|| historical(black_box(&daily), c, ten_days))
    });
    crit.bench_function("parametric", |b| {
        b.iter(|| parametric(black_box(&daily), c, ten_days))
    });
    crit.bench_function("cornish_fisher", |b| {
        b.iter(|| cornish_fisher(black_box(&daily), c, ten_days))
    });
    crit.bench_function("component_var", |b| {
        b.iter(|| component_var(black_box(&moments), &weights, c, ten_days))
    });
    crit.bench_function("means + covariance_matrix + correlation_matrix", |b| {
        b.iter(|| {
            Moments::of(black_box(&holdings)).and_then(|moments| correlation_matrix(&moments.cov))
        })
    });
    crit.bench_function("monte_carlo 10k paths h=1", |b| {
        b.iter(|| monte_carlo(black_box(&moments), &weights, c, one_day, DEFAULT_PATHS, 7))
    });
    crit.bench_function("monte_carlo 10k paths h=10", |b| {
        b.iter(|| monte_carlo(black_box(&moments), &weights, c, ten_days, DEFAULT_PATHS, 7))
    });
    crit.bench_function("bootstrap 10k paths h=10", |b| {
        b.iter(|| bootstrap(black_box(&daily), c, ten_days, DEFAULT_PATHS, 7))
    });
}

criterion_group!(benches, methods, analyses);
criterion_main!(benches);
