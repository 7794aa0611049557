//! Windowed state shared by the detectors: time-ordered event windows and a bounded map
//! of per-key state.
//!
//! Owns the bookkeeping that keeps memory bounded — the cap on tracked keys with
//! least-recently-seen eviction, idle expiry behind the watermark, the cap on events a
//! window retains. It knows nothing about what a key or an event means and must not
//! decide what is an attack.

use std::collections::VecDeque;
use std::hash::Hash;

use jiff::{SignedDuration, Timestamp};

use crate::HashMap;

/// `t - d`, saturating at the earliest timestamp instead of failing.
pub(crate) fn minus(t: Timestamp, d: SignedDuration) -> Timestamp {
    t.checked_sub(d).unwrap_or(Timestamp::MIN)
}

/// `t + d`, saturating at the latest timestamp instead of failing.
pub(crate) fn plus(t: Timestamp, d: SignedDuration) -> Timestamp {
    t.checked_add(d).unwrap_or(Timestamp::MAX)
}

/// Events in time order, at most `cap` of them.
///
/// Events arrive mostly in order, so insertion searches from the back; a late event is
/// put where its time says rather than at the end, so that pruning by time stays right.
#[derive(Debug)]
pub(crate) struct TimeWindow<T> {
    events: VecDeque<(Timestamp, T)>,
    cap: usize,
}

