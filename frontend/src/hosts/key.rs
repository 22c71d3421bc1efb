//! The host key panel: the pinned fingerprint, and when the host presents another one, both
//! side by side with "Trust new key" for admins.

use crate::components::Show;
use leptos::prelude::*;
use vr_app::fleet::{Health, Host};
use vr_app::time::format_utc;

use crate::api;
use crate::busy::spawn_busy;
use crate::components::{ConfirmDialog, use_toasts};
use crate::fleet::use_fleet;
use crate::session::use_session;

#[component]
pub fn HostKey(#[prop(into)] host: Signal<Option<Host>>) -> impl IntoView {
    let session = use_session();
    let store = use_fleet();
    let toasts = use_toasts();
    let asking = RwSignal::new(false);
    let busy = RwSignal::new(false);

    let pinned = move || host.with(|h| h.as_ref().and_then(|h| h.host_key.clone()));
    let pinned_at = move || host.with(|h| h.as_ref().and_then(|h| h.host_key_pinned_at));
    let presented = move || {
        host.with(|h| {
            h.as_ref()
                .filter(|h| h.status.health == Health::KeyChanged)
                .and_then(|h| h.status.presented_key.clone())
        })
    };

    let trust = move |()| {
        let Some((name, fingerprint)) = host.with_untracked(|h| {
            h.as_ref().and_then(|h| {
                h.status
                    .presented_key
                    .clone()
                    .map(|k| (h.settings.name.clone(), k))
            })
        }) else {
            asking.set(false);
            return;
        };
        spawn_busy(busy, async move {
            match api::fleet::trust_host_key(&name, &fingerprint).await {
                Ok(updated) => {
                    store.put_host(updated);
                    toasts.success(format!("New host key of {name} trusted."));
                }
                Err(e) => toasts.error(format!("Could not trust the key: {e}")),
            }
            let _ = asking.try_set(false);
        });
    };

    view! {
        <div class="card" data-test="host-key">
            <h2>"Host key"</h2>
            <dl class="facts">
                <dt>"Pinned"</dt>
                <dd class="mono" id="host-key-pinned">
                    {move || pinned().unwrap_or_else(|| "not yet (pinned on first contact)".to_string())}
                </dd>
                <dt>"Pinned at"</dt>
                <dd>{move || pinned_at().map_or_else(|| "—".to_string(), format_utc)}</dd>
            </dl>
            {move || {
                presented()
                    .map(|new_key| {
                        view! {
                            <div class="form-error" role="alert" data-test="key-changed">
                                "The host presented a different key. Nothing is sent to it until an admin trusts the new key; check it on the host first ("
                                <code>"ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub"</code>
                                ")."
                            </div>
                            <dl class="key-compare">
                                <dt>"Pinned"</dt>
                                <dd>{pinned().unwrap_or_default()}</dd>
                                <dt>"Presented"</dt>
                                <dd id="host-key-presented">{new_key}</dd>
                            </dl>
                            <Show
                                when=move || session.is_admin()
                                fallback=|| {
                                    view! { <p class="muted">"Only an admin can trust the new key."</p> }
                                }
                            >
                                <button
                                    type="button"
                                    class="btn btn-danger-outline"
                                    id="host-trust"
                                    disabled=move || busy.get()
                                    on:click=crate::ev::click(move |_| asking.set(true))
                                >
                                    "Trust new key"
                                </button>
                            </Show>
                        }
                    })
            }}
            <ConfirmDialog
                open=asking
                title="Trust the new host key?"
                message=Signal::derive(move || {
                    format!(
                        "Only do this if you know why the key changed (reinstalled host, new address).\nPinned: {}\nNew: {}",
                        pinned().unwrap_or_default(),
                        presented().unwrap_or_default(),
                    )
                })
                confirm_label="Trust new key"
                danger=true
                busy=busy
                on_confirm=trust
                on_cancel=move |()| asking.set(false)
            />
        </div>
    }
}
