//! Polling for eventually-consistent federation state.
//!
//! Deliveries are asynchronous (a queue, retries with backoff), so tests poll
//! the observable result instead of sleeping a guessed amount. Every wait is
//! bounded and fails with a sentence saying what never happened, plus the last
//! thing seen, which is usually enough to tell "not delivered" from "delivered
//! but wrong".

use std::time::{Duration, Instant};

/// The default bound for one wait. Retries in the server start at about a
/// second and double, so 30 s covers several attempts after a restart.
pub const WAIT: Duration = Duration::from_secs(30);

const POLL_EVERY: Duration = Duration::from_millis(100);

/// What a polling closure returns: done (with a value) or not yet (with an
/// optional description of what it saw instead).
pub trait Attempt {
    type Output;
    fn into_attempt(self) -> Result<Self::Output, Option<String>>;
}

impl Attempt for bool {
    type Output = ();
    fn into_attempt(self) -> Result<(), Option<String>> {
        if self { Ok(()) } else { Err(None) }
    }
}

impl<T> Attempt for Option<T> {
    type Output = T;
    fn into_attempt(self) -> Result<T, Option<String>> {
        self.ok_or(None)
    }
}

impl<T> Attempt for Result<T, String> {
    type Output = T;
    fn into_attempt(self) -> Result<T, Option<String>> {
        self.map_err(Some)
    }
}

/// Calls `check` every 100 ms until it succeeds or `timeout` passes, then
/// panics with `description` and the last "seen instead" message.
pub async fn wait_until<F, R>(timeout: Duration, description: &str, mut check: F) -> R::Output
where
    F: AsyncFnMut() -> R,
    R: Attempt,
{
    let start = Instant::now();
    let mut last = None;
    loop {
        match check().await.into_attempt() {
            Ok(value) => return value,
            Err(seen) => {
                if seen.is_some() {
                    last = seen;
                }
            }
        }
        if start.elapsed() >= timeout {
            panic!(
                "timed out after {:.1} s waiting until {description}{}",
                timeout.as_secs_f64(),
                last.map(|l| format!("\nlast seen: {l}"))
                    .unwrap_or_default()
            );
        }
        tokio::time::sleep(POLL_EVERY).await;
    }
}

/// [`wait_until`] with the default bound [`WAIT`].
pub async fn wait_for<F, R>(description: &str, check: F) -> R::Output
where
    F: AsyncFnMut() -> R,
    R: Attempt,
{
    wait_until(WAIT, description, check).await
}

/// A pause before asserting that something did *not* happen. Only used after
/// a positive wait has shown that deliveries sent at the same time arrived,
/// so it bounds stragglers rather than guessing how long delivery takes.
pub async fn settle() {
    tokio::time::sleep(Duration::from_secs(2)).await;
}
