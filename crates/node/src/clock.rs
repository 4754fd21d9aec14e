//! The node's clock: one place that reads the time, so that tests can fix it.
//!
//! Validation never reads a clock (see the ledger's invariants); the node reads one for block
//! timestamps, the freshness of signed requests, the risk engine's "today" and the time an
//! officer's override is recorded.

use std::sync::atomic::{AtomicI64, Ordering};

/// Milliseconds since the Unix epoch, from somewhere.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// The time now, in milliseconds since the Unix epoch (UTC).
    fn now_ms(&self) -> i64;

    /// Today as days since the Unix epoch (UTC).
    fn today(&self) -> i32 {
        i32::try_from(self.now_ms().div_euclid(86_400_000)).unwrap_or(0)
    }

    /// The time now as ISO 8601 (UTC, seconds), e.g. `2026-12-03T11:25:59Z`.
    fn now_iso(&self) -> String {
        borderlink_model::datetime::format_unix_ms(self.now_ms())
    }
}

/// The machine's clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
    }
}

/// A clock that says what it is told (tests).
#[derive(Debug, Default)]
pub struct FixedClock(AtomicI64);

impl FixedClock {
    /// A clock standing at `ms`.
    pub fn at(ms: i64) -> Self {
        Self(AtomicI64::new(ms))
    }

    /// Moves the clock to `ms`.
    pub fn set(&self, ms: i64) {
        self.0.store(ms, Ordering::SeqCst);
    }
}

impl Clock for FixedClock {
    fn now_ms(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fixed_clock_gives_day_and_iso_time() {
        let c = FixedClock::at(1_772_443_800_123);
        assert_eq!(c.now_iso(), "2026-03-02T09:30:00Z");
        assert_eq!(c.today(), 20_514);
        c.set(0);
        assert_eq!(c.now_iso(), "1970-01-01T00:00:00Z");
    }

    #[test]
    fn the_system_clock_is_after_2025() {
        assert!(SystemClock.now_ms() > 1_735_689_600_000);
    }
}
