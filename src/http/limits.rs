//! In-memory rate limits (per process) on login attempts, per client address
//! and per account name, to slow password guessing from one place or against
//! one member.

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter, clock::Clock};
use std::{net::IpAddr, num::NonZeroU32, time::Duration};

pub struct Limits {
    login_by_ip: DefaultKeyedRateLimiter<IpAddr>,
    login_by_account: DefaultKeyedRateLimiter<String>,
}

impl Default for Limits {
    fn default() -> Self {
        Self::new()
    }
}

fn quota(replenish_every: Duration, burst: u32) -> Quota {
    let burst = NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN);
    Quota::with_period(replenish_every)
        .unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN))
        .allow_burst(burst)
}

impl Limits {
    pub fn new() -> Self {
        Self {
            // 10 attempts at once, then one more every 30 seconds.
            login_by_ip: RateLimiter::keyed(quota(Duration::from_secs(30), 10)),
            // 10 attempts on one account, then one more a minute.
            login_by_account: RateLimiter::keyed(quota(Duration::from_secs(60), 10)),
        }
    }

    /// Count one login attempt. Ok, or the number of seconds to wait.
    pub fn login_attempt(&self, ip: IpAddr, login: &str) -> Result<(), u64> {
        let clock = governor::clock::DefaultClock::default();
        let wait = |n: governor::NotUntil<_>| n.wait_time_from(clock.now()).as_secs().max(1);
        self.login_by_ip.check_key(&ip).map_err(wait)?;
        self.login_by_account
            .check_key(&login.trim().to_lowercase())
            .map_err(wait)
    }
}
