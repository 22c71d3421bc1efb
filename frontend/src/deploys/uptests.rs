//! `UptestResults` (`[data-test=uptests]`): the latest uptest run of one proc (a program on a
//! host), fetched when shown or pointed at another proc, and again when a live `Deploy`
//! message about that proc arrives (a deploy runs its uptests) or the live channel reopens.

use crate::components::CollectAny;
use leptos::prelude::*;
use vr_app::api::LiveMessage;
use vr_app::deploy::UptestResult;
use vr_app::live::Merge;
use vr_app::time::{format_age, format_utc};

use super::run_time;
use crate::api;
use crate::clock::use_clock;
use crate::live::LiveData;

/// The latest uptest results of `program` on `host`; nothing is asked while either is empty.
#[component]
pub fn UptestResults(
    #[prop(into)] host: Signal<String>,
    #[prop(into)] program: Signal<String>,
) -> impl IntoView {
    let target = Memo::new(move |_| (host.get(), program.get()));
    let results = LiveData::follow(
        Vec::<UptestResult>::new(),
        move || {
            let (host, program) = target.try_get_untracked().unwrap_or_default();
            async move {
                if host.is_empty() || program.is_empty() {
                    return Ok(Vec::new());
                }
                api::deploy::uptests(&host, &program).await
            }
        },
        // A deploy of this proc runs its uptests: fetch the new results.
        move |_, message| match message {
            LiveMessage::Deploy { deploy }
                if target
                    .try_with_untracked(|(h, p)| *h == deploy.host && *p == deploy.program)
                    .unwrap_or(false) =>
            {
                Merge::Refetch
            }
            _ => Merge::Ignored,
        },
    );
    crate::effects::on_change(
        move || target.get(),
        move || results.restart(Vec::new()),
        false,
    );

    view! {
        <div class="uptests" data-test="uptests">
            {move || results.error_text().map(|e| view! { <p class="field-error">{e}</p> })}
            {move || {
                let list = results.get();
                if list.is_empty() {
                    let text = if results.loaded() {
                        "No uptest results."
                    } else if results.error_text().is_none() {
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
                            .collect_any()}
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
