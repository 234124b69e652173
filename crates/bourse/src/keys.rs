//! `bourse keys`: create, list and revoke API keys.

use anyhow::bail;
use bourse_gateway::keys;

use crate::backends::connect_db;
use crate::cli::KeysCommand;

pub async fn run(command: KeysCommand) -> anyhow::Result<()> {
    match command {
        KeysCommand::Create {
            account,
            tier,
            rate_limit,
            store,
        } => {
            let db = connect_db(&store.service, true).await?;
            let key = keys::create(&db, &account, tier, rate_limit).await?;
            println!("{} key for account {}: {}", key.tier, key.account, key.key);
            eprintln!(
                "(key id {}; the key is shown only now, store it safely)",
                key.id
            );
        }
        KeysCommand::List(store) => {
            let db = connect_db(&store.service, true).await?;
            println!(
                "{:<38} {:<14} {:<8} {:<20} {:<10} created",
                "id", "prefix", "tier", "account", "state"
            );
            for key in keys::list(&db).await? {
                let state = if key.revoked_at.is_some() {
                    "revoked"
                } else {
                    "active"
                };
                println!(
                    "{:<38} {:<14} {:<8} {:<20} {:<10} {}",
                    key.id, key.prefix, key.tier, key.account, state, key.created_at
                );
            }
        }
        KeysCommand::Revoke { id, store } => {
            let db = connect_db(&store.service, true).await?;
            if !keys::revoke(&db, &id).await? {
                bail!("no active key with id {id}");
            }
            println!("revoked key {id}");
        }
    }
    Ok(())
}
