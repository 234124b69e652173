//! Rebuilds the crate when a migration is added: `embed_migrations!` only
//! tracks the files it already embedded, not new directories.

fn main() {
    println!("cargo:rerun-if-changed=../../migrations/postgres");
    println!("cargo:rerun-if-changed=../../migrations/sqlite");
}
