//! Conversions between protobuf `Timestamp`s and chrono times.
//!
//! Bourse stores times as UTC `NaiveDateTime`s (the one timestamp type diesel maps on both
//! PostgreSQL and SQLite) and speaks `google.protobuf.Timestamp` on the wire.

use chrono::{DateTime, NaiveDateTime, Utc};
use pbjson_types::Timestamp;

/// The protobuf form of a UTC time.
pub fn to_timestamp(time: DateTime<Utc>) -> Timestamp {
    Timestamp {
        seconds: time.timestamp(),
        nanos: time.timestamp_subsec_nanos() as i32,
    }
}

/// The protobuf form of a naive time stored as UTC.
pub fn naive_to_timestamp(time: NaiveDateTime) -> Timestamp {
    to_timestamp(time.and_utc())
}

/// The UTC time of a protobuf timestamp, or `None` when it is outside chrono's range or its
/// nanoseconds are not normalised.
pub fn from_timestamp(timestamp: &Timestamp) -> Option<DateTime<Utc>> {
    let nanos = u32::try_from(timestamp.nanos).ok()?;
    DateTime::from_timestamp(timestamp.seconds, nanos)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_with_sub_second_precision() {
        let time = DateTime::from_timestamp(1_700_000_000, 123_456_789).expect("valid time");
        assert_eq!(from_timestamp(&to_timestamp(time)), Some(time));
    }

    #[test]
    fn rejects_negative_nanos() {
        let bad = Timestamp {
            seconds: 0,
            nanos: -1,
        };
        assert_eq!(from_timestamp(&bad), None);
    }
}
