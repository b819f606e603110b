//! Full-text search: one table of searchable documents (posts now; resources,
//! events and groups as they land), indexed by SQLite's FTS5 or by a
//! PostgreSQL `tsvector` column with a GIN index. Both use language-neutral
//! tokenising (members write in several languages), without diacritics on
//! SQLite.

use sea_orm_migration::{prelude::*, schema::*, sea_orm::DatabaseBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum SearchDocuments {
    Table,
    Id,
    Kind,
    ItemId,
    Title,
    Body,
    Tags,
    Language,
    Public,
    GroupId,
    Origin,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(SearchDocuments::Table)
                .col(big_integer(SearchDocuments::Id).primary_key())
                .col(string(SearchDocuments::Kind))
                .col(big_integer(SearchDocuments::ItemId))
                .col(text(SearchDocuments::Title).default(""))
                .col(text(SearchDocuments::Body).default(""))
                .col(text(SearchDocuments::Tags).default(""))
                .col(string_null(SearchDocuments::Language))
                .col(boolean(SearchDocuments::Public).default(false))
                .col(big_integer_null(SearchDocuments::GroupId))
                .col(string(SearchDocuments::Origin).default(""))
                .col(timestamp_with_time_zone(SearchDocuments::UpdatedAt))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("search_documents_item")
                .table(SearchDocuments::Table)
                .col(SearchDocuments::Kind)
                .col(SearchDocuments::ItemId)
                .unique()
                .to_owned(),
        )
        .await?;
        let db = m.get_connection();
        match m.get_database_backend() {
            DatabaseBackend::Sqlite => {
                // An external-content FTS5 table kept in step by triggers.
                for sql in [
                    "CREATE VIRTUAL TABLE search_fts USING fts5(title, body, tags, \
                     content='search_documents', content_rowid='id', \
                     tokenize='unicode61 remove_diacritics 2')",
                    "CREATE TRIGGER search_documents_ai AFTER INSERT ON search_documents BEGIN \
                     INSERT INTO search_fts(rowid, title, body, tags) VALUES (new.id, new.title, new.body, new.tags); END",
                    "CREATE TRIGGER search_documents_ad AFTER DELETE ON search_documents BEGIN \
                     INSERT INTO search_fts(search_fts, rowid, title, body, tags) VALUES ('delete', old.id, old.title, old.body, old.tags); END",
                    "CREATE TRIGGER search_documents_au AFTER UPDATE ON search_documents BEGIN \
                     INSERT INTO search_fts(search_fts, rowid, title, body, tags) VALUES ('delete', old.id, old.title, old.body, old.tags); \
                     INSERT INTO search_fts(rowid, title, body, tags) VALUES (new.id, new.title, new.body, new.tags); END",
                ] {
                    db.execute_unprepared(sql).await?;
                }
            }
            DatabaseBackend::Postgres => {
                for sql in [
                    "ALTER TABLE search_documents ADD COLUMN tsv tsvector GENERATED ALWAYS AS (\
                     setweight(to_tsvector('simple', coalesce(title, '')), 'A') || \
                     setweight(to_tsvector('simple', coalesce(tags, '')), 'B') || \
                     setweight(to_tsvector('simple', coalesce(body, '')), 'C')) STORED",
                    "CREATE INDEX search_documents_tsv ON search_documents USING GIN (tsv)",
                ] {
                    db.execute_unprepared(sql).await?;
                }
            }
            other => {
                return Err(DbErr::Migration(format!(
                    "full-text search is not available on {other:?}"
                )));
            }
        }
        Ok(())
    }
}
