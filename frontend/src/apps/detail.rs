//! `/apps/:name`: one app — what runs where first (its procs on every host, live, and its
//! releases with where each runs and a Deploy action), then its builds, a form to build a
//! version, and its settings (edit, delete).

use crate::components::CollectVec;
use crate::router::use_navigate;
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use vr_app::build::{App, AppPatch};
use vr_app::time::format_utc;
use vr_app::validate;

use super::Catalog;
use super::build_form::StartBuild;
use super::fields::{BuildpackSelect, chosen};
use crate::api;
use crate::builds::{BuildFeed, BuildTable};
use crate::busy::{Deletion, spawn_delete, spawn_submit};
use crate::components::{
    ConfirmDialog, FieldSpec, FormError, FormErrors, MissingNotice, use_toasts,
};
use crate::fleet::{FleetProcs, use_fleet};
use crate::links::{app_builds_href, app_releases_href};
use crate::releases::{ReleaseFeed, ReleaseTable};
use crate::session::use_session;

#[component]
pub fn AppPage() -> impl IntoView {
    let session = use_session();
    let catalog = Catalog::follow();
    let name = crate::route::name_param();
    crate::route::title(move || format!("{} · App", name.get()));
    let app = Memo::new(move |_| catalog.app(&name.get()));
    // The forms are built once per app (not on every refetch), so typing is never undone.
    let app_id = Memo::new(move |_| app.with(|a| a.as_ref().map(|a| a.id)));
    let feed = BuildFeed::follow(Signal::derive(move || Some(name.get())));
    let releases = ReleaseFeed::follow(Signal::derive(move || Some(name.get())));
    let store = use_fleet();
    let app_procs = Memo::new(move |_| {
        let name = name.get();
        store.with(|f| {
            f.procs
                .iter()
                .filter(|p| p.meta.as_ref().is_some_and(|m| m.app == name))
                .cloned()
                .collect_vec()
        })
    });
    let deleting = RwSignal::new(false);
    let delete_error = RwSignal::new(None::<String>);

    let body = move || {
        if app_id.get().is_none() {
            let text = if catalog.loaded() {
                format!("There is no app named {}.", name.get())
            } else {
                "Loading…".to_string()
            };
            return view! { <MissingNotice test="app-missing" text=text /> }.into_any();
        }
        let Some(current) = app.get_untracked() else {
            return ().into_any();
        };
        let editable = session.can_deploy();
        let settings = if editable {
            view! { <AppEditForm app=current.clone() catalog=catalog deleting=deleting /> }
                .into_any()
        } else {
            view! { <AppFacts app=app /> }.into_any()
        };
        let all_builds = app_builds_href(&current.name);
        let all_releases = app_releases_href(&current.name);
        view! {
            <div class="card" data-test="app-procs">
                <h2>"Running now"</h2>
                <FleetProcs scope=app_procs empty="No procs of this app on any host." />
            </div>
            <div class="card" data-test="app-releases">
                <div class="card-head">
                    <h2>"Releases"</h2>
                    <a href=all_releases>"Open in Releases"</a>
                </div>
                <ReleaseTable
                    releases=releases.releases()
                    loaded=Signal::derive(move || releases.loaded())
                    empty="No releases of this app yet."
                />
                {move || releases.error().map(|e| view! { <p class="field-error">{e}</p> })}
            </div>
            <div class="card" data-test="app-builds">
                <div class="card-head">
                    <h2>"Builds"</h2>
                    <a href=all_builds>"Open in Builds"</a>
                </div>
                <BuildTable
                    builds=feed.builds()
                    loaded=Signal::derive(move || feed.loaded())
                    empty="No builds of this app yet."
                />
                {move || feed.error().map(|e| view! { <p class="field-error">{e}</p> })}
            </div>
            {editable.then(|| view! { <StartBuild app=current.name.clone() /> })}
            {settings}
        }
        .into_any()
    };

    view! {
        <section class="page" data-test="app" data-name=move || name.get()>
            <p>
                <a href="/apps">"← Apps"</a>
            </p>
            <h1 id="app-title">{move || name.get()}</h1>
            {move || catalog.error().map(|e| view! { <div class="form-error" role="alert">{e}</div> })}
            {move || {
                delete_error
                    .get()
                    .map(|e| view! { <div class="form-error" role="alert" data-test="app-error">{e}</div> })
            }}
            {body}
            <AppDeleteDialog name=name catalog=catalog asking=deleting error=delete_error />
        </section>
    }
}

