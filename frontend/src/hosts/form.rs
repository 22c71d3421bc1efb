//! The host settings form shared by "new host" and "edit host": its inputs, the client-side
//! checks (the rules of `vr_app::validate`), and turning the inputs into a `NewHost` or into a
//! `HostPatch` holding only what changed. An empty override means "use the default".

use crate::components::CollectAny;
use leptos::prelude::*;
use vr_app::fleet::{HostPatch, HostSettings, NewHost, defaults};
use vr_app::validate::{self, Invalid};

use crate::components::{Check, FieldSpec, FormErrors};
use crate::fleet::use_fleet;

/// Request fields edited in the "Advanced" section.
const ADVANCED: [&str; 7] = [
    "supervisorctl",
    "supervisor_socket",
    "include_dir",
    "apps_root",
    "port_min",
    "port_max",
    "notes",
];

/// The inputs of the form; cheap to copy.
#[derive(Debug, Clone, Copy)]
pub struct HostFields {
    address: RwSignal<String>,
    name: RwSignal<String>,
    port: RwSignal<String>,
    user: RwSignal<String>,
    /// Empty = in no squad.
    squad: RwSignal<String>,
    active: RwSignal<bool>,
    builder: RwSignal<bool>,
    supervisorctl: RwSignal<String>,
    supervisor_socket: RwSignal<String>,
    include_dir: RwSignal<String>,
    apps_root: RwSignal<String>,
    port_min: RwSignal<String>,
    port_max: RwSignal<String>,
    notes: RwSignal<String>,
    /// Whether the "Advanced" section is unfolded.
    advanced: RwSignal<bool>,
}

/// The inputs after the checks; `None` where left empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    address: String,
    name: Option<String>,
    port: Option<u16>,
    user: Option<String>,
    squad: Option<String>,
    active: bool,
    builder: bool,
    supervisorctl: Option<String>,
    supervisor_socket: Option<String>,
    include_dir: Option<String>,
    apps_root: Option<String>,
    port_min: Option<u16>,
    port_max: Option<u16>,
    notes: String,
}

fn text(s: RwSignal<String>) -> Option<String> {
    let v = s.get_untracked().trim().to_string();
    (!v.is_empty()).then_some(v)
}

fn port(field: &'static str, s: RwSignal<String>) -> Result<Option<u16>, Invalid> {
    match text(s) {
        None => Ok(None),
        Some(v) => {
            vr_app::validate::whole_number(field, &v, 1, 65535).map(|p| u16::try_from(p).ok())
        }
    }
}

/// `Some(new)` when `new` differs from `old`: one field of a patch.
fn changed<T: PartialEq>(old: &T, new: T) -> Option<T> {
    (*old != new).then_some(new)
}

impl Default for HostFields {
    fn default() -> Self {
        Self::new()
    }
}

impl HostFields {
    /// Empty inputs: everything at its default, active.
    pub fn new() -> Self {
        let empty = || RwSignal::new(String::new());
        HostFields {
            address: empty(),
            name: empty(),
            port: empty(),
            user: empty(),
            squad: empty(),
            active: RwSignal::new(true),
            builder: RwSignal::new(false),
            supervisorctl: empty(),
            supervisor_socket: empty(),
            include_dir: empty(),
            apps_root: empty(),
            port_min: empty(),
            port_max: empty(),
            notes: empty(),
            advanced: RwSignal::new(true),
        }
    }

    /// Puts a host's current settings in the inputs.
    pub fn fill(&self, s: &HostSettings) {
        let opt = |v: &Option<String>| v.clone().unwrap_or_default();
        let opt_port = |v: Option<u16>| v.map(|p| p.to_string()).unwrap_or_default();
        self.address.set(s.address.clone());
        self.name.set(s.name.clone());
        self.port.set(s.port.to_string());
        self.user.set(s.user.clone());
        self.squad.set(opt(&s.squad));
        self.active.set(s.active);
        self.builder.set(s.builder);
        self.supervisorctl.set(opt(&s.supervisorctl));
        self.supervisor_socket.set(opt(&s.supervisor_socket));
        self.include_dir.set(opt(&s.include_dir));
        self.apps_root.set(opt(&s.apps_root));
        self.port_min.set(opt_port(s.port_min));
        self.port_max.set(opt_port(s.port_max));
        self.notes.set(s.notes.clone());
    }

    /// Sets the squad input (e.g. from `?squad=` on the new-host page).
    pub fn set_squad(&self, squad: String) {
        self.squad.set(squad);
    }

