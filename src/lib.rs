//! Staffroom: a federated ActivityPub community server for teachers'
//! associations.
//!
//! The map, from the edges inwards:
//! - [`cli`] parses the command line; [`app`] builds the running instance
//!   ([`app::AppState`] is both axum's state and the federation library's app
//!   data) and serves HTTP; [`workers`] run beside it.
//! - [`http`] is transport only: routing, extractors, web pages, the JSON API.
//! - [`federation`] is protocol only: ActivityPub URLs, actors, objects,
//!   activities, inbox and the persistent delivery queue.
//! - [`domain`] holds the use cases every edge shares (web, API, CLI, inbox).
//! - [`db`] is the only module that touches sea-orm.
//! - [`config`], [`error`], [`i18n`] and [`telemetry`] are leaves everyone may use.
//!
//! The private member registry (`db::entities::accounts`) never leaves the
//! instance: public pages, the API for others and ActivityPub documents are
//! built from the public profile (`db::entities::actors`) only.
// The ActivityPub @context (federation::protocol) is one large json! literal.
#![recursion_limit = "256"]

pub mod app;
pub mod cli;
pub mod config;
pub mod db;
pub mod domain;
pub mod error;
pub mod federation;
pub mod http;
pub mod i18n;
pub mod telemetry;
pub mod workers;
