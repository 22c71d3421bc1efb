//! `vr webhooks` and `vr webhook add|edit|rm|test|deliveries`: notifications (admins).

use super::ClientArgs;
use super::client::{client, print_json};
use anyhow::anyhow;
use clap::Subcommand;
use vr_app::notify::{
    Delivery, DeliveryQuery, DeliveryStatus, NewWebhook, NotifyEvent, TestQueued, Webhook,
    WebhookFormat, WebhookPatch, WebhookSecret, paths,
};
use vr_app::time::format_utc;

#[derive(Debug, Subcommand)]
pub enum WebhookCommand {
    /// Add a webhook; prints its signing secret once
    Add {
        name: String,
        /// Where to POST (http:// or https://; its own id: `--url` is the server's)
        #[arg(id = "webhook_url", value_name = "URL")]
        url: String,
        /// Comma-separated: dispatch.succeeded, dispatch.failed, host.unreachable,
        /// host.recovered, host.key_changed, uptest.failed, build.failed
        #[arg(long, value_delimiter = ',', required = true)]
        events: Vec<String>,
        /// Send Slack's `{"text": …}` instead of vr's JSON
        #[arg(long)]
        slack: bool,
        /// The signing secret (16+ characters) instead of one vr makes
        #[arg(long)]
        secret: Option<String>,
    },
    /// Change what is given, keep the rest
    Edit {
        name: String,
        /// A new URL to POST to (`--url` is the server's)
        #[arg(long = "to", id = "webhook_new_url", value_name = "URL")]
        url: Option<String>,
        #[arg(long, value_delimiter = ',')]
        events: Option<Vec<String>>,
        /// The body: json or slack
        #[arg(long)]
        format: Option<String>,
        #[arg(long, conflicts_with = "disable")]
        enable: bool,
        #[arg(long)]
        disable: bool,
        /// Make a new signing secret (printed once)
        #[arg(long)]
        new_secret: bool,
    },
    /// Delete a webhook and its deliveries
    Rm { name: String },
    /// Send a test notification now
    Test { name: String },
    /// A webhook's newest deliveries and how each went
    Deliveries {
        name: String,
        #[arg(long, default_value_t = 20)]
        limit: u32,
    },
}

fn events_of(names: &[String]) -> anyhow::Result<Vec<NotifyEvent>> {
    names
        .iter()
        .filter(|n| !n.trim().is_empty())
        .map(|n| {
            NotifyEvent::parse(n).ok_or_else(|| {
                let known: Vec<&str> = NotifyEvent::subscribable().map(|e| e.as_str()).collect();
                anyhow!("unknown event {n:?}; known: {}", known.join(", "))
            })
        })
        .collect()
}

fn print_webhook(w: &Webhook) {
    let events: Vec<&str> = w.events.iter().map(|e| e.as_str()).collect();
    println!(
        "{:<16} {:<5} {:<9} {}  [{}]{}{}",
        w.name,
        w.format.as_str(),
        if w.enabled { "enabled" } else { "disabled" },
        w.url_shown(),
        events.join(", "),
        if w.pending > 0 {
            format!("  {} pending", w.pending)
        } else {
            String::new()
        },
        if w.failed_recently > 0 {
            format!("  {} FAILED in the last day", w.failed_recently)
        } else {
            String::new()
        },
    );
}

pub async fn list(args: ClientArgs) -> anyhow::Result<()> {
    let c = client(&args)?;
    let list: Vec<Webhook> = c.get(paths::WEBHOOKS).await?;
    if args.json {
        return print_json(&list);
    }
    if list.is_empty() {
        println!("no webhooks; add one with `vr webhook add NAME URL --events dispatch.failed`");
    }
    for w in &list {
        print_webhook(w);
    }
    Ok(())
}

pub async fn command(args: ClientArgs, cmd: WebhookCommand) -> anyhow::Result<()> {
    let c = client(&args)?;
    let made: WebhookSecret = match cmd {
        WebhookCommand::Add {
            name,
            url,
            events,
            slack,
            secret,
        } => {
            let new = NewWebhook {
                name,
                url,
                events: events_of(&events)?,
                format: if slack {
                    WebhookFormat::Slack
                } else {
                    WebhookFormat::Json
                },
                secret,
            };
            c.post(paths::WEBHOOKS, &new).await?
        }
        WebhookCommand::Edit {
            name,
            url,
            events,
            format,
            enable,
            disable,
            new_secret,
        } => {
            let format = match format.as_deref() {
                None => None,
                Some(f) => Some(
                    WebhookFormat::ALL
                        .into_iter()
                        .find(|x| x.as_str() == f)
                        .ok_or_else(|| anyhow!("--format is json or slack, not {f:?}"))?,
                ),
            };
            let patch = WebhookPatch {
                url,
                events: events.as_deref().map(events_of).transpose()?,
                format,
                enabled: (enable || disable).then_some(enable),
                new_secret,
            };
            c.patch(&paths::webhook(&name), &patch).await?
        }
        WebhookCommand::Rm { name } => {
            c.delete(&paths::webhook(&name)).await?;
            println!("deleted webhook {name}");
            return Ok(());
        }
        WebhookCommand::Test { name } => {
            let queued: TestQueued = c
                .post(&paths::webhook_test(&name), &serde_json::json!({}))
                .await?;
            if args.json {
                return print_json(&queued);
            }
            println!(
                "test notification queued as delivery {}; see `vr webhook deliveries {name}`",
                queued.delivery
            );
            return Ok(());
        }
        WebhookCommand::Deliveries { name, limit } => {
            let query = DeliveryQuery { limit: Some(limit) };
            let list: Vec<Delivery> = c
                .get_query(&paths::webhook_deliveries(&name), &query)
                .await?;
            if args.json {
                return print_json(&list);
            }
            if list.is_empty() {
                println!("no deliveries to {name} yet");
            }
            for d in &list {
                print_delivery(d);
            }
            return Ok(());
        }
    };
    if args.json {
        return print_json(&made);
    }
    print_webhook(&made.webhook);
    if let Some(secret) = &made.secret {
        println!(
            "signing secret (shown once): {secret}\n\
             each POST carries `x-vr-signature: sha256=HMAC-SHA256(secret, body)` in hex"
        );
    }
    Ok(())
}

fn print_delivery(d: &Delivery) {
    let status = match d.status {
        DeliveryStatus::Delivered => "delivered".to_string(),
        DeliveryStatus::Pending => match d.next_at {
            Some(at) if d.attempts > 0 => format!("retrying at {}", format_utc(at)),
            _ => "pending".to_string(),
        },
        DeliveryStatus::Failed => "FAILED".to_string(),
    };
    let code = d
        .response_status
        .map(|c| format!(" HTTP {c}"))
        .unwrap_or_default();
    println!(
        "#{:<6} {}  {:<18} {:<28} {status} after {} attempt(s){code}{}",
        d.id,
        format_utc(d.created_at),
        d.event.as_str(),
        d.object,
        d.attempts,
        d.error
            .as_deref()
            .map(|e| format!(": {e}"))
            .unwrap_or_default()
    );
}
