//! The users table's columns: name, role (changed in place), status, times, and the actions
//! (disable or enable, reset the password, delete; never on one's own account).

use crate::components::CollectAny;
use leptos::prelude::*;
use vr_app::Role;
use vr_app::api::{User, UserPatch};

use crate::components::{Column, SortKey, StatusBadge, int_key};
use crate::format;

/// What the table's controls act on; cheap to copy.
#[derive(Clone, Copy)]
pub struct UserActions {
    /// The signed-in user's id.
    pub me: Signal<Option<i64>>,
    /// Sends a change of one user; the text is the toast on success.
    pub apply: Callback<(User, UserPatch, String)>,
    pub resetting: RwSignal<Option<User>>,
    pub deleting: RwSignal<Option<User>>,
}

pub fn user_columns(actions: UserActions) -> Vec<Column<User>> {
    let UserActions {
        me,
        apply,
        resetting,
        deleting,
    } = actions;
    let my_id = move || me.get();
    let apply = move |user: User, patch: UserPatch, done: String| apply.run((user, patch, done));
    vec![
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
                    .collect_any();
                view! {
                    <select
                        class="role-select"
                        aria-label=format!("Role of {}", u.username)
                        data-test="user-role"
                        on:change=crate::ev::change(move |ev| {
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
                        })
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
                            on:click=crate::ev::click(move |_| {
                                let user = toggle_user.clone();
                                let disabled = !user.disabled;
                                let done = format!(
                                    "{} {}.",
                                    user.username,
                                    if disabled { "disabled" } else { "enabled" },
                                );
                                apply(user, UserPatch { disabled: Some(disabled), ..Default::default() }, done);
                            })
                        >
                            {toggle_label}
                        </button>
                        <button
                            type="button"
                            class="btn btn-small"
                            data-test="user-reset"
                            on:click=crate::ev::click(move |_| resetting.set(Some(reset_user.clone())))
                        >
                            "Reset password"
                        </button>
                        <button
                            type="button"
                            class="btn btn-small btn-danger-outline"
                            data-test="user-delete"
                            disabled=is_me
                            title=self_note
                            on:click=crate::ev::click(move |_| deleting.set(Some(delete_user.clone())))
                        >
                            "Delete"
                        </button>
                    </div>
                }
            }),
    ]
}
