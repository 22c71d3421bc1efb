//! Form inputs that show the API's per-field errors under the field at fault.
//!
//! A form owns one [`FormErrors`]. Each [`Field`] registers the request field name it edits
//! (the JSON name, e.g. `username`), so [`FormErrors::set_api`] can put a server error under the
//! matching input, or in the form-wide [`FormError`] banner when no input matches.

use leptos::prelude::*;
use vr_app::validate::{self, Invalid};

use crate::api::ApiError;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct ErrorSet {
    general: Option<String>,
    fields: Vec<(String, String)>,
}

/// The errors of one form; cheap to copy.
#[derive(Debug, Clone, Copy)]
pub struct FormErrors {
    set: RwSignal<ErrorSet>,
    known: StoredValue<Vec<&'static str>>,
}

impl Default for FormErrors {
    fn default() -> Self {
        Self::new()
    }
}

impl FormErrors {
    pub fn new() -> Self {
        FormErrors {
            set: RwSignal::new(ErrorSet::default()),
            known: StoredValue::new(Vec::new()),
        }
    }

    /// Declares that the form has an input for request field `name`.
    pub fn register(&self, name: &'static str) {
        self.known.update_value(|k| {
            if !k.contains(&name) {
                k.push(name);
            }
        });
    }

    pub fn clear(&self) {
        self.set.set(ErrorSet::default());
    }

    /// Shows `message` under the input for `field` (or in the banner if the form has none).
    pub fn set_field(&self, field: &str, message: impl Into<String>) {
        let message = message.into();
        if self.known.with_value(|k| k.contains(&field)) {
            self.set.update(|s| {
                s.fields.retain(|(f, _)| f != field);
                s.fields.push((field.to_string(), message));
            });
        } else {
            self.set_general(message);
        }
    }

    /// Shows `message` in the form-wide banner.
    pub fn set_general(&self, message: impl Into<String>) {
        let message = message.into();
        self.set.update(|s| s.general = Some(message));
    }

    /// Places an API error: under its field when the server named one, else in the banner.
    pub fn set_api(&self, error: &ApiError) {
        match &error.field {
            Some(field) => self.set_field(field, error.message.clone()),
            None => self.set_general(error.message.clone()),
        }
    }

    /// Places a client-side validation failure from `vr_app::validate`.
    pub fn set_invalid(&self, invalid: &Invalid) {
        self.set_field(invalid.field, invalid.message.clone());
    }

    /// Shows every failed check under its field; true when any failed.
    pub fn show_invalid(&self, checks: &[Result<(), Invalid>]) -> bool {
        let mut invalid = false;
        for failure in checks.iter().filter_map(|c| c.as_ref().err()) {
            self.set_invalid(failure);
            invalid = true;
        }
        invalid
    }

    /// The error under field `name`, if any (tracked).
    pub fn field(&self, name: &str) -> Option<String> {
        self.set.with(|s| {
            s.fields
                .iter()
                .find(|(f, _)| f == name)
                .map(|(_, m)| m.clone())
        })
    }

    /// The first field with an error, if any (tracked): a form in tabs shows its tab.
    pub fn first_field(&self) -> Option<String> {
        self.set.with(|s| s.fields.first().map(|(f, _)| f.clone()))
    }

    /// The form-wide error, if any (tracked).
    pub fn general(&self) -> Option<String> {
        self.set.with(|s| s.general.clone())
    }

    /// True when any error is shown (untracked; for submit handlers).
    pub fn any(&self) -> bool {
        self.set
            .with_untracked(|s| s.general.is_some() || !s.fields.is_empty())
    }
}

/// The hint under a new-password input, from the shared validation rules.
pub fn password_hint() -> String {
    format!("At least {} characters.", validate::PASSWORD_MIN)
}

/// A labelled input bound to `value`, with its error (from `errors`, keyed by `name`) below it.
///
/// A plain builder rather than a `#[component]`: forms have ~50 inputs, and a component's typed
/// props builder is compiled once per call site while this is compiled once.
pub struct FieldSpec {
    /// Visible label.
    label: &'static str,
    /// DOM id of the input (stable, used by browser tests).
    id: &'static str,
    /// Request field name this input edits, as the API names it.
    name: &'static str,
    value: RwSignal<String>,
    errors: FormErrors,
    kind: &'static str,
    autocomplete: Option<&'static str>,
    inputmode: Option<&'static str>,
    placeholder: Option<String>,
    hint: Option<String>,
    autofocus: bool,
    required: bool,
    disabled: Signal<bool>,
}

