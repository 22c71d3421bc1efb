//! `vr events [--follow]`: the activity log, and new lines live from the server-sent events.

use super::ClientArgs;
use super::client::Client;
use vr_app::api::{Event, EventQuery, LiveMessage, Outcome, paths};
use vr_app::time::format_utc;

pub async fn run(
    args: ClientArgs,
    follow: bool,
    limit: u32,
    actor: Option<String>,
    action: Option<String>,
) -> anyhow::Result<()> {
    let client = Client::from_args(&args)?;
    client.require_token()?;
    let query = EventQuery {
        limit: Some(limit),
        actor: actor.clone(),
        action: action.clone(),
        ..Default::default()
    };
    // Subscribe before reading the history, so nothing falls between the two; the overlap is
    // dropped by id.
    let stream = if follow {
        Some(client.stream(paths::STREAM).await?)
    } else {
        None
    };
    let mut events: Vec<Event> = client.get_query(paths::EVENTS, &query).await?;
    events.reverse();
    for e in &events {
        print_event(e, args.json)?;
    }
    let Some(resp) = stream else {
        return Ok(());
    };
    let mut last_id = events.last().map_or(0, |e| e.id);
    // The same test the server's filter makes: exact actor, case-insensitive action prefix.
    let matches = |e: &Event| {
        actor.as_ref().is_none_or(|a| &e.actor == a)
            && action.as_ref().is_none_or(|a| {
                e.action
                    .get(..a.len())
                    .is_some_and(|p| p.eq_ignore_ascii_case(a))
            })
    };
    super::client::each_event(resp, |data| {
        if let Ok(LiveMessage::Event { event }) = serde_json::from_str(data)
            && event.id > last_id
            && matches(&event)
        {
            last_id = event.id;
            print_event(&event, args.json)?;
        }
        Ok(true)
    })
    .await?;
    Err(anyhow::anyhow!(
        "the live stream from {} ended (server stopped or restarted)",
        client.url
    ))
}

fn print_event(e: &Event, json: bool) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string(e)?);
    } else {
        let outcome = match e.outcome {
            Outcome::Ok => "ok",
            Outcome::Failed => "FAILED",
        };
        println!(
            "{}  {:<12} {:<20} {:<24} {:<6} {}",
            format_utc(e.at),
            e.actor,
            e.action,
            e.object,
            outcome,
            e.detail
        );
    }
    Ok(())
}
