//! The peer's HTTP side: WebFinger, NodeInfo, actor documents and collections,
//! stored objects, and the inbox that verifies signatures and records what
//! arrived (answering follows as Mastodon would when auto-accept is on).

use super::*;

/// Routes laid out as Mastodon lays them out.
pub(super) fn router(app: App) -> Router {
    Router::new()
        .route("/.well-known/webfinger", get(webfinger))
        .route("/.well-known/nodeinfo", get(nodeinfo_links))
        .route("/nodeinfo/2.0", get(nodeinfo))
        .route("/actor", get(instance_actor))
        .route("/actor/inbox", post(inbox))
        .route("/inbox", post(inbox))
        .route("/users/{name}", get(actor))
        .route("/users/{name}/inbox", post(inbox))
        .route("/users/{name}/followers", get(followers))
        .route("/users/{name}/following", get(following))
        .route("/users/{name}/outbox", get(outbox))
        .route("/users/{name}/collections/featured", get(featured))
        .fallback(stored_object)
        .with_state(app)
}

pub(super) fn ap_json(value: Value) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static(AP_CONTENT_TYPE),
        )],
        value.to_string(),
    )
        .into_response()
}

pub(super) fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        Json(json!({ "error": "Record not found" })),
    )
        .into_response()
}

#[derive(Deserialize)]
pub(super) struct WebfingerQuery {
    resource: String,
}

pub(super) async fn webfinger(State(app): State<App>, Query(q): Query<WebfingerQuery>) -> Response {
    let state = &app.state;
    let resource = q.resource.to_lowercase();
    let name = if let Some(acct) = resource.strip_prefix("acct:") {
        match acct.rsplit_once('@') {
            Some((name, domain)) if domain == state.domain => name.to_string(),
            _ => return not_found(),
        }
    } else if let Some(name) = resource.strip_prefix(&format!("{}/users/", state.base)) {
        name.to_string()
    } else if let Some(name) = resource.strip_prefix(&format!("{}/@", state.base)) {
        name.to_string()
    } else {
        return not_found();
    };
    let (subject_name, self_href, profile) = if name == state.domain {
        (
            state.domain.clone(),
            format!("{}/actor", state.base),
            format!("{}/about/more?instance_actor=true", state.base),
        )
    } else if let Some(user) = state.user(&name) {
        (
            user.username.clone(),
            user.actor.id.to_string(),
            format!("{}/@{}", state.base, user.username),
        )
    } else {
        return not_found();
    };
    let jrd = json!({
        "subject": format!("acct:{subject_name}@{}", state.domain),
        "aliases": [profile, self_href],
        "links": [
            { "rel": "http://webfinger.net/rel/profile-page", "type": "text/html", "href": profile },
            { "rel": "self", "type": "application/activity+json", "href": self_href },
            { "rel": "http://ostatus.org/schema/1.0/subscribe", "template": format!("{}/authorize_interaction?uri={{uri}}", state.base) }
        ]
    });
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/jrd+json; charset=utf-8"),
        )],
        jrd.to_string(),
    )
        .into_response()
}

pub(super) async fn nodeinfo_links(State(app): State<App>) -> Response {
    Json(json!({
        "links": [{
            "rel": "http://nodeinfo.diaspora.software/ns/schema/2.0",
            "href": format!("{}/nodeinfo/2.0", app.state.base)
        }]
    }))
    .into_response()
}

pub(super) async fn nodeinfo(State(app): State<App>) -> Response {
    let users = app.state.users.lock().unwrap().len();
    Json(json!({
        "version": "2.0",
        "software": { "name": "mastodon", "version": "4.3.0" },
        "protocols": ["activitypub"],
        "services": { "outbound": [], "inbound": [] },
        "usage": { "users": { "total": users, "activeMonth": users, "activeHalfyear": users }, "localPosts": 0 },
        "openRegistrations": false,
        "metadata": { "nodeName": "federation-tests peer" }
    }))
    .into_response()
}

pub(super) async fn instance_actor(State(app): State<App>) -> Response {
    match app.state.instance_actor.lock().unwrap().as_ref() {
        Some(actor) => ap_json(actor.json.clone()),
        None => not_found(),
    }
}

pub(super) async fn actor(State(app): State<App>, Path(name): Path<String>) -> Response {
    match app.state.user(&name) {
        Some(user) => ap_json(user.actor.json.clone()),
        None => not_found(),
    }
}

#[derive(Deserialize)]
pub(super) struct PageQuery {
    page: Option<String>,
}

