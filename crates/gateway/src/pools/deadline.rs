//! Per-tier deadlines, sent to the service as `grpc-timeout` and enforced by the gateway too.

use std::time::Duration;

use bourse_runtime::grpc_client::remaining_deadline;
use bourse_runtime::tier::Tier;
use http::HeaderValue;

use super::args::PoolArgs;
use super::methods::DeadlineClass;

/// The gRPC header that carries a call's deadline.
const GRPC_TIMEOUT: &str = "grpc-timeout";

/// The deadline of each tier and method class, from the tier SLAs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadlines {
    premium: Duration,
    shared: Duration,
    premium_batch: Duration,
    shared_batch: Duration,
}

impl Deadlines {
    /// The deadlines configured in `args`.
    pub fn new(args: &PoolArgs) -> Self {
        Self {
            premium: args.premium_deadline,
            shared: args.shared_deadline,
            premium_batch: args.premium_batch_deadline,
            shared_batch: args.shared_batch_deadline,
        }
    }

    /// The deadline of a `class` call made for `tier`; `None` for streams.
    pub fn of(&self, tier: Tier, class: DeadlineClass) -> Option<Duration> {
        match (class, tier) {
            (DeadlineClass::Stream, _) => None,
            (DeadlineClass::Unary, Tier::Premium) => Some(self.premium),
            (DeadlineClass::Unary, Tier::Shared) => Some(self.shared),
            (DeadlineClass::Batch, Tier::Premium) => Some(self.premium_batch),
            (DeadlineClass::Batch, Tier::Shared) => Some(self.shared_batch),
        }
    }

    /// The deadline of `request`: the `grpc-timeout` it carries (e.g. set by the micro-batcher),
    /// or else the tier's, which is then added to the request so the service knows it too.
    pub fn apply<B>(
        &self,
        request: &mut http::Request<B>,
        tier: Tier,
        class: DeadlineClass,
    ) -> Option<Duration> {
        if let Some(given) = request.headers().get(GRPC_TIMEOUT) {
            return parse(given);
        }
        let deadline = self.of(tier, class)?;
        request.headers_mut().insert(GRPC_TIMEOUT, encode(deadline));
        Some(deadline)
    }
}

/// Reads a `grpc-timeout` value with the runtime's parser; `None` when malformed.
fn parse(value: &HeaderValue) -> Option<Duration> {
    let value: tonic::metadata::AsciiMetadataValue = value.to_str().ok()?.parse().ok()?;
    let mut probe = tonic::Request::new(());
    probe.metadata_mut().insert(GRPC_TIMEOUT, value);
    remaining_deadline(&probe)
}

/// A `grpc-timeout` value: at most 8 digits, in the finest unit that fits.
fn encode(deadline: Duration) -> HeaderValue {
    const MAX: u128 = 99_999_999;
    let value = if deadline.as_micros() <= MAX {
        format!("{}u", deadline.as_micros())
    } else if deadline.as_millis() <= MAX {
        format!("{}m", deadline.as_millis())
    } else {
        format!("{}S", deadline.as_secs().min(MAX as u64))
    };
    HeaderValue::try_from(value).unwrap_or_else(|_| HeaderValue::from_static("99999999S"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deadlines() -> Deadlines {
        Deadlines::new(&PoolArgs::default())
    }

    #[test]
    fn tier_and_class_pick_the_deadline() {
        let deadlines = deadlines();
        let ms = Duration::from_millis;
        assert_eq!(
            deadlines.of(Tier::Premium, DeadlineClass::Unary),
            Some(ms(250))
        );
        assert_eq!(
            deadlines.of(Tier::Shared, DeadlineClass::Unary),
            Some(ms(500))
        );
        assert_eq!(
            deadlines.of(Tier::Premium, DeadlineClass::Batch),
            Some(ms(2000))
        );
        assert_eq!(
            deadlines.of(Tier::Shared, DeadlineClass::Batch),
            Some(ms(5000))
        );
        assert_eq!(deadlines.of(Tier::Premium, DeadlineClass::Stream), None);
    }

    #[test]
    fn adds_the_tier_deadline_as_grpc_timeout() {
        let mut request = http::Request::new(());
        let deadline = deadlines().apply(&mut request, Tier::Premium, DeadlineClass::Unary);
        assert_eq!(deadline, Some(Duration::from_millis(250)));
        assert_eq!(request.headers()[GRPC_TIMEOUT], "250000u");
        assert_eq!(parse(&request.headers()[GRPC_TIMEOUT]), deadline);
    }

    #[test]
    fn keeps_a_deadline_the_request_already_carries() {
        let mut request = http::Request::new(());
        request
            .headers_mut()
            .insert(GRPC_TIMEOUT, HeaderValue::from_static("20m"));
        let deadline = deadlines().apply(&mut request, Tier::Shared, DeadlineClass::Batch);
        assert_eq!(deadline, Some(Duration::from_millis(20)));
        assert_eq!(request.headers()[GRPC_TIMEOUT], "20m");
    }

    #[test]
    fn streams_get_no_deadline() {
        let mut request = http::Request::new(());
        let deadline = deadlines().apply(&mut request, Tier::Shared, DeadlineClass::Stream);
        assert_eq!(deadline, None);
        assert!(request.headers().get(GRPC_TIMEOUT).is_none());
    }

    #[test]
    fn long_deadlines_switch_to_coarser_units() {
        assert_eq!(encode(Duration::from_secs(200)), "200000m");
        assert_eq!(encode(Duration::from_secs(200_000)), "200000S");
    }
}
