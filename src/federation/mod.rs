//! ActivityPub protocol: the URLs of every object we serve, actor keys,
//! actors, objects and activities in both directions, the persistent inbox,
//! publishing, and the persistent delivery queue. Protocol only: what is
//! allowed is decided by the `domain` functions this module calls. Depends on
//! `db`, `domain`, `config` and `app::AppState`; never on `http`.

pub mod activities;
pub mod actors;
pub mod calendar;
pub mod client;
pub mod delivery;
pub mod error;
pub mod groups;
pub mod health;
pub mod inbox;
pub mod keys;
pub mod objects;
pub mod pending;
pub mod portal;
pub mod protocol;
pub mod publish;
pub mod relay;
pub mod reports;
pub mod resolve;
pub mod resources;
pub mod signatures;
pub mod topics;
pub mod trust;
pub mod urls;

/// A poisoned lock still guards usable data here (sets and maps of work in
/// progress); a panic elsewhere must not stop the queues.
pub(crate) fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    match m.lock() {
        Ok(g) => g,
        Err(poisoned) => poisoned.into_inner(),
    }
}