pub(super) fn collection(id: &str, items: Vec<Value>, page: bool) -> Response {
    if page {
        ap_json(json!({
            "@context": AS_CONTEXT,
            "id": format!("{id}?page=1"),
            "type": "OrderedCollectionPage",
            "totalItems": items.len(),
            "partOf": id,
            "orderedItems": items,
        }))
    } else {
        ap_json(json!({
            "@context": AS_CONTEXT,
            "id": id,
            "type": "OrderedCollection",
            "totalItems": items.len(),
            "first": format!("{id}?page=1"),
        }))
    }
}

pub(super) async fn followers(
    State(app): State<App>,
    Path(name): Path<String>,
    Query(q): Query<PageQuery>,
) -> Response {
    relation(&app, &name, &q, &app.state.followers, "followers")
}

pub(super) async fn following(
    State(app): State<App>,
    Path(name): Path<String>,
    Query(q): Query<PageQuery>,
) -> Response {
    relation(&app, &name, &q, &app.state.following, "following")
}

/// A user's followers or following as Mastodon serves them.
fn relation(
    app: &App,
    name: &str,
    q: &PageQuery,
    lists: &Mutex<HashMap<String, BTreeSet<String>>>,
    kind: &str,
) -> Response {
    let Some(user) = app.state.user(name) else {
        return not_found();
    };
    let items = lists
        .lock()
        .unwrap()
        .get(name)
        .map(|s| s.iter().map(|a| json!(a)).collect())
        .unwrap_or_default();
    collection(
        &format!("{}/{kind}", user.actor.id),
        items,
        q.page.is_some(),
    )
}

pub(super) async fn outbox(
    State(app): State<App>,
    Path(name): Path<String>,
    Query(q): Query<PageQuery>,
) -> Response {
    let Some(user) = app.state.user(&name) else {
        return not_found();
    };
    let mut items: Vec<Value> = app
        .state
        .outbox
        .lock()
        .unwrap()
        .get(&name)
        .map(|v| v.iter().map(without_context).collect())
        .unwrap_or_default();
    items.reverse();
    collection(
        &format!("{}/outbox", user.actor.id),
        items,
        q.page.is_some(),
    )
}

pub(super) async fn featured(State(app): State<App>, Path(name): Path<String>) -> Response {
    let Some(user) = app.state.user(&name) else {
        return not_found();
    };
    ap_json(json!({
        "@context": AS_CONTEXT,
        "id": format!("{}/collections/featured", user.actor.id),
        "type": "OrderedCollection",
        "totalItems": 0,
        "orderedItems": [],
    }))
}

/// Notes and activities the peer minted, by id; 410 once deleted.
pub(super) async fn stored_object(State(app): State<App>, method: Method, uri: Uri) -> Response {
    if method != Method::GET {
        return StatusCode::METHOD_NOT_ALLOWED.into_response();
    }
    let id = format!("{}{}", app.state.base, uri.path());
    if app.state.gone.lock().unwrap().contains(&id) {
        return (StatusCode::GONE, Json(json!({ "error": "Gone" }))).into_response();
    }
    match app.state.objects.lock().unwrap().get(&id) {
        Some(object) => ap_json(object.clone()),
        None => not_found(),
    }
}

pub(super) fn key_id(headers: &HeaderMap) -> String {
    let signature = headers
        .get("signature")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    signature
        .split(',')
        .find_map(|part| part.trim().strip_prefix("keyId=\""))
        .and_then(|rest| rest.strip_suffix('"'))
        .unwrap_or("")
        .to_string()
}

