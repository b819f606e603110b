//! The home timeline query: which posts belong on a member's home timeline,
//! read so that the planner neither sorts every followed account's posts
//! nor scans the whole table.

use super::{Page, live, paged};
use crate::db::entities::{
    mentions,
    statuses::{Column, Entity, Model},
};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, IdenStatic, QueryFilter,
    QueryOrder, QuerySelect,
    sea_query::{Expr, ExprTrait, Query},
};

/// How many of the newest posts the home timeline reads in id order before
/// it asks the indexes instead (see `home`).
const HOME_SCAN_WINDOW: u64 = 2_000;

/// The home timeline of `me`: their own posts, posts of accounts they follow
/// (public, unlisted and followers-only, and boosts), posts in groups they
/// belong to, and posts mentioning them.
///
/// Left to itself the planner answers the OR below from the indexes: it
/// collects every post of every followed account and sorts them, 2 s for a
/// member following 500 accounts with 100,000 posts (bench scenario 10). So
/// the newest `HOME_SCAN_WINDOW` posts below the cursor are first read in id
/// order with the indexes turned off (`+column`), which stops at the page
/// size when the member follows busy accounts; only if that window holds
/// fewer than a page (a member following few or quiet accounts) are the
/// older posts found through the indexes, where the matches are then few.
/// Pages asked for with `min_id` (oldest first) use the index plan alone.
pub async fn home(db: &impl ConnectionTrait, me: i64, page: Page) -> Result<Vec<Model>, DbErr> {
    home_with_window(db, me, page, HOME_SCAN_WINDOW).await
}

/// `home` with the window given, so tests can make it small.
pub async fn home_with_window(
    db: &impl ConnectionTrait,
    me: i64,
    page: Page,
    window: u64,
) -> Result<Vec<Model>, DbErr> {
    if page.min_id.is_some() {
        return paged(Entity::find().filter(home_condition(me, true)), page)
            .all(db)
            .await;
    }
    let floor_query = Entity::find()
        .select_only()
        .column(Column::Id)
        .order_by_desc(Column::Id)
        .offset(Ord::max(window, 1) - 1)
        .limit(1);
    let floor: Option<i64> = page
        .bounded(floor_query, Column::Id, page.since_id)
        .into_tuple()
        .one(db)
        .await?;
    let mut newest = Entity::find().filter(home_condition(me, false));
    if let Some(floor) = floor {
        newest = newest.filter(Column::Id.gte(floor));
    }
    let mut rows = paged(newest, page).all(db).await?;
    let want = page.limit.clamp(1, 200) as usize;
    let Some(floor) = floor else {
        return Ok(rows);
    };
    if rows.len() >= want {
        return Ok(rows);
    }
    let older = Page {
        max_id: Some(floor),
        limit: (want - rows.len()) as u64,
        ..page
    };
    rows.extend(
        paged(Entity::find().filter(home_condition(me, true)), older)
            .all(db)
            .await?,
    );
    Ok(rows)
}

/// Which posts belong on `me`'s home timeline; with `indexed` false the
/// columns are written `+column`, which keeps the planner off their indexes.
fn home_condition(me: i64, indexed: bool) -> Condition {
    use crate::db::entities::{follows, groups};
    let column = |c: Column| -> Expr {
        if indexed {
            Expr::col((Entity, c))
        } else {
            Expr::cust(format!("+\"statuses\".\"{}\"", c.as_str()))
        }
    };
    let followed = Query::select()
        .column(follows::Column::FolloweeId)
        .from(follows::Entity)
        .and_where(follows::Column::FollowerId.eq(me))
        .and_where(follows::Column::State.eq("accepted"))
        .to_owned();
    let mentioned = Query::select()
        .column(mentions::Column::StatusId)
        .from(mentions::Entity)
        .and_where(mentions::Column::ActorId.eq(me))
        .to_owned();
    let closed_groups = Query::select()
        .column(groups::Column::ActorId)
        .from(groups::Entity)
        .and_where(groups::Column::MembersOnly.eq(true))
        .to_owned();
    live().add(
        Condition::any()
            .add(column(Column::ActorId).eq(me))
            .add(
                Condition::all()
                    .add(column(Column::ActorId).in_subquery(followed.clone()))
                    .add(Column::Visibility.is_in(["public", "unlisted", "private"])),
            )
            .add(
                // A followers-only answer in a public group is for its
                // author's followers, not for every member of the group.
                Condition::all()
                    .add(column(Column::GroupId).in_subquery(followed))
                    .add(
                        Condition::any()
                            .add(Column::Visibility.is_in(["public", "unlisted"]))
                            .add(
                                Condition::all()
                                    .add(Column::Visibility.eq("private"))
                                    .add(Column::GroupId.in_subquery(closed_groups)),
                            ),
                    ),
            )
            .add(column(Column::Id).in_subquery(mentioned)),
    )
}
