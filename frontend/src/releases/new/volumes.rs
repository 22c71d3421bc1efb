//! The volumes of a new release: rows of host dir → mount dir, added and removed freely.

use leptos::prelude::*;

use super::draft::Draft;
use crate::components::FormErrors;

#[component]
pub fn VolumesEditor(draft: Draft, errors: FormErrors) -> impl IntoView {
    errors.register("volumes");
    view! {
        <div
            class="field grow"
            class:field-invalid=move || errors.field("volumes").is_some()
            data-test="release-volumes-field"
        >
            <label for="release-volume-add">"Volumes"</label>
            <For each=move || draft.volumes.get() key=|row| row.key let:row>
                <div class="volume-row" data-test="volume-row">
                    <input
                        type="text"
                        data-test="volume-host"
                        aria-label="Host directory"
                        placeholder="/srv/shop/uploads (on the host)"
                        autocomplete="off"
                        prop:value=move || row.host_dir.get()
                        on:input=crate::ev::input(move |ev| row.host_dir.set(event_target_value(&ev)))
                    />
                    <span class="muted">"→"</span>
                    <input
                        type="text"
                        data-test="volume-mount"
                        aria-label="Mount directory"
                        placeholder="/app/uploads (seen by the proc)"
                        autocomplete="off"
                        prop:value=move || row.mount_dir.get()
                        on:input=crate::ev::input(move |ev| row.mount_dir.set(event_target_value(&ev)))
                    />
                    <button
                        type="button"
                        class="btn btn-small btn-danger-outline"
                        data-test="volume-remove"
                        on:click=crate::ev::click(move |_| draft.remove_volume(row.key))
                    >
                        "Remove"
                    </button>
                </div>
            </For>
            <div>
                <button
                    type="button"
                    class="btn btn-small"
                    id="release-volume-add"
                    on:click=crate::ev::click(move |_| draft.add_volume())
                >
                    "Add a volume"
                </button>
            </div>
            {move || {
                errors
                    .field("volumes")
                    .map(|m| view! { <p class="field-error" data-field="volumes">{m}</p> })
            }}
        </div>
    }
}
