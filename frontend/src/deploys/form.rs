//! `/deploy` (`?release=ID` preselects one): deploy one proc of a release, as a config, on a
//! host and port. The server answers at once with the running deploy, whose page then shows
//! its steps as they go.

use crate::router::{use_navigate, use_query_map};
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use vr_app::deploy::DeployRequest;
use vr_app::validate::Invalid;

use super::chosen::Chosen;
use super::selects::{HostSelect, ProcSelect, ReleaseSelect};
use crate::api;
use crate::busy::spawn_submit;
use crate::components::{FieldSpec, FormError, FormErrors};

use crate::links::deploy_href;
use crate::releases::ReleaseFeed;
use crate::session::use_session;

/// What the form holds, as typed.
#[derive(Debug, Clone, Copy)]
struct Draft {
    release: RwSignal<String>,
    proc_type: RwSignal<String>,
    config: RwSignal<String>,
    host: RwSignal<String>,
    port: RwSignal<String>,
}

impl Draft {
    /// The request, or what is wrong with each field.
    fn request(&self) -> Result<DeployRequest, Vec<Invalid>> {
        let mut wrong = Vec::new();
        let release_id = self
            .release
            .with_untracked(|s| s.trim().parse::<i64>().ok());
        if release_id.is_none() {
            wrong.push(Invalid::new("release_id", "choose a release"));
        }
        let proc_type = self.proc_type.get_untracked();
        if proc_type.is_empty() {
            wrong.push(Invalid::new("proc_type", "choose a proc type"));
        }
        let config = self.config.get_untracked().trim().to_string();
        if config.is_empty() {
            wrong.push(Invalid::new("config", "enter a config name, e.g. prod"));
        }
        let host = self.host.get_untracked();
        if host.is_empty() {
            wrong.push(Invalid::new("host", "choose a host"));
        }
        let port = match self
            .port
            .with_untracked(|s| vr_app::validate::whole_number("port", s, 0, 65535))
        {
            Ok(p) => u16::try_from(p).ok(),
            Err(e) => {
                wrong.push(e);
                None
            }
        };
        match (release_id, port) {
            (Some(release_id), Some(port)) if wrong.is_empty() => Ok(DeployRequest {
                release_id,
                proc_type,
                config,
                host,
                port,
            }),
            _ => Err(wrong),
        }
    }
}

/// The `?release=` of the address, if it is a number (a leading `#` is allowed).
fn release_from_query() -> Memo<Option<i64>> {
    let query = use_query_map();
    Memo::new(move |_| {
        query.with(|q| {
            q.get("release")
                .and_then(|s| s.trim().trim_start_matches('#').parse::<i64>().ok())
        })
    })
}

#[component]
pub fn NewDeployPage() -> impl IntoView {
    crate::route::title(|| "Deploy".to_string());
    view! {
        <section class="page" data-test="deploy-new">
            <div class="title-row">
                <h1>"Deploy"</h1>
                <a href="/deploys" id="deploy-recent">"Recent deploys →"</a>
            </div>
            <p class="muted">
                "Starts one proc of a release on a host: the artifact is unpacked, the config "
                "written, and Supervisor starts the program. Its page follows the steps."
            </p>
            <ViewerNotice />
            <DeployForm />
        </section>
    }
}

#[component]
fn DeployForm() -> impl IntoView {
    let session = use_session();
    let navigate = use_navigate();
    let feed = ReleaseFeed::follow(Signal::stored(None));
    let draft = Draft {
        release: RwSignal::new(String::new()),
        proc_type: RwSignal::new(String::new()),
        config: RwSignal::new(String::new()),
        host: RwSignal::new(String::new()),
        port: RwSignal::new(String::new()),
    };
    // The address picks the release: at first, and when it changes while the page is open.
    let from_query = release_from_query();
    crate::effects::effect(move || {
        if let Some(id) = from_query.get() {
            draft.release.set(id.to_string());
        }
    });
    let chosen = Chosen::follow(draft.release);
    let errors = FormErrors::new();
    let busy = RwSignal::new(false);

    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if !untrack(|| session.can_deploy()) {
            return;
        }
        errors.clear();
        let request = match draft.request() {
            Ok(request) => request,
            Err(wrong) => {
                for w in &wrong {
                    errors.set_invalid(w);
                }
                return;
            }
        };
        let navigate = navigate.clone();
        spawn_submit(
            busy,
            errors,
            api::deploy::start_deploy(&request),
            move |deploy| navigate(&deploy_href(deploy.id), Default::default()),
        );
    };

    let action = move || {
        if session.can_deploy() {
            view! {
                <div class="button-row">
                    <button
                        type="submit"
                        class="btn btn-primary"
                        id="deploy-submit"
                        disabled=move || busy.get()
                    >
                        {crate::components::flag_text(busy, "Starting…", "Deploy")}
                    </button>
                </div>
            }
            .into_any()
        } else {
            view! {
                <p class="muted" data-test="deploy-readonly">
                    "Only deployers and admins can deploy."
                </p>
            }
            .into_any()
        }
    };

    view! {
        {move || feed.error().map(|e| view! { <div class="form-error" role="alert">{e}</div> })}
        <div class="card" id="deploy-form-section">
            <form class="form" on:submit=crate::ev::submit(submit) novalidate=true>
                <FormError errors=errors />
                <div class="form-row">
                    <ReleaseSelect value=draft.release feed=feed chosen=chosen errors=errors />
                    <ProcSelect value=draft.proc_type chosen=chosen errors=errors />
                </div>
                <div class="form-row">
                    {FieldSpec::new("Config", "deploy-config", "config", draft.config, errors).autocomplete("off").placeholder("prod").hint("A name for this configuration of the app, e.g. prod or staging.").view()}
                    <HostSelect value=draft.host errors=errors />
                    {FieldSpec::new("Port", "deploy-port", "port", draft.port, errors).autocomplete("off").numeric().placeholder("5001").hint("0 = binds no port (a worker).").view()}
                </div>
                {action}
            </form>
        </div>
    }
}

/// Tells a viewer, before they fill anything in, that deploying needs the deployer role.
#[component]
fn ViewerNotice() -> impl IntoView {
    let session = use_session();
    move || {
        (session.signed_in() && !session.can_deploy()).then(|| {
            view! {
                <div class="card notice" data-test="deploy-forbidden" role="note">
                    "You are signed in as a viewer: you can look at this form, but deploying "
                    "needs the deployer or admin role."
                </div>
            }
        })
    }
}
