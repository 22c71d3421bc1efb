//! Your API tokens (for the CLI and scripts): list and revoke here; create (the secret is
//! shown once) in [`create`].

mod create;

use crate::busy::spawn_local;
use leptos::prelude::*;
use vr_app::api::ApiToken;

use crate::api;
use crate::busy::spawn_busy;
use crate::components::{Column, ConfirmDialog, DataTable, SortKey, int_key, use_toasts};
use crate::format;

#[component]
pub fn TokensSection() -> impl IntoView {
    let toasts = use_toasts();
    let tokens = RwSignal::new(Vec::<ApiToken>::new());
    let load_error = RwSignal::new(None::<String>);
    let reload = move || {
        spawn_local(async move {
            match api::tokens().await {
                Ok(list) => {
                    let _ = tokens.try_set(list);
                    let _ = load_error.try_set(None);
                }
                Err(e) => {
                    let _ = load_error.try_set(Some(e.into_message()));
                }
            }
        });
    };
    reload();

    // Revoking.
    let revoking = RwSignal::new(None::<ApiToken>);
    let revoke_busy = RwSignal::new(false);
    let confirm_revoke = move |()| {
        let Some(token) = revoking.get_untracked() else {
            return;
        };
        spawn_busy(revoke_busy, async move {
            match api::revoke_token(token.id).await {
                Ok(()) => {
                    toasts.success(format!("Token “{}” revoked.", token.name));
                    reload();
                }
                Err(e) => toasts.error(format!("Could not revoke “{}”: {e}", token.name)),
            }
            let _ = revoking.try_set(None);
        });
    };

    let columns = vec![
        Column::new("Name", |t: &ApiToken| t.name.clone()),
        Column::new("Prefix", |t: &ApiToken| t.prefix.clone()).class("mono"),
        Column::new("Created", |t: &ApiToken| format::datetime(t.created_at))
            .sort_by(|t: &ApiToken| SortKey::Int(t.created_at))
            .class("nowrap"),
        Column::new("Last used", |t: &ApiToken| {
            format::datetime_or_never(t.last_used_at)
        })
        .sort_by(|t: &ApiToken| int_key(t.last_used_at))
        .class("nowrap"),
        Column::new("Expires", |t: &ApiToken| {
            t.expires_at
                .map_or_else(|| "never".to_string(), format::datetime)
        })
        .sort_by(|t: &ApiToken| int_key(t.expires_at))
        .class("nowrap"),
        Column::new("", |_: &ApiToken| String::new())
            .unsorted()
            .class("actions")
            .cell(move |t: &ApiToken| {
                let token = t.clone();
                view! {
                    <button
                        type="button"
                        class="btn btn-small btn-danger-outline"
                        data-test="revoke-token"
                        on:click=crate::ev::click(move |_| revoking.set(Some(token.clone())))
                    >
                        "Revoke"
                    </button>
                }
            }),
    ];

    view! {
        <div class="card" id="tokens-section">
            <h2>"API tokens"</h2>
            <p class="muted">
                "Tokens let the vr CLI and scripts act as you. They have your role; revoke the ones you no longer use."
            </p>
            <create::CreateToken on_created=Callback::new(move |()| reload()) />

            {move || load_error.get().map(|e| view! { <div class="form-error">{e}</div> })}
            <DataTable
                rows=tokens
                columns=columns
                empty="You have no API tokens."
                filterable=false
                test_id="tokens-table"
            />

            <ConfirmDialog
                open=Signal::derive(move || revoking.with(Option::is_some))
                title="Revoke token?"
                message=Signal::derive(move || {
                    revoking
                        .with(|t| {
                            t.as_ref()
                                .map(|t| {
                                    format!(
                                        "“{}” ({}…) stops working at once. Scripts using it will fail.",
                                        t.name,
                                        t.prefix,
                                    )
                                })
                        })
                        .unwrap_or_default()
                })
                confirm_label="Revoke"
                danger=true
                busy=revoke_busy
                on_confirm=confirm_revoke
                on_cancel=move |()| revoking.set(None)
            />
        </div>
    }
}
