//! `BuildLogView`: a build's log, read from the start and followed until the build is over.
//!
//! The first read asks `GET /api/builds/{id}/log?offset=0`; live `BuildLog` messages of this
//! build then append when they start exactly where the text ends. A message starting further
//! on means one was missed, so the gap is read over HTTP; one starting earlier is trimmed to its
//! new part. Messages arriving while a read is in flight wait for its answer. A read that brought
//! text is followed by another at once (answers may be capped), and when the live channel is
//! quiet for [`POLL`] the log is read anyway, so a dead channel costs latency, not output.
//! Offsets are bytes of the log file; a piece whose text was decoded lossily (it contains a
//! replacement character) is read over HTTP instead, since its length in bytes is unknown.
//! Following stops when an answer says `complete`, or when a read started after the build was
//! seen finished brings nothing more.

use crate::components::CollectVec;
use std::time::Duration;

use crate::busy::spawn_local;
use crate::components::Show;
use leptos::prelude::*;
use vr_app::api::LiveMessage;
use vr_app::build::BuildStatus;

use crate::api;
use crate::components::LogViewer;
use crate::live::use_live;

/// Fallback read interval while no live log message arrives.
const POLL: Duration = Duration::from_secs(2);
/// Text kept in the viewer; older lines are dropped beyond it.
const KEEP: usize = 1_000_000;

#[derive(Debug, Default)]
struct State {
    /// Byte offset just after the text shown.
    end: u64,
    in_flight: bool,
    /// A read was asked for while one was in flight.
    again: bool,
    /// Live pieces (offset, text) that arrived while a read was in flight.
    queued: Vec<(u64, String)>,
    done: bool,
    last_live_ms: f64,
}

/// Everything the follower touches; cheap to copy, so callbacks and tasks can share it.
#[derive(Debug, Clone, Copy)]
struct Follower {
    id: i64,
    status: Signal<Option<BuildStatus>>,
    state: StoredValue<State>,
    text: RwSignal<String>,
    trimmed: RwSignal<bool>,
    error: RwSignal<Option<String>>,
}

/// What to do with a live piece of log.
#[derive(Debug, PartialEq, Eq)]
enum Fit<'a> {
    /// Append this (the part of the piece past the current end).
    Append(&'a str),
    /// Already shown.
    Old,
    /// Text is missing between the end and the piece: read it over HTTP.
    Gap,
}

/// How a piece of log starting at byte `offset` fits after `end`.
fn fit(end: u64, offset: u64, text: &str) -> Fit<'_> {
    // The server decodes each piece lossily: a replacement character means the text's length
    // may not be the piece's length in bytes, so only an HTTP read can say where it ends.
    if offset > end || text.contains(char::REPLACEMENT_CHARACTER) {
        return Fit::Gap;
    }
    let skip = (end - offset) as usize;
    if skip >= text.len() {
        return Fit::Old;
    }
    match text.get(skip..) {
        Some(rest) => Fit::Append(rest),
        // The end falls inside a character: the offsets disagree with the text, read instead.
        None => Fit::Gap,
    }
}

/// Drops the oldest text so at most [`KEEP`] bytes remain, cutting at a line start.
fn trim_front(text: &mut String) -> bool {
    if text.len() <= KEEP {
        return false;
    }
    let mut cut = text.len() - KEEP;
    while !text.is_char_boundary(cut) {
        cut += 1;
    }
    let cut = text[cut..].find('\n').map_or(cut, |i| cut + i + 1);
    text.drain(..cut);
    true
}

impl Follower {
    fn append(&self, piece: &str) {
        if piece.is_empty() {
            return;
        }
        let mut trimmed = false;
        let _ = self.text.try_update(|t| {
            t.push_str(piece);
            trimmed = trim_front(t);
        });
        if trimmed {
            let _ = self.trimmed.try_set(true);
        }
    }

    /// Applies a live piece; false when it showed a gap that needs a read.
    fn take(&self, offset: u64, text: &str) -> bool {
        let Some(end) = self.state.try_with_value(|s| s.end) else {
            return true;
        };
        match fit(end, offset, text) {
            Fit::Append(rest) => {
                self.append(rest);
                self.state
                    .update_value(|s| s.end = offset + text.len() as u64);
                true
            }
            Fit::Old => true,
            Fit::Gap => false,
        }
    }

