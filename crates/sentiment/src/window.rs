//! Symbol sentiment over a time window: the window type and the aggregate computed on read.

use chrono::{NaiveDateTime, TimeDelta};

use crate::error::SentimentError;
use crate::scorer::label_for;
use bourse_proto::sentiment::v1::{LabelCounts, SentimentLabel};

/// A window of `GetSymbolSentiment`: how far back from now articles count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Window {
    Hour,
    Day,
    Week,
    Month,
}

impl Window {
    /// Parses the request's `window`; empty means the contract's default, 1d.
    pub fn parse(raw: &str) -> Result<Self, SentimentError> {
        match raw.trim() {
            "" | "1d" => Ok(Window::Day),
            "1h" => Ok(Window::Hour),
            "7d" => Ok(Window::Week),
            "30d" => Ok(Window::Month),
            other => Err(SentimentError::InvalidArgument {
                field: "window",
                reason: format!("{other:?} is not one of 1h, 1d, 7d, 30d"),
            }),
        }
    }

    /// The name used in requests and responses.
    pub fn as_str(self) -> &'static str {
        match self {
            Window::Hour => "1h",
            Window::Day => "1d",
            Window::Week => "7d",
            Window::Month => "30d",
        }
    }

    /// The window's length.
    pub fn length(self) -> TimeDelta {
        match self {
            Window::Hour => TimeDelta::hours(1),
            Window::Day => TimeDelta::days(1),
            Window::Week => TimeDelta::days(7),
            Window::Month => TimeDelta::days(30),
        }
    }
}

/// Count, mean, decayed mean and label distribution of the scores in a window.
#[derive(Debug, Clone, PartialEq)]
pub struct Aggregate {
    pub count: i64,
    /// Plain mean; 0 for an empty window.
    pub mean: f64,
    /// Mean weighted by `exp(-age / (window / 2))`, so an article half a window old counts
    /// `1/e` as much as one published now; 0 for an empty window.
    pub decayed: f64,
    pub labels: LabelCounts,
}

impl Aggregate {
    /// Aggregates `(published_at, score)` pairs as of `as_of` over `window`. Articles published
    /// after `as_of` (clock skew) count as age 0.
    pub fn of(scores: &[(NaiveDateTime, f64)], window: Window, as_of: NaiveDateTime) -> Self {
        let mut tally = Tally::new(window, as_of);
        for &(published_at, score) in scores {
            tally.add_article(published_at, score);
        }
        tally.finish()
    }
}

/// Pre-aggregated articles of one UTC day (a row of PostgreSQL's `news_symbol_daily`).
#[derive(Debug, Clone, PartialEq)]
pub struct DayTotals {
    /// Midnight UTC starting the day.
    pub day: NaiveDateTime,
    pub articles: i64,
    pub score_sum: f64,
    pub positive: i64,
    pub negative: i64,
    /// Sum over the day's articles of `exp((t - day) / tau)`, tau = half the window.
    pub weight_sum: f64,
    /// The same weights times the score.
    pub weighted_score_sum: f64,
}

/// Running sums behind an [`Aggregate`]: single articles and whole pre-aggregated days.
#[derive(Debug, Clone)]
pub struct Tally {
    as_of: NaiveDateTime,
    /// Half the window, in seconds: the decay constant.
    tau: f64,
    count: i64,
    sum: f64,
    weighted: f64,
    weights: f64,
    labels: LabelCounts,
}

impl Tally {
    pub fn new(window: Window, as_of: NaiveDateTime) -> Self {
        Self {
            as_of,
            tau: window.length().as_seconds_f64() / 2.0,
            count: 0,
            sum: 0.0,
            weighted: 0.0,
            weights: 0.0,
            labels: LabelCounts::default(),
        }
    }

    /// Counts one article.
    pub fn add_article(&mut self, published_at: NaiveDateTime, score: f64) {
        self.count += 1;
        self.sum += score;
        let age = (self.as_of - published_at).as_seconds_f64().max(0.0);
        let weight = (-age / self.tau).exp();
        self.weighted += weight * score;
        self.weights += weight;
        match label_for(score) {
            SentimentLabel::Positive => self.labels.positive += 1,
            SentimentLabel::Negative => self.labels.negative += 1,
            _ => self.labels.neutral += 1,
        }
    }

    /// Counts a whole day whose weights were summed relative to its midnight.
    pub fn add_day(&mut self, day: &DayTotals) {
        self.count += day.articles;
        self.sum += day.score_sum;
        let factor = (-(self.as_of - day.day).as_seconds_f64() / self.tau).exp();
        self.weighted += factor * day.weighted_score_sum;
        self.weights += factor * day.weight_sum;
        self.labels.positive += day.positive;
        self.labels.negative += day.negative;
        self.labels.neutral += day.articles - day.positive - day.negative;
    }

    pub fn finish(self) -> Aggregate {
        Aggregate {
            count: self.count,
            mean: if self.count == 0 {
                0.0
            } else {
                self.sum / self.count as f64
            },
            decayed: if self.weights > 0.0 {
                self.weighted / self.weights
            } else {
                0.0
            },
            labels: self.labels,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::DateTime;

    fn at(secs: i64) -> NaiveDateTime {
        DateTime::from_timestamp(secs, 0)
            .expect("valid")
            .naive_utc()
    }

    #[test]
    fn parses_the_four_windows_and_defaults_to_a_day() {
        assert_eq!(Window::parse("").expect("default"), Window::Day);
        for name in ["1h", "1d", "7d", "30d"] {
            assert_eq!(Window::parse(name).expect("valid").as_str(), name);
        }
        assert!(Window::parse("2d").is_err());
    }

    #[test]
    fn decayed_mean_matches_hand_computed_weights() {
        // One-hour window: half-life constant 1800 s. Scores 0.8 now and -0.4 at 1800 s old:
        // weights 1 and e^-1, so decayed = (0.8 - 0.4/e) / (1 + 1/e).
        let now = at(10_000);
        let scores = [
            (now, 0.8),
            (at(10_000 - 1800), -0.4),
            (at(10_000 - 60), 0.0),
        ];
        let aggregate = Aggregate::of(&scores, Window::Hour, now);
        let e1 = (-1.0f64).exp();
        let e2 = (-60.0f64 / 1800.0).exp();
        let expected = (0.8 - 0.4 * e1) / (1.0 + e1 + e2);
        assert!(
            (aggregate.decayed - expected).abs() < 1e-12,
            "{aggregate:?}"
        );
        assert!((aggregate.mean - 0.4 / 3.0).abs() < 1e-12);
        assert_eq!(aggregate.count, 3);
        assert_eq!(
            (
                aggregate.labels.positive,
                aggregate.labels.neutral,
                aggregate.labels.negative
            ),
            (1, 1, 1)
        );
    }

    #[test]
    fn an_empty_window_is_all_zeros() {
        let aggregate = Aggregate::of(&[], Window::Month, at(0));
        assert_eq!(
            (aggregate.count, aggregate.mean, aggregate.decayed),
            (0, 0.0, 0.0)
        );
    }
}
