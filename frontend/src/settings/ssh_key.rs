//! The server's SSH public key, to install on every host vr manages.

use crate::busy::spawn_local;
use leptos::prelude::*;

use crate::api;
use crate::components::CopyButton;

#[component]
pub fn SshKeySection() -> impl IntoView {
    // A plain task, not a `LocalResource`: the only async-derived signal in the UI would bring
    // that whole machinery into the bundle for one fetch.
    let key = RwSignal::new(None);
    spawn_local(async move {
        let _ = key.try_set(Some(api::ssh_key().await));
    });
    let public_key = Signal::derive(move || {
        key.get()
            .and_then(Result::ok)
            .map(|k| k.public_key)
            .unwrap_or_default()
    });
    view! {
        <div class="card" id="ssh-key-section">
            <h2>"SSH key of this server"</h2>
            <p>
                "vr reaches hosts over SSH with this key. On each host, append it as one line to "
                <code>"~/.ssh/authorized_keys"</code>
                " of the user vr connects as."
            </p>
            {move || match key.get() {
                None => view! { <p class="muted">"Loading…"</p> }.into_any(),
                Some(Err(e)) => view! { <div class="form-error">{e.into_message()}</div> }.into_any(),
                Some(Ok(k)) => {
                    view! {
                        <textarea
                            id="ssh-public-key"
                            class="mono key-box"
                            readonly=true
                            rows="3"
                            aria-label="SSH public key"
                            on:focus=|ev| {
                                use wasm_bindgen::JsCast;
                                if let Some(area) = ev
                                    .target()
                                    .and_then(|t| t.dyn_into::<web_sys::HtmlTextAreaElement>().ok())
                                {
                                    area.select();
                                }
                            }
                        >
                            {k.public_key.clone()}
                        </textarea>
                        <div class="button-row">
                            <CopyButton text=public_key label="Copy key" id="copy-ssh-key" />
                            <span class="muted mono">{k.fingerprint}</span>
                        </div>
                    }
                        .into_any()
                }
            }}
        </div>
    }
}
