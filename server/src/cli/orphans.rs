//! `vr orphans [--clean]`: procs vr deployed for a swarm that no longer owns them, and their
//! clean-up (drained from any pool, then destroyed).

use super::ClientArgs;
use super::client::{client, print_json};
use super::fleet::{confirm, print_report};
use vr_app::fleet::ProcActionReport;
use vr_app::orphans::{CleanRequest, Orphan, paths};

pub async fn orphans(args: ClientArgs, clean: bool, yes: bool) -> anyhow::Result<()> {
    let c = client(&args)?;
    let list: Vec<Orphan> = c.get(paths::ORPHANS).await?;
    if !clean {
        if args.json {
            return print_json(&list);
        }
        if list.is_empty() {
            println!("no orphans");
        }
        for o in &list {
            println!(
                "{} on {} port {} ({}) from {}: {}",
                o.name,
                o.host,
                o.port,
                o.state.as_str(),
                o.swarm,
                o.why
            );
        }
        return Ok(());
    }
    if list.is_empty() {
        println!("no orphans to clean");
        return Ok(());
    }
    if !yes {
        let lines: Vec<String> = list
            .iter()
            .map(|o| format!("{} on {} ({})", o.name, o.host, o.why))
            .collect();
        confirm(
            &format!("this will drain and destroy {} orphan(s):", list.len()),
            &lines,
        )?;
    }
    // Exactly the ones shown: one that stopped being an orphan meanwhile is refused.
    let req = CleanRequest {
        procs: list
            .iter()
            .map(|o| vr_app::fleet::ProcRef {
                host: o.host.clone(),
                name: o.name.clone(),
            })
            .collect(),
    };
    let report: ProcActionReport = c.post(paths::CLEAN, &req).await?;
    print_report(&args, &report, "clean")
}
