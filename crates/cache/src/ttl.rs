//! How long a cached value stays fresh, per data class and customer tier.

use std::time::Duration;

use bourse_runtime::tier::Tier;

use crate::DataClass;

/// Freshness per ([`DataClass`], [`Tier`]).
///
/// One cache entry per (class, key) serves both tiers: it is kept for [`TtlPolicy::max_ttl`] and a
/// reader treats it as a miss once it is older than the TTL of the reader's tier. Premium readers
/// therefore see fresher data without the cache holding a second copy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TtlPolicy {
    /// Indexed by `DataClass::index()` then by tier (shared, premium).
    table: [[Duration; 2]; DataClass::ALL.len()],
}

impl Default for TtlPolicy {
    /// quote 1 s / 250 ms, bars 60 s / 30 s, instrument 300 s, portfolio 30 s, sentiment one day,
    /// risk report 300 s / 120 s (shared / premium).
    fn default() -> Self {
        let secs = Duration::from_secs;
        let mut table = [[Duration::ZERO; 2]; DataClass::ALL.len()];
        for class in DataClass::ALL {
            table[class.index()] = match class {
                DataClass::Quote => [secs(1), Duration::from_millis(250)],
                DataClass::Bars => [secs(60), secs(30)],
                DataClass::Instrument => [secs(300), secs(300)],
                DataClass::Portfolio => [secs(30), secs(30)],
                DataClass::Sentiment => [secs(86_400), secs(86_400)],
                DataClass::RiskReport => [secs(300), secs(120)],
            };
        }
        Self { table }
    }
}

impl TtlPolicy {
    /// How old an entry of `class` may be and still be served to a `tier` reader.
    pub fn ttl(&self, class: DataClass, tier: Tier) -> Duration {
        self.table[class.index()][tier_index(tier)]
    }

    /// Overrides the TTL of one (class, tier). A zero TTL for both tiers disables caching of that class.
    pub fn set(&mut self, class: DataClass, tier: Tier, ttl: Duration) {
        self.table[class.index()][tier_index(tier)] = ttl;
    }

    /// How long an entry of `class` is kept at all: the longest TTL of any tier.
    pub fn max_ttl(&self, class: DataClass) -> Duration {
        let [shared, premium] = self.table[class.index()];
        shared.max(premium)
    }
}

fn tier_index(tier: Tier) -> usize {
    match tier {
        Tier::Shared => 0,
        Tier::Premium => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_the_documented_table() {
        let policy = TtlPolicy::default();
        let ms = Duration::from_millis;
        assert_eq!(policy.ttl(DataClass::Quote, Tier::Shared), ms(1_000));
        assert_eq!(policy.ttl(DataClass::Quote, Tier::Premium), ms(250));
        assert_eq!(policy.ttl(DataClass::Bars, Tier::Premium), ms(30_000));
        assert_eq!(policy.ttl(DataClass::RiskReport, Tier::Shared), ms(300_000));
        assert_eq!(
            policy.ttl(DataClass::RiskReport, Tier::Premium),
            ms(120_000)
        );
        assert_eq!(policy.max_ttl(DataClass::Sentiment), ms(86_400_000));
        for class in DataClass::ALL {
            assert!(policy.ttl(class, Tier::Premium) <= policy.ttl(class, Tier::Shared));
            assert_eq!(policy.max_ttl(class), policy.ttl(class, Tier::Shared));
        }
    }

    #[test]
    fn max_ttl_follows_overrides_of_either_tier() {
        let mut policy = TtlPolicy::default();
        policy.set(DataClass::Quote, Tier::Premium, Duration::from_secs(5));
        assert_eq!(
            policy.ttl(DataClass::Quote, Tier::Premium),
            Duration::from_secs(5)
        );
        assert_eq!(
            policy.ttl(DataClass::Quote, Tier::Shared),
            Duration::from_secs(1)
        );
        assert_eq!(policy.max_ttl(DataClass::Quote), Duration::from_secs(5));
    }
}
