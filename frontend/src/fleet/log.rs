//! `ProcLog`: a proc's stdout or stderr, read from its host and followed.
//!
//! The first read asks for the tail; after that it polls every [`POLL`] from the offset the
//! previous chunk returned and appends. At most [`KEEP`] bytes are kept, dropping the oldest
//! lines. Switching the stream starts over. While the host does not answer its polls nothing is
//! asked (the panel says so, and the log resumes when the host is back); a failed read backs off,
//! doubling the wait up to [`MAX_WAIT`].

use crate::components::CollectVec;
use std::time::Duration;

use crate::busy::spawn_local;
use leptos::prelude::*;
use vr_app::fleet::{LogQuery, LogStream};

use crate::api;
use crate::components::LogViewer;

const POLL: Duration = Duration::from_millis(1500);
/// The longest wait between reads after failures.
const MAX_WAIT: Duration = Duration::from_secs(30);
/// Text kept in the viewer.
const KEEP: usize = 200_000;
/// Size of the first read (the tail).
const TAIL_BYTES: u32 = 16 * 1024;

/// Drops the oldest text so at most `KEEP` bytes remain, cutting at a line start.
fn trim_front(text: &mut String) {
    if text.len() <= KEEP {
        return;
    }
    let mut cut = text.len() - KEEP;
    while !text.is_char_boundary(cut) {
        cut += 1;
    }
    let cut = text[cut..].find('\n').map_or(cut, |i| cut + i + 1);
    text.drain(..cut);
}

/// Where the follower stands; replaced on a stream switch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Cursor {
    generation: u64,
    offset: Option<u64>,
    in_flight: bool,
    /// Failed reads in a row.
    failures: u32,
    /// No read before this time (ms since the epoch).
    not_before: i64,
}

/// The wait after `failures` failed reads in a row: POLL, 2×, 4×, … up to MAX_WAIT.
fn backoff(failures: u32) -> Duration {
    POLL.saturating_mul(1 << failures.min(5)).min(MAX_WAIT)
}

#[component]
pub fn ProcLog(
    host: String,
    name: String,
    /// The host answered its last poll; while it does not, the log is not read.
    #[prop(into)]
    reachable: Signal<bool>,
) -> impl IntoView {
    let stream = RwSignal::new(LogStream::Stdout);
    let text = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let cursor = StoredValue::new(Cursor {
        generation: 0,
        offset: None,
        in_flight: false,
        failures: 0,
        not_before: 0,
    });
    let target = StoredValue::new((host, name));

    let read = move || {
        let Some(at) = cursor.try_get_value() else {
            return;
        };
        if at.in_flight
            || !reachable.get_untracked()
            || (js_sys::Date::now() as i64) < at.not_before
        {
            return;
        }
        cursor.update_value(|c| c.in_flight = true);
        let query = LogQuery {
            stream: stream.get_untracked(),
            offset: at.offset,
            bytes: at.offset.is_none().then_some(TAIL_BYTES),
        };
        let (host, name) = target.get_value();
        spawn_local(async move {
            let result = api::fleet::proc_log(&host, &name, &query).await;
            // The panel closed, or the stream was switched, meanwhile.
            if cursor.try_get_value().map(|c| c.generation) != Some(at.generation) {
                return;
            }
            cursor.update_value(|c| c.in_flight = false);
            match result {
                Ok(chunk) => {
                    cursor.update_value(|c| {
                        c.offset = Some(chunk.offset);
                        c.failures = 0;
                    });
                    let _ = error.try_set(None);
                    if at.offset.is_none() || chunk.overflow || !chunk.text.is_empty() {
                        // Overflow means the text is a fresh tail, not a continuation: more
                        // was written than fits, the log was rotated, or the host can only be
                        // read through `supervisorctl tail` (sudo logins), which cannot follow.
                        let _ = text.try_update(|t| {
                            if at.offset.is_none() || chunk.overflow {
                                t.clear();
                            }
                            t.push_str(&chunk.text);
                            trim_front(t);
                        });
                    }
                }
                Err(e) => {
                    cursor.update_value(|c| {
                        c.failures += 1;
                        c.not_before = js_sys::Date::now() as i64
                            + i64::try_from(backoff(c.failures).as_millis()).unwrap_or(i64::MAX);
                    });
                    let _ = error.try_set(Some(e.into_message()));
                }
            }
        });
    };

    // A new stream starts from its tail.
    crate::effects::effect(move || {
        stream.track();
        cursor.update_value(|c| {
            *c = Cursor {
                generation: c.generation + 1,
                offset: None,
                in_flight: false,
                failures: 0,
                not_before: 0,
            }
        });
        text.set(String::new());
        error.set(None);
        read();
    });
    // Back from unreachable: read at once, without the wait the failures built up.
    Effect::watch(
        move || reachable.get(),
        move |up, was, _| {
            if *up && was == Some(&false) {
                cursor.update_value(|c| {
                    c.failures = 0;
                    c.not_before = 0;
                });
                error.set(None);
                read();
            }
        },
        false,
    );
    crate::clock::every(POLL, read);

    let lines = Signal::derive(move || text.with(|t| t.lines().map(str::to_string).collect_vec()));
    let tab = move |which: LogStream, id: &'static str, label: &'static str| {
        crate::components::tab_button(stream, which, id, label)
    };
    view! {
        <div class="proc-log" data-test="proc-log-panel">
            <div class="tabs" role="tablist" aria-label="Log stream">
                {tab(LogStream::Stdout, "proc-log-stdout", "Stdout")}
                {tab(LogStream::Stderr, "proc-log-stderr", "Stderr")}
            </div>
            {move || {
                (!reachable.get())
                    .then(|| {
                        view! {
                            <p class="notice" data-test="log-unreachable">
                                "The host does not answer, so its log cannot be read now. It \
                                 resumes when the host is back."
                            </p>
                        }
                    })
            }}
            {move || {
                error
                    .get()
                    .map(|e| {
                        view! {
                            <p class="field-error" data-test="log-error">
                                {format!("Cannot read the log: {e}")}
                            </p>
                        }
                    })
            }}
            <LogViewer lines=lines id="proc-log" empty="No output." />
        </div>
    }
}
