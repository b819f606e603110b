//! Use cases shared by the web UI, the JSON API, the CLI and (later) the inbox:
//! registering and approving members, logging in, editing profiles, invites,
//! instance settings, media. Each public function validates its input, runs in
//! one transaction where it writes, and returns models (plus, for federated
//! changes, the events to publish). Depends on `db`, `config`, `i18n`,
//! `federation::urls` (to name new actors) and `app::AppState`; never on `http`.

pub mod accounts;
pub mod actors;
pub mod auth;
pub mod calendar;
pub mod events;
pub mod follows;
pub mod groups;
pub mod idempotency;
pub mod instance;
pub mod interactions;
pub mod invites;
pub mod media;
pub mod national;
pub mod notifications;
pub mod oauth;
pub mod outbox;
pub mod polls;
pub mod portal;
pub mod posts;
pub mod profiles;
pub mod reports;
pub mod resources;
pub mod search;
pub mod sessions;
pub mod text;
pub mod thumbnails;
pub mod timelines;
pub mod validate;
