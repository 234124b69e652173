//! The `MarketDataService` gRPC implementation: parses requests into domain types, calls the
//! readers and maps errors in one place ([`crate::error`]).

use std::pin::Pin;

use bourse_proto::market_data::v1::market_data_service_server::MarketDataService;
use bourse_proto::market_data::v1::{
    BatchGetQuotesRequest, BatchGetQuotesResponse, GetInstrumentRequest, GetQuoteRequest,
    ImportBarsRequest, ImportBarsResponse, Instrument, ListBarsRequest, ListBarsResponse,
    ListInstrumentsRequest, ListInstrumentsResponse, Quote, QuoteUpdate, StreamQuotesRequest,
};
use bourse_runtime::grpc_client::tier_of;
use futures::Stream;
use tonic::{Request, Response, Status, Streaming};

use crate::error::MarketDataError;
use crate::quotes::QuoteReader;
use crate::symbol::Symbol;

/// The market-data service, cheap to clone (its parts are shared handles).
#[derive(Debug, Clone)]
pub struct MarketData {
    quotes: QuoteReader,
}

impl MarketData {
    pub fn new(quotes: QuoteReader) -> Self {
        Self { quotes }
    }
}

fn parse_symbol(field: &'static str, raw: &str) -> Result<Symbol, MarketDataError> {
    raw.parse()
        .map_err(|source| MarketDataError::InvalidSymbol { field, source })
}

type QuoteStream = Pin<Box<dyn Stream<Item = Result<QuoteUpdate, Status>> + Send + 'static>>;

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
        _: Request<GetInstrumentRequest>,
    ) -> Result<Response<Instrument>, Status> {
        Err(
            MarketDataError::NotImplemented("GetInstrument lands with the market-data issue (#3)")
                .into(),
        )
    }

    async fn list_instruments(
        &self,
        _: Request<ListInstrumentsRequest>,
    ) -> Result<Response<ListInstrumentsResponse>, Status> {
        Err(MarketDataError::NotImplemented(
            "ListInstruments lands with the market-data issue (#3)",
        )
        .into())
    }

    async fn list_bars(
        &self,
        _: Request<ListBarsRequest>,
    ) -> Result<Response<ListBarsResponse>, Status> {
        Err(
            MarketDataError::NotImplemented("ListBars lands with the market-data issue (#3)")
                .into(),
        )
    }

    type StreamQuotesStream = QuoteStream;

    async fn stream_quotes(
        &self,
        _: Request<StreamQuotesRequest>,
    ) -> Result<Response<Self::StreamQuotesStream>, Status> {
        Err(
            MarketDataError::NotImplemented("StreamQuotes lands with the market-data issue (#3)")
                .into(),
        )
    }

    async fn import_bars(
        &self,
        _: Request<Streaming<ImportBarsRequest>>,
    ) -> Result<Response<ImportBarsResponse>, Status> {
        Err(
            MarketDataError::NotImplemented("ImportBars lands with the market-data issue (#3)")
                .into(),
        )
    }
}
