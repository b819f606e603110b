//! The only module that touches sea-orm: connecting, migrating, entities and
//! queries. Query functions take `&impl ConnectionTrait` so callers choose whether
//! they run inside a transaction. Depends on `config` (for the URL) and nothing
//! above it.

pub mod entities;
pub mod ids;
pub mod queries;
pub mod search;

use crate::config::Config;
use migration::{Migrator, MigratorTrait};
use sea_orm::{
    ConnectOptions, Database, DatabaseConnection, DbErr, SqliteTransactionMode, TransactionOptions,
};
use std::time::Duration;

pub use sea_orm::{ConnectionTrait, DatabaseTransaction, TransactionTrait};

/// Which database engine a connection talks to; a few queries (full-text search,
/// upserts) are spelled differently.
pub fn is_sqlite(db: &impl ConnectionTrait) -> bool {
    matches!(db.get_database_backend(), sea_orm::DatabaseBackend::Sqlite)
}

/// Open a transaction for a use case that writes. Every transaction here
/// must go through this: on SQLite a deferred `BEGIN` that reads before it
/// writes fails with SQLITE_BUSY_SNAPSHOT ("database is locked", code 517)
/// when another connection commits in between, and the busy timeout does not
/// wait for that; `BEGIN IMMEDIATE` takes the write lock first, waiting for it
/// under the busy timeout. PostgreSQL's MVCC needs nothing of the kind.
pub async fn begin(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    if is_sqlite(db) {
        db.begin_with_options(TransactionOptions {
            sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
            ..TransactionOptions::default()
        })
        .await
    } else {
        db.begin().await
    }
}

/// Open the pool. SQLite gets WAL (readers never block the writer), a busy
/// timeout instead of immediate "database is locked" errors, and its file and
/// directory are created on first start.
pub async fn connect(config: &Config) -> Result<DatabaseConnection, DbErr> {
    let url = config.database_url();
    if url.starts_with("sqlite:") && config.database.url.is_empty() {
        std::fs::create_dir_all(&config.data_dir).map_err(|e| {
            DbErr::Custom(format!(
                "cannot create data_dir {}: {e}",
                config.data_dir.display()
            ))
        })?;
    }
    let mut options = ConnectOptions::new(url.clone());
    options
        .max_connections(config.database.max_connections)
        .min_connections(1)
        .connect_timeout(Duration::from_secs(10))
        .acquire_timeout(Duration::from_secs(10))
        .sqlx_logging(false);
    if url.starts_with("sqlite:") {
        options.map_sqlx_sqlite_opts(|opts| {
            use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
            opts.journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(10))
                .foreign_keys(true)
                .create_if_missing(true)
        });
    }
    Database::connect(options).await
}

/// Apply every pending migration.
pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    Migrator::up(db, None).await
}

/// True when the database answers.
pub async fn ping(db: &DatabaseConnection) -> bool {
    db.ping().await.is_ok()
}
