//! Describing a database URL without its secrets, for errors and logs.

use url::Url;

/// Renders `url` as `host:port/database`, dropping the scheme, user, password
/// and query (which may carry `password=`). Unparseable input renders as a
/// placeholder rather than being echoed back.
pub(crate) fn describe_url(url: &str) -> String {
    match Url::parse(url) {
        Ok(parsed) => describe_parsed(&parsed),
        Err(_) => "<unparseable database URL>".to_owned(),
    }
}

/// As [`describe_url`], for an already parsed URL.
pub(crate) fn describe_parsed(url: &Url) -> String {
    let host = url.host_str().unwrap_or("localhost");
    let database = url.path().trim_start_matches('/');
    match url.port() {
        Some(port) => format!("{host}:{port}/{database}"),
        None => format!("{host}/{database}"),
    }
}

#[cfg(test)]
mod tests {
    use super::describe_url;

    #[test]
    fn drops_user_password_and_query() {
        let described =
            describe_url("postgres://alice:s3cret@db.internal:5433/bourse?password=other");
        assert_eq!(described, "db.internal:5433/bourse");
    }

    #[test]
    fn does_not_echo_unparseable_input() {
        assert_eq!(
            describe_url("not a url s3cret"),
            "<unparseable database URL>"
        );
    }
}