    /// Runs the client-side checks, showing each failure under its input; `None` if any failed.
    /// `name_required` is true when editing (a new host's name defaults to its address).
    pub fn check(&self, errors: &FormErrors, name_required: bool) -> Option<Checked> {
        let fail = |invalid: Invalid| errors.set_invalid(&invalid);
        let address = text(self.address).unwrap_or_default();
        if let Err(e) = validate::address("address", &address) {
            fail(e);
        }
        let name = text(self.name);
        match &name {
            Some(n) => {
                if let Err(e) = validate::host_name("name", n) {
                    fail(e);
                }
            }
            None if name_required => fail(Invalid::new("name", "must not be empty")),
            None => {}
        }
        let port_value = port("port", self.port).unwrap_or_else(|e| {
            fail(e);
            None
        });
        let user = text(self.user);
        if let Some(u) = &user
            && let Err(e) = validate::unix_user("user", u)
        {
            fail(e);
        }
        let supervisorctl = text(self.supervisorctl);
        if let Some(c) = &supervisorctl
            && let Err(e) = validate::command_words("supervisorctl", c)
        {
            fail(e);
        }
        let supervisor_socket = text(self.supervisor_socket);
        let include_dir = text(self.include_dir);
        let apps_root = text(self.apps_root);
        for (field, value) in [
            ("supervisor_socket", &supervisor_socket),
            ("include_dir", &include_dir),
            ("apps_root", &apps_root),
        ] {
            if let Some(p) = value
                && let Err(e) = validate::remote_path(field, p)
            {
                fail(e);
            }
        }
        let port_min = port("port_min", self.port_min).unwrap_or_else(|e| {
            fail(e);
            None
        });
        let port_max = port("port_max", self.port_max).unwrap_or_else(|e| {
            fail(e);
            None
        });
        if let Err(e) = validate::port_range(
            "port_min",
            port_min.unwrap_or(defaults::PORT_MIN),
            port_max.unwrap_or(defaults::PORT_MAX),
        ) {
            fail(e);
        }
        let notes = self.notes.get_untracked();
        if notes.len() > 10_000 {
            fail(Invalid::new("notes", "must be at most 10000 bytes"));
        }
        self.reveal_errors(errors);
        if errors.any() {
            return None;
        }
        Some(Checked {
            address,
            name,
            port: port_value,
            user,
            squad: text(self.squad),
            active: self.active.get_untracked(),
            builder: self.builder.get_untracked(),
            supervisorctl,
            supervisor_socket,
            include_dir,
            apps_root,
            port_min,
            port_max,
            notes,
        })
    }

    /// Unfolds "Advanced" when one of its inputs shows an error (also after a server error).
    pub fn reveal_errors(&self, errors: &FormErrors) {
        if ADVANCED.iter().any(|f| errors.field(f).is_some()) {
            self.advanced.set(true);
        }
    }
}

impl Checked {
    /// The body of `POST /api/hosts`: empty inputs are left out, so the server's defaults apply.
    pub fn into_new_host(self) -> NewHost {
        NewHost {
            address: self.address,
            name: self.name,
            port: self.port,
            user: self.user,
            squad: self.squad,
            active: Some(self.active),
            builder: Some(self.builder),
            supervisorctl: self.supervisorctl,
            supervisor_socket: self.supervisor_socket,
            include_dir: self.include_dir,
            apps_root: self.apps_root,
            port_min: self.port_min,
            port_max: self.port_max,
            notes: (!self.notes.is_empty()).then_some(self.notes),
        }
    }

    /// The body of `PATCH /api/hosts/{name}`: only what differs from `old`. An emptied port or
    /// user goes back to its default; an emptied override is sent as null (back to default).
    pub fn patch_from(self, old: &HostSettings) -> HostPatch {
        HostPatch {
            name: self.name.and_then(|n| changed(&old.name, n)),
            address: changed(&old.address, self.address),
            port: changed(&old.port, self.port.unwrap_or(defaults::SSH_PORT)),
            user: changed(
                &old.user,
                self.user.unwrap_or_else(|| defaults::SSH_USER.to_string()),
            ),
            squad: changed(&old.squad, self.squad),
            active: changed(&old.active, self.active),
            builder: changed(&old.builder, self.builder),
            supervisorctl: changed(&old.supervisorctl, self.supervisorctl),
            supervisor_socket: changed(&old.supervisor_socket, self.supervisor_socket),
            include_dir: changed(&old.include_dir, self.include_dir),
            apps_root: changed(&old.apps_root, self.apps_root),
            port_min: changed(&old.port_min, self.port_min),
            port_max: changed(&old.port_max, self.port_max),
            notes: changed(&old.notes, self.notes),
        }
    }
}

