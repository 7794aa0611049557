//! Slowing down password guessing: failed sign-ins counted per client address and per
//! account over a window; past the limit, sign-in is refused until the window ends.
//!
//! Both tables are bounded: when full, expired entries go first, then the entry whose
//! window started longest ago. An attacker with many addresses can push out counters,
//! but the per-account counter still stops guessing at one account.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::config::AccountsConfig;

/// The longest e-mail address (RFC 5321's path limit less the brackets).
const MAX_ACCOUNT_BYTES: usize = 254;

#[derive(Clone, Copy)]
struct Failures {
    count: u32,
    since: Instant,
}

struct Counters<K> {
    entries: HashMap<K, Failures>,
}

impl<K: Eq + Hash + Clone> Counters<K> {
    fn new() -> Self {
        Counters {
            entries: HashMap::new(),
        }
    }

    /// How long `key` stays locked out, if it is.
    fn locked(&self, key: &K, limits: &Limits, now: Instant) -> Option<Duration> {
        let failures = self.entries.get(key)?;
        let ends = failures.since + limits.window;
        (failures.count >= limits.max_failures && ends > now).then(|| ends - now)
    }

    fn fail(&mut self, key: K, limits: &Limits, now: Instant) {
        if let Some(failures) = self.entries.get_mut(&key) {
            if now.duration_since(failures.since) >= limits.window {
                *failures = Failures {
                    count: 1,
                    since: now,
                };
            } else {
                failures.count = failures.count.saturating_add(1);
            }
            return;
        }
        if self.entries.len() >= limits.max_tracked {
            self.entries
                .retain(|_, f| now.duration_since(f.since) < limits.window);
        }
        if self.entries.len() >= limits.max_tracked {
            let oldest = self
                .entries
                .iter()
                .min_by_key(|(_, f)| f.since)
                .map(|(k, _)| k.clone());
            if let Some(oldest) = oldest {
                self.entries.remove(&oldest);
            }
        }
        self.entries.insert(
            key,
            Failures {
                count: 1,
                since: now,
            },
        );
    }

    fn clear(&mut self, key: &K) {
        self.entries.remove(key);
    }
}

struct Limits {
    max_failures: u32,
    window: Duration,
    max_tracked: usize,
}

/// The failure counters of one running service.
pub(crate) struct LoginThrottle {
    limits: Limits,
    /// `None` stands for requests whose client address is unknown (in-process calls).
    by_client: Mutex<Counters<Option<IpAddr>>>,
    by_account: Mutex<Counters<String>>,
}

impl LoginThrottle {
    pub(crate) fn new(config: &AccountsConfig) -> Self {
        LoginThrottle {
            limits: Limits {
                max_failures: config.login_max_failures.max(1),
                window: config.login_window.unsigned_abs(),
                max_tracked: config.login_max_tracked.max(1),
            },
            by_client: Mutex::new(Counters::new()),
            by_account: Mutex::new(Counters::new()),
        }
    }

    /// `Err(retry after)` when the client or the account has failed too often.
    pub(crate) fn check(&self, client: Option<IpAddr>, account: &str) -> Result<(), Duration> {
        let now = Instant::now();
        let client = lock(&self.by_client).locked(&client, &self.limits, now);
        let account = lock(&self.by_account).locked(&account.to_lowercase(), &self.limits, now);
        match client.max(account) {
            Some(wait) => Err(wait),
            None => Ok(()),
        }
    }

    pub(crate) fn failed(&self, client: Option<IpAddr>, account: &str) {
        let now = Instant::now();
        lock(&self.by_client).fail(client, &self.limits, now);
        // No account has a longer address; remembering such names would only let a
        // client fill memory with them. Its address is counted all the same.
        if account.len() <= MAX_ACCOUNT_BYTES {
            lock(&self.by_account).fail(account.to_lowercase(), &self.limits, now);
        }
    }

    /// A correct password clears the account's counter (not the client's: one valid
    /// account must not launder guesses at others from the same address).
    pub(crate) fn succeeded(&self, account: &str) {
        lock(&self.by_account).clear(&account.to_lowercase());
    }
}

/// The counters stay usable after a panic elsewhere: they hold no invariant a
/// half-finished update could break.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(max_tracked: usize) -> Limits {
        Limits {
            max_failures: 2,
            window: Duration::from_secs(60),
            max_tracked,
        }
    }

    #[test]
    fn a_key_is_locked_after_the_limit_until_its_window_ends() {
        let limits = limits(10);
        let mut counters = Counters::new();
        let start = Instant::now();
        counters.fail("ana", &limits, start);
        assert_eq!(counters.locked(&"ana", &limits, start), None);
        counters.fail("ana", &limits, start);
        let wait = counters.locked(&"ana", &limits, start + Duration::from_secs(10));
        assert_eq!(wait, Some(Duration::from_secs(50)));
        assert_eq!(
            counters.locked(&"ana", &limits, start + Duration::from_secs(60)),
            None
        );
    }

    #[test]
    fn names_no_account_can_have_count_against_the_client_only() {
        let throttle = LoginThrottle::new(&AccountsConfig {
            login_max_failures: 1,
            ..AccountsConfig::default()
        });
        let client = Some(IpAddr::from([192, 0, 2, 7]));
        let long = "a".repeat(10_000);
        throttle.failed(client, &long);
        assert!(lock(&throttle.by_account).entries.is_empty());
        assert!(throttle.check(client, "ana@echo.example").is_err());
        assert!(throttle.check(None, "ana@echo.example").is_ok());
    }

    #[test]
    fn the_tables_never_grow_beyond_their_bound() {
        let limits = limits(3);
        let mut counters = Counters::new();
        let start = Instant::now();
        for i in 0..100u64 {
            counters.fail(i, &limits, start + Duration::from_millis(i));
        }
        assert_eq!(counters.entries.len(), 3);
        // The newest stay.
        assert!(counters.entries.contains_key(&99));
    }
}
