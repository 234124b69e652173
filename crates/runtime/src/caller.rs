//! The account a request acts for.
//!
//! The gateway authenticates the API key and forwards the key's account in the
//! [`ACCOUNT_METADATA_KEY`] metadata entry; services scope every read and write to it.
//! Services listen on internal addresses only: the gateway is the one place keys are checked.

use tonic::metadata::MetadataValue;
use tonic::{Request, Status};

/// The gRPC metadata key that carries the caller's account.
pub const ACCOUNT_METADATA_KEY: &str = "x-bourse-account";

/// Sets the caller's account on an outgoing request.
///
/// # Errors
/// An account that cannot be a metadata value (non-visible ASCII); accounts are validated
/// when keys are created, so this only fails for accounts that never came from a key.
pub fn with_account<T>(request: &mut Request<T>, account: &str) -> Result<(), Status> {
    let value = MetadataValue::try_from(account)
        .map_err(|_| Status::invalid_argument("account is not a valid metadata value"))?;
    request.metadata_mut().insert(ACCOUNT_METADATA_KEY, value);
    Ok(())
}

/// The caller's account of an incoming request.
///
/// # Errors
/// `UNAUTHENTICATED` when the request carries no account: it did not come through the gateway.
pub fn account_of<T>(request: &Request<T>) -> Result<String, Status> {
    request
        .metadata()
        .get(ACCOUNT_METADATA_KEY)
        .and_then(|value| value.to_str().ok())
        .filter(|account| !account.is_empty())
        .map(str::to_owned)
        .ok_or_else(|| Status::unauthenticated(format!("missing {ACCOUNT_METADATA_KEY} metadata")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_an_account() {
        let mut request = Request::new(());
        with_account(&mut request, "acme-capital").expect("valid account");
        assert_eq!(account_of(&request).expect("account"), "acme-capital");
    }

    #[test]
    fn a_request_without_an_account_is_unauthenticated() {
        let status = account_of(&Request::new(())).expect_err("no account");
        assert_eq!(status.code(), tonic::Code::Unauthenticated);
    }
}
