//! Texts to score: validated against the input limits and normalised the moment they arrive.

use sha2::{Digest, Sha256};

use crate::error::SentimentError;

/// The default longest text scored, in characters (`--sentiment-max-text-chars`).
pub const DEFAULT_MAX_TEXT_CHARS: usize = 10_000;

/// The most texts one `BatchScoreText` call may carry (the contract's limit).
pub const MAX_BATCH_TEXTS: usize = 256;

/// A non-empty text within the length limit, with whitespace normalised: leading and trailing
/// whitespace dropped and every inner run of whitespace made one space. Case is kept, because the
/// lexicon reads capitals as emphasis. Two texts that normalise alike score alike and share one
/// cache entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Text(String);

impl Text {
    /// Parses `raw` (the request field `field`). Texts longer than `max_chars` are rejected rather
    /// than truncated: a silently truncated article would get a score for text the caller never
    /// meant to be judged alone, so the `truncated` flag of the contract is always false.
    pub fn parse(field: &'static str, raw: &str, max_chars: usize) -> Result<Self, SentimentError> {
        let chars = raw.chars().count();
        if chars > max_chars {
            return Err(SentimentError::InvalidArgument {
                field,
                reason: format!("{chars} characters is more than the limit of {max_chars}"),
            });
        }
        let mut normalised = String::with_capacity(raw.len());
        for word in raw.split_whitespace() {
            if !normalised.is_empty() {
                normalised.push(' ');
            }
            normalised.push_str(word);
        }
        if normalised.is_empty() {
            return Err(SentimentError::InvalidArgument {
                field,
                reason: "must not be empty".into(),
            });
        }
        Ok(Self(normalised))
    }

    /// The normalised text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The normalised text, owned.
    pub fn into_string(self) -> String {
        self.0
    }

    /// The prediction cache key: hex SHA-256 of the model id and the normalised text, so that
    /// keys have a fixed size whatever the text and never collide across models.
    pub fn cache_key(&self, model_id: &str) -> String {
        let mut hasher = Sha256::new();
        hasher.update(model_id.as_bytes());
        hasher.update([0]);
        hasher.update(self.0.as_bytes());
        hex::encode(hasher.finalize())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_empty_and_oversized_texts() {
        assert!(Text::parse("text", "  \n\t", 10).is_err());
        assert!(Text::parse("text", &"a".repeat(10), 10).is_ok());
        let error = Text::parse("text", &"é".repeat(11), 10).expect_err("too long");
        assert_eq!(
            error.to_string(),
            "text: 11 characters is more than the limit of 10"
        );
    }

    #[test]
    fn normalises_whitespace_and_keys_on_model_and_text() {
        let a = Text::parse("text", "  Acme   beats\nestimates ", 100).expect("valid");
        let b = Text::parse("text", "Acme beats estimates", 100).expect("valid");
        assert_eq!(a, b);
        assert_eq!(a.as_str(), "Acme beats estimates");
        assert_eq!(a.cache_key("m1"), b.cache_key("m1"));
        assert_ne!(a.cache_key("m1"), a.cache_key("m2"));
        let c = Text::parse("text", "ACME beats estimates", 100).expect("valid");
        assert_ne!(a.cache_key("m1"), c.cache_key("m1"));
        assert_eq!(a.cache_key("m1").len(), 64);
    }
}
