//! News ingest, listing and symbol sentiment, on SQLite and PostgreSQL.

use bourse_proto::sentiment::v1::{
    GetSymbolSentimentRequest, IngestNewsRequest, ListNewsRequest, NewsArticle, SentimentLabel,
};
use bourse_proto::time::to_timestamp;
use bourse_sentiment::news::{self, NewArticle};
use bourse_sentiment::window::Window;
use bourse_store::page::PageRequest;
use chrono::{DateTime, NaiveDateTime, TimeDelta, Utc};
use tonic::Code;

use crate::app::TestApp;

fn article(id: &str, symbols: &[&str], headline: &str, url: &str, age: TimeDelta) -> NewsArticle {
    NewsArticle {
        id: id.to_owned(),
        symbols: symbols.iter().map(|s| (*s).to_owned()).collect(),
        headline: headline.to_owned(),
        source: "wire".to_owned(),
        url: url.to_owned(),
        published_at: Some(to_timestamp(Utc::now() - age)),
        ..NewsArticle::default()
    }
}

fn ingest(article: NewsArticle) -> IngestNewsRequest {
    IngestNewsRequest {
        article: Some(article),
    }
}

bourse_test_support::store_test!(ingest_is_idempotent_on_caller_id_and_on_source_url, |db| {
    let mut app = TestApp::start_default(db).await;
    let headline = "Acme beats estimates and raises guidance";
    let first = app
        .client
        .ingest_news(ingest(article(
            "",
            &["acme"],
            headline,
            "https://x/1",
            TimeDelta::minutes(5),
        )))
        .await
        .expect("ingest")
        .into_inner();
    assert!(!first.id.is_empty());
    assert_eq!(first.symbols, ["ACME"]);
    let sentiment = first.sentiment.clone().expect("scored at ingest");
    assert_eq!(sentiment.label, SentimentLabel::Positive as i32);

    // Same (source, url), no id: the stored article comes back, nothing is added.
    let again = app
        .client
        .ingest_news(ingest(article(
            "",
            &["ACME"],
            "edited headline",
            "https://x/1",
            TimeDelta::zero(),
        )))
        .await
        .expect("re-ingest")
        .into_inner();
    assert_eq!(again.id, first.id);
    assert_eq!(again.headline, headline);

    // A caller id: idempotent on it, even without a url.
    let by_id = article(
        "feed-42",
        &["ACME"],
        "Acme cuts jobs",
        "",
        TimeDelta::minutes(1),
    );
    let stored = app
        .client
        .ingest_news(ingest(by_id.clone()))
        .await
        .expect("ingest")
        .into_inner();
    assert_eq!(stored.id, "feed-42");
    let repeat = app
        .client
        .ingest_news(ingest(by_id))
        .await
        .expect("again")
        .into_inner();
    assert_eq!(repeat.id, "feed-42");
    assert_eq!(repeat.published_at, stored.published_at);

    let listed = app
        .client
        .list_news(ListNewsRequest::default())
        .await
        .expect("list")
        .into_inner();
    assert_eq!(listed.articles.len(), 2, "{listed:?}");

    let empty = app
        .client
        .ingest_news(ingest(article("", &["ACME"], " ", "", TimeDelta::zero())))
        .await;
    assert_eq!(
        empty.expect_err("empty headline").code(),
        Code::InvalidArgument
    );
    let bad_symbol = app
        .client
        .ingest_news(ingest(article(
            "",
            &["NOT A SYMBOL"],
            "Acme gains",
            "",
            TimeDelta::zero(),
        )))
        .await;
    assert_eq!(
        bad_symbol.expect_err("bad symbol").code(),
        Code::InvalidArgument
    );
    app.served.stop().await;
});

