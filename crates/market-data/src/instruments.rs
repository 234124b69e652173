//! Instruments: one by symbol through the two-level cache, and search by symbol prefix or name
//! substring with AIP-158 pages.
//!
//! Search pages are keyset pages on the symbol: the page token is the store's
//! [`Cursor`] whose id is the last symbol returned (its time is unused and always the epoch),
//! so pages stay stable while instruments are added. A token is a position, not a query: reused
//! with another `q` it continues that search after the same symbol. Search results are not
//! cached (every query string would be its own entry); single instruments are, per symbol.

use bourse_cache::{Cache, DataClass};
use bourse_proto::market_data::v1::{
    AssetClass, Instrument, ListInstrumentsRequest, ListInstrumentsResponse,
};
use bourse_runtime::tier::Tier;
use bourse_store::Db;
use bourse_store::page::{Cursor, PageError, PageRequest};
use bytes::Bytes;
use chrono::DateTime;
use prost::Message;

use crate::error::MarketDataError;
use crate::store::{self, InstrumentRow};
use crate::symbol::Symbol;

/// Instruments per search page when the request does not say.
pub const DEFAULT_PAGE_SIZE: i64 = 100;
/// The largest search page; larger requests are lowered to it (AIP-158).
pub const MAX_PAGE_SIZE: i64 = 1_000;

/// Reads instruments, caching single instruments per symbol.
#[derive(Debug, Clone)]
pub struct InstrumentReader {
    db: Db,
    cache: Cache,
}

impl InstrumentReader {
    pub fn new(db: Db, cache: Cache) -> Self {
        Self { db, cache }
    }

    /// The instrument `symbol`; [`MarketDataError::UnknownSymbol`] when none is stored.
    pub async fn get(&self, tier: Tier, symbol: &Symbol) -> Result<Instrument, MarketDataError> {
        if let Some(bytes) = self
            .cache
            .get(DataClass::Instrument, tier, symbol.as_str())
            .await
            && let Ok(instrument) = Instrument::decode(bytes)
        {
            return Ok(instrument);
        }
        let row = store::instrument(&self.db, symbol.as_str())
            .await?
            .ok_or_else(|| MarketDataError::UnknownSymbol(symbol.to_string()))?;
        let instrument = instrument_from_row(row);
        self.cache
            .set(
                DataClass::Instrument,
                symbol.as_str(),
                Bytes::from(instrument.encode_to_vec()),
            )
            .await;
        Ok(instrument)
    }

    /// One page of the instruments matching `request.q`, in symbol order.
    pub async fn list(
        &self,
        request: &ListInstrumentsRequest,
    ) -> Result<ListInstrumentsResponse, MarketDataError> {
        let page = PageRequest::parse(
            request.page_size,
            &request.page_token,
            DEFAULT_PAGE_SIZE,
            MAX_PAGE_SIZE,
        )
        .map_err(page_error)?;
        let after = match &page.after {
            Some(cursor) => Some(
                cursor
                    .id
                    .parse::<Symbol>()
                    .map_err(|_| page_error(PageError::InvalidToken))?,
            ),
            None => None,
        };
        let q = request.q.trim();
        let rows = store::search_instruments(
            &self.db,
            q,
            after.as_ref().map(Symbol::as_str),
            page.limit(),
        )
        .await?;
        let (rows, next_page_token) = page.finish(rows, |row| Cursor {
            time: DateTime::UNIX_EPOCH.naive_utc(),
            id: row.symbol.clone(),
        });
        Ok(ListInstrumentsResponse {
            instruments: rows.into_iter().map(instrument_from_row).collect(),
            next_page_token,
        })
    }
}

/// A page size or token refused, as the error that names its field.
pub(crate) fn page_error(error: PageError) -> MarketDataError {
    match error {
        PageError::NegativeSize(size) => MarketDataError::InvalidArgument {
            field: "page_size",
            reason: format!("must not be negative, got {size}"),
        },
        PageError::InvalidToken => MarketDataError::InvalidArgument {
            field: "page_token",
            reason: "not a token this API returned for this request".to_owned(),
        },
    }
}

/// The wire form of a stored instrument.
pub fn instrument_from_row(row: InstrumentRow) -> Instrument {
    let asset_class = match row.asset_class.as_str() {
        "equity" => AssetClass::Equity,
        "etf" => AssetClass::Etf,
        "index" => AssetClass::Index,
        "fund" => AssetClass::Fund,
        "crypto" => AssetClass::Crypto,
        "fx" => AssetClass::Fx,
        _ => AssetClass::Unspecified,
    };
    Instrument {
        symbol: row.symbol,
        name: row.name,
        exchange: row.exchange,
        currency: row.currency,
        asset_class: asset_class.into(),
        sector: row.sector.unwrap_or_default(),
        active: row.active,
    }
}