// The builder's steps are not inlined: each moves the whole spec, and inlined that is a copy of
// it at every step of every form's chain (3 KB gzipped over the UI's ~100 fields).
impl FieldSpec {
    #[inline(never)]
    pub fn new(
        label: &'static str,
        id: &'static str,
        name: &'static str,
        value: RwSignal<String>,
        errors: FormErrors,
    ) -> Self {
        FieldSpec {
            label,
            id,
            name,
            value,
            errors,
            kind: "text",
            autocomplete: None,
            inputmode: None,
            placeholder: None,
            hint: None,
            autofocus: false,
            required: false,
            disabled: Signal::default(),
        }
    }

    /// Input type: `text` (the default), `password`, ...
    #[inline(never)]
    pub fn kind(mut self, kind: &'static str) -> Self {
        self.kind = kind;
        self
    }

    #[inline(never)]
    pub fn autocomplete(mut self, value: &'static str) -> Self {
        self.autocomplete = Some(value);
        self
    }

    /// For whole numbers: a digits keyboard, while the text stays exactly as typed (a
    /// `type="number"` input would let the browser reread `5e3` or drop a sign).
    #[inline(never)]
    pub fn numeric(mut self) -> Self {
        self.inputmode = Some("numeric");
        self
    }

    #[inline(never)]
    pub fn placeholder(mut self, text: impl Into<String>) -> Self {
        self.placeholder = Some(text.into());
        self
    }

    /// Help text shown under the input while it has no error.
    #[inline(never)]
    pub fn hint(mut self, text: impl Into<String>) -> Self {
        self.hint = Some(text.into());
        self
    }

    #[inline(never)]
    pub fn autofocus(mut self) -> Self {
        self.autofocus = true;
        self
    }

    #[inline(never)]
    pub fn required(mut self) -> Self {
        self.required = true;
        self
    }

    #[inline(never)]
    pub fn disabled(mut self, disabled: impl Into<Signal<bool>>) -> Self {
        self.disabled = disabled.into();
        self
    }

    pub fn view(self) -> AnyView {
        let FieldSpec {
            label,
            id,
            name,
            value,
            errors,
            kind,
            autocomplete,
            inputmode,
            placeholder,
            hint,
            autofocus,
            required,
            disabled,
        } = self;
        errors.register(name);
        let error_id = format!("{id}-error");
        let error_id2 = error_id.clone();
        let has_error = move || errors.field(name).is_some();
        view! {
            <div class="field" class:field-invalid=has_error>
                <label for=id>{label}</label>
                <input
                    id=id
                    name=name
                    type=kind
                    autocomplete=autocomplete
                    inputmode=inputmode
                    placeholder=placeholder
                    autofocus=autofocus
                    required=required
                    disabled=move || disabled.get()
                    aria-invalid=move || if has_error() { "true" } else { "false" }
                    aria-describedby=move || has_error().then(|| error_id.clone())
                    prop:value=move || value.get()
                    on:input=crate::ev::input(move |ev| {
                        value.set(event_target_value(&ev));
                    })
                />
                {move || match errors.field(name) {
                    Some(message) => {
                        view! {
                            <p class="field-error" id=error_id2.clone() data-field=name>
                                {message}
                            </p>
                        }
                            .into_any()
                    }
                    None => hint.clone().map(|h| view! { <p class="field-hint">{h}</p> }).into_any(),
                }}
            </div>
        }
        .into_any()
    }
}

/// The form-wide error banner of `errors`, shown only when there is one.
#[component]
pub fn FormError(errors: FormErrors) -> impl IntoView {
    move || {
        errors.general().map(|message| {
            view! {
                <div class="form-error" role="alert" data-test="form-error">
                    {message}
                </div>
            }
        })
    }
}

/// A labelled checkbox bound to `value`.
#[component]
pub fn Check(
    label: &'static str,
    id: &'static str,
    value: RwSignal<bool>,
    hint: &'static str,
    #[prop(into)] disabled: Signal<bool>,
) -> impl IntoView {
    view! {
        <div class="field">
            <label class="check" for=id>
                <input
                    type="checkbox"
                    id=id
                    disabled=move || disabled.get()
                    prop:checked=move || value.get()
                    on:change=crate::ev::change(move |ev| value.set(event_target_checked(&ev)))
                />
                {label}
            </label>
            <p class="field-hint">{hint}</p>
        </div>
    }
}
