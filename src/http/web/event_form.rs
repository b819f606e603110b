//! The form that creates or changes an event. Times are entered as local
//! times in the event's time zone; a refused form comes back filled in,
//! with the reason.

use crate::{
    app::AppState,
    db::entities::calendar_events,
    domain::calendar::{self, EventInput, time},
    error::{AppError, AppResult},
    federation::publish,
    http::{
        extract::{Form, Path, Query},
        web::MemberCtx,
    },
};
use axum::{extract::State, http::StatusCode, response::Response};
use minijinja::{Value, context};
use serde::{Deserialize, Serialize};

#[derive(Debug, Deserialize, Serialize, Default, Clone)]
pub struct EventForm {
    #[serde(default)]
    title: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    start: String,
    #[serde(default)]
    end: String,
    #[serde(default)]
    timezone: String,
    all_day: Option<String>,
    #[serde(default)]
    location_name: String,
    #[serde(default)]
    location_address: String,
    #[serde(default)]
    latitude: String,
    #[serde(default)]
    longitude: String,
    #[serde(default)]
    online_url: String,
    online_participants_only: Option<String>,
    #[serde(default)]
    capacity: String,
    waiting_list: Option<String>,
    #[serde(default)]
    join_mode: String,
    #[serde(default)]
    visibility: String,
    #[serde(default)]
    group: String,
    #[serde(default)]
    tags: String,
    #[serde(default)]
    language: String,
}

fn number<T: std::str::FromStr>(field: &'static str, raw: &str) -> AppResult<Option<T>> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    raw.parse()
        .map(Some)
        .map_err(|_| AppError::Unprocessable(crate::msg!("error-event-number", field = field)))
}

impl EventForm {
    fn of(e: &calendar_events::Model, group: Option<String>) -> Self {
        let tz = time::zone_or_utc(&e.timezone);
        let end = if e.all_day {
            e.ends_at - chrono::Duration::seconds(1)
        } else {
            e.ends_at
        };
        Self {
            title: e.title.clone(),
            description: e.description_source.clone().unwrap_or_default(),
            start: time::form_value(e.starts_at, tz),
            end: time::form_value(end, tz),
            timezone: e.timezone.clone(),
            all_day: e.all_day.then(|| "on".into()),
            location_name: e.location_name.clone().unwrap_or_default(),
            location_address: e.location_address.clone().unwrap_or_default(),
            latitude: e.latitude.map(|v| v.to_string()).unwrap_or_default(),
            longitude: e.longitude.map(|v| v.to_string()).unwrap_or_default(),
            online_url: e.online_url.clone().unwrap_or_default(),
            online_participants_only: e.online_participants_only.then(|| "on".into()),
            capacity: e.capacity.map(|c| c.to_string()).unwrap_or_default(),
            waiting_list: e.waiting_list.then(|| "on".into()),
            join_mode: e.join_mode.clone(),
            visibility: e.visibility.clone(),
            group: group.unwrap_or_default(),
            tags: calendar::tags(e).join(", "),
            language: e.language.clone().unwrap_or_default(),
        }
    }

    async fn input(&self, state: &AppState, creating: bool) -> AppResult<EventInput> {
        let (lat, lon) = (
            number::<f64>("latitude", &self.latitude)?,
            number::<f64>("longitude", &self.longitude)?,
        );
        if lat.is_some() != lon.is_some() {
            return Err(AppError::Unprocessable(crate::msg!(
                "error-event-coordinates"
            )));
        }
        let group_id = match self.group.trim() {
            "" => None,
            name if creating => Some(crate::domain::groups::by_name(state, name).await?.id()),
            _ => None,
        };
        Ok(EventInput {
            title: Some(self.title.clone()),
            description: Some(self.description.clone()),
            start: Some(self.start.clone()),
            end: Some(self.end.clone()),
            timezone: Some(if self.timezone.trim().is_empty() {
                "UTC".into()
            } else {
                self.timezone.clone()
            }),
            all_day: Some(self.all_day.is_some()),
            location_name: Some(self.location_name.clone()),
            location_address: Some(self.location_address.clone()),
            latitude: lat,
            longitude: lon,
            online_url: Some(self.online_url.clone()),
            online_participants_only: Some(self.online_participants_only.is_some()),
            capacity: Some(number::<i64>("capacity", &self.capacity)?.unwrap_or(0)),
            waiting_list: Some(self.waiting_list.is_some()),
            join_mode: Some(self.join_mode.clone()).filter(|j| !j.is_empty()),
            status: None,
            group_id,
            tags: Some(
                self.tags
                    .split([',', ' '])
                    .map(str::trim)
                    .filter(|t| !t.is_empty())
                    .map(str::to_string)
                    .collect(),
            ),
            language: Some(self.language.clone()),
            visibility: if creating {
                Some(self.visibility.clone()).filter(|v| !v.is_empty())
            } else {
                None
            },
        })
    }
}

