//! The simulator's clock: simulated time runs at `speed` × wall time from a start instant, plus
//! manual advances. Every delay, bill and price step is measured on it, so tests move time with
//! [`SimClock::advance`] instead of sleeping.

use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Simulated time: milliseconds since the Unix epoch.
pub type SimMs = i64;

/// A clock whose time is `anchor_sim + (wall − anchor_wall) × speed`; advancing re-anchors it.
#[derive(Debug)]
pub struct SimClock {
    inner: Mutex<Anchor>,
}

#[derive(Clone, Copy, Debug)]
struct Anchor {
    sim: SimMs,
    wall: Instant,
    wall_unix_ms: i64,
    speed: f64,
}

impl SimClock {
    /// A clock reading `start` now and running at `speed` (0: only manual advances move it).
    pub fn new(start: SimMs, speed: f64) -> Self {
        SimClock {
            inner: Mutex::new(Anchor {
                sim: start,
                wall: Instant::now(),
                wall_unix_ms: wall_unix_ms(),
                speed: if speed.is_finite() && speed >= 0.0 { speed } else { 1.0 },
            }),
        }
    }

    /// The simulated time now.
    pub fn now(&self) -> SimMs {
        let anchor = *self.lock();
        anchor.sim + scaled(anchor.wall.elapsed(), anchor.speed)
    }

    /// Moves simulated time forward by `by` at once.
    pub fn advance(&self, by: Duration) -> SimMs {
        let mut anchor = self.lock();
        let now = anchor.sim + scaled(anchor.wall.elapsed(), anchor.speed);
        let by_ms = i64::try_from(by.as_millis()).unwrap_or(i64::MAX / 4);
        *anchor = Anchor {
            sim: now.saturating_add(by_ms),
            wall: Instant::now(),
            wall_unix_ms: wall_unix_ms(),
            speed: anchor.speed,
        };
        anchor.sim
    }

    /// The speed factor.
    pub fn speed(&self) -> f64 {
        self.lock().speed
    }

    /// The wall time (Unix ms) at which simulated time `at` was, or will be, reached: an instant
    /// already passed by a manual advance became visible at that advance.
    pub fn wall_time_of(&self, at: SimMs) -> i64 {
        let anchor = *self.lock();
        if at <= anchor.sim || anchor.speed <= 0.0 {
            return anchor.wall_unix_ms;
        }
        anchor.wall_unix_ms + ((at - anchor.sim) as f64 / anchor.speed) as i64
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Anchor> {
        self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

fn scaled(elapsed: Duration, speed: f64) -> SimMs {
    (elapsed.as_secs_f64() * 1000.0 * speed) as SimMs
}

/// The wall clock in Unix milliseconds.
pub fn wall_unix_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// ISO 8601 UTC with seconds, as the API prints times: `2020-03-10T02:43:51Z`.
pub fn iso(at: SimMs) -> String {
    let time = OffsetDateTime::from_unix_timestamp(at.div_euclid(1000)).unwrap_or(OffsetDateTime::UNIX_EPOCH);
    let date = time.date();
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        date.year(),
        u8::from(date.month()),
        date.day(),
        time.hour(),
        time.minute(),
        time.second()
    )
}

/// Parses an RFC 3339 time into simulated milliseconds.
pub fn parse_rfc3339(text: &str) -> Option<SimMs> {
    let time = OffsetDateTime::parse(text, &Rfc3339).ok()?;
    Some((time.unix_timestamp_nanos() / 1_000_000) as SimMs)
}

/// Parses `YYYY-MM-DD hh:mm:ss` (UTC), the format of DescribeInstances' creation-time filters.
pub fn parse_plain(text: &str) -> Option<SimMs> {
    let (date, clock) = text.trim().split_once(' ')?;
    parse_rfc3339(&format!("{date}T{clock}Z"))
}

/// Months added to a time, day of month clamped (Jan 31 + 1 month = Feb 28/29), for prepaid expiry.
pub fn add_months(at: SimMs, months: i64) -> SimMs {
    let Ok(time) = OffsetDateTime::from_unix_timestamp(at.div_euclid(1000)) else {
        return at;
    };
    let total = i64::from(time.year()) * 12 + i64::from(u8::from(time.month())) - 1 + months;
    let (year, month) = (total.div_euclid(12) as i32, (total.rem_euclid(12) + 1) as u8);
    let Ok(month) = time::Month::try_from(month) else {
        return at;
    };
    let day = time.day().min(month.length(year));
    let Ok(date) = time::Date::from_calendar_date(year, month, day) else {
        return at;
    };
    let moved = time.replace_date(date);
    moved.unix_timestamp() * 1000 + at.rem_euclid(1000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stopped_clock_moves_only_when_advanced() {
        let clock = SimClock::new(1_000, 0.0);
        assert_eq!(clock.now(), 1_000);
        clock.advance(Duration::from_secs(90));
        assert_eq!(clock.now(), 91_000);
    }

    #[test]
    fn times_print_as_iso_utc_and_months_clamp_to_the_month_end() {
        assert_eq!(iso(1_551_113_065_000), "2019-02-25T16:44:25Z");
        let jan31 = parse_rfc3339("2024-01-31T10:00:00Z").expect("valid");
        assert_eq!(iso(add_months(jan31, 1)), "2024-02-29T10:00:00Z");
        assert_eq!(iso(add_months(jan31, 12)), "2025-01-31T10:00:00Z");
        assert_eq!(
            parse_plain("2023-06-01 00:00:00"),
            parse_rfc3339("2023-06-01T00:00:00Z")
        );
    }
}
