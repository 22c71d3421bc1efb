//! Webhooks (admins only): the list with each one's pending and recently failed deliveries,
//! a new-webhook form (its signing secret shown once), Send a test, Enable/Disable, Delete,
//! and the chosen webhook's deliveries with each attempt's result. Deliveries change without a
//! live message, so the page reads them again every few seconds while it is shown.

use crate::components::CollectVec;
use std::time::Duration;

use crate::components::CollectAny;
use crate::components::Show;
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use vr_app::live::Merge;
use vr_app::notify::{
    Delivery, DeliveryStatus, NewWebhook, NotifyEvent, Webhook, WebhookFormat, WebhookPatch,
    WebhookSecret, paths,
};

use crate::api;
use crate::busy::{spawn_local, spawn_submit};
use crate::components::{
    Column, ConfirmDialog, CopyButton, DataTable, FieldSpec, FormError, FormErrors, use_toasts,
};
use crate::live::LiveData;
use crate::session::use_session;

const REFRESH: Duration = Duration::from_secs(3);

#[component]
pub fn WebhooksPage() -> impl IntoView {
    crate::route::title(|| "Webhooks".to_string());
    let session = use_session();
    view! {
        <section class="page" data-test="webhooks">
            <h1>"Webhooks"</h1>
            <Show
                when=move || session.is_admin()
                fallback=|| view! { <div class="card notice"><p>"Only admins can manage webhooks."</p></div> }
            >
                <WebhooksAdmin />
            </Show>
        </section>
    }
}

