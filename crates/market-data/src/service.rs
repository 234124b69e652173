//! The `MarketDataService` gRPC implementation: parses requests into domain types, calls the
//! readers and maps errors in one place ([`crate::error`]).

use bourse_cache::{Cache, DataClass};
use bourse_proto::market_data::v1::market_data_service_server::MarketDataService;
use bourse_proto::market_data::v1::{
    BatchGetQuotesRequest, BatchGetQuotesResponse, BatchGetRecentBarsRequest,
    BatchGetRecentBarsResponse, GetInstrumentRequest, GetQuoteRequest, ImportBarsRequest,
    ImportBarsResponse, Instrument, ListBarsRequest, ListBarsResponse, ListInstrumentsRequest,
    ListInstrumentsResponse, Quote, StreamQuotesRequest,
};
use bourse_runtime::grpc_client::tier_of;
use bourse_store::Db;
use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status, Streaming};

use crate::bars::BarReader;
use crate::bus::QuoteBus;
use crate::error::MarketDataError;
use crate::import::{self, BarImport, BarInput};
use crate::instruments::InstrumentReader;
use crate::quotes::QuoteReader;
use crate::recent::RecentBarsReader;
use crate::stream::{self, QuoteStream, StreamSources};
use crate::symbol::Symbol;

/// The market-data service, cheap to clone (its parts are shared handles).
#[derive(Debug, Clone)]
pub struct MarketData {
    /// The store every read falls back to and every write goes to.
    db: Db,
    /// The two-level cache in front of the store.
    cache: Cache,
    /// Latest quotes through the cache.
    quotes: QuoteReader,
    /// Instruments through the cache.
    instruments: InstrumentReader,
    /// Bar history through the cache.
    bars: BarReader,
    /// The newest bars of many symbols through the cache.
    recent_bars: RecentBarsReader,
    /// Where ingested quotes are announced to `StreamQuotes` calls.
    bus: QuoteBus,
    /// Cancelled when the server shuts down, ending every open quote stream.
    closing: CancellationToken,
    /// The most rows an all-or-nothing `ImportBars` call may hold before it is refused.
    max_import_rows: usize,
}

impl MarketData {
    pub fn new(db: Db, cache: Cache, bus: QuoteBus) -> Self {
        Self {
            quotes: QuoteReader::new(db.clone(), cache.clone()),
            instruments: InstrumentReader::new(db.clone(), cache.clone()),
            bars: BarReader::new(db.clone(), cache.clone()),
            recent_bars: RecentBarsReader::new(db.clone(), cache.clone()),
            db,
            cache,
            bus,
            closing: CancellationToken::new(),
            max_import_rows: import::DEFAULT_MAX_BUFFERED_ROWS,
        }
    }

    /// Bounds the rows an all-or-nothing `ImportBars` call may hold in memory (default
    /// [`import::DEFAULT_MAX_BUFFERED_ROWS`]); past it the call fails with RESOURCE_EXHAUSTED.
    #[must_use]
    pub fn with_max_import_rows(mut self, max_import_rows: usize) -> Self {
        self.max_import_rows = max_import_rows;
        self
    }

    /// Ends every open and future quote stream of this service (and its clones): called when
    /// the server starts shutting down, since a stream never ends on its own.
    pub fn close_streams(&self) {
        self.closing.cancel();
    }
}

fn parse_symbol(field: &'static str, raw: &str) -> Result<Symbol, MarketDataError> {
    raw.parse()
        .map_err(|source| MarketDataError::InvalidSymbol { field, source })
}

#[tonic::async_trait]
impl MarketDataService for MarketData {
    async fn get_quote(
        &self,
        request: Request<GetQuoteRequest>,
    ) -> Result<Response<Quote>, Status> {
        let tier = tier_of(&request);
        let symbol = parse_symbol("symbol", &request.get_ref().symbol)?;
        Ok(Response::new(self.quotes.get(tier, &symbol).await?))
    }

    async fn batch_get_quotes(
        &self,
        request: Request<BatchGetQuotesRequest>,
    ) -> Result<Response<BatchGetQuotesResponse>, Status> {
        let tier = tier_of(&request);
        let results = self
            .quotes
            .batch_get(tier, &request.get_ref().symbols)
            .await?;
        Ok(Response::new(BatchGetQuotesResponse { results }))
    }

    async fn get_instrument(
        &self,
        request: Request<GetInstrumentRequest>,
    ) -> Result<Response<Instrument>, Status> {
        let tier = tier_of(&request);
        let symbol = parse_symbol("symbol", &request.get_ref().symbol)?;
        Ok(Response::new(self.instruments.get(tier, &symbol).await?))
    }

    async fn list_instruments(
        &self,
        request: Request<ListInstrumentsRequest>,
    ) -> Result<Response<ListInstrumentsResponse>, Status> {
        Ok(Response::new(
            self.instruments.list(request.get_ref()).await?,
        ))
    }

    async fn list_bars(
        &self,
        request: Request<ListBarsRequest>,
    ) -> Result<Response<ListBarsResponse>, Status> {
        let tier = tier_of(&request);
        Ok(Response::new(
            self.bars.list(tier, request.get_ref()).await?,
        ))
    }

    async fn batch_get_recent_bars(
        &self,
        request: Request<BatchGetRecentBarsRequest>,
    ) -> Result<Response<BatchGetRecentBarsResponse>, Status> {
        let tier = tier_of(&request);
        let results = self.recent_bars.batch_get(tier, request.get_ref()).await?;
        Ok(Response::new(BatchGetRecentBarsResponse { results }))
    }

    type StreamQuotesStream = QuoteStream;

    async fn stream_quotes(
        &self,
        request: Request<StreamQuotesRequest>,
    ) -> Result<Response<Self::StreamQuotesStream>, Status> {
        let tier = tier_of(&request);
        let sources = StreamSources {
            db: &self.db,
            quotes: &self.quotes,
            bus: &self.bus,
            closing: &self.closing,
        };
        let stream = stream::open(sources, tier, &request.get_ref().symbols).await?;
        Ok(Response::new(stream))
    }

    /// Streams the messages' bars through the import path as they arrive (see [`import`]); an
    /// all-or-nothing import refused by bad rows answers OK with `imported` 0 and the errors.
    async fn import_bars(
        &self,
        request: Request<Streaming<ImportBarsRequest>>,
    ) -> Result<Response<ImportBarsResponse>, Status> {
        let mut messages = request.into_inner();
        let mut session: Option<BarImport> = None;
        let mut position = 0_u64;
        while let Some(message) = messages.message().await? {
            let session = session.get_or_insert_with(|| {
                let options = import::ImportOptions {
                    all_or_nothing: message.options.as_ref().is_some_and(|o| o.all_or_nothing),
                    max_buffered_rows: self.max_import_rows,
                };
                BarImport::new(self.db.clone(), options)
            });
            let rows = message.bars.into_iter().map(|bar| {
                position += 1;
                BarInput::from_message(bar, position)
            });
            session.push(rows).await.map_err(MarketDataError::from)?;
        }
        let report = match session {
            Some(session) => session.finish().await.map_err(MarketDataError::from)?,
            None => import::ImportReport::default(),
        };
        for symbol in &report.quotes_refreshed {
            self.cache.invalidate(DataClass::Quote, symbol).await;
        }
        Ok(Response::new(report.into()))
    }
}
