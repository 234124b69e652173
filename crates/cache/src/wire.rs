//! The value format in Redis: an 8-byte big-endian insertion time (Unix milliseconds) followed by
//! the caller's bytes. The header lets every process judge freshness per tier from one entry.

use bytes::Bytes;

/// Length of the insertion-time header.
const HEADER_LEN: usize = 8;

/// The Redis value for `value` first inserted at `inserted_ms`.
pub(crate) fn encode(inserted_ms: u64, value: &[u8]) -> Vec<u8> {
    let mut raw = Vec::with_capacity(HEADER_LEN + value.len());
    raw.extend_from_slice(&inserted_ms.to_be_bytes());
    raw.extend_from_slice(value);
    raw
}

/// The insertion time and value of a Redis value, or `None` if it is too short to carry a header
/// (written by something other than this crate). The value shares `raw`'s buffer.
pub(crate) fn decode(raw: Bytes) -> Option<(u64, Bytes)> {
    let header: [u8; HEADER_LEN] = raw.get(..HEADER_LEN)?.try_into().ok()?;
    Some((u64::from_be_bytes(header), raw.slice(HEADER_LEN..)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        let raw = encode(1_700_000_000_123, b"AAPL 189.5");
        assert_eq!(raw.len(), 8 + 10);
        assert_eq!(&raw[..8], &1_700_000_000_123_u64.to_be_bytes());
        let decoded = decode(Bytes::from(raw));
        assert_eq!(
            decoded,
            Some((1_700_000_000_123, Bytes::from_static(b"AAPL 189.5")))
        );
    }

    #[test]
    fn empty_values_round_trip_and_short_values_are_rejected() {
        assert_eq!(decode(Bytes::from(encode(7, b""))), Some((7, Bytes::new())));
        assert_eq!(decode(Bytes::from_static(b"1234567")), None);
    }
}
