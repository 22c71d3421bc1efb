//! Users (admins only): list, create with a role, change role, disable or enable, reset a
//! password, delete. The list reloads when the live channel says users changed.

mod create;
mod reset;

use leptos::prelude::*;
use leptos::task::spawn_local;
use vr_app::Role;
use vr_app::api::{LiveMessage, User, UserPatch};

use crate::api;
use crate::busy::spawn_busy;
use crate::components::{
    Column, ConfirmDialog, DataTable, SortKey, StatusBadge, int_key, use_toasts,
};
use crate::format;
use crate::live::use_live;
use crate::session::use_session;

#[component]
pub fn UsersPage() -> impl IntoView {
    crate::route::title(|| "Users".to_string());
    let session = use_session();
    view! {
        <section class="page" data-test="users">
            <h1>"Users"</h1>
            <Show
                when=move || session.is_admin()
                fallback=|| {
                    view! {
                        <div class="card notice" data-test="forbidden">
                            <p>"Only admins can manage users."</p>
                        </div>
                    }
                }
            >
                <UsersAdmin />
            </Show>
        </section>
    }
}

#[component]
fn UsersAdmin() -> impl IntoView {
    let session = use_session();
    let toasts = use_toasts();
    let live = use_live();

    let users = RwSignal::new(Vec::<User>::new());
    let load_error = RwSignal::new(None::<String>);
    let reload = move || {
        spawn_local(async move {
            match api::users().await {
                Ok(list) => {
                    let _ = users.try_set(list);
                    let _ = load_error.try_set(None);
                }
                Err(e) => {
                    let _ = load_error.try_set(Some(e.message));
                }
            }
        });
    };
    reload();
    live.subscribe(move |message| {
        if matches!(message, LiveMessage::Users) {
            reload();
        }
    });
    Effect::watch(move || live.opens(), move |_, _, _| reload(), false);

    // Applies a change to one user and reports it.
    let apply = move |user: User, patch: UserPatch, done: String| {
        spawn_local(async move {
            match api::update_user(user.id, &patch).await {
                Ok(updated) => {
                    let _ = users.try_update(|list| {
                        if let Some(slot) = list.iter_mut().find(|u| u.id == updated.id) {
                            *slot = updated;
                        }
                    });
                    toasts.success(done);
                }
                Err(e) => {
                    toasts.error(format!("Could not change {}: {e}", user.username));
                    // Put the controls back to what the server has.
                    reload();
                }
            }
        });
    };

    let my_id = move || session.me().map(|me| me.user.id);
    let resetting = RwSignal::new(None::<User>);
    let deleting = RwSignal::new(None::<User>);
    let delete_busy = RwSignal::new(false);
    let confirm_delete = move |()| {
        let Some(user) = deleting.get_untracked() else {
            return;
        };
        spawn_busy(delete_busy, async move {
            match api::delete_user(user.id).await {
                Ok(()) => {
                    let _ = users.try_update(|list| list.retain(|u| u.id != user.id));
                    toasts.success(format!("User {} deleted.", user.username));
                }
                Err(e) => toasts.error(format!("Could not delete {}: {e}", user.username)),
            }
            let _ = deleting.try_set(None);
        });
    };

    let columns = vec![
        Column::new("Username", |u: &User| u.username.clone()).cell(move |u: &User| {
            let me = my_id() == Some(u.id);
            view! {
                <span class="username">{u.username.clone()}</span>
                {me.then(|| view! { <span class="muted">" (you)"</span> })}
            }
        }),
        Column::new("Role", |u: &User| u.role.as_str().to_string())
            .sort_by(|u: &User| SortKey::Int(Role::ALL.iter().position(|r| *r == u.role).unwrap_or(0) as i64))
            .cell(move |u: &User| {
                let user = u.clone();
                let current = u.role;
                let options = Role::ALL
                    .iter()
                    .map(|r| {
                        view! {
                            <option value=r.as_str() selected=*r == current>
                                {r.as_str()}
                            </option>
                        }
                    })
                    .collect_view();
                view! {
                    <select
                        class="role-select"
                        aria-label=format!("Role of {}", u.username)
                        data-test="user-role"
                        on:change=move |ev| {
                            if let Ok(role) = event_target_value(&ev).parse::<Role>()
                                && role != user.role
                            {
                                let done = format!("{} is now {role}.", user.username);
                                apply(
                                    user.clone(),
                                    UserPatch { role: Some(role), ..Default::default() },
                                    done,
                                );
                            }
                        }
                    >
                        {options}
                    </select>
                }
            }),
        Column::new("Status", |u: &User| {
            if u.disabled { "disabled" } else { "active" }.to_string()
        })
        .cell(|u: &User| {
            let state = if u.disabled { "disabled" } else { "active" };
            view! { <StatusBadge state=state.to_string() /> }
        }),
        Column::new("Created", |u: &User| format::datetime(u.created_at))
            .sort_by(|u: &User| SortKey::Int(u.created_at))
            .class("nowrap"),
        Column::new("Last sign-in", |u: &User| format::datetime_or_never(u.last_login_at))
            .sort_by(|u: &User| int_key(u.last_login_at))
            .class("nowrap"),
        Column::new("", |_: &User| String::new())
            .unsorted()
            .class("actions")
            .cell(move |u: &User| {
                let is_me = my_id() == Some(u.id);
                let toggle_user = u.clone();
                let reset_user = u.clone();
                let delete_user = u.clone();
                let toggle_label = if u.disabled { "Enable" } else { "Disable" };
                let self_note = is_me.then_some("You cannot do this to your own account.");
                view! {
                    <div class="button-row">
                        <button
                            type="button"
                            class="btn btn-small"
                            data-test="user-toggle"
                            disabled=is_me
                            title=self_note
                            on:click=move |_| {
                                let user = toggle_user.clone();
                                let disabled = !user.disabled;
                                let done = format!(
                                    "{} {}.",
                                    user.username,
                                    if disabled { "disabled" } else { "enabled" },
                                );
                                apply(user, UserPatch { disabled: Some(disabled), ..Default::default() }, done);
                            }
                        >
                            {toggle_label}
                        </button>
                        <button
                            type="button"
                            class="btn btn-small"
                            data-test="user-reset"
                            on:click=move |_| resetting.set(Some(reset_user.clone()))
                        >
                            "Reset password"
                        </button>
                        <button
                            type="button"
                            class="btn btn-small btn-danger-outline"
                            data-test="user-delete"
                            disabled=is_me
                            title=self_note
                            on:click=move |_| deleting.set(Some(delete_user.clone()))
                        >
                            "Delete"
                        </button>
                    </div>
                }
            }),
    ];

    view! {
        <div class="card">
            <h2>"All users"</h2>
            {move || load_error.get().map(|e| view! { <div class="form-error">{e}</div> })}
            <DataTable rows=users columns=columns empty="No users." test_id="users-table" />
        </div>
        <create::CreateUser on_created=Callback::new(move |user: User| {
            users.update(|list| {
                if !list.iter().any(|u| u.id == user.id) {
                    list.push(user);
                }
            });
        }) />
        <reset::ResetPassword user=resetting />
        <ConfirmDialog
            open=Signal::derive(move || deleting.with(Option::is_some))
            title="Delete user?"
            message=Signal::derive(move || {
                deleting
                    .with(|u| {
                        u.as_ref()
                            .map(|u| {
                                format!(
                                    "{} can no longer sign in, and their API tokens stop working. This cannot be undone.",
                                    u.username,
                                )
                            })
                    })
                    .unwrap_or_default()
            })
            confirm_label="Delete"
            danger=true
            busy=delete_busy
            on_confirm=confirm_delete
            on_cancel=move |()| deleting.set(None)
        />
    }
}
