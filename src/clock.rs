//! The engine's clock: the system's, or a manual one tests move by hand.

use std::sync::{Arc, Mutex};
use std::time::Duration;
use time::OffsetDateTime;

/// Where "now" comes from.
#[derive(Clone, Debug)]
pub enum Clock {
    /// The system clock (UTC).
    System,
    /// A clock that only moves when told to.
    Manual(Arc<Mutex<OffsetDateTime>>),
}

impl Clock {
    /// A manual clock starting at `start`.
    pub fn manual(start: OffsetDateTime) -> Clock {
        Clock::Manual(Arc::new(Mutex::new(start)))
    }

    /// The current time, UTC.
    pub fn now(&self) -> OffsetDateTime {
        match self {
            Clock::System => OffsetDateTime::now_utc(),
            Clock::Manual(now) => *now.lock().expect("clock lock"),
        }
    }

    /// Moves a manual clock forward (no effect on the system clock).
    pub fn advance(&self, by: Duration) {
        if let Clock::Manual(now) = self {
            let mut now = now.lock().expect("clock lock");
            *now += by;
        }
    }
}

/// The first instant of the UTC calendar month that contains `at`: the start of cap accounting.
pub fn month_start(at: OffsetDateTime) -> OffsetDateTime {
    at.replace_day(1)
        .expect("day 1 exists")
        .replace_time(time::Time::MIDNIGHT)
}
