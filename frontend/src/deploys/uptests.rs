//! `UptestResults` (`[data-test=uptests]`): the latest uptest run of one proc (a program on a
//! host), fetched when shown or pointed at another proc, and again when a live `Deploy`
//! message about that proc arrives (a deploy runs its uptests) or the live channel reopens.

use crate::busy::spawn_local;
use leptos::prelude::*;
use vr_app::api::LiveMessage;
use vr_app::deploy::UptestResult;
use vr_app::time::{format_age, format_utc};

use super::run_time;
use crate::api;
use crate::clock::use_clock;
use crate::live::use_live;

/// The latest uptest results of `program` on `host`; nothing is asked while either is empty.
#[component]
pub fn UptestResults(
    #[prop(into)] host: Signal<String>,
    #[prop(into)] program: Signal<String>,
) -> impl IntoView {
    let live = use_live();
    let results = RwSignal::new(Vec::<UptestResult>::new());
    let loaded = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    // Bumped by each fetch: only the newest one's answer is kept.
    let generation = StoredValue::new(0u64);
    let target = Memo::new(move |_| (host.get(), program.get()));

    let load = move || {
        generation.update_value(|g| *g += 1);
        let asked = generation.get_value();
        let Some((host, program)) = target.try_get_untracked() else {
            return;
        };
        if host.is_empty() || program.is_empty() {
            return;
        }
        spawn_local(async move {
            let result = api::deploy::uptests(&host, &program).await;
            if generation.try_get_value() != Some(asked) {
                return;
            }
            match result {
                Ok(list) => {
                    let _ = results.try_set(list);
                    let _ = loaded.try_set(true);
                    let _ = error.try_set(None);
                }
                Err(e) => {
                    let _ = error.try_set(Some(e.message));
                }
            }
        });
    };

    Effect::watch(
        move || target.get(),
        move |_, _, _| {
            results.set(Vec::new());
            loaded.set(false);
            error.set(None);
            load();
        },
        true,
    );
    live.subscribe(move |message| {
        if let LiveMessage::Deploy { deploy } = message
            && target
                .try_with_untracked(|(h, p)| *h == deploy.host && *p == deploy.program)
                .unwrap_or(false)
        {
            load();
        }
    });
    Effect::watch(move || live.opens(), move |_, _, _| load(), false);

    view! {
        <div class="uptests" data-test="uptests">
            {move || error.get().map(|e| view! { <p class="field-error">{e}</p> })}
            {move || {
                let list = results.get();
                if list.is_empty() {
                    let text = if loaded.get() {
                        "No uptest results."
                    } else if error.with(Option::is_none) {
                        "Loading…"
                    } else {
                        return ().into_any();
                    };
                    return view! { <p class="muted" data-test="uptests-empty">{text}</p> }
                        .into_any();
                }
                view! {
                    <ul class="step-list uptest-list">
                        {list
                            .into_iter()
                            .map(|result| view! { <UptestRow result=result /> })
                            .collect_view()}
                    </ul>
                }
                    .into_any()
            }}
        </div>
    }
}

/// One uptest: passed or FAILED, its name, how long it ran and when; a failed one's output.
#[component]
fn UptestRow(result: UptestResult) -> impl IntoView {
    let clock = use_clock();
    let (class, label) = if result.passed {
        ("badge badge-good", "passed")
    } else {
        ("badge badge-bad", "FAILED")
    };
    let at = result.at;
    let output = (!result.passed).then(|| {
        let text = if result.output.is_empty() {
            "(no output)".to_string()
        } else {
            result.output.clone()
        };
        view! { <pre class="value-block step-message uptest-output">{text}</pre> }
    });
    view! {
        <li
            data-test="uptest-result"
            data-name=result.name.clone()
            data-passed=result.passed.to_string()
        >
            <div class="step-head">
                <span class=class>{label}</span>
                <span class="step-name mono">{result.name.clone()}</span>
                <span class="muted step-time">{run_time(result.ms)}</span>
                <span class="muted nowrap" title=format_utc(at)>
                    {move || format_age(clock.now(), at)}
                </span>
            </div>
            {output}
        </li>
    }
}