bourse_test_support::store_test!(list_news_pages_newest_first_and_filters_by_symbol, |db| {
    let mut app = TestApp::start_default(db).await;
    for i in 0..7 {
        let symbols: &[&str] = if i % 2 == 0 {
            &["AAA", "BBB"]
        } else {
            &["BBB"]
        };
        app.client
            .ingest_news(ingest(article(
                &format!("n{i}"),
                symbols,
                &format!("Headline number {i}"),
                "",
                TimeDelta::minutes(100 - i),
            )))
            .await
            .expect("ingest");
    }
    let mut ids = Vec::new();
    let mut token = String::new();
    loop {
        let page = app
            .client
            .list_news(ListNewsRequest {
                symbol: "aaa".to_owned(),
                page_size: 2,
                page_token: token,
            })
            .await
            .expect("list")
            .into_inner();
        assert!(page.articles.len() <= 2);
        ids.extend(page.articles.into_iter().map(|a| a.id));
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    assert_eq!(ids, ["n6", "n4", "n2", "n0"]);
    let all = app
        .client
        .list_news(ListNewsRequest {
            page_size: 500,
            ..ListNewsRequest::default()
        })
        .await
        .expect("list")
        .into_inner();
    assert_eq!(all.articles.len(), 7);
    assert!(all.next_page_token.is_empty());
    let bad = app
        .client
        .list_news(ListNewsRequest {
            page_token: "zz".to_owned(),
            ..ListNewsRequest::default()
        })
        .await;
    assert_eq!(
        bad.expect_err("foreign token").code(),
        Code::InvalidArgument
    );
    app.served.stop().await;
});

fn at(secs: i64) -> NaiveDateTime {
    DateTime::from_timestamp(secs, 0)
        .expect("valid")
        .naive_utc()
}

bourse_test_support::store_test!(window_aggregates_match_hand_computed_values, |db| {
    // Scores chosen by the test (stored directly), so the expected values are independent of
    // the model. as_of = t; 1h window: articles at t-10m (0.6), t-30m (-0.2), t-50m (0.0);
    // one at t-2h (-0.9) counts only in wider windows; one for another symbol never counts.
    let t = 1_800_000_000;
    let rows = [
        ("a", "ZZZ", t - 600, 0.6),
        ("b", "ZZZ", t - 1800, -0.2),
        ("c", "ZZZ", t - 3000, 0.0),
        ("d", "ZZZ", t - 7200, -0.9),
        ("e", "YYY", t - 60, 0.9),
    ];
    for (id, symbol, published, score) in rows {
        news::ingest(
            db,
            NewArticle {
                id: id.to_owned(),
                caller_id: true,
                symbols: vec![symbol.parse().expect("symbol")],
                headline: format!("headline {id}"),
                body: None,
                source: "test".to_owned(),
                url: None,
                published_at: at(published),
                score,
            },
            at(t),
        )
        .await
        .expect("insert");
    }
    let app = TestApp::start_default(db).await;
    let service = bourse_sentiment::Sentiment::new(
        db.clone(),
        bourse_sentiment::Predictor::new(
            app.scorer.clone(),
            bourse_cache::Cache::in_process(bourse_cache::CacheConfig::default()),
        ),
        100,
    );
    let symbol = "zzz".parse().expect("symbol");

    let hour = service
        .symbol_sentiment(&symbol, Window::Hour, at(t))
        .await
        .expect("1h");
    assert_eq!(hour.article_count, 3);
    assert!((hour.mean_score - 0.4 / 3.0).abs() < 1e-12, "{hour:?}");
    let w = |age: f64| (-age / 1800.0).exp();
    let decayed = (0.6 * w(600.0) - 0.2 * w(1800.0)) / (w(600.0) + w(1800.0) + w(3000.0));
    assert!((hour.decayed_score - decayed).abs() < 1e-12, "{hour:?}");
    let labels = hour.labels.expect("labels");
    assert_eq!(
        (labels.positive, labels.neutral, labels.negative),
        (1, 1, 1)
    );
    assert_eq!(
        hour.most_positive
            .iter()
            .map(|a| a.id.as_str())
            .collect::<Vec<_>>(),
        ["a"]
    );
    assert_eq!(
        hour.most_negative
            .iter()
            .map(|a| a.id.as_str())
            .collect::<Vec<_>>(),
        ["b"]
    );

    let day = service
        .symbol_sentiment(&symbol, Window::Day, at(t))
        .await
        .expect("1d");
    assert_eq!(day.article_count, 4);
    assert!((day.mean_score - (0.6 - 0.2 - 0.9) / 4.0).abs() < 1e-12);
    assert_eq!(
        day.most_negative
            .iter()
            .map(|a| a.id.as_str())
            .collect::<Vec<_>>(),
        ["d", "b"]
    );
    assert_eq!(day.window, "1d");

    let page = PageRequest::parse(0, "", 50, 500).expect("page");
    let (listed, _) = news::list(db, Some(&symbol), &page).await.expect("list");
    assert_eq!(listed.len(), 4);
    app.served.stop().await;
});

bourse_test_support::store_test!(
    get_symbol_sentiment_over_grpc_validates_and_aggregates,
    |db| {
        let mut app = TestApp::start_default(db).await;
        app.client
            .ingest_news(ingest(article(
                "p",
                &["QQQ"],
                "Acme beats estimates and raises guidance",
                "",
                TimeDelta::minutes(10),
            )))
            .await
            .expect("ingest");
        app.client
            .ingest_news(ingest(article(
                "n",
                &["QQQ"],
                "Regulators open a fraud probe as losses mount",
                "",
                TimeDelta::hours(3),
            )))
            .await
            .expect("ingest");
        let hour = app
            .client
            .get_symbol_sentiment(GetSymbolSentimentRequest {
                symbol: "QQQ".into(),
                window: "1h".into(),
            })
            .await
            .expect("1h")
            .into_inner();
        assert_eq!(hour.article_count, 1);
        assert!(hour.mean_score > 0.0);
        let day = app
            .client
            .get_symbol_sentiment(GetSymbolSentimentRequest {
                symbol: "qqq".into(),
                window: String::new(),
            })
            .await
            .expect("default window")
            .into_inner();
        assert_eq!((day.window.as_str(), day.article_count), ("1d", 2));
        assert_eq!(day.most_negative[0].id, "n");
        let bad = app
            .client
            .get_symbol_sentiment(GetSymbolSentimentRequest {
                symbol: "QQQ".into(),
                window: "2w".into(),
            })
            .await;
        let status = bad.expect_err("bad window");
        assert_eq!(status.code(), Code::InvalidArgument);
        assert!(
            status.message().starts_with("window:"),
            "{}",
            status.message()
        );
        app.served.stop().await;
    }
);

bourse_test_support::store_test!(jsonl_import_is_idempotent_and_reports_bad_lines, |db| {
    let predictor = bourse_sentiment::Predictor::new(
        std::sync::Arc::new(bourse_sentiment::LexiconScorer::default()),
        bourse_cache::Cache::in_process(bourse_cache::CacheConfig::default()),
    );
    let sentiment = bourse_sentiment::Sentiment::new(db.clone(), predictor, 10_000);
    let file = concat!(
        r#"{"symbols":["AAPL"],"headline":"Apple beats estimates","source":"wire","url":"https://w/1","published_at":"2026-11-20T14:30:00Z"}"#,
        "\n\n",
        r#"{"symbols":["AAPL"],"headline":"","source":"wire"}"#,
        "\n",
        "not json\n",
        r#"{"id":"x-1","symbols":["MSFT"],"headline":"Microsoft misses estimates","source":"wire"}"#,
        "\n",
    );
    let report = bourse_sentiment::import::import_news_jsonl(&sentiment, file.as_bytes())
        .await
        .expect("read");
    assert_eq!(
        (report.created, report.duplicates, report.rejected),
        (2, 0, 2),
        "{report:?}"
    );
    assert_eq!(
        report
            .errors
            .iter()
            .map(|(line, _)| *line)
            .collect::<Vec<_>>(),
        [3, 4]
    );
    assert!(
        report.errors[0].1.starts_with("article.headline:"),
        "{report:?}"
    );
    let again = bourse_sentiment::import::import_news_jsonl(&sentiment, file.as_bytes())
        .await
        .expect("read");
    assert_eq!((again.created, again.duplicates), (0, 2));
    let page = PageRequest::parse(0, "", 50, 500).expect("page");
    let (rows, _) = news::list(db, None, &page).await.expect("list");
    assert_eq!(rows.len(), 2);
    let apple = rows.iter().find(|r| r.symbols == "AAPL").expect("apple");
    assert_eq!(apple.published_at, at(1_795_185_000));
});
