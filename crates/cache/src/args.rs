//! The cache's command-line and environment options.

use std::time::Duration;

use bourse_runtime::tier::Tier;

use crate::{CacheConfig, DataClass};

/// Cache options every service process takes.
#[derive(Debug, Clone, clap::Args)]
pub struct CacheArgs {
    /// TTL overrides as CLASS.TIER=DURATION, comma-separated, e.g.
    /// `quote.premium=100ms,quote.shared=500ms`. Classes: quote, bars, instrument, portfolio,
    /// sentiment, risk_report. Defaults: quote 1s/250ms, bars 60s/30s, instrument 300s,
    /// portfolio 30s, sentiment 1 day, risk_report 300s/120s (shared/premium).
    #[arg(long = "cache-ttl", env = "BOURSE_CACHE_TTL", value_delimiter = ',', value_parser = parse_override)]
    pub ttl: Vec<TtlOverride>,

    /// Most entries the in-process L1 cache keeps.
    #[arg(
        long = "cache-l1-entries",
        env = "BOURSE_CACHE_L1_ENTRIES",
        default_value_t = 100_000
    )]
    pub l1_entries: u64,
}

/// One `CLASS.TIER=DURATION` override.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TtlOverride {
    pub class: DataClass,
    pub tier: Tier,
    pub ttl: Duration,
}

impl Default for CacheArgs {
    fn default() -> Self {
        Self {
            ttl: Vec::new(),
            l1_entries: CacheConfig::default().l1_max_entries,
        }
    }
}

impl CacheArgs {
    /// The cache configuration these options describe, with L2 at `redis_url` when given.
    pub fn config(&self, redis_url: Option<String>) -> CacheConfig {
        let mut config = CacheConfig {
            redis_url,
            l1_max_entries: self.l1_entries,
            ..CacheConfig::default()
        };
        for o in &self.ttl {
            config.ttl.set(o.class, o.tier, o.ttl);
        }
        config
    }
}

fn parse_override(text: &str) -> Result<TtlOverride, String> {
    let usage = || format!("{text:?}: expected CLASS.TIER=DURATION, e.g. quote.premium=250ms");
    let (key, duration) = text.split_once('=').ok_or_else(usage)?;
    let (class, tier) = key.split_once('.').ok_or_else(usage)?;
    let class = DataClass::ALL
        .into_iter()
        .find(|c| c.as_str() == class.trim())
        .ok_or_else(|| format!("{text:?}: unknown data class {class:?}"))?;
    let tier = tier
        .trim()
        .parse::<Tier>()
        .map_err(|e| format!("{text:?}: {e}"))?;
    let ttl = humantime::parse_duration(duration.trim()).map_err(|e| format!("{text:?}: {e}"))?;
    Ok(TtlOverride { class, tier, ttl })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_overrides() {
        assert_eq!(
            parse_override("quote.premium=100ms"),
            Ok(TtlOverride {
                class: DataClass::Quote,
                tier: Tier::Premium,
                ttl: Duration::from_millis(100)
            })
        );
        assert_eq!(
            parse_override("risk_report.shared=2m").map(|o| o.ttl),
            Ok(Duration::from_secs(120))
        );
        for bad in [
            "quote=1s",
            "quote.gold=1s",
            "quotes.shared=1s",
            "quote.shared=soon",
        ] {
            assert!(parse_override(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn overrides_change_only_their_class_and_tier() {
        let args = CacheArgs {
            ttl: vec![TtlOverride {
                class: DataClass::Quote,
                tier: Tier::Premium,
                ttl: Duration::from_millis(50),
            }],
            l1_entries: 10,
        };
        let config = args.config(None);
        let defaults = CacheConfig::default();
        assert_eq!(
            config.ttl.ttl(DataClass::Quote, Tier::Premium),
            Duration::from_millis(50)
        );
        assert_eq!(
            config.ttl.ttl(DataClass::Quote, Tier::Shared),
            defaults.ttl.ttl(DataClass::Quote, Tier::Shared)
        );
        assert_eq!(config.l1_max_entries, 10);
    }
}