impl<T> TimeWindow<T> {
    pub(crate) fn new(cap: usize) -> Self {
        TimeWindow {
            events: VecDeque::new(),
            cap: cap.max(1),
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.events.len()
    }

    /// The time of the newest event, if any.
    pub(crate) fn newest(&self) -> Option<Timestamp> {
        self.events.back().map(|(t, _)| *t)
    }

    /// Inserts in time order (after events of the same time). When the window is full the
    /// oldest event is dropped first and handed back, so the caller can undo its counts.
    pub(crate) fn insert(&mut self, time: Timestamp, item: T) -> Option<(Timestamp, T)> {
        let dropped = if self.events.len() >= self.cap {
            self.events.pop_front()
        } else {
            None
        };
        let at = self.events.partition_point(|(t, _)| *t <= time);
        self.events.insert(at, (time, item));
        dropped
    }

    /// Removes every event older than `cutoff`, oldest first, handing each to `removed`.
    pub(crate) fn prune_before(&mut self, cutoff: Timestamp, mut removed: impl FnMut(T)) {
        while let Some((t, _)) = self.events.front() {
            if *t >= cutoff {
                break;
            }
            if let Some((_, item)) = self.events.pop_front() {
                removed(item);
            }
        }
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &(Timestamp, T)> {
        self.events.iter()
    }

    pub(crate) fn clear(&mut self) {
        self.events.clear();
    }
}

/// What [`Keyed`] needs to know of a key's state to choose what to forget.
pub(crate) trait LastSeen {
    /// The time of the newest event of the key.
    fn last_seen(&self) -> Timestamp;
}

/// Per-key state with a cap on the number of keys and idle expiry.
///
/// The watermark is the newest event time seen by the detector. A key is idle once the
/// watermark is more than `idle_after` past its last event; idle keys are dropped in a
/// sweep that runs each time the watermark has moved `idle_after` since the previous one,
/// so the cost is amortised over the events of that stretch of time.
#[derive(Debug)]
pub(crate) struct Keyed<K, V> {
    map: HashMap<K, V>,
    max_keys: usize,
    idle_after: SignedDuration,
    watermark: Option<Timestamp>,
    last_sweep: Option<Timestamp>,
    evicted: u64,
    expired: u64,
}

impl<K: Hash + Eq + Clone, V: LastSeen> Keyed<K, V> {
    pub(crate) fn new(max_keys: usize, idle_after: SignedDuration) -> Self {
        Keyed {
            map: HashMap::default(),
            max_keys: max_keys.max(1),
            idle_after,
            watermark: None,
            last_sweep: None,
            evicted: 0,
            expired: 0,
        }
    }

    /// Moves the watermark to `time` if that is newer, expiring idle keys when due.
    pub(crate) fn advance(&mut self, time: Timestamp) {
        let watermark = match self.watermark {
            Some(w) if w >= time => return,
            _ => time,
        };
        self.watermark = Some(watermark);
        let last_sweep = *self.last_sweep.get_or_insert(watermark);
        if minus(watermark, self.idle_after) < last_sweep {
            return;
        }
        self.last_sweep = Some(watermark);
        let cutoff = minus(watermark, self.idle_after);
        let before = self.map.len();
        self.map.retain(|_, v| v.last_seen() >= cutoff);
        self.expired += (before - self.map.len()) as u64;
    }

    pub(crate) fn get_mut(&mut self, key: &K) -> Option<&mut V> {
        self.map.get_mut(key)
    }

    /// The state of `key`, created with `make` if it has none. Creating a key when the map
    /// is full first evicts the tenth of the keys whose newest events are oldest.
    pub(crate) fn entry(&mut self, key: K, make: impl FnOnce() -> V) -> &mut V {
        if !self.map.contains_key(&key) && self.map.len() >= self.max_keys {
            self.evict();
        }
        self.map.entry(key).or_insert_with(make)
    }

    fn evict(&mut self) {
        let n = (self.map.len() / 10).max(1);
        let mut ages: Vec<(Timestamp, K)> = self
            .map
            .iter()
            .map(|(k, v)| (v.last_seen(), k.clone()))
            .collect();
        if n < ages.len() {
            ages.select_nth_unstable_by_key(n - 1, |(t, _)| *t);
        }
        for (_, key) in ages.iter().take(n) {
            self.map.remove(key);
        }
        self.evicted += n.min(ages.len()) as u64;
    }

    pub(crate) fn len(&self) -> usize {
        self.map.len()
    }

    pub(crate) fn evicted(&self) -> u64 {
        self.evicted
    }

    pub(crate) fn expired(&self) -> u64 {
        self.expired
    }

    pub(crate) fn watermark(&self) -> Option<Timestamp> {
        self.watermark
    }
}

/// Failures per account and how many accounts have between one and `max` of them: the
/// spray signature (many accounts, few attempts each) that several detectors count. The
/// count is kept up to date as failures come and go, never recomputed.
#[derive(Debug, Default)]
pub(crate) struct AccountTally {
    per_account: HashMap<String, u32>,
    /// Accounts with 1 to `max` failures.
    within: u32,
}

impl AccountTally {
    pub(crate) fn count(&mut self, account: &str, max: u32) {
        let n = self.per_account.entry(account.to_owned()).or_insert(0);
        *n += 1;
        if *n == 1 {
            self.within += 1;
        } else if *n == max.saturating_add(1) {
            self.within -= 1;
        }
    }

    pub(crate) fn uncount(&mut self, account: &str, max: u32) {
        let Some(n) = self.per_account.get_mut(account) else {
            return;
        };
        if *n == max.saturating_add(1) {
            self.within += 1;
        }
        *n -= 1;
        if *n == 0 {
            self.within -= 1;
            self.per_account.remove(account);
        }
    }

    /// Accounts with between one and `max` failures.
    pub(crate) fn within(&self) -> u32 {
        self.within
    }

    /// Failures of `account`.
    pub(crate) fn of(&self, account: &str) -> u32 {
        self.per_account.get(account).copied().unwrap_or(0)
    }

    /// The most failures any one account has.
    pub(crate) fn most(&self) -> u32 {
        self.per_account.values().copied().max().unwrap_or(0)
    }

    pub(crate) fn clear(&mut self) {
        self.per_account.clear();
        self.within = 0;
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn sprayed_accounts_are_those_with_one_to_max_failures() {
        let mut t = super::AccountTally::default();
        for account in ["a", "b", "b", "c", "c", "c", "c"] {
            t.count(account, 3);
        }
        assert_eq!(t.within(), 2, "c has four failures");
        assert_eq!(t.most(), 4);
        t.uncount("c", 3);
        assert_eq!(t.within(), 3, "c is back to three");
        t.uncount("a", 3);
        assert_eq!(t.within(), 2);
        assert_eq!(t.of("a"), 0);
        t.uncount("unknown", 3);
        assert_eq!(t.within(), 2);
        t.clear();
        assert_eq!((t.within(), t.most()), (0, 0));
    }

    use super::*;

    fn ts(second: i64) -> Timestamp {
        Timestamp::from_second(1_700_000_000 + second).expect("timestamp")
    }

    struct Seen(Timestamp);

    impl LastSeen for Seen {
        fn last_seen(&self) -> Timestamp {
            self.0
        }
    }

    #[test]
    fn window_keeps_time_order_and_prunes_strictly_older() {
        let mut w = TimeWindow::new(10);
        w.insert(ts(10), "b");
        w.insert(ts(30), "d");
        w.insert(ts(0), "a");
        w.insert(ts(20), "c");
        let order: Vec<&str> = w.iter().map(|(_, x)| *x).collect();
        assert_eq!(order, ["a", "b", "c", "d"]);
        let mut gone = Vec::new();
        w.prune_before(ts(10), |x| gone.push(x));
        assert_eq!(gone, ["a"]);
        assert_eq!(w.len(), 3);
        assert_eq!(w.newest(), Some(ts(30)));
    }

    #[test]
    fn a_full_window_drops_its_oldest() {
        let mut w = TimeWindow::new(2);
        assert_eq!(w.insert(ts(1), 1), None);
        assert_eq!(w.insert(ts(2), 2), None);
        assert_eq!(w.insert(ts(3), 3), Some((ts(1), 1)));
        assert_eq!(w.len(), 2);
    }

    #[test]
    fn keyed_evicts_the_least_recently_seen_tenth() {
        let mut k: Keyed<u32, Seen> = Keyed::new(20, SignedDuration::from_hours(1));
        for i in 0..20 {
            k.entry(i, || Seen(ts(i64::from(i))));
        }
        k.entry(100, || Seen(ts(100)));
        assert_eq!(k.len(), 19);
        assert_eq!(k.evicted(), 2);
        assert!(k.get_mut(&0).is_none() && k.get_mut(&1).is_none());
        assert!(k.get_mut(&2).is_some());
    }

    #[test]
    fn keyed_expires_idle_keys_once_the_watermark_passes() {
        let mut k: Keyed<u32, Seen> = Keyed::new(100, SignedDuration::from_secs(60));
        k.advance(ts(0));
        k.entry(1, || Seen(ts(0)));
        k.advance(ts(60));
        assert_eq!(k.len(), 1, "key 1 is exactly one window old: not idle yet");
        k.advance(ts(70));
        k.entry(2, || Seen(ts(70)));
        k.advance(ts(119));
        assert_eq!(
            k.len(),
            2,
            "sweeps run once per window of watermark progress"
        );
        k.advance(ts(120));
        assert_eq!(k.len(), 1);
        assert_eq!(k.expired(), 1);
        assert!(k.get_mut(&2).is_some());
        assert_eq!(k.watermark(), Some(ts(120)));
    }
}