    fn on_live(&self, offset: u64, text: &str) {
        let Some((done, in_flight)) = self.state.try_update_value(|s| {
            s.last_live_ms = js_sys::Date::now();
            (s.done, s.in_flight)
        }) else {
            return;
        };
        if done {
            // An answer can say `complete` while the last pieces are still being written:
            // take those that fit exactly, but read nothing more.
            self.take(offset, text);
            return;
        }
        if in_flight {
            self.state
                .update_value(|s| s.queued.push((offset, text.to_string())));
            return;
        }
        if !self.take(offset, text) {
            self.read();
        }
    }

    /// Reads from the current end, unless following is over; if a read is already in flight,
    /// another follows it.
    fn read(self) {
        let Some(start) = self.state.try_update_value(|s| {
            if s.done {
                return None;
            }
            if s.in_flight {
                s.again = true;
                return None;
            }
            s.in_flight = true;
            s.again = false;
            Some(s.end)
        }) else {
            return;
        };
        let Some(from) = start else {
            return;
        };
        // Asked after the build finished: an empty answer then means the log is whole.
        let finished = self
            .status
            .try_get_untracked()
            .flatten()
            .is_some_and(|s| !s.in_progress());
        spawn_local(async move {
            let result = api::build::build_log(self.id, from).await;
            // The page is gone.
            let Some(queued) = self.state.try_update_value(|s| {
                s.in_flight = false;
                std::mem::take(&mut s.queued)
            }) else {
                return;
            };
            let mut again = self.state.with_value(|s| s.again);
            match result {
                Ok(chunk) => {
                    let _ = self.error.try_set(None);
                    self.append(&chunk.text);
                    self.state.update_value(|s| s.end = chunk.offset);
                    if chunk.complete || (finished && chunk.text.is_empty()) {
                        self.state.update_value(|s| s.done = true);
                        return;
                    }
                    for (offset, text) in &queued {
                        if !self.take(*offset, text) {
                            again = true;
                        }
                    }
                    again |= !chunk.text.is_empty();
                }
                Err(e) => {
                    // The next poll tries again.
                    let _ = self.error.try_set(Some(e.into_message()));
                    again = false;
                }
            }
            if again {
                self.read();
            }
        });
    }

    /// Reads when the live channel has said nothing about this log for a while.
    fn poll(self) {
        let quiet = self.state.try_with_value(|s| {
            !s.done && js_sys::Date::now() - s.last_live_ms >= POLL.as_millis() as f64
        });
        if quiet == Some(true) {
            self.read();
        }
    }
}

/// The log of build `id`, whose current status is `status` (`None` until known).
#[component]
pub fn BuildLogView(id: i64, #[prop(into)] status: Signal<Option<BuildStatus>>) -> impl IntoView {
    let live = use_live();
    let follower = Follower {
        id,
        status,
        state: StoredValue::new(State::default()),
        text: RwSignal::new(String::new()),
        trimmed: RwSignal::new(false),
        error: RwSignal::new(None),
    };
    follower.read();
    live.subscribe(move |message| {
        if let LiveMessage::BuildLog {
            id: of,
            offset,
            text,
        } = message
            && *of == id
        {
            follower.on_live(*offset, text);
        }
    });
    // The build just finished: read the tail (and learn that the log is complete).
    Effect::watch(
        move || status.get().is_some_and(|s| !s.in_progress()),
        move |finished, _, _| {
            if *finished {
                follower.read();
            }
        },
        false,
    );
    // Pieces may have been missed while the channel was down.
    crate::effects::on_change(move || live.opens(), move || follower.read(), false);
    crate::clock::every(POLL, move || follower.poll());

    let lines = Signal::derive(move || {
        follower
            .text
            .with(|t| t.lines().map(str::to_string).collect_vec())
    });
    view! {
        <div class="build-log" data-test="build-log-panel">
            {move || {
                follower
                    .error
                    .get()
                    .map(|e| {
                        view! {
                            <p class="field-error" data-test="log-error">
                                {format!("Cannot read the log: {e}")}
                            </p>
                        }
                    })
            }}
            <Show when=move || follower.trimmed.get()>
                <p class="muted">"Earlier output is not shown: only the last megabyte is kept here."</p>
            </Show>
            <LogViewer lines=lines title="Log" id="build-log" empty="No output yet." />
        </div>
    }
}
