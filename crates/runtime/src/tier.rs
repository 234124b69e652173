//! The customer tier of a request.
//!
//! The gateway decides the tier from the caller's API key and forwards it to the services in the
//! [`TIER_METADATA_KEY`] gRPC metadata entry, so that every hop (cache freshness, the pool a service
//! calls onwards, metrics labels) can honour it.

use std::fmt;
use std::str::FromStr;

/// The gRPC metadata key (and HTTP header) that carries the tier between Bourse processes.
pub const TIER_METADATA_KEY: &str = "x-bourse-tier";

/// A customer tier. Premium customers get their own service pools and tighter latency targets.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Default,
    serde::Serialize,
    serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Tier {
    /// The default tier, served by the shared pools.
    #[default]
    Shared,
    /// Served by dedicated pools with fresher cache entries and tighter deadlines.
    Premium,
}

impl Tier {
    /// Both tiers, shared first.
    pub const ALL: [Tier; 2] = [Tier::Shared, Tier::Premium];

    /// The lower-case name used in configuration, metadata, headers and metric labels.
    pub fn as_str(self) -> &'static str {
        match self {
            Tier::Shared => "shared",
            Tier::Premium => "premium",
        }
    }
}

impl fmt::Display for Tier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error for a tier name that is neither `shared` nor `premium`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown tier {0:?}: expected \"shared\" or \"premium\"")]
pub struct UnknownTier(pub String);

impl FromStr for Tier {
    type Err = UnknownTier;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "shared" => Ok(Tier::Shared),
            "premium" => Ok(Tier::Premium),
            other => Err(UnknownTier(other.to_owned())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_its_name() {
        for tier in Tier::ALL {
            assert_eq!(tier.as_str().parse::<Tier>(), Ok(tier));
        }
    }

    #[test]
    fn rejects_other_names() {
        assert_eq!(
            "Premium".parse::<Tier>(),
            Err(UnknownTier("Premium".into()))
        );
        assert!("".parse::<Tier>().is_err());
    }
}
