//! API keys: created once and shown once, stored as SHA-256 hashes, listed by prefix, revoked.
//!
//! Keys are 32 random bytes, so a fast hash is the right one: there is nothing to brute-force
//! that a slow password hash would protect. Lookups are cached for [`LOOKUP_TTL`], so a revoked
//! key stops working within that time on every gateway replica.

use std::time::Duration;

use bourse_runtime::tier::Tier;
use bourse_store::schema::api_keys;
use bourse_store::{Db, StoreError, with_conn};
use chrono::{NaiveDateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use rand::RngExt;
use sha2::{Digest, Sha256};

/// Every Bourse API key starts with this, so leaked keys are easy to recognise in scanners.
pub const KEY_PREFIX: &str = "bk_";
/// How long a lookup result is reused.
pub const LOOKUP_TTL: Duration = Duration::from_secs(10);

/// Who a request acts for: the account and tier of its key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub key_id: String,
    pub account: String,
    pub tier: Tier,
    /// The key's own rate limit in requests per second, when it has one.
    pub rate_limit_per_second: Option<i32>,
}

/// A key as listed: never the key itself.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = api_keys)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct KeyInfo {
    pub id: String,
    pub account: String,
    pub tier: String,
    pub prefix: String,
    pub rate_limit_per_second: Option<i32>,
    pub created_at: NaiveDateTime,
    pub revoked_at: Option<NaiveDateTime>,
}

#[derive(Insertable)]
#[diesel(table_name = api_keys)]
struct NewKeyRow<'a> {
    id: &'a str,
    account: &'a str,
    tier: &'a str,
    key_hash: &'a str,
    prefix: &'a str,
    rate_limit_per_second: Option<i32>,
    created_at: NaiveDateTime,
}

/// A freshly created key: the only time the secret is available.
#[derive(Debug, Clone)]
pub struct NewKey {
    pub id: String,
    pub key: String,
    pub account: String,
    pub tier: Tier,
}

/// Why a key operation failed.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("account {0:?} must be 1-64 characters of a-z, A-Z, 0-9, '.', '_' and '-'")]
    InvalidAccount(String),
    #[error("rate limit must be a positive number of requests per second")]
    InvalidRateLimit,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<diesel::result::Error> for KeyError {
    fn from(error: diesel::result::Error) -> Self {
        KeyError::Store(error.into())
    }
}

fn validate_account(account: &str) -> Result<(), KeyError> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-');
    if account.is_empty() || account.len() > 64 || !account.chars().all(allowed) {
        return Err(KeyError::InvalidAccount(account.to_owned()));
    }
    Ok(())
}

/// The stored form of a key.
pub fn hash_key(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

/// Creates a key for `account` in `tier`; the returned secret is not stored anywhere.
pub async fn create(
    db: &Db,
    account: &str,
    tier: Tier,
    rate_limit_per_second: Option<i32>,
) -> Result<NewKey, KeyError> {
    validate_account(account)?;
    if rate_limit_per_second.is_some_and(|limit| limit <= 0) {
        return Err(KeyError::InvalidRateLimit);
    }
    let secret: [u8; 32] = rand::rng().random();
    let key = format!("{KEY_PREFIX}{}", hex::encode(secret));
    let id = uuid::Uuid::now_v7().to_string();
    let row = NewKeyRow {
        id: &id,
        account,
        tier: tier.as_str(),
        key_hash: &hash_key(&key),
        prefix: &key[..KEY_PREFIX.len() + 8],
        rate_limit_per_second,
        created_at: Utc::now().naive_utc(),
    };
    with_conn!(db, |conn| {
        diesel::insert_into(api_keys::table)
            .values(&row)
            .execute(conn)
            .await?
    });
    Ok(NewKey {
        id,
        key,
        account: account.to_owned(),
        tier,
    })
}

/// Every key, newest first.
pub async fn list(db: &Db) -> Result<Vec<KeyInfo>, KeyError> {
    Ok(with_conn!(db, |conn| {
        api_keys::table
            .order(api_keys::created_at.desc())
            .select(KeyInfo::as_select())
            .load(conn)
            .await?
    }))
}

/// Revokes the key with this id; false when there is no such unrevoked key.
pub async fn revoke(db: &Db, id: &str) -> Result<bool, KeyError> {
    let now = Utc::now().naive_utc();
    let changed = with_conn!(db, |conn| {
        diesel::update(
            api_keys::table
                .filter(api_keys::id.eq(id))
                .filter(api_keys::revoked_at.is_null()),
        )
        .set(api_keys::revoked_at.eq(now))
        .execute(conn)
        .await?
    });
    Ok(changed == 1)
}

/// Revokes every unrevoked key of `account`; returns how many.
pub async fn revoke_account(db: &Db, account: &str) -> Result<usize, KeyError> {
    let now = Utc::now().naive_utc();
    Ok(with_conn!(db, |conn| {
        diesel::update(
            api_keys::table
                .filter(api_keys::account.eq(account))
                .filter(api_keys::revoked_at.is_null()),
        )
        .set(api_keys::revoked_at.eq(now))
        .execute(conn)
        .await?
    }))
}

/// Resolves presented keys to callers, caching results (misses too) for [`LOOKUP_TTL`].
#[derive(Debug, Clone)]
pub struct KeyStore {
    db: Db,
    lookups: moka::future::Cache<String, Option<Caller>>,
}

impl KeyStore {
    pub fn new(db: Db) -> Self {
        let lookups = moka::future::Cache::builder()
            .max_capacity(100_000)
            .time_to_live(LOOKUP_TTL)
            .build();
        Self { db, lookups }
    }

    /// The caller a key belongs to, or `None` for an unknown or revoked key.
    pub async fn lookup(&self, key: &str) -> Result<Option<Caller>, KeyError> {
        let hash = hash_key(key);
        if let Some(hit) = self.lookups.get(&hash).await {
            return Ok(hit);
        }
        let found = self.lookup_uncached(&hash).await?;
        self.lookups.insert(hash, found.clone()).await;
        Ok(found)
    }

    async fn lookup_uncached(&self, hash: &str) -> Result<Option<Caller>, KeyError> {
        let row: Option<KeyInfo> = with_conn!(&self.db, |conn| {
            api_keys::table
                .filter(api_keys::key_hash.eq(hash))
                .filter(api_keys::revoked_at.is_null())
                .select(KeyInfo::as_select())
                .first(conn)
                .await
                .optional()?
        });
        Ok(row.and_then(|row| {
            let tier = row.tier.parse().ok()?;
            Some(Caller {
                key_id: row.id,
                account: row.account,
                tier,
                rate_limit_per_second: row.rate_limit_per_second,
            })
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accounts_are_validated() {
        assert!(validate_account("acme-capital_1.eu").is_ok());
        for bad in ["", "a b", "acme/1", &"a".repeat(65)] {
            assert!(validate_account(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn hashes_are_hex_sha256() {
        assert_eq!(
            hash_key("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
