//! Round trips on `api_keys`, the table the gateway authenticates against.

use bourse_store::schema::api_keys;
use bourse_store::{Db, StoreError};
use bourse_test_support::store_test;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;

use crate::rows::{ApiKeyRow, at};

/// Inserts row by row: a multi-row insert does not compile for SQLite through
/// diesel-async (see `with_conn!`).
async fn insert(db: &Db, keys: &[ApiKeyRow]) -> Result<usize, StoreError> {
    let mut inserted = 0;
    for key in keys {
        inserted += bourse_store::with_conn!(db, |conn| {
            diesel::insert_into(api_keys::table)
                .values(key)
                .execute(conn)
                .await?
        });
    }
    Ok(inserted)
}

async fn find_by_hash(db: &Db, key_hash: &str) -> Result<ApiKeyRow, StoreError> {
    Ok(bourse_store::with_conn!(db, |conn| {
        api_keys::table
            .filter(api_keys::key_hash.eq(key_hash))
            .select(ApiKeyRow::as_select())
            .first(conn)
            .await?
    }))
}

async fn list(db: &Db, account: &str) -> Result<Vec<ApiKeyRow>, StoreError> {
    Ok(bourse_store::with_conn!(db, |conn| {
        api_keys::table
            .filter(api_keys::account.eq(account))
            .order(api_keys::prefix)
            .select(ApiKeyRow::as_select())
            .load(conn)
            .await?
    }))
}

store_test!(api_key_round_trip, |db| {
    let key = ApiKeyRow::sample(1, "acme");
    let revoked = ApiKeyRow {
        tier: "shared".to_owned(),
        rate_limit_per_second: None,
        revoked_at: Some(at(2024, 3, 1, 999_999)),
        ..ApiKeyRow::sample(2, "acme")
    };
    let other_account = ApiKeyRow::sample(3, "globex");

    let inserted = insert(db, &[key.clone(), revoked.clone(), other_account])
        .await
        .expect("insert api keys");
    assert_eq!(inserted, 3);

    let found = find_by_hash(db, &key.key_hash)
        .await
        .expect("find the key by hash");
    assert_eq!(
        found, key,
        "every column comes back as stored, microseconds included"
    );

    let listed = list(db, "acme").await.expect("list acme's keys");
    assert_eq!(listed, vec![key, revoked], "only acme's keys, by prefix");

    let missing = find_by_hash(db, &"f".repeat(64))
        .await
        .expect_err("an unknown hash finds nothing");
    assert!(missing.is_not_found(), "unexpected error: {missing}");
});

store_test!(api_key_hash_is_unique, |db| {
    let first = ApiKeyRow::sample(7, "acme");
    let same_hash = ApiKeyRow {
        id: uuid::Uuid::new_v4().to_string(),
        ..first.clone()
    };
    insert(db, &[first]).await.expect("insert the first key");
    let error = insert(db, &[same_hash])
        .await
        .expect_err("a second key with the same hash is rejected");
    assert!(error.is_unique_violation(), "unexpected error: {error}");
});

store_test!(api_key_constraints_are_checked, |db| {
    let bad_tier = ApiKeyRow {
        tier: "gold".to_owned(),
        ..ApiKeyRow::sample(3, "acme")
    };
    let short_hash = ApiKeyRow {
        key_hash: "abc123".to_owned(),
        ..ApiKeyRow::sample(4, "acme")
    };
    for (row, what) in [
        (bad_tier, "tier `gold`"),
        (short_hash, "a 6-character hash"),
    ] {
        let error = insert(db, &[row])
            .await
            .expect_err("a CHECK constraint rejects the row");
        assert!(
            matches!(
                error,
                StoreError::Query(diesel::result::Error::DatabaseError(..))
            ),
            "{what}: unexpected error: {error}"
        );
    }
    assert!(list(db, "acme").await.expect("list").is_empty());
});
