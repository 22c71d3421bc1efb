//! The merged live log page (`/logs?swarm=…`, `?pattern=…&host=…`, `?only=…`): every selected
//! proc's stdout and stderr in one list as they arrive, from `GET /api/logs`, with a search box,
//! pause/resume, stream and host toggles, and markers when a host stops answering, a proc
//! restarts or the selection changes. What is shown is the pure `vr_app::logs::LogView`.
//!
//! The stream has its own `EventSource`. When it breaks, it is reopened after [`RETRY`] without
//! history (a marker says lines written meanwhile are not shown); the page keeps what it has.

use crate::components::CollectVec;
use std::collections::VecDeque;
use std::time::Duration;

use crate::components::CollectAny;
use leptos::prelude::*;
use vr_app::api::paths;
use vr_app::fleet::LogStream;
use vr_app::logs::{LogEvent, LogSource, LogView, Mark};
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;

use crate::route::UrlParam;

/// Lines kept on the page; the oldest go first.
const KEEP: usize = 5000;
/// Arrivals are drawn together at most this often.
const DRAW_EVERY: Duration = Duration::from_millis(200);
const RETRY: Duration = Duration::from_secs(3);
/// History asked for per proc and stream.
const HISTORY: &str = "50";

/// The query keys of the selection, passed on to the API as they are.
const SELECTION: [&str; 6] = ["swarm", "pattern", "host", "squad", "only", "stream"];

struct Source {
    source: web_sys::EventSource,
    _message: Closure<dyn FnMut(web_sys::MessageEvent)>,
    _error: Closure<dyn FnMut(web_sys::Event)>,
}

impl Drop for Source {
    fn drop(&mut self) {
        self.source.close();
    }
}

