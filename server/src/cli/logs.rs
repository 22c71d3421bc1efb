//! `vr logs REGEX [--host REGEX] [--stderr|--stdout] [--grep TEXT] [-n N] [--follow]`: the
//! merged log of every matching proc, one labelled line each, from `GET /api/logs`.

use super::ClientArgs;
use super::client::{client, each_event};
use anyhow::anyhow;
use std::io::Write;
use vr_app::api::paths;
use vr_app::fleet::LogStream;
use vr_app::logs::{LogEvent, LogsQuery};

pub struct LogsArgs {
    pub pattern: String,
    pub host: Option<String>,
    pub stream: Option<LogStream>,
    pub grep: Option<String>,
    pub lines: u32,
    pub follow: bool,
}

pub async fn run(args: ClientArgs, logs: LogsArgs) -> anyhow::Result<()> {
    let c = client(&args)?;
    let query = LogsQuery {
        pattern: Some(logs.pattern.clone()).filter(|p| !p.is_empty()),
        host: logs.host.clone(),
        stream: logs.stream,
        grep: logs.grep.clone(),
        lines: Some(logs.lines),
        ..Default::default()
    };
    let resp = c.stream_query(paths::LOGS, &query).await?;
    let mut out = std::io::stdout();
    let mut empty = false;
    let mut closed = false;
    let mut caught_up = false;
    let ended = each_event(resp, |data| {
        let event = LogEvent::from_json(data).map_err(|e| anyhow!("unreadable log event: {e}"))?;
        match &event {
            LogEvent::Following { procs } => {
                empty = procs.is_empty();
                if empty && !logs.follow {
                    return Ok(false);
                }
                eprintln!(
                    "{} {}",
                    if logs.follow { "following" } else { "showing" },
                    vr_app::logs::following_summary(procs)
                );
            }
            LogEvent::CaughtUp => {
                caught_up = true;
                if !logs.follow {
                    return Ok(false);
                }
            }
            _ => {}
        }
        let line = if args.json {
            Some(serde_json::to_string(&event)?)
        } else {
            event.render()
        };
        if let Some(line) = line
            && let Err(e) = writeln!(out, "{line}").and_then(|()| out.flush())
        {
            // The reader went away (`| head`): that ends us, quietly.
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                closed = true;
                return Ok(false);
            }
            return Err(e.into());
        }
        Ok(true)
    })
    .await?;
    if empty && !logs.follow {
        return Err(anyhow!("no proc matches {:?}", logs.pattern));
    }
    if ended && !closed && (logs.follow || !caught_up) {
        return Err(anyhow!(
            "the log stream from {} ended (server stopped or restarted)",
            c.url
        ));
    }
    Ok(())
}
