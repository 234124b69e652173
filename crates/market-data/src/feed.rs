//! A simulated live feed: a seeded random walk over the stored instruments, fed through the
//! same [`Ingestor`](crate::ingest::Ingestor) a real provider adapter would use (`bourse feed
//! simulate`, `bourse up --feed`).
//!
//! Prices follow a geometric Brownian motion correlated across symbols by one market factor:
//! each step, log-return = (μ − σ²/2)·dt + β·σₘ·√dt·Zₘ + σᵢ·√dt·Zᵢ with Zₘ shared by all symbols,
//! σ² = (β·σₘ)² + σᵢ² and dt the tick interval in years of trading time (252 days of 6.5 hours),
//! so each symbol moves like a stock with σ of 15-50 % a year. β and σᵢ are drawn per symbol
//! from the seed. Each symbol starts at its stored last price and a new session: the stored
//! last becomes `prev_close`, and day open, high, low and volume restart (and again at each UTC
//! midnight of simulated time). Quotes have a bid and ask about 5 basis points around the last
//! price, in whole cents. Every minute of simulated time closes a 1-minute bar per symbol.
//!
//! [`SimulatedMarket`] is the clock-free model: the same seed, starting quotes and start time
//! give the same ticks. [`SimulatedFeed`] paces it with a `tokio::time` interval, so tests can
//! pause time.

mod market;

use std::time::Duration;

use bourse_store::{Db, StoreError};
use chrono::{NaiveDateTime, Timelike as _, Utc};
use tokio::time::{Interval, MissedTickBehavior};

pub use market::{SimulatedMarket, StartingQuote};

use crate::ingest::{MarketFeed, Tick};
use crate::store;
use crate::symbol::Symbol;

/// One tick a second, like a consolidated feed's snapshot rate.
pub const DEFAULT_TICK_INTERVAL: Duration = Duration::from_secs(1);
/// The default seed: the same walk on every machine unless asked otherwise.
pub const DEFAULT_SEED: u64 = 0xB05E;
/// The price of an instrument that has no stored quote to start from.
pub(crate) const DEFAULT_START_PRICE: f64 = 100.0;

/// What to simulate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimulationConfig {
    pub seed: u64,
    /// Real and simulated time between rounds.
    pub tick_interval: Duration,
    /// The symbols to trade; empty trades every active instrument.
    pub symbols: Vec<Symbol>,
    /// Where simulated time starts (UTC); `None` starts at the current second.
    pub start: Option<NaiveDateTime>,
}

impl Default for SimulationConfig {
    fn default() -> Self {
        Self {
            seed: DEFAULT_SEED,
            tick_interval: DEFAULT_TICK_INTERVAL,
            symbols: Vec::new(),
            start: None,
        }
    }
}

/// Why a simulation cannot start.
#[derive(Debug, thiserror::Error)]
pub enum SimulationError {
    #[error("reading the instruments to simulate")]
    Store(#[from] StoreError),
    #[error("--symbols: no instrument {0}")]
    UnknownSymbols(String),
    #[error("no instruments to simulate: load some first (e.g. `bourse up` loads the demo set)")]
    NoInstruments,
    #[error("--tick-interval must be at least 1ms")]
    TickTooShort,
}

/// The simulation paced in real (tokio) time: one round per tick interval.
#[derive(Debug)]
pub struct SimulatedFeed {
    market: SimulatedMarket,
    interval: Interval,
}

impl SimulatedFeed {
    /// Paces `market` at one step per `tick_interval` of tokio time; the first round is
    /// immediate.
    pub fn new(market: SimulatedMarket, tick_interval: Duration) -> Self {
        let mut interval = tokio::time::interval(tick_interval);
        // A slow store delays the next round instead of bursting to catch up.
        interval.set_missed_tick_behavior(MissedTickBehavior::Delay);
        Self { market, interval }
    }

    /// A feed over the stored instruments paced at `config.tick_interval`: see
    /// [`SimulatedMarket::from_store`].
    pub async fn from_store(db: &Db, config: &SimulationConfig) -> Result<Self, SimulationError> {
        let market = SimulatedMarket::from_store(db, config).await?;
        Ok(Self::new(market, config.tick_interval))
    }
}

impl SimulatedMarket {
    /// A market over the stored instruments (active ones, or `config.symbols`), each starting
    /// from its latest stored quote, in simulated time starting now.
    pub async fn from_store(db: &Db, config: &SimulationConfig) -> Result<Self, SimulationError> {
        if config.tick_interval < Duration::from_millis(1) {
            return Err(SimulationError::TickTooShort);
        }
        let symbols: Vec<String> = if config.symbols.is_empty() {
            store::active_symbols(db).await?
        } else {
            let wanted: Vec<&str> = config.symbols.iter().map(Symbol::as_str).collect();
            let known = store::known_instruments(db, &wanted).await?;
            let unknown: Vec<&str> = wanted
                .iter()
                .copied()
                .filter(|w| !known.iter().any(|k| k == w))
                .collect();
            if !unknown.is_empty() {
                return Err(SimulationError::UnknownSymbols(unknown.join(", ")));
            }
            known
        };
        if symbols.is_empty() {
            return Err(SimulationError::NoInstruments);
        }
        let mut starts = Vec::with_capacity(symbols.len());
        let mut without_quote = 0_usize;
        for chunk in symbols.chunks(crate::quotes::MAX_BATCH_SYMBOLS) {
            let names: Vec<&str> = chunk.iter().map(String::as_str).collect();
            let rows = store::quotes_for(db, &names).await?;
            for name in chunk {
                let Ok(symbol) = name.parse::<Symbol>() else {
                    continue;
                };
                let last = match rows.iter().find(|row| &row.symbol == name) {
                    Some(row) if row.last.is_finite() && row.last > 0.0 => row.last,
                    _ => {
                        without_quote += 1;
                        DEFAULT_START_PRICE
                    }
                };
                starts.push(StartingQuote { symbol, last });
            }
        }
        if without_quote > 0 {
            tracing::info!(
                symbols = without_quote,
                price = DEFAULT_START_PRICE,
                "simulated feed: instruments without a stored quote start at a default price"
            );
        }
        let start = config.start.unwrap_or_else(|| {
            let now = Utc::now().naive_utc();
            now.with_nanosecond(0).unwrap_or(now)
        });
        let market = SimulatedMarket::new(starts, config.seed, config.tick_interval, start);
        tracing::info!(
            symbols = market.len(),
            seed = config.seed,
            tick_interval = ?config.tick_interval,
            "simulated feed: starting"
        );
        Ok(market)
    }
}

impl MarketFeed for SimulatedFeed {
    type Error = std::convert::Infallible;

    fn name(&self) -> &str {
        "simulated"
    }

    async fn next_round(&mut self) -> Result<Option<Vec<Tick>>, Self::Error> {
        self.interval.tick().await;
        Ok(Some(self.market.step()))
    }
}