#[component]
fn WebhooksAdmin() -> impl IntoView {
    let toasts = use_toasts();
    let data = LiveData::follow(
        Vec::new(),
        || api::get::<Vec<Webhook>>(paths::WEBHOOKS),
        |_: &mut Vec<Webhook>, _| Merge::Ignored,
    );
    let chosen = RwSignal::new(None::<String>);
    let deliveries = RwSignal::new(Vec::<Delivery>::new());
    let load_deliveries = move || {
        let Some(name) = chosen.get_untracked() else {
            return;
        };
        spawn_local(async move {
            let path = format!("{}?limit=50", paths::webhook_deliveries(&name));
            if let Ok(list) = api::get::<Vec<Delivery>>(&path).await {
                let _ = deliveries.try_set(list);
            }
        });
    };
    crate::effects::effect(move || {
        chosen.track();
        deliveries.set(Vec::new());
        load_deliveries();
    });
    crate::clock::every(REFRESH, move || {
        data.reload();
        load_deliveries();
    });

    let change = move |w: Webhook, patch: WebhookPatch, done: String| {
        spawn_local(async move {
            match api::patch::<_, WebhookSecret>(&paths::webhook(&w.name), &patch).await {
                Ok(_) => {
                    toasts.success(done);
                    data.reload();
                }
                Err(e) => toasts.error(format!("Could not change {}: {e}", w.name)),
            }
        });
    };
    let test = move |w: Webhook| {
        spawn_local(async move {
            match api::post::<_, vr_app::notify::TestQueued>(
                &paths::webhook_test(&w.name),
                &serde_json::json!({}),
            )
            .await
            {
                Ok(_) => {
                    toasts.success(format!("Test notification queued for {}.", w.name));
                    chosen.set(Some(w.name.clone()));
                    load_deliveries();
                }
                Err(e) => toasts.error(format!("Could not send a test to {}: {e}", w.name)),
            }
        });
    };
    let deleting = RwSignal::new(None::<Webhook>);
    let delete_busy = RwSignal::new(false);
    let confirm_delete = move |()| {
        let Some(w) = deleting.get_untracked() else {
            return;
        };
        let deletion = crate::busy::Deletion {
            busy: delete_busy,
            toasts,
            kind: "Webhook",
            name: w.name.clone(),
            error: None,
        };
        let path = paths::webhook(&w.name);
        crate::busy::spawn_delete(
            deletion,
            api::delete(&path),
            move || {
                if chosen.get_untracked().as_deref() == Some(w.name.as_str()) {
                    chosen.set(None);
                }
                data.reload();
            },
            move || {
                let _ = deleting.try_set(None);
            },
        );
    };

    let columns = vec![
        Column::new("Name", |w: &Webhook| w.name.clone()),
        Column::new("Sends to", |w: &Webhook| w.url_shown()),
        Column::new("Events", |w: &Webhook| {
            w.events.iter().map(|e| e.as_str()).collect_vec().join(", ")
        }),
        Column::new("Body", |w: &Webhook| w.format.as_str().to_string()),
        Column::new("State", |w: &Webhook| {
            let mut s = if w.enabled { "enabled".to_string() } else { "disabled".to_string() };
            if w.pending > 0 {
                s.push_str(&format!(", {} pending", w.pending));
            }
            if w.failed_recently > 0 {
                s.push_str(&format!(", {} failed today", w.failed_recently));
            }
            s
        }),
        Column::new("", |_: &Webhook| String::new()).unsorted().cell(move |w: &Webhook| {
            let (a, b, c, d) = (w.clone(), w.clone(), w.clone(), w.clone());
            let toggle = if w.enabled { "Disable" } else { "Enable" };
            view! {
                <div class="row-actions">
                    <button type="button" class="btn btn-small" data-test="webhook-deliveries"
                        on:click=crate::ev::click(move |_| chosen.set(Some(a.name.clone())))>"Deliveries"</button>
                    <button type="button" class="btn btn-small" data-test="webhook-test"
                        on:click=crate::ev::click(move |_| test(b.clone()))>"Send a test"</button>
                    <button type="button" class="btn btn-small" data-test="webhook-toggle"
                        on:click=crate::ev::click(move |_| {
                            let on = !c.enabled;
                            let done = format!("{} {}.", c.name, if on { "enabled" } else { "disabled" });
                            change(c.clone(), WebhookPatch { enabled: Some(on), ..Default::default() }, done);
                        })>{toggle}</button>
                    <button type="button" class="btn btn-small btn-danger" data-test="webhook-delete"
                        on:click=crate::ev::click(move |_| deleting.set(Some(d.clone())))>"Delete"</button>
                </div>
            }
        }),
    ];
    let delivery_columns = vec![
        Column::new("#", |d: &Delivery| d.id.to_string()),
        Column::new("When", |d: &Delivery| {
            vr_app::time::format_utc(d.created_at)
        }),
        Column::new("Event", |d: &Delivery| d.event.as_str().to_string()),
        Column::new("About", |d: &Delivery| d.object.clone()),
        Column::new("Result", |d: &Delivery| {
            let code = d
                .response_status
                .map(|c| format!(" HTTP {c}"))
                .unwrap_or_default();
            let status = match d.status {
                DeliveryStatus::Delivered => "delivered",
                DeliveryStatus::Pending if d.attempts > 0 => "retrying",
                DeliveryStatus::Pending => "pending",
                DeliveryStatus::Failed => "FAILED",
            };
            format!("{status} after {} attempt(s){code}", d.attempts)
        }),
        Column::new("Last error", |d: &Delivery| {
            d.error.clone().unwrap_or_default()
        }),
    ];

    view! {
        <div class="card">
            <h2>"Webhooks"</h2>
            <p class="muted">
                "vr POSTs a JSON body (or Slack's " <code>"{\"text\": …}"</code>
                ") for each event a webhook names, signed in " <code>"x-vr-signature: sha256=HMAC-SHA256(secret, body)"</code>
                ", and tries a failed delivery again after 2 s, 8 s, 32 s, 128 s and 512 s."
            </p>
            {move || data.error_text().map(|e| view! { <div class="form-error">{e}</div> })}
            <DataTable rows=data.signal() columns=columns empty="No webhooks yet." test_id="webhooks-table" />
        </div>
        <NewWebhookForm on_created=Callback::new(move |_| data.reload()) />
        {move || chosen.get().map(|name| view! {
            <div class="card" id="webhook-deliveries">
                <h2>{format!("Deliveries to {name}")}</h2>
                <DataTable rows=deliveries columns=delivery_columns.clone() empty="No deliveries yet." test_id="deliveries-table" />
            </div>
        })}
        <ConfirmDialog
            open=Signal::derive(move || deleting.with(Option::is_some))
            title="Delete webhook?"
            message=Signal::derive(move || deleting.with(|w| w.as_ref().map(|w| format!("{} gets no more notifications, and its deliveries are forgotten.", w.name)).unwrap_or_default()))
            confirm_label="Delete"
            danger=true
            busy=delete_busy
            on_confirm=confirm_delete
            on_cancel=move |()| deleting.set(None)
        />
    }
}