pub(super) async fn inbox(State(app): State<App>, req: Request) -> Response {
    let path = req.uri().path().to_string();
    let state = &app.state;
    let reject = |status: StatusCode, reason: String, body: &[u8]| {
        state.rejected.lock().unwrap().push(Rejected {
            inbox: path.clone(),
            status,
            reason: reason.clone(),
            body: String::from_utf8_lossy(body).to_string(),
            at: std::time::Instant::now(),
        });
        (status, Json(json!({ "error": reason }))).into_response()
    };
    let refusal = *state.refuse_inbox.lock().unwrap();
    if let Some(status) = refusal {
        let mut response = reject(status, "inbox refusing on purpose".into(), b"");
        if let Some(secs) = *state.retry_after.lock().unwrap() {
            response.headers_mut().insert(
                http::header::RETRY_AFTER,
                http::HeaderValue::from_str(&secs.to_string()).unwrap(),
            );
        }
        return response;
    }
    if state.hang_inbox.load(Ordering::SeqCst) {
        state.hung_requests.fetch_add(1, Ordering::SeqCst);
        std::future::pending::<()>().await;
    }
    if let Some(name) = path
        .strip_prefix("/users/")
        .and_then(|rest| rest.strip_suffix("/inbox"))
        && state.user(name).is_none()
    {
        return reject(StatusCode::NOT_FOUND, format!("no user {name}"), b"");
    }
    let (parts, body) = req.into_parts();
    let bytes = match axum::body::to_bytes(body, 2 * 1024 * 1024).await {
        Ok(b) => b,
        Err(e) => return reject(StatusCode::PAYLOAD_TOO_LARGE, e.to_string(), b""),
    };
    let headers = parts.headers.clone();
    let rebuilt = Request::from_parts(parts, Body::from(bytes.clone()));
    let activity_data = match ActivityData::from_request(rebuilt, &()).await {
        Ok(d) => d,
        Err(resp) => return resp,
    };
    let data = app.fed.to_request_data();
    if let Err(e) =
        receive_activity::<InboundActivity, ApActor, Arc<PeerState>>(activity_data, &data).await
    {
        return reject(e.status, e.message, &bytes);
    }
    let activity: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    let actor = value_id(&activity["actor"]).to_string();
    let key = key_id(&headers);
    // Mastodon also insists that the key belongs to the activity's actor;
    // the crate verifies with the actor's key whatever keyId says.
    let owner = key.split('#').next().unwrap_or("");
    if owner != actor {
        return reject(
            StatusCode::UNAUTHORIZED,
            format!("keyId {key} does not belong to actor {actor}"),
            &bytes,
        );
    }
    let received = Received {
        inbox: path.clone(),
        activity: activity.clone(),
        actor,
        key_id: key,
        headers: headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_string()))
            .collect(),
        body: String::from_utf8_lossy(&bytes).to_string(),
        at: std::time::Instant::now(),
    };
    state.received.lock().unwrap().push(received);
    side_effects(&app, &activity);
    StatusCode::ACCEPTED.into_response()
}

/// What Mastodon would do on its own: accept follows, forget undone ones,
/// remember accepted ones.
pub(super) fn side_effects(app: &App, activity: &Value) {
    let state = &app.state;
    let kind = activity["type"].as_str().unwrap_or("");
    let actor = value_id(&activity["actor"]).to_string();
    match kind {
        "Follow" => {
            let Some(user) = state.local_user_by_id(value_id(&activity["object"])) else {
                return;
            };
            if !state.auto_accept.load(Ordering::Relaxed) {
                state.pending_follows.lock().unwrap().push(activity.clone());
                return;
            }
            state
                .followers
                .lock()
                .unwrap()
                .entry(user.username.clone())
                .or_default()
                .insert(actor.clone());
            let app = app.clone();
            let follow = without_context(activity);
            tokio::spawn(async move {
                accept_follow(app, user, actor, follow).await;
            });
        }
        "Undo" => {
            let inner = &activity["object"];
            if inner["type"].as_str() == Some("Follow")
                && let Some(user) = state.local_user_by_id(value_id(&inner["object"]))
                && let Some(set) = state.followers.lock().unwrap().get_mut(&user.username)
            {
                set.remove(&actor);
            }
        }
        "Accept" | "Reject" => {
            // The object is our Follow, embedded or by id.
            let follow = match &activity["object"] {
                Value::String(id) => state.objects.lock().unwrap().get(id).cloned(),
                other => Some(other.clone()),
            };
            let Some(follow) = follow else { return };
            let Some(user) = state.local_user_by_id(value_id(&follow["actor"])) else {
                return;
            };
            let target = value_id(&follow["object"]).to_string();
            let mut following = state.following.lock().unwrap();
            let set = following.entry(user.username.clone()).or_default();
            if kind == "Accept" {
                set.insert(target);
            } else {
                set.remove(&target);
            }
        }
        _ => {}
    }
}

pub(super) async fn accept_follow(app: App, user: Arc<LocalUser>, follower: String, follow: Value) {
    let state = &app.state;
    let data = app.fed.to_request_data();
    let Ok(id) = ObjectId::<ApActor>::parse(&follower) else {
        return;
    };
    let Ok(actor) = id.dereference(&data).await else {
        return;
    };
    let accept = json!({
        "@context": AS_CONTEXT,
        "id": format!("{}#accepts/follows/{}", user.actor.id, state.next()),
        "type": "Accept",
        "actor": user.actor.id.to_string(),
        "object": follow,
    });
    let body = serde_json::to_vec(&accept).unwrap_or_default();
    let delivery =
        match sign_and_post(&state.http, &user, actor.inbox.as_str(), body, Tamper::None).await {
            Ok(d) => d,
            Err(e) => Delivery {
                inbox: actor.inbox.to_string(),
                status: StatusCode::BAD_GATEWAY,
                response: e,
                request: SentRequest {
                    url: actor.inbox.to_string(),
                    headers: Default::default(),
                    body: Bytes::new(),
                },
            },
        };
    state.auto_sent.lock().unwrap().push(delivery);
}
