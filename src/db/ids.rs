//! Time-ordered 64-bit identifiers: milliseconds since the Unix epoch in the high
//! bits and a per-process counter in the low 16. Sorting by id sorts by creation
//! time, which Mastodon-style pagination (`max_id`, `since_id`) relies on, and
//! neither SQLite nor PostgreSQL needs a sequence. Ids for backdated records (a
//! remote post published yesterday) are taken at that time, so timelines sort by
//! publication.
//!
//! The counter starts at a random point in each process: the CLI (`staffroom
//! admin …`) and a running server write to the same database, and two processes
//! both counting from zero in the same millisecond would hand out the same id.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

static COUNTER: OnceLock<AtomicU64> = OnceLock::new();

fn counter() -> &'static AtomicU64 {
    COUNTER.get_or_init(|| AtomicU64::new(rand::random::<u64>() & 0xffff))
}

/// A fresh id for something happening now.
pub fn next_id() -> i64 {
    at(chrono::Utc::now())
}

/// A fresh id positioned at `time`.
pub fn at(time: chrono::DateTime<chrono::Utc>) -> i64 {
    let ms = time.timestamp_millis().max(0) as u64;
    let low = counter().fetch_add(1, Ordering::Relaxed) & 0xffff;
    ((ms << 16) | low) as i64
}

/// The smallest id at `time`, for range queries by time.
pub fn floor_at(time: chrono::DateTime<chrono::Utc>) -> i64 {
    let ms = time.timestamp_millis().max(0) as u64;
    (ms << 16) as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_ordered() {
        let mut last = 0;
        let mut seen = std::collections::HashSet::new();
        for _ in 0..10_000 {
            let id = next_id();
            assert!(seen.insert(id));
            assert!(id > 0);
            last = last.max(id);
        }
        let earlier = at(chrono::Utc::now() - chrono::Duration::days(1));
        assert!(earlier < last);
        assert!(floor_at(chrono::Utc::now()) <= next_id());
    }

    #[test]
    fn ids_stay_within_their_millisecond() {
        let now = chrono::Utc::now();
        let next_ms = now + chrono::Duration::milliseconds(1);
        for _ in 0..70_000 {
            let id = at(now);
            assert!(floor_at(now) <= id && id < floor_at(next_ms));
        }
    }
}
