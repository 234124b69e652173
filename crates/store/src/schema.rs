//! Diesel table definitions shared by every service, valid for both backends.
//!
//! Written by hand to match `migrations/postgres` and `migrations/sqlite`
//! (kept identical in columns and types). Only column types that map the same
//! way on both backends are used: `Text`, `BigInt`, `Integer`, `Double`,
//! `Bool` and `Timestamp` (a `chrono::NaiveDateTime`, UTC by convention).
//! Ids are uuid strings; exact decimals (`portfolios.cash`) and JSON documents
//! are text.

diesel::table! {
    /// Gateway API keys; only the SHA-256 of a key is stored.
    api_keys (id) {
        /// uuid string.
        id -> Text,
        /// The account the key belongs to.
        account -> Text,
        /// `shared` or `premium`.
        tier -> Text,
        /// Lower-case hex SHA-256 of the key (64 characters), unique.
        key_hash -> Text,
        /// First 8 characters of the key, for listings.
        prefix -> Text,
        /// Per-key override of the tier's rate limit.
        rate_limit_per_second -> Nullable<Integer>,
        created_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    /// Reference data per tradable symbol.
    instruments (symbol) {
        symbol -> Text,
        name -> Text,
        exchange -> Text,
        currency -> Text,
        asset_class -> Text,
        sector -> Nullable<Text>,
        active -> Bool,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    /// The latest quote per symbol.
    quotes (symbol) {
        symbol -> Text,
        last -> Double,
        bid -> Nullable<Double>,
        ask -> Nullable<Double>,
        bid_size -> Nullable<Double>,
        ask_size -> Nullable<Double>,
        day_open -> Nullable<Double>,
        day_high -> Nullable<Double>,
        day_low -> Nullable<Double>,
        prev_close -> Nullable<Double>,
        volume -> Double,
        ts -> Timestamp,
    }
}

diesel::table! {
    /// OHLCV bars of every interval; on PostgreSQL partitioned by interval class, then by month
    /// (intraday) or year (daily and coarser).
    bars (symbol, interval, ts) {
        symbol -> Text,
        /// One of `1m`, `5m`, `15m`, `1h`, `1d`, `1w`, `1mo`.
        interval -> Text,
        /// Start of the bar.
        ts -> Timestamp,
        open -> Double,
        high -> Double,
        low -> Double,
        close -> Double,
        volume -> Double,
        vwap -> Nullable<Double>,
        trades -> Nullable<BigInt>,
    }
}

diesel::table! {
    /// Splits and cash dividends; unique per (symbol, ex_date, kind).
    corporate_actions (id) {
        /// uuid string.
        id -> Text,
        symbol -> Text,
        ex_date -> Timestamp,
        /// `split` or `dividend`.
        kind -> Text,
        /// Split only: new shares per old share.
        ratio -> Nullable<Double>,
        /// Dividend only: cash per share.
        amount -> Nullable<Double>,
    }
}

diesel::table! {
    /// Portfolios owned by an account.
    portfolios (id) {
        /// uuid string.
        id -> Text,
        account -> Text,
        name -> Text,
        base_currency -> Text,
        /// Exact decimal, as a string.
        cash -> Text,
        allow_short -> Bool,
        /// Bumped on every change, for optimistic concurrency.
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    /// Computed risk reports.
    risk_reports (id) {
        /// uuid string.
        id -> Text,
        /// `None` for ad-hoc position sets.
        portfolio_id -> Nullable<Text>,
        account -> Text,
        method -> Text,
        /// JSON document.
        params -> Text,
        /// JSON document.
        result -> Text,
        computed_at -> Timestamp,
    }
}

diesel::table! {
    /// Scored news items; unique per (source, url).
    news (id) {
        /// uuid string.
        id -> Text,
        source -> Text,
        url -> Nullable<Text>,
        headline -> Text,
        body -> Nullable<Text>,
        /// Comma-separated upper-case symbols.
        symbols -> Text,
        published_at -> Timestamp,
        score -> Double,
        label -> Text,
        ingested_at -> Timestamp,
    }
}

diesel::joinable!(quotes -> instruments (symbol));

diesel::allow_tables_to_appear_in_same_query!(
    api_keys,
    bars,
    corporate_actions,
    instruments,
    news,
    portfolios,
    quotes,
    risk_reports,
);