#[component]
fn NewWebhookForm(#[prop(into)] on_created: Callback<()>) -> impl IntoView {
    let toasts = use_toasts();
    let name = RwSignal::new(String::new());
    let url = RwSignal::new(String::new());
    let slack = RwSignal::new(false);
    let events = RwSignal::new(vec![
        NotifyEvent::DispatchFailed,
        NotifyEvent::HostUnreachable,
    ]);
    let secret_shown = RwSignal::new(None::<String>);
    let errors = FormErrors::new();
    errors.register("events");
    let busy = RwSignal::new(false);

    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        errors.clear();
        let request = NewWebhook {
            name: name.get_untracked().trim().to_string(),
            url: url.get_untracked().trim().to_string(),
            events: events.get_untracked(),
            format: if slack.get_untracked() {
                WebhookFormat::Slack
            } else {
                WebhookFormat::Json
            },
            secret: None,
        };
        if let Err(invalid) = vr_app::notify::validate(&request.name, &request.url, &request.events)
        {
            errors.set_invalid(&invalid);
            return;
        }
        spawn_submit(
            busy,
            errors,
            api::post::<_, WebhookSecret>(paths::WEBHOOKS, &request),
            move |made| {
                toasts.success(format!("Webhook {} added.", made.webhook.name));
                secret_shown.set(made.secret);
                name.set(String::new());
                url.set(String::new());
                on_created.run(());
            },
        );
    };
    let event_boxes = NotifyEvent::subscribable()
        .map(|e| {
            view! {
                <label class="check">
                    <input
                        type="checkbox"
                        data-test=format!("webhook-event-{}", e.as_str())
                        prop:checked=move || events.with(|v| v.contains(&e))
                        on:change=crate::ev::change(move |ev| {
                            let on = event_target_checked(&ev);
                            events.update(|v| {
                                v.retain(|x| *x != e);
                                if on {
                                    v.push(e);
                                }
                            });
                        })
                    />
                    {e.as_str()}
                </label>
            }
        })
        .collect_any();

    view! {
        <div class="card" id="new-webhook">
            <h2>"New webhook"</h2>
            {move || secret_shown.get().map(|s| view! {
                <div class="notice" role="status" id="webhook-secret">
                    <p>"Its signing secret, shown this once (the receiver checks each body's signature with it):"</p>
                    <code class="secret-once">{s.clone()}</code>
                    <CopyButton text=Signal::derive(move || s.clone()) />
                </div>
            })}
            <form class="form" on:submit=crate::ev::submit(submit) novalidate=true>
                <FormError errors=errors />
                {FieldSpec::new("Name", "webhook-name", "name", name, errors).autocomplete("off").view()}
                {FieldSpec::new("URL", "webhook-url", "url", url, errors).autocomplete("off").hint("Where to POST: https://… (a Slack incoming-webhook URL works with the Slack body).").view()}
                <div class="field" class:field-invalid=move || errors.field("events").is_some()>
                    <span class="label">"Events"</span>
                    <div class="checks">{event_boxes}</div>
                    {move || errors.field("events").map(|m| view! { <p class="field-error">{m}</p> })}
                </div>
                <label class="check">
                    <input type="checkbox" id="webhook-slack"
                        prop:checked=move || slack.get()
                        on:change=crate::ev::change(move |ev| slack.set(event_target_checked(&ev))) />
                    "Slack-compatible body (" <code>"{\"text\": …}"</code> ")"
                </label>
                <button type="submit" class="btn btn-primary" id="webhook-submit" disabled=move || busy.get()>
                    "Add webhook"
                </button>
            </form>
        </div>
    }
}
