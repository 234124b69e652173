//! PostgreSQL's daily rollup (materialized view + live articles) against computed-on-read.

use bourse_sentiment::news::{self, NewArticle};
use bourse_sentiment::window::Window;
use chrono::{DateTime, NaiveDateTime, TimeDelta, Utc};

fn at(secs: i64) -> NaiveDateTime {
    DateTime::from_timestamp(secs, 0)
        .expect("valid")
        .naive_utc()
}

bourse_test_support::store_test!(
    the_daily_rollup_merged_with_live_articles_equals_on_read,
    |db| {
        // Articles over ten days, half ingested before the refresh (in the view), half after
        // (live), including late articles about old days. On PostgreSQL the service answers from
        // the view plus live rows; the reference is the same aggregate computed on read from every
        // article. On SQLite both are the on-read path.
        let t = 1_800_000_000 + 7 * 3600; // 07:00 UTC
        let ingested_before = Utc::now().naive_utc() - TimeDelta::minutes(30);
        let mut n = 0;
        let mut insert = |published: i64, score: f64, ingested: NaiveDateTime| {
            n += 1;
            let article = NewArticle {
                id: format!("r{n}"),
                caller_id: true,
                symbols: vec!["ROLL".parse().expect("symbol")],
                headline: format!("headline {n}"),
                body: None,
                source: "test".to_owned(),
                url: None,
                published_at: at(published),
                score,
            };
            async move { news::ingest(db, article, ingested).await.expect("insert") }
        };
        for k in 0..40_i64 {
            let score = ((k * 37) % 21 - 10) as f64 / 10.0;
            insert(t - k * 6 * 3600 - 60, score, ingested_before).await;
        }
        bourse_sentiment::rollup::refresh(db)
            .await
            .expect("refresh");
        for k in 0..12_i64 {
            let score = ((k * 11) % 9 - 4) as f64 / 5.0;
            insert(t - k * 17 * 3600 - 5, score, Utc::now().naive_utc()).await;
        }
        let symbol = "ROLL".parse().expect("symbol");
        for window in [Window::Day, Window::Week, Window::Month] {
            let scores = news::scores_between(db, &symbol, at(t) - window.length(), at(t))
                .await
                .expect("scores");
            let reference = bourse_sentiment::window::Aggregate::of(&scores, window, at(t));
            let served = match bourse_sentiment::rollup::aggregate(db, &symbol, window, at(t))
                .await
                .expect("rollup")
            {
                Some(from_view) => {
                    assert_eq!(db.backend(), bourse_store::Backend::Postgres);
                    from_view
                }
                None => reference.clone(),
            };
            assert!(reference.count > 0);
            assert_eq!(served.count, reference.count, "{window:?}");
            assert_eq!(served.labels, reference.labels, "{window:?}");
            assert!((served.mean - reference.mean).abs() < 1e-9, "{window:?}");
            assert!(
                (served.decayed - reference.decayed).abs() < 1e-9,
                "{window:?}: {served:?} vs {reference:?}"
            );
        }
    }
);
