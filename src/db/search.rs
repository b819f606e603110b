//! Full-text search behind one interface: SQLite's FTS5 or PostgreSQL's
//! `tsvector`, chosen by the connection. Words are matched as prefixes, all
//! of them required, without regard to case (or accents on SQLite); results
//! come best first. Callers index what they own (`upsert`, `remove`) and
//! check visibility on the hits that are not public.

use super::entities::search_documents::{ActiveModel, Column, Entity};
use crate::db::ids;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Statement,
    sea_query::OnConflict,
};

/// What the index holds about one item.
#[derive(Debug, Clone, Default)]
pub struct Document {
    pub kind: &'static str,
    pub item_id: i64,
    pub title: String,
    pub body: String,
    pub tags: Vec<String>,
    pub language: Option<String>,
    pub public: bool,
    pub group_id: Option<i64>,
    pub origin: String,
}

pub async fn upsert(db: &impl ConnectionTrait, doc: Document) -> Result<(), DbErr> {
    let model = ActiveModel {
        id: Set(ids::next_id()),
        kind: Set(doc.kind.to_string()),
        item_id: Set(doc.item_id),
        title: Set(doc.title),
        body: Set(doc.body),
        tags: Set(doc.tags.join(" ")),
        language: Set(doc.language),
        public: Set(doc.public),
        group_id: Set(doc.group_id),
        origin: Set(doc.origin),
        updated_at: Set(chrono::Utc::now()),
    };
    Entity::insert(model)
        .on_conflict(
            OnConflict::columns([Column::Kind, Column::ItemId])
                .update_columns([
                    Column::Title,
                    Column::Body,
                    Column::Tags,
                    Column::Language,
                    Column::Public,
                    Column::GroupId,
                    Column::Origin,
                    Column::UpdatedAt,
                ])
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(())
}

pub async fn remove(db: &impl ConnectionTrait, kind: &str, item_id: i64) -> Result<(), DbErr> {
    Entity::delete_many()
        .filter(Column::Kind.eq(kind))
        .filter(Column::ItemId.eq(item_id))
        .exec(db)
        .await?;
    Ok(())
}

/// A search.
#[derive(Debug, Clone, Default)]
pub struct Query<'a> {
    pub text: &'a str,
    /// Empty: every kind.
    pub kinds: &'a [&'a str],
    pub public_only: bool,
    pub origin: Option<&'a str>,
    pub group_id: Option<i64>,
    pub limit: u64,
    pub offset: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    pub kind: String,
    pub item_id: i64,
    pub public: bool,
}

/// The words of a query, as the index sees them: letters and digits only,
/// so nothing a user types can be read as query syntax.
pub fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .take(16)
        .collect()
}

pub async fn search(db: &impl ConnectionTrait, q: &Query<'_>) -> Result<Vec<Hit>, DbErr> {
    let words = words(q.text);
    if words.is_empty() {
        return Ok(Vec::new());
    }
    let backend = db.get_database_backend();
    let sqlite = super::is_sqlite(db);
    let mut values: Vec<sea_orm::Value> = Vec::new();
    let mut param = |v: sea_orm::Value| {
        values.push(v);
        if sqlite {
            "?".to_string()
        } else {
            format!("${}", values.len())
        }
    };
    let (mut sql, order) = if sqlite {
        let expr = words
            .iter()
            .map(|w| format!("\"{w}\"*"))
            .collect::<Vec<_>>()
            .join(" ");
        let p = param(expr.into());
        (
            format!(
                "SELECT d.kind, d.item_id, d.public FROM search_fts f \
                 JOIN search_documents d ON d.id = f.rowid WHERE search_fts MATCH {p}"
            ),
            " ORDER BY bm25(search_fts, 10.0, 1.0, 4.0), d.item_id DESC".to_string(),
        )
    } else {
        let expr = words
            .iter()
            .map(|w| format!("{w}:*"))
            .collect::<Vec<_>>()
            .join(" & ");
        let p = param(expr.into());
        (
            format!(
                "SELECT d.kind, d.item_id, d.public FROM search_documents d, \
                 to_tsquery('simple', {p}) query WHERE d.tsv @@ query"
            ),
            " ORDER BY ts_rank(d.tsv, query) DESC, d.item_id DESC".to_string(),
        )
    };
    if !q.kinds.is_empty() {
        let list: Vec<String> = q
            .kinds
            .iter()
            .map(|k| param((*k).to_string().into()))
            .collect();
        sql.push_str(&format!(" AND d.kind IN ({})", list.join(", ")));
    }
    if q.public_only {
        let p = param(true.into());
        sql.push_str(&format!(" AND d.public = {p}"));
    }
    if let Some(o) = q.origin {
        let p = param(o.to_string().into());
        sql.push_str(&format!(" AND d.origin = {p}"));
    }
    if let Some(g) = q.group_id {
        let p = param(g.into());
        sql.push_str(&format!(" AND d.group_id = {p}"));
    }
    sql.push_str(&order);
    let limit = param((q.limit.clamp(1, 500) as i64).into());
    let offset = param((q.offset as i64).into());
    sql.push_str(&format!(" LIMIT {limit} OFFSET {offset}"));
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(backend, sql, values))
        .await?;
    rows.into_iter()
        .map(|r| {
            Ok(Hit {
                kind: r.try_get("", "kind")?,
                item_id: r.try_get("", "item_id")?,
                public: r.try_get("", "public")?,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_plain() {
        assert_eq!(
            words("Fractions, \"year-7\" OR NEAR(x*)"),
            ["fractions", "year", "7", "or", "near", "x"]
        );
        assert!(words("  -- ** ").is_empty());
        assert_eq!(words("Élève"), ["élève"]);
    }
}
