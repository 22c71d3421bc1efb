//! `vr deploy RELEASE HOST PORT PROC -c CONFIG` and `vr deploys`.

use super::ClientArgs;
use super::client::{client, print_json};
use anyhow::anyhow;
use std::time::Duration;
use vr_app::deploy::{
    DeployRequest, DeployStatus, Deployment, UptestQuery, UptestResult, paths, uptest_paths,
};
use vr_app::time::format_utc;

/// Starts the deploy and prints its steps as they finish; exits non-zero if it failed.
pub async fn deploy(
    args: ClientArgs,
    release_id: i64,
    host: String,
    port: u16,
    proc_type: String,
    config: String,
    no_wait: bool,
) -> anyhow::Result<()> {
    let c = client(&args)?;
    let mut d: Deployment = c
        .post(
            paths::DEPLOYS,
            &DeployRequest {
                release_id,
                proc_type,
                config,
                host,
                port,
            },
        )
        .await?;
    if !args.json {
        eprintln!(
            "deploy #{}: {} on {} port {}",
            d.id, d.program, d.host, d.port
        );
    }
    let mut shown = 0;
    loop {
        if !args.json {
            for s in d.steps.iter().skip(shown) {
                println!(
                    "{} {} ({} ms): {}",
                    if s.ok { "ok  " } else { "FAIL" },
                    s.name.label(),
                    s.ms,
                    s.message
                );
            }
        }
        shown = d.steps.len();
        if no_wait || d.status != DeployStatus::Running {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
        d = c.get(&paths::deploy(d.id)).await?;
    }
    if args.json {
        print_json(&d)?;
    }
    match d.status {
        DeployStatus::Failed => Err(anyhow!(
            "deploy #{} failed: {}",
            d.id,
            d.error.as_deref().unwrap_or("see the steps above")
        )),
        _ => Ok(()),
    }
}

pub async fn deploys(args: ClientArgs) -> anyhow::Result<()> {
    let c = client(&args)?;
    let list: Vec<Deployment> = c.get_query(paths::DEPLOYS, &[("limit", 100)]).await?;
    if args.json {
        return print_json(&list);
    }
    for d in list {
        println!(
            "#{:<5} {:<9} {:<50} {:<16} {}  {}",
            d.id,
            d.status.as_str(),
            d.program,
            d.host,
            format_utc(d.created_at),
            d.error.unwrap_or_default()
        );
    }
    Ok(())
}

/// `vr uptests [--host H] [--program P]`: the latest results; exit 1 if any failed.
pub async fn uptests(
    args: ClientArgs,
    host: Option<String>,
    program: Option<String>,
) -> anyhow::Result<()> {
    let c = client(&args)?;
    let list: Vec<UptestResult> = c
        .get_query(uptest_paths::UPTESTS, &UptestQuery { host, program })
        .await?;
    if args.json {
        print_json(&list)?;
    } else if list.is_empty() {
        println!("no uptest results");
    }
    if !args.json {
        for r in &list {
            println!(
                "{} {} on {}: {} ({} ms, {}){}",
                if r.passed { "passed" } else { "FAILED" },
                r.program,
                r.host,
                r.name,
                r.ms,
                format_utc(r.at),
                if r.passed {
                    String::new()
                } else {
                    format!("\n    {}", r.output.trim().replace('\n', "\n    "))
                }
            );
        }
    }
    let failed = list.iter().filter(|r| !r.passed).count();
    if failed > 0 {
        return Err(anyhow!("{failed} uptest(s) failed"));
    }
    Ok(())
}
