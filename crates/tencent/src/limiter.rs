//! A client-side rate limit per action, so cvmbot stays under Tencent's documented per-API limits
//! instead of collecting `RequestLimitExceeded` errors.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::Duration;
use tokio::time::Instant;

/// Tencent's documented default limits in requests per second (tencent-cloud-api.md §8); actions
/// not listed get [`DEFAULT_RATE`].
pub const DOCUMENTED_RATES: &[(&str, u32)] = &[
    ("RunInstances", 10),
    ("InquiryPriceRunInstances", 10),
    ("DescribeInstances", 40),
    ("DescribeAccountBalance", 20),
];

/// The budget for actions whose limit is not documented.
pub const DEFAULT_RATE: u32 = 10;

/// How long a call counts against its action's limit: a tenth over a second, because Tencent
/// counts arrivals per second and the network (or a busy machine) delays calls unevenly; a tighter
/// margin was seen to draw RequestLimitExceeded from the simulator's limiter under load.
const WINDOW: Duration = Duration::from_millis(1100);

/// Paces calls per action: at most `rate` calls start within any window of [`WINDOW`], a burst of
/// up to `rate` after a quiet spell, and callers over the limit wait (they never fail).
#[derive(Debug)]
pub struct RateLimiter {
    rates: HashMap<String, u32>,
    default_rate: u32,
    booked: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl RateLimiter {
    /// Limits from `overrides` (action → requests per second; 0 means unlimited) on top of the
    /// documented defaults; the key `default` sets the limit of actions not listed.
    pub fn new(overrides: &HashMap<String, u32>) -> Self {
        let mut rates: HashMap<String, u32> = DOCUMENTED_RATES.iter().map(|(a, r)| ((*a).to_owned(), *r)).collect();
        let mut default_rate = DEFAULT_RATE;
        for (action, rate) in overrides {
            if action == "default" {
                default_rate = *rate;
            } else {
                rates.insert(action.clone(), *rate);
            }
        }
        RateLimiter {
            rates,
            default_rate,
            booked: Mutex::new(HashMap::new()),
        }
    }

    /// No limits at all (benchmarks against the simulator).
    pub fn unlimited() -> Self {
        RateLimiter {
            rates: HashMap::new(),
            default_rate: 0,
            booked: Mutex::new(HashMap::new()),
        }
    }

    /// The limit applied to `action`, in requests per second (0: unlimited).
    pub fn rate(&self, action: &str) -> u32 {
        self.rates.get(action).copied().unwrap_or(self.default_rate)
    }

    /// Waits until one more `action` call fits in the limit, and books it; returns how long it
    /// waited (zero when the call fit at once).
    pub async fn acquire(&self, action: &str) -> Duration {
        match self.reserve(action, Instant::now()) {
            Some(wait) => {
                tokio::time::sleep(wait).await;
                wait
            }
            None => Duration::ZERO,
        }
    }

    /// Books a call at `now` or later; returns how long the caller must wait before making it.
    fn reserve(&self, action: &str, now: Instant) -> Option<Duration> {
        let rate = self.rate(action) as usize;
        if rate == 0 {
            return None;
        }
        let mut booked = self.booked.lock().expect("rate limiter lock");
        let times = booked.entry(action.to_owned()).or_default();
        // Times are booked in order, so the oldest of the last `rate` calls decides.
        let at = if times.len() < rate {
            now
        } else {
            let oldest = times.pop_front().expect("a full window is not empty");
            (oldest + WINDOW).max(now)
        };
        times.push_back(at);
        (at > now).then(|| at - now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn calls_allowed_within(limiter: &RateLimiter, action: &str, window: Duration, attempts: u32) -> u32 {
        let start = Instant::now();
        (0..attempts)
            .filter(|_| limiter.reserve(action, start).is_none_or(|wait| wait < window))
            .count() as u32
    }

    #[test]
    fn no_more_calls_per_second_than_documented() {
        let limiter = RateLimiter::new(&HashMap::new());
        assert_eq!(
            calls_allowed_within(&limiter, "RunInstances", Duration::from_secs(1), 100),
            10
        );
        assert_eq!(
            calls_allowed_within(&limiter, "DescribeInstances", Duration::from_secs(1), 100),
            40
        );
        assert_eq!(
            calls_allowed_within(&limiter, "DescribeAccountBalance", Duration::from_secs(1), 100),
            20
        );
        assert_eq!(
            calls_allowed_within(&limiter, "TerminateInstances", Duration::from_secs(1), 100),
            10
        );
    }

    #[test]
    fn a_burst_goes_through_at_once_and_the_next_calls_wait_for_the_window() {
        let limiter = RateLimiter::new(&HashMap::new());
        let now = Instant::now();
        let waits: Vec<Option<Duration>> = (0..12).map(|_| limiter.reserve("RunInstances", now)).collect();
        assert!(
            waits[..10].iter().all(Option::is_none),
            "the first second's worth is not delayed: {waits:?}"
        );
        assert_eq!(waits[10], Some(WINDOW));
        assert_eq!(waits[11], Some(WINDOW));
    }

    #[test]
    fn overrides_replace_limits_and_zero_lifts_them() {
        let overrides = HashMap::from([("RunInstances".to_owned(), 0), ("default".to_owned(), 2)]);
        let limiter = RateLimiter::new(&overrides);
        assert_eq!(
            calls_allowed_within(&limiter, "RunInstances", Duration::from_millis(1), 1000),
            1000
        );
        assert_eq!(
            calls_allowed_within(&limiter, "DescribeZones", Duration::from_secs(1), 100),
            2
        );
        assert_eq!(limiter.rate("DescribeInstances"), 40);
    }
}
