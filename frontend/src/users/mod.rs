//! Users (admins only): list, create with a role, change role, disable or enable, reset a
//! password, delete. The list reloads when the live channel says users changed.

mod columns;
mod create;
mod reset;

use crate::busy::spawn_local;
use crate::components::Show;
use leptos::prelude::*;
use vr_app::api::{LiveMessage, User, UserPatch};
use vr_app::live::Merge;

use crate::api;
use crate::busy::{Deletion, spawn_delete};
use crate::components::{ConfirmDialog, DataTable, use_toasts};
use crate::live::LiveData;
use crate::session::use_session;
use columns::{UserActions, user_columns};

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

    let data = LiveData::follow(
        Vec::new(),
        api::users,
        |_: &mut Vec<User>, m: &LiveMessage| {
            if matches!(m, LiveMessage::Users) {
                Merge::Refetch
            } else {
                Merge::Ignored
            }
        },
    );
    let users = data.signal();
    let load_error = Signal::derive(move || data.error_text());
    let reload = move || data.reload();

    // Applies a change to one user and reports it.
    let apply = move |user: User, patch: UserPatch, done: String| {
        spawn_local(async move {
            match api::update_user(user.id, &patch).await {
                Ok(updated) => {
                    data.update(|list| {
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
        let deletion = Deletion {
            busy: delete_busy,
            toasts,
            kind: "User",
            name: user.username,
            error: None,
        };
        let id = user.id;
        spawn_delete(
            deletion,
            api::delete_user(id),
            move || data.update(|list| list.retain(|u| u.id != id)),
            move || {
                let _ = deleting.try_set(None);
            },
        );
    };

    let columns = user_columns(UserActions {
        me: Signal::derive(my_id),
        apply: Callback::new(move |(user, patch, done): (User, UserPatch, String)| {
            apply(user, patch, done)
        }),
        resetting,
        deleting,
    });

    view! {
        <div class="card">
            <h2>"All users"</h2>
            {move || load_error.get().map(|e| view! { <div class="form-error">{e}</div> })}
            <DataTable rows=users columns=columns empty="No users." test_id="users-table" />
        </div>
        <create::CreateUser on_created=Callback::new(move |user: User| {
            data.update(|list| {
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
