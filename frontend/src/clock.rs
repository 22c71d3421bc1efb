//! A shared "now" that ticks every few seconds, so ages such as "last seen 12s ago" stay true
//! without every row running its own timer.

use std::time::Duration;

use leptos::prelude::*;

/// How often ages are refreshed.
const TICK: Duration = Duration::from_secs(5);

/// The current time in Unix milliseconds, updated every [`TICK`]; cheap to copy.
#[derive(Debug, Clone, Copy)]
pub struct Clock(RwSignal<i64>);

fn now_ms() -> i64 {
    js_sys::Date::now() as i64
}

impl Clock {
    /// Starts the clock for the current owner (the signed-in frame) and provides it as context.
    pub fn start() -> Clock {
        let clock = Clock(RwSignal::new(now_ms()));
        every(TICK, move || {
            let _ = clock.0.try_set(now_ms());
        });
        provide_context(clock);
        clock
    }

    /// Now, in Unix milliseconds (tracked: re-runs the reader every tick).
    pub fn now(&self) -> i64 {
        self.0.get()
    }
}

/// The clock of the signed-in frame.
pub fn use_clock() -> Clock {
    expect_context::<Clock>()
}

/// Runs `f` every `period` for as long as the calling view lives (the timer stops with it).
pub fn every(period: Duration, f: impl Fn() + 'static) {
    every_boxed(period, Box::new(f));
}

/// [`every`], compiled once: the timer's glue is not copied per closure type.
fn every_boxed(period: Duration, f: Box<dyn Fn()>) {
    if let Ok(timer) = set_interval_with_handle(f, period) {
        on_cleanup(move || timer.clear());
    }
}
