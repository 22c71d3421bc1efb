//! `/deploys/:id`: one deploy: what went where, how it ended, and its steps. The deploy is
//! replaced by each live `Deploy` message about it, so a running one fills in as it goes.

use crate::components::CollectVec;
use leptos::prelude::*;
use vr_app::api::LiveMessage;
use vr_app::deploy::{DeployStatus, Deployment};
use vr_app::live::{Merge, replace_record};
use vr_app::time::{format_age, format_utc};

use crate::api;
use crate::clock::use_clock;
use crate::components::{MissingNotice, NumberedPage, StepLine, StepList, numbered_missing_text};
use crate::deploys::{DeployStatusBadge, UptestResults, duration, port_text};
use crate::links::{app_href, host_href, release_href};
use crate::live::LiveData;

#[component]
pub fn DeployPage() -> impl IntoView {
    view! {
        <NumberedPage
            kind="Deploy"
            back=("/deploys", "Deploys")
            test="deploy"
            view=|id| view! { <DeployView id=id /> }.into_any()
        />
    }
}

#[component]
fn DeployView(id: i64) -> impl IntoView {
    // Replaced by each live `Deploy` message about it.
    let deploy = LiveData::follow(
        None,
        move || async move { api::deploy::deploy(id).await.map(Some) },
        move |slot: &mut Option<Deployment>, message: &LiveMessage| match message {
            LiveMessage::Deploy { deploy } => replace_record(slot, deploy, |d| d.id, id),
            _ => Merge::Ignored,
        },
    );

    let status = Memo::new(move |_| deploy.with(|d| d.as_ref().map(|d| d.status)));
    let steps = Signal::derive(move || {
        deploy.with(|d| {
            d.iter()
                .flat_map(|d| &d.steps)
                .map(StepLine::from)
                .collect_vec()
        })
    });
    let running = Signal::derive(move || status.get() == Some(DeployStatus::Running));
    let host = Memo::new(move |_| deploy.with(|d| d.as_ref().map(|d| d.host.clone())));
    let program = Memo::new(move |_| deploy.with(|d| d.as_ref().map(|d| d.program.clone())));
    // Only the deploy's arrival rebuilds the body, not each live update of it.
    let present = Memo::new(move |_| deploy.with(Option::is_some));
    let body = move || {
        if !present.get() {
            let text = numbered_missing_text("deploy", id, deploy.error());
            return view! { <MissingNotice test="deploy-missing" text=text /> }.into_any();
        }
        view! {
            <DeployFacts current=deploy.signal() />
            <div class="card">
                <h2>"Steps"</h2>
                <StepList steps=steps running=running test="deploy-steps" />
            </div>
            <div class="card" data-test="deploy-uptests">
                <h2>"Uptests"</h2>
                <UptestResults
                    host=Signal::derive(move || host.get().unwrap_or_default())
                    program=Signal::derive(move || program.get().unwrap_or_default())
                />
            </div>
        }
        .into_any()
    };

    view! {
        <div class="title-row">
            <h1 id="deploy-title">{format!("Deploy #{id}")}</h1>
            {move || {
                status
                    .get()
                    .map(|s| {
                        view! {
                            <span id="deploy-status" data-status=s.as_str()>
                                <DeployStatusBadge status=s />
                            </span>
                        }
                    })
            }}
        </div>
        {body}
    }
}

/// What went where, when, and how it ended.
#[component]
fn DeployFacts(current: Signal<Option<Deployment>>) -> impl IntoView {
    let clock = use_clock();
    let when = move |at: Option<i64>| match at {
        Some(t) => format!("{} ({})", format_utc(t), format_age(clock.now(), t)),
        None => "—".to_string(),
    };
    move || {
        current.get().map(|d| {
            let (created, finished) = (d.created_at, d.finished_at);
            let error = (d.status == DeployStatus::Failed).then(|| {
                view! {
                    <div class="form-error" role="alert" id="deploy-error">
                        {d.error.clone().unwrap_or_else(|| "The deploy failed without a reason.".to_string())}
                    </div>
                }
            });
            let took = {
                let d = d.clone();
                move || duration(&d, clock.now())
            };
            view! {
                {error}
                <div class="card" data-test="deploy-facts">
                    <h2>"Details"</h2>
                    <dl class="facts">
                        <dt>"Program"</dt>
                        <dd>
                            <a
                                class="mono"
                                id="deploy-program"
                                href=host_href(&d.host)
                                title="The host's procs"
                            >
                                {d.program.clone()}
                            </a>
                        </dd>
                        <dt>"App"</dt>
                        <dd>
                            <a href=app_href(&d.app)>{d.app.clone()}</a>
                        </dd>
                        <dt>"Release"</dt>
                        <dd>
                            <a href=release_href(d.release_id) id="deploy-release-link">
                                {format!("#{}", d.release_id)}
                            </a>
                        </dd>
                        <dt>"Proc type"</dt>
                        <dd class="mono" data-test="deploy-proc">{d.proc_type.clone()}</dd>
                        <dt>"Config"</dt>
                        <dd class="mono" data-test="deploy-config">{d.config.clone()}</dd>
                        <dt>"Host"</dt>
                        <dd data-test="deploy-host">
                            <a href=host_href(&d.host)>{d.host.clone()}</a>
                        </dd>
                        <dt>"Port"</dt>
                        <dd data-test="deploy-port">{port_text(d.port)}</dd>
                        <dt>"Requested by"</dt>
                        <dd>{d.requested_by.clone()}</dd>
                        <dt>"Started"</dt>
                        <dd>{move || when(Some(created))}</dd>
                        <dt>"Finished"</dt>
                        <dd>{move || when(finished)}</dd>
                        <dt>"Took"</dt>
                        <dd>{took}</dd>
                    </dl>
                </div>
            }
        })
    }
}