/// The settings, read-only (for viewers).
#[component]
fn AppFacts(#[prop(into)] app: Signal<Option<App>>) -> impl IntoView {
    move || {
        app.get().map(|a| {
            view! {
                <div class="card" data-test="app-facts">
                    <h2>"Settings"</h2>
                    <dl class="facts">
                        <dt>"Repository"</dt>
                        <dd class="mono">{a.repo_url.clone()}</dd>
                        <dt>"Buildpack"</dt>
                        <dd class="mono">{a.buildpack.clone().unwrap_or_else(|| "detect".to_string())}</dd>
                        <dt>"Stack"</dt>
                        <dd>{a.stack.clone().unwrap_or_else(|| "the hosts' own OS".to_string())}</dd>
                        <dt>"Notes"</dt>
                        <dd>{a.notes.clone()}</dd>
                        <dt>"Created"</dt>
                        <dd>{format_utc(a.created_at)}</dd>
                    </dl>
                </div>
            }
        })
    }
}

/// Change the repository, the buildpack or the notes; delete the app.
#[component]
fn AppEditForm(app: App, catalog: Catalog, deleting: RwSignal<bool>) -> impl IntoView {
    let toasts = use_toasts();
    let repo = RwSignal::new(app.repo_url.clone());
    let buildpack = RwSignal::new(app.buildpack.clone().unwrap_or_default());
    let notes = RwSignal::new(app.notes.clone());
    let stack = RwSignal::new(app.stack.clone().unwrap_or_default());
    let original = StoredValue::new(app);
    let errors = FormErrors::new();
    let busy = RwSignal::new(false);

    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        errors.clear();
        let old = original.get_value();
        let new_repo = repo.get_untracked().trim().to_string();
        let new_buildpack = chosen(&buildpack.get_untracked());
        let new_notes = notes.get_untracked().trim().to_string();
        let new_stack = chosen(&stack.get_untracked());
        let checks = [
            validate::git_url("repo_url", &new_repo),
            validate::label_or_empty("notes", &new_notes),
        ];
        if errors.show_invalid(&checks) {
            return;
        }
        let patch = AppPatch {
            repo_url: (new_repo != old.repo_url).then_some(new_repo),
            buildpack: (new_buildpack != old.buildpack).then_some(new_buildpack),
            notes: (new_notes != old.notes).then_some(new_notes),
            stack: (new_stack != old.stack).then_some(new_stack),
        };
        if patch == AppPatch::default() {
            toasts.success("Nothing to save: no field changed.");
            return;
        }
        spawn_submit(
            busy,
            errors,
            api::build::update_app(&old.name, &patch),
            move |updated| {
                toasts.success(format!("App {} saved.", updated.name));
                original.set_value(updated.clone());
                catalog.put_app(updated);
            },
        );
    };
    let created = original.with_value(|a| format_utc(a.created_at));
    view! {
        <div class="card" data-test="app-edit">
            <h2>"Settings"</h2>
            <p class="muted">{format!("Created {created}.")}</p>
            <form class="form form-inline" on:submit=crate::ev::submit(submit) novalidate=true>
                <FormError errors=errors />
                {FieldSpec::new("Repository", "app-edit-repo", "repo_url", repo, errors).autocomplete("off").view()}
                <BuildpackSelect
                    id="app-edit-buildpack"
                    value=buildpack
                    errors=errors
                    catalog=catalog
                />
                {FieldSpec::new("Notes", "app-edit-notes", "notes", notes, errors).autocomplete("off").view()}
                {FieldSpec::new("Stack", "app-edit-stack", "stack", stack, errors).autocomplete("off").placeholder("(the hosts' own OS)").view()}
                <button
                    type="submit"
                    class="btn btn-primary"
                    id="app-save"
                    disabled=move || busy.get()
                >
                    "Save"
                </button>
                <button
                    type="button"
                    class="btn btn-danger-outline"
                    id="app-delete"
                    on:click=crate::ev::click(move |_| deleting.set(true))
                >
                    "Delete app"
                </button>
            </form>
        </div>
    }
}

/// Asks before deleting; the server refuses (409) while the app has builds, and says why.
#[component]
fn AppDeleteDialog(
    #[prop(into)] name: Signal<String>,
    catalog: Catalog,
    asking: RwSignal<bool>,
    error: RwSignal<Option<String>>,
) -> impl IntoView {
    let toasts = use_toasts();
    let navigate = use_navigate();
    let busy = RwSignal::new(false);
    let confirm = move |()| {
        let name = name.get_untracked();
        let navigate = navigate.clone();
        let deletion = Deletion {
            busy,
            toasts,
            kind: "App",
            name: name.clone(),
            error: Some(error),
        };
        let sent = name.clone();
        spawn_delete(
            deletion,
            api::build::delete_app(&sent),
            move || {
                catalog.remove_app(&name);
                navigate("/apps", Default::default());
            },
            move || {
                let _ = asking.try_set(false);
            },
        );
    };
    view! {
        <ConfirmDialog
            open=asking
            title=Signal::derive(move || format!("Delete app {}?", name.get()))
            message="The app's settings are removed. An app that has builds cannot be deleted."
            confirm_label="Delete"
            danger=true
            busy=busy
            on_confirm=confirm
            on_cancel=move |()| asking.set(false)
        />
    }
}
