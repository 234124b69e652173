//! Transactions through `with_conn!`: commit keeps everything, an error
//! anywhere inside keeps nothing.

use bourse_store::schema::api_keys;
use bourse_store::{Db, StoreError};
use bourse_test_support::store_test;
use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};

use crate::rows::ApiKeyRow;

/// Inserts `keys` one statement at a time in one transaction, then fails
/// with `fail_with` if given (after all inserts succeeded).
async fn insert_all_or_nothing(
    db: &Db,
    keys: &[ApiKeyRow],
    fail_with: Option<diesel::result::Error>,
) -> Result<usize, StoreError> {
    bourse_store::with_conn!(db, |conn| {
        conn.transaction::<_, StoreError, _>(async |conn| {
            let mut inserted = 0;
            for key in keys {
                inserted += diesel::insert_into(api_keys::table)
                    .values(key)
                    .execute(conn)
                    .await?;
            }
            match fail_with {
                Some(error) => Err(StoreError::Query(error)),
                None => Ok(inserted),
            }
        })
        .await
    })
}

async fn count_keys(db: &Db) -> Result<i64, StoreError> {
    Ok(bourse_store::with_conn!(db, |conn| {
        api_keys::table.count().get_result::<i64>(conn).await?
    }))
}

store_test!(transaction_commits, |db| {
    let keys = [ApiKeyRow::sample(1, "acme"), ApiKeyRow::sample(2, "acme")];
    let inserted = insert_all_or_nothing(db, &keys, None)
        .await
        .expect("the transaction commits");
    assert_eq!(inserted, 2);
    assert_eq!(count_keys(db).await.expect("count"), 2);
});

store_test!(transaction_rollback_leaves_nothing, |db| {
    let keys = [ApiKeyRow::sample(1, "acme"), ApiKeyRow::sample(2, "acme")];
    let error = insert_all_or_nothing(db, &keys, Some(diesel::result::Error::RollbackTransaction))
        .await
        .expect_err("the body asked for a rollback");
    assert!(matches!(
        error,
        StoreError::Query(diesel::result::Error::RollbackTransaction)
    ));
    assert_eq!(
        count_keys(db).await.expect("count"),
        0,
        "both inserts rolled back"
    );
});

store_test!(failing_statement_rolls_back_earlier_ones, |db| {
    let first = ApiKeyRow::sample(1, "acme");
    let duplicate = ApiKeyRow {
        id: uuid::Uuid::new_v4().to_string(),
        ..first.clone()
    };
    let error = insert_all_or_nothing(db, &[first, duplicate], None)
        .await
        .expect_err("the second insert violates the unique hash");
    assert!(error.is_unique_violation(), "unexpected error: {error}");
    assert_eq!(
        count_keys(db).await.expect("count"),
        0,
        "the first insert rolled back"
    );

    // The connection went back to the pool in a usable state.
    db.ping().await.expect("ping after a failed transaction");
    let keys = [ApiKeyRow::sample(3, "acme")];
    insert_all_or_nothing(db, &keys, None)
        .await
        .expect("a later transaction commits");
    assert_eq!(count_keys(db).await.expect("count"), 1);
});