/// Every input of the host form (the caller adds the submit button).
#[component]
pub fn HostFormFields(
    fields: HostFields,
    errors: FormErrors,
    #[prop(optional, into)] disabled: Signal<bool>,
) -> impl IntoView {
    let store = use_fleet();
    for f in ["squad", "active", "builder", "notes"] {
        errors.register(f);
    }
    // The current squad stays selectable even before the squad list has loaded.
    let squad_options = move || {
        let mut names = store.squad_names();
        let current = fields.squad.get();
        if !current.is_empty() && !names.contains(&current) {
            names.push(current);
        }
        names
            .into_iter()
            .map(|n| view! { <option value=n.clone()>{n.clone()}</option> })
            .collect_any()
    };
    let field_error = move |name: &'static str| {
        move || {
            errors
                .field(name)
                .map(|m| view! { <p class="field-error" data-field=name>{m}</p> })
        }
    };
    view! {
        <div class="field-row">
            {FieldSpec::new("Address", "host-address", "address", fields.address, errors).placeholder("db1.example.com or 10.0.0.5").hint("DNS name or IP address reachable over SSH.").required().disabled(disabled).view()}
            {FieldSpec::new("Name", "host-name", "name", fields.name, errors).placeholder("defaults to the address").disabled(disabled).view()}
            {FieldSpec::new("SSH port", "host-port", "port", fields.port, errors).numeric().placeholder(defaults::SSH_PORT.to_string()).disabled(disabled).view()}
            {FieldSpec::new("SSH user", "host-user", "user", fields.user, errors).placeholder(defaults::SSH_USER).hint("root, or a user with passwordless sudo.").disabled(disabled).view()}
        </div>
        <div class="field-row">
            <div class="field" class:field-invalid=move || errors.field("squad").is_some()>
                <label for="host-squad">"Squad"</label>
                <select
                    id="host-squad"
                    disabled=move || disabled.get()
                    prop:value=move || fields.squad.get()
                    on:change=crate::ev::change(move |ev| fields.squad.set(event_target_value(&ev)))
                >
                    <option value="">"(none)"</option>
                    {squad_options}
                </select>
                {field_error("squad")}
            </div>
            <Check
                label="Active"
                id="host-active"
                value=fields.active
                hint="Inactive hosts are not polled and get no new procs."
                disabled=disabled
            />
            <Check
                label="Builder"
                id="host-builder"
                value=fields.builder
                hint="May run builds."
                disabled=disabled
            />
        </div>
        <details
            class="advanced"
            prop:open=move || fields.advanced.get()
            on:toggle=move |ev| {
                let open = event_target::<web_sys::HtmlDetailsElement>(&ev).open();
                if open != fields.advanced.get_untracked() {
                    fields.advanced.set(open);
                }
            }
        >
            <summary>"Advanced"</summary>
            <p class="field-hint">"Leave a field empty to use the default shown in it."</p>
            <div class="field-row">
                {FieldSpec::new("supervisorctl command", "host-supervisorctl", "supervisorctl", fields.supervisorctl, errors).placeholder(defaults::SUPERVISORCTL).disabled(disabled).view()}
                {FieldSpec::new("Supervisor socket", "host-supervisor-socket", "supervisor_socket", fields.supervisor_socket, errors).placeholder(defaults::SUPERVISOR_SOCKET).disabled(disabled).view()}
                {FieldSpec::new("Include directory", "host-include-dir", "include_dir", fields.include_dir, errors).placeholder(defaults::INCLUDE_DIR).disabled(disabled).view()}
                {FieldSpec::new("Apps root", "host-apps-root", "apps_root", fields.apps_root, errors).placeholder(defaults::APPS_ROOT).disabled(disabled).view()}
                {FieldSpec::new("Lowest proc port", "host-port-min", "port_min", fields.port_min, errors).numeric().placeholder(defaults::PORT_MIN.to_string()).disabled(disabled).view()}
                {FieldSpec::new("Highest proc port", "host-port-max", "port_max", fields.port_max, errors).numeric().placeholder(defaults::PORT_MAX.to_string()).disabled(disabled).view()}
            </div>
            <div class="field grow" class:field-invalid=move || errors.field("notes").is_some()>
                <label for="host-notes">"Notes"</label>
                <textarea
                    id="host-notes"
                    rows="3"
                    disabled=move || disabled.get()
                    prop:value=move || fields.notes.get()
                    on:input=crate::ev::input(move |ev| fields.notes.set(event_target_value(&ev)))
                ></textarea>
                {field_error("notes")}
            </div>
        </details>
    }
}
