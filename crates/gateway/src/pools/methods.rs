//! What the contract says about each gRPC method that matters to the pools: whether it may be
//! retried (`idempotency_level = NO_SIDE_EFFECTS`) and which deadline class it falls in.

use std::collections::HashMap;

use prost_reflect::prost_types::method_options::IdempotencyLevel;
use prost_reflect::{DescriptorPool, MethodDescriptor};

/// Which per-tier deadline a method gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeadlineClass {
    /// A single-item call: the tier's short deadline.
    Unary,
    /// A batch or heavy call (`Batch*`, `Analyze*`, `ListBars`): the tier's batch deadline.
    Batch,
    /// A server-streaming call: no deadline, the stream lives as long as the client listens.
    Stream,
}

/// The pools' view of one RPC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MethodTraits {
    /// The method has no side effects, so a failed attempt may be sent again.
    pub idempotent: bool,
    /// The deadline the method gets when the caller set none.
    pub deadline: DeadlineClass,
}

impl MethodTraits {
    /// Methods not in the contract (e.g. `grpc.health.v1`): unary, never retried.
    const UNKNOWN: Self = Self {
        idempotent: false,
        deadline: DeadlineClass::Unary,
    };
}

/// Every RPC of the contract by gRPC path (`/bourse.market_data.v1.MarketDataService/GetQuote`).
#[derive(Debug, Clone, Default)]
pub struct MethodTable {
    methods: HashMap<String, MethodTraits>,
}

impl MethodTable {
    /// Reads the compiled-in contract. An undecodable descriptor set (a build defect) leaves the
    /// table empty: nothing is retried and every call gets the unary deadline.
    pub fn from_contract() -> Self {
        match DescriptorPool::decode(bourse_proto::FILE_DESCRIPTOR_SET) {
            Ok(pool) => Self::from_pool(&pool),
            Err(error) => {
                tracing::error!(%error, "cannot decode the contract; retries are disabled");
                Self::default()
            }
        }
    }

    fn from_pool(pool: &DescriptorPool) -> Self {
        let methods = pool
            .services()
            .flat_map(|service| service.methods().collect::<Vec<_>>())
            .map(|method| {
                let path = format!("/{}/{}", method.parent_service().full_name(), method.name());
                (path, traits(&method))
            })
            .collect();
        Self { methods }
    }

    /// The traits of the method at `path`.
    pub fn get(&self, path: &str) -> MethodTraits {
        self.methods
            .get(path)
            .copied()
            .unwrap_or(MethodTraits::UNKNOWN)
    }
}

fn traits(method: &MethodDescriptor) -> MethodTraits {
    let idempotent = method
        .method_descriptor_proto()
        .options
        .as_ref()
        .is_some_and(|options| options.idempotency_level() == IdempotencyLevel::NoSideEffects);
    MethodTraits {
        idempotent,
        deadline: deadline_class(method.name(), method.is_server_streaming()),
    }
}

/// The deadline class of a method by its name and shape.
pub(crate) fn deadline_class(name: &str, server_streaming: bool) -> DeadlineClass {
    if server_streaming {
        DeadlineClass::Stream
    } else if name.starts_with("Batch") || name.starts_with("Analyze") || name == "ListBars" {
        DeadlineClass::Batch
    } else {
        DeadlineClass::Unary
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MARKET_DATA: &str = "/bourse.market_data.v1.MarketDataService";
    const PORTFOLIO: &str = "/bourse.portfolio.v1.PortfolioService";

    fn table() -> MethodTable {
        let table = MethodTable::from_contract();
        assert!(!table.methods.is_empty(), "the contract decodes");
        table
    }

    #[test]
    fn reads_are_idempotent_and_writes_are_not() {
        let table = table();
        for read in [
            format!("{MARKET_DATA}/GetQuote"),
            format!("{MARKET_DATA}/ListBars"),
        ] {
            assert!(table.get(&read).idempotent, "{read}");
        }
        for write in [
            format!("{PORTFOLIO}/PlaceOrder"),
            format!("{PORTFOLIO}/CreatePortfolio"),
            format!("{MARKET_DATA}/ImportBars"),
            "/grpc.health.v1.Health/Check".to_owned(),
        ] {
            assert!(table.methods.contains_key(&write) || write.starts_with("/grpc"));
            assert!(!table.get(&write).idempotent, "{write}");
        }
    }

    #[test]
    fn deadline_class_follows_the_method() {
        let table = table();
        let class = |method: &str| table.get(&format!("{MARKET_DATA}/{method}")).deadline;
        assert_eq!(class("GetQuote"), DeadlineClass::Unary);
        assert_eq!(class("BatchGetQuotes"), DeadlineClass::Batch);
        assert_eq!(class("ListBars"), DeadlineClass::Batch);
        assert_eq!(class("StreamQuotes"), DeadlineClass::Stream);
        assert_eq!(deadline_class("AnalyzeRisk", false), DeadlineClass::Batch);
        assert_eq!(deadline_class("GetPortfolio", false), DeadlineClass::Unary);
    }
}