fn render(
    state: &AppState,
    ctx: &crate::http::web::Ctx,
    status: StatusCode,
    form: &EventForm,
    id: Option<i64>,
    groups: Vec<Value>,
    error: Option<String>,
) -> Response {
    ctx.render(
        state,
        status,
        "event_form.html",
        context! {
            form => Value::from_serialize(form),
            id => id.map(|i| i.to_string()),
            groups => groups,
            error => error,
            zones => chrono_tz::TZ_VARIANTS.iter().map(|z| z.name()).collect::<Vec<_>>(),
        },
    )
}

async fn group_choices(
    state: &AppState,
    me: &crate::db::entities::actors::Model,
) -> AppResult<Vec<Value>> {
    Ok(crate::domain::groups::memberships(state, me)
        .await?
        .iter()
        .filter(|g| g.local())
        .map(|g| context! { name => g.actor.username.clone(), label => if g.actor.display_name.is_empty() { g.actor.username.clone() } else { g.actor.display_name.clone() } })
        .collect())
}

/// `/events/new?group=NAME` opens the form with that group chosen (the
/// group's Events tab links there).
#[derive(Debug, Deserialize, Default)]
pub struct NewQuery {
    group: Option<String>,
}

pub async fn new_form(
    State(state): State<AppState>,
    MemberCtx(ctx, member): MemberCtx,
    Query(q): Query<NewQuery>,
) -> AppResult<Response> {
    let form = EventForm {
        timezone: "UTC".into(),
        join_mode: "free".into(),
        visibility: "public".into(),
        group: q.group.unwrap_or_default(),
        ..EventForm::default()
    };
    let groups = group_choices(&state, &member.actor).await?;
    Ok(render(
        &state,
        &ctx,
        StatusCode::OK,
        &form,
        None,
        groups,
        None,
    ))
}

pub async fn create(
    State(state): State<AppState>,
    MemberCtx(ctx, member): MemberCtx,
    Form(form): Form<EventForm>,
) -> AppResult<Response> {
    let result = match form.input(&state, true).await {
        Ok(input) => calendar::create(&state, &member.actor, input).await,
        Err(e) => Err(e),
    };
    match result {
        Ok((e, events)) => {
            publish::publish(&state, events).await;
            Ok(ctx.redirect_with(&state, &format!("/events/{}", e.id), "flash-event-saved"))
        }
        Err(AppError::Internal(e)) => Err(AppError::Internal(e)),
        Err(e) => {
            let message = e.public_message().render(ctx.locale);
            let groups = group_choices(&state, &member.actor).await?;
            Ok(render(
                &state,
                &ctx,
                e.status(),
                &form,
                None,
                groups,
                Some(message),
            ))
        }
    }
}

pub async fn edit_form(
    State(state): State<AppState>,
    MemberCtx(ctx, member): MemberCtx,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let id: i64 = id.parse().map_err(|_| AppError::not_found())?;
    let e = calendar::visible(&state.db, Some(&member.actor), id).await?;
    if !calendar::is_organiser(&state.db, &member.actor, &e).await? {
        return Err(AppError::Forbidden(crate::msg!(
            "error-event-organisers-only"
        )));
    }
    let form = EventForm::of(&e, None);
    Ok(render(
        &state,
        &ctx,
        StatusCode::OK,
        &form,
        Some(id),
        Vec::new(),
        None,
    ))
}

pub async fn edit(
    State(state): State<AppState>,
    MemberCtx(ctx, member): MemberCtx,
    Path(id): Path<String>,
    Form(form): Form<EventForm>,
) -> AppResult<Response> {
    let id: i64 = id.parse().map_err(|_| AppError::not_found())?;
    let result = match form.input(&state, false).await {
        Ok(input) => calendar::update(&state, &member.actor, id, input).await,
        Err(e) => Err(e),
    };
    match result {
        Ok((e, events)) => {
            publish::publish(&state, events).await;
            Ok(ctx.redirect_with(&state, &format!("/events/{}", e.id), "flash-event-saved"))
        }
        Err(AppError::Internal(e)) => Err(AppError::Internal(e)),
        Err(e) => {
            let message = e.public_message().render(ctx.locale);
            Ok(render(
                &state,
                &ctx,
                e.status(),
                &form,
                Some(id),
                Vec::new(),
                Some(message),
            ))
        }
    }
}
