//! Wall-clock time as Unix milliseconds, the unit stored in the database and sent in the API;
//! and the [`Ticker`] of the server's periodic tasks.

use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::sync::watch;

pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// Ticks every `every` until the server shuts down; a late tick waits instead of bursting.
pub struct Ticker {
    tick: tokio::time::Interval,
    shutdown: watch::Receiver<bool>,
}

impl Ticker {
    pub fn new(every: Duration, shutdown: watch::Receiver<bool>) -> Ticker {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        Ticker { tick, shutdown }
    }

    /// Waits for the next tick: `false` once shutdown has begun (then stop).
    pub async fn next(&mut self) -> bool {
        tokio::select! {
            _ = self.tick.tick() => {}
            _ = self.shutdown.changed() => return false,
        }
        !*self.shutdown.borrow()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_ticker_ticks_until_shutdown() {
        let (stop, shutdown) = watch::channel(false);
        let mut ticker = Ticker::new(Duration::from_millis(1), shutdown);
        assert!(ticker.next().await);
        assert!(ticker.next().await);
        let _ = stop.send(true);
        assert!(!ticker.next().await);
    }
}
