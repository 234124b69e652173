//! AIP-158 pagination with keyset cursors.
//!
//! A page token is the opaque encoding of the last item's (time, id) on the previous page. The
//! next page starts strictly after it, so pages stay stable while rows are inserted and no
//! OFFSET scan ever grows with the page number.

use chrono::{DateTime, NaiveDateTime};

/// Why a page size or token was refused; the message names the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PageError {
    #[error("page_size must not be negative, got {0}")]
    NegativeSize(i32),
    #[error("page_token is not a token this API returned")]
    InvalidToken,
}

/// The position after which the next page starts: the (time, id) of the last item returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub time: NaiveDateTime,
    pub id: String,
}

const TOKEN_VERSION: &str = "v1";

impl Cursor {
    /// The opaque token for this cursor.
    pub fn encode(&self) -> String {
        let micros = self.time.and_utc().timestamp_micros();
        hex::encode(format!("{TOKEN_VERSION}|{micros}|{}", self.id))
    }

    /// The cursor a token stands for.
    pub fn decode(token: &str) -> Result<Self, PageError> {
        let bytes = hex::decode(token).map_err(|_| PageError::InvalidToken)?;
        let text = String::from_utf8(bytes).map_err(|_| PageError::InvalidToken)?;
        let mut parts = text.splitn(3, '|');
        let (Some(TOKEN_VERSION), Some(micros), Some(id)) =
            (parts.next(), parts.next(), parts.next())
        else {
            return Err(PageError::InvalidToken);
        };
        let micros: i64 = micros.parse().map_err(|_| PageError::InvalidToken)?;
        let time = DateTime::from_timestamp_micros(micros).ok_or(PageError::InvalidToken)?;
        Ok(Self {
            time: time.naive_utc(),
            id: id.to_owned(),
        })
    }
}

/// One page to read: how many items and after which cursor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    /// Items to return; one more is read to know whether a next page exists.
    pub size: i64,
    pub after: Option<Cursor>,
}

impl PageRequest {
    /// Parses a request's `page_size` and `page_token`: 0 means `default`, sizes above `max` are
    /// lowered to `max` (AIP-158), negative sizes and foreign tokens are refused.
    pub fn parse(
        page_size: i32,
        page_token: &str,
        default: i64,
        max: i64,
    ) -> Result<Self, PageError> {
        let size = match page_size {
            n if n < 0 => return Err(PageError::NegativeSize(n)),
            0 => default,
            n => i64::from(n).min(max),
        };
        let after = if page_token.is_empty() {
            None
        } else {
            Some(Cursor::decode(page_token)?)
        };
        Ok(Self { size, after })
    }

    /// How many rows to read: one past the page, to learn whether another page follows.
    pub fn limit(&self) -> i64 {
        self.size + 1
    }

    /// Cuts the rows read with [`PageRequest::limit`] to the page, returning the next page token
    /// (empty on the last page) computed from the last item kept.
    pub fn finish<T>(
        &self,
        mut rows: Vec<T>,
        cursor_of: impl Fn(&T) -> Cursor,
    ) -> (Vec<T>, String) {
        let size = usize::try_from(self.size).unwrap_or(usize::MAX);
        if rows.len() <= size {
            return (rows, String::new());
        }
        rows.truncate(size);
        let token = rows
            .last()
            .map(|last| cursor_of(last).encode())
            .unwrap_or_default();
        (rows, token)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cursor(micros: i64, id: &str) -> Cursor {
        let time = DateTime::from_timestamp_micros(micros)
            .expect("valid")
            .naive_utc();
        Cursor {
            time,
            id: id.to_owned(),
        }
    }

    #[test]
    fn tokens_round_trip() {
        let original = cursor(1_700_000_000_123_456, "0190a1b2-c3d4|with-pipe");
        assert_eq!(Cursor::decode(&original.encode()), Ok(original));
    }

    #[test]
    fn foreign_tokens_are_refused() {
        for token in [
            "zz",
            "",
            "6869",
            &hex::encode("v2|1|a"),
            &hex::encode("v1|x|a"),
        ] {
            assert_eq!(
                Cursor::decode(token),
                Err(PageError::InvalidToken),
                "{token}"
            );
        }
    }

    #[test]
    fn sizes_follow_aip_158() {
        assert_eq!(PageRequest::parse(0, "", 50, 500).map(|p| p.size), Ok(50));
        assert_eq!(PageRequest::parse(7, "", 50, 500).map(|p| p.size), Ok(7));
        assert_eq!(
            PageRequest::parse(9_999, "", 50, 500).map(|p| p.size),
            Ok(500)
        );
        assert_eq!(
            PageRequest::parse(-1, "", 50, 500),
            Err(PageError::NegativeSize(-1))
        );
    }

    #[test]
    fn finish_emits_a_token_only_when_more_rows_exist() {
        let page = PageRequest::parse(2, "", 50, 500).expect("valid");
        let key = |n: &i64| cursor(*n, &n.to_string());
        assert_eq!(page.finish(vec![1, 2], key), (vec![1, 2], String::new()));
        let (rows, token) = page.finish(vec![1, 2, 3], key);
        assert_eq!(rows, vec![1, 2]);
        assert_eq!(Cursor::decode(&token), Ok(key(&2)));
    }
}
