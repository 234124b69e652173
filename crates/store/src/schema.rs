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
    /// Orders of a portfolio; decimals are exact decimal text.
    orders (id) {
        /// uuid v7 string (time-ordered).
        id -> Text,
        /// The owning portfolio, and through it the account.
        portfolio_id -> Text,
        symbol -> Text,
        /// `buy` or `sell`.
        side -> Text,
        /// `market` or `limit`.
        order_type -> Text,
        quantity -> Text,
        limit_price -> Nullable<Text>,
        /// `day` or `gtc`.
        time_in_force -> Text,
        /// `accepted`, `partially_filled`, `filled`, `canceled` or `rejected`.
        status -> Text,
        reject_reason -> Nullable<Text>,
        filled_quantity -> Text,
        average_fill_price -> Nullable<Text>,
        /// Unique per portfolio while kept (at least 24 hours).
        idempotency_key -> Nullable<Text>,
        /// Hex SHA-256 of the canonical order body the key was first used with.
        request_hash -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    /// Executions of an order, numbered from 0.
    fills (order_id, seq) {
        order_id -> Text,
        seq -> Integer,
        price -> Text,
        quantity -> Text,
        time -> Timestamp,
    }
}

diesel::table! {
    /// Positions per (portfolio, symbol), average-cost method.
    positions (portfolio_id, symbol) {
        portfolio_id -> Text,
        symbol -> Text,
        /// Signed: negative for a short position.
        quantity -> Text,
        average_cost -> Text,
        realized_pnl -> Text,
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

diesel::table! {
    /// The symbol index of `news`: one row per (symbol, article), with the article's time and
    /// score copied for window aggregates.
    news_symbols (symbol, news_id) {
        symbol -> Text,
        news_id -> Text,
        published_at -> Timestamp,
        score -> Double,
    }
}

diesel::joinable!(quotes -> instruments (symbol));
diesel::joinable!(orders -> portfolios (portfolio_id));
diesel::joinable!(fills -> orders (order_id));
diesel::joinable!(positions -> portfolios (portfolio_id));
diesel::joinable!(news_symbols -> news (news_id));

diesel::allow_tables_to_appear_in_same_query!(
    api_keys,
    bars,
    corporate_actions,
    fills,
    instruments,
    news,
    news_symbols,
    orders,
    portfolios,
    positions,
    quotes,
    risk_reports,
);
