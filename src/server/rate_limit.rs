//! Rule 9: the anonymous rate limit, one token bucket per client address, shared by login and second
//! factor. In memory and per process: it protects this server's CPU and database from one address;
//! the counts that must hold across servers (rules 5, 8, 10) live in the database.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::address::AddressKey;

/// Most addresses tracked at once (about 40 bytes each). Buckets that have filled up again are
/// forgotten first; only a flood from more addresses than this within a few seconds reaches the cap,
/// and then an arbitrary bucket is forgotten (that address gets a full burst again).
const MAX_BUCKETS: usize = 100_000;
/// How often full buckets are swept out.
const SWEEP_EVERY: Duration = Duration::from_secs(5);

/// `--anonymous-rate N`: N requests per second per address, bursts of 5×N; 0 turns it off.
pub struct AnonymousLimit {
    rate: f64,
    burst: f64,
    state: Mutex<Buckets>,
}

struct Buckets {
    buckets: HashMap<AddressKey, Bucket>,
    last_sweep: Instant,
}

#[derive(Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

impl Bucket {
    fn tokens_at(self, now: Instant, rate: f64, burst: f64) -> f64 {
        (self.tokens + now.saturating_duration_since(self.at).as_secs_f64() * rate).min(burst)
    }
}

impl AnonymousLimit {
    /// How many requests per second a burst is worth.
    pub const BURST_SECONDS: u32 = 5;

    pub fn new(per_second: u32) -> Self {
        Self {
            rate: f64::from(per_second),
            burst: f64::from(per_second) * f64::from(Self::BURST_SECONDS),
            state: Mutex::new(Buckets { buckets: HashMap::new(), last_sweep: Instant::now() }),
        }
    }

    pub fn is_off(&self) -> bool {
        self.rate == 0.0
    }

    /// Takes one request from `client`'s budget, or says how long until one is available.
    pub fn check(&self, client: AddressKey, now: Instant) -> Result<(), Duration> {
        if self.is_off() {
            return Ok(());
        }
        // A poisoned lock only means another request panicked mid-update: the numbers are still usable.
        let mut state = self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if now.saturating_duration_since(state.last_sweep) >= SWEEP_EVERY
            || state.buckets.len() >= MAX_BUCKETS
        {
            state.sweep(now, self.rate, self.burst);
        }
        let full = Bucket { tokens: self.burst, at: now };
        let bucket = state.buckets.entry(client).or_insert(full);
        let tokens = bucket.tokens_at(now, self.rate, self.burst);
        if tokens >= 1.0 {
            *bucket = Bucket { tokens: tokens - 1.0, at: now };
            return Ok(());
        }
        *bucket = Bucket { tokens, at: now };
        Err(Duration::from_secs_f64((1.0 - tokens) / self.rate))
    }

    #[cfg(test)]
    fn tracked(&self) -> usize {
        self.state.lock().map(|state| state.buckets.len()).unwrap_or(0)
    }
}

impl Buckets {
    /// Forgets the buckets that have filled up again (forgetting them changes nothing), and at the cap
    /// one more.
    fn sweep(&mut self, now: Instant, rate: f64, burst: f64) {
        self.buckets.retain(|_, bucket| bucket.tokens_at(now, rate, burst) < burst);
        if self.buckets.len() >= MAX_BUCKETS
            && let Some(key) = self.buckets.keys().next().copied()
        {
            self.buckets.remove(&key);
        }
        self.last_sweep = now;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(last: u8) -> AddressKey {
        AddressKey::of(std::net::IpAddr::from([192, 0, 2, last]))
    }

    #[test]
    fn a_burst_of_five_seconds_then_the_rate() {
        let limit = AnonymousLimit::new(2);
        let t0 = Instant::now();
        for _ in 0..10 {
            limit.check(key(1), t0).unwrap();
        }
        let wait = limit.check(key(1), t0).unwrap_err();
        assert_eq!(wait, Duration::from_millis(500));
        assert!(limit.check(key(2), t0).is_ok(), "another address has its own budget");
        let later = t0 + Duration::from_millis(500);
        limit.check(key(1), later).unwrap();
        assert!(limit.check(key(1), later).is_err());
        // Refused requests do not dig the hole deeper: the wait stays one token's worth.
        assert_eq!(limit.check(key(1), later).unwrap_err(), Duration::from_millis(500));
    }

    #[test]
    fn zero_turns_it_off() {
        let limit = AnonymousLimit::new(0);
        let t0 = Instant::now();
        assert!((0..10_000).all(|_| limit.check(key(1), t0).is_ok()));
        assert_eq!(limit.tracked(), 0);
    }

    #[test]
    fn full_buckets_are_forgotten() {
        let limit = AnonymousLimit::new(10);
        let t0 = Instant::now();
        for last in 0..200 {
            limit.check(key(last), t0).unwrap();
        }
        assert_eq!(limit.tracked(), 200);
        // Five seconds later every bucket is full again: the sweep drops them all but the new one.
        limit.check(key(1), t0 + SWEEP_EVERY).unwrap();
        assert_eq!(limit.tracked(), 1);
    }
}
