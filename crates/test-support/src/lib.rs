//! bourse-test-support