#[component]
pub fn LogsPage() -> impl IntoView {
    crate::route::title(|| "Logs".to_string());
    let selection: Vec<(&'static str, UrlParam)> = SELECTION
        .iter()
        .map(|k| (*k, UrlParam::new(k)))
        .collect_vec();
    let search = UrlParam::new("q");
    let view_state = RwSignal::new(LogView {
        search: search.value.get_untracked().unwrap_or_default(),
        ..Default::default()
    });
    let shown = RwSignal::new(VecDeque::<(u64, LogEvent)>::new());
    let following = RwSignal::new(Vec::<LogSource>::new());
    let paused = RwSignal::new(false);
    let waiting = RwSignal::new(0usize);
    let status = RwSignal::new("connecting…".to_string());
    // Arrivals not drawn yet, and the next sequence number.
    let inbox = StoredValue::new(Vec::<LogEvent>::new());
    let seq = StoredValue::new(0u64);
    let source = StoredValue::new_local(None::<Source>);
    // Bumped after the stream broke, to reopen it.
    let broken = RwSignal::new(0u32);

    let query = {
        let selection = selection.clone();
        Memo::new(move |_| {
            let mut pairs: Vec<(String, String)> = selection
                .iter()
                .filter_map(|(k, p)| p.value.get().map(|v| (k.to_string(), v)))
                .collect_vec();
            pairs.push(("lines".into(), HISTORY.into()));
            pairs
        })
    };

    let open = move |history: bool| {
        let mut pairs = query.get_untracked();
        if !history {
            pairs.retain(|(k, _)| k != "lines");
            pairs.push(("lines".into(), "0".into()));
        }
        let qs = vr_app::query::query_string(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        let Ok(es) = web_sys::EventSource::new(&format!("{}{qs}", paths::LOGS)) else {
            status.set("cannot open the log stream".into());
            return;
        };
        let on_message =
            Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |ev: web_sys::MessageEvent| {
                let Some(text) = ev.data().as_string() else {
                    return;
                };
                match LogEvent::from_json(&text) {
                    Ok(LogEvent::Following { procs }) => {
                        status.set("live".into());
                        following.set(procs);
                    }
                    Ok(LogEvent::CaughtUp) => {}
                    Ok(event) => inbox.update_value(|i| i.push(event)),
                    Err(e) => leptos::logging::warn!("vr: ignoring log event ({e})"),
                }
            });
        let on_error = Closure::<dyn FnMut(web_sys::Event)>::new(move |_| {
            // Close (EventSource would reopen with the history again) and try again later;
            // the handlers are dropped only when the next one opens, never while they run.
            source.with_value(|s| {
                if let Some(s) = s {
                    s.source.close();
                }
            });
            status.set("disconnected — reconnecting…".into());
            set_timeout(move || broken.update(|n| *n += 1), RETRY);
        });
        es.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        es.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        source.set_value(Some(Source {
            source: es,
            _message: on_message,
            _error: on_error,
        }));
    };
    // The retry: after a break, without history, and said on the page.
    crate::effects::effect(move || {
        if broken.get() == 0 {
            return;
        }
        inbox.update_value(|i| {
            i.push(LogEvent::Marker {
                host: "vr".into(),
                proc: None,
                at: js_sys::Date::now() as i64,
                what: Mark::Lagged,
                detail: "reconnected: lines written while disconnected are not shown".into(),
            })
        });
        open(false);
    });
    // A new selection starts over.
    crate::effects::effect(move || {
        query.track();
        source.set_value(None);
        shown.set(VecDeque::new());
        inbox.set_value(Vec::new());
        status.set("connecting…".into());
        open(true);
    });
    on_cleanup(move || source.set_value(None));

    // Draw what arrived, unless paused (then only count it).
    let draw = move || {
        let Some(new) = inbox.try_update_value(std::mem::take) else {
            return;
        };
        if paused.get_untracked() {
            inbox.update_value(|i| *i = new);
            let n = inbox.with_value(Vec::len);
            if waiting.get_untracked() != n {
                waiting.set(n);
            }
            return;
        }
        if new.is_empty() {
            return;
        }
        waiting.set(0);
        shown.update(|list| {
            for e in new {
                let n = seq.get_value();
                seq.set_value(n + 1);
                list.push_back((n, e));
            }
            while list.len() > KEEP {
                list.pop_front();
            }
        });
    };
    crate::clock::every(DRAW_EVERY, draw);

    let visible = Memo::new(move |_| {
        let v = view_state.get();
        shown.with(|list| {
            list.iter()
                .filter(|(_, e)| v.shows(e))
                .cloned()
                .collect_vec()
        })
    });
    let hosts = Memo::new(move |_| {
        let mut h: Vec<String> = following.with(|f| f.iter().map(|s| s.host.clone()).collect_vec());
        h.sort();
        h.dedup();
        h
    });

    let stream_toggle = move |stream: LogStream, label: &'static str| {
        view! {
            <label class="check">
                <input
                    type="checkbox"
                    data-test=format!("logs-show-{}", stream.as_str())
                    prop:checked=move || view_state.with(|v| !v.hidden_streams.contains(&stream))
                    on:change=crate::ev::change(move |ev| {
                        let on = event_target_checked(&ev);
                        view_state.update(|v| {
                            v.hidden_streams.retain(|s| *s != stream);
                            if !on {
                                v.hidden_streams.push(stream);
                            }
                        });
                    })
                />
                {label}
            </label>
        }
    };
    let host_toggles = move || {
        hosts
            .get()
            .into_iter()
            .map(|h| {
                let name = h.clone();
                view! {
                    <label class="check">
                        <input
                            type="checkbox"
                            data-test=format!("logs-host-{h}")
                            prop:checked={
                                let name = name.clone();
                                move || view_state.with(|v| !v.hidden_hosts.contains(&name))
                            }
                            on:change=crate::ev::change(move |ev| {
                                let on = event_target_checked(&ev);
                                view_state.update(|v| {
                                    v.hidden_hosts.retain(|x| *x != name);
                                    if !on {
                                        v.hidden_hosts.push(name.clone());
                                    }
                                });
                            })
                        />
                        {h}
                    </label>
                }
            })
            .collect_any()
    };
    let summary = {
        let selection = selection.clone();
        move || {
            let parts: Vec<String> = selection
                .iter()
                .filter_map(|(k, p)| p.value.get().map(|v| format!("{k} {v}")))
                .collect_vec();
            let what = if parts.is_empty() {
                "every proc".to_string()
            } else {
                parts.join(", ")
            };
            following.with(|f| format!("{what}: {}", vr_app::logs::following_summary(f)))
        }
    };

    view! {
        <section class="page" data-test="logs-page">
            <h1>"Logs"</h1>
            <p class="muted" id="logs-summary">{summary}</p>
            <div class="log-viewer">
                <div class="log-toolbar">
                    <input
                        id="logs-search"
                        type="search"
                        class="table-filter"
                        placeholder="Search lines…"
                        aria-label="Search lines"
                        prop:value=move || view_state.with(|v| v.search.clone())
                        on:input=crate::ev::input(move |ev| {
                            let value = event_target_value(&ev);
                            view_state.update(|v| v.search = value.clone());
                            search.replace(Some(value));
                        })
                    />
                    {stream_toggle(LogStream::Stdout, "stdout")}
                    {stream_toggle(LogStream::Stderr, "stderr")}
                    <span class="log-hosts">{host_toggles}</span>
                    <button
                        type="button"
                        class="btn"
                        id="logs-pause"
                        on:click=crate::ev::click(move |_| {
                            paused.update(|p| *p = !*p);
                            if !paused.get_untracked() {
                                draw();
                            }
                        })
                    >
                        {crate::components::flag_text(paused, "Resume", "Pause")}
                    </button>
                    <span class="muted" id="logs-status">
                        {move || {
                            let n = waiting.get();
                            if paused.get() { format!("paused, {n} new") } else { status.get() }
                        }}
                    </span>
                </div>
                <div class="log merged-log" id="logs-lines" tabindex="0">
                    <For each=move || visible.get() key=|(n, _)| *n let((_, e))>
                        {row(e)}
                    </For>
                </div>
            </div>
        </section>
    }
}

fn row(e: LogEvent) -> impl IntoView {
    let class = match &e {
        LogEvent::Marker { .. } => "log-line log-marker",
        LogEvent::Line {
            stream: LogStream::Stderr,
            ..
        } => "log-line log-err",
        _ => "log-line",
    };
    view! { <div class=class>{e.render().unwrap_or_default()}</div> }
}
