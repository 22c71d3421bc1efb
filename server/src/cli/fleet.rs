//! `vr squads`, `vr squad …`, `vr hosts`, `vr host …` and `vr procs …`: the fleet from the
//! command line, through the API.

use super::ClientArgs;
use super::client::{client, print_json};
use anyhow::{Context, anyhow};
use clap::{Args, Subcommand};
use std::io::IsTerminal;
use vr_app::fleet::{
    ConnectionReport, Health, Host, HostPatch, NewHost, NewSquad, Proc, ProcAction,
    ProcActionReport, ProcActionRequest, ProcFilter, Squad, SquadPatch, TrustKey, paths,
};
use vr_app::supervisor::ProcState;
use vr_app::time::format_age;

#[derive(Debug, Subcommand)]
pub enum SquadCommand {
    /// Create a squad
    Add {
        name: String,
        #[arg(long, default_value = "")]
        description: String,
    },
    /// Rename a squad or change its description
    Edit {
        name: String,
        #[arg(long)]
        rename: Option<String>,
        #[arg(long)]
        description: Option<String>,
    },
    /// Delete an empty squad
    Rm { name: String },
}

/// Host settings shared by `host add` and `host edit`.
#[derive(Debug, Clone, Default, Args)]
pub struct HostFlags {
    /// SSH port [default: 22]
    #[arg(long)]
    port: Option<u16>,
    /// SSH user: root, or a user with passwordless sudo [default: root]
    #[arg(long)]
    user: Option<String>,
    /// Squad to put the host in
    #[arg(long)]
    squad: Option<String>,
    /// The supervisorctl command [default: supervisorctl]
    #[arg(long)]
    supervisorctl: Option<String>,
    /// supervisord's unix socket [default: /var/run/supervisor.sock]
    #[arg(long)]
    supervisor_socket: Option<String>,
    /// Supervisor include dir for program files [default: /etc/supervisor/conf.d]
    #[arg(long)]
    include_dir: Option<String>,
    /// Root of builds and proc folders [default: /apps]
    #[arg(long)]
    apps_root: Option<String>,
    /// Lowest port for procs [default: 5000]
    #[arg(long)]
    port_min: Option<u16>,
    /// Highest port for procs [default: 5999]
    #[arg(long)]
    port_max: Option<u16>,
    #[arg(long)]
    notes: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum HostCommand {
    /// Add a host (SSH as the server's key: see `vr pubkey`)
    Add {
        /// DNS name or IP address
        address: String,
        /// Name shown in vr [default: the address]
        #[arg(long)]
        name: Option<String>,
        /// May run builds
        #[arg(long)]
        builder: bool,
        /// Add it inactive (not polled, gets no procs)
        #[arg(long)]
        inactive: bool,
        #[command(flatten)]
        flags: HostFlags,
    },
    /// Change a host: move it to another squad, take it out of its squad, mark it inactive…
    Edit {
        name: String,
        #[arg(long)]
        rename: Option<String>,
        #[arg(long)]
        address: Option<String>,
        /// Take the host out of its squad
        #[arg(long, conflicts_with = "squad")]
        no_squad: bool,
        #[arg(long, conflicts_with = "inactive")]
        active: bool,
        /// Stop polling it and placing procs on it
        #[arg(long)]
        inactive: bool,
        #[arg(long, conflicts_with = "no_builder")]
        builder: bool,
        #[arg(long)]
        no_builder: bool,
        #[command(flatten)]
        flags: HostFlags,
    },
    /// Delete a host from vr (nothing on the host is touched)
    Rm { name: String },
    /// Connect now and show what was found, or the exact failure
    Test { name: String },
    /// Delete proc folders Supervisor no longer knows and builds no proc used for --days
    Clean {
        name: String,
        #[arg(long, default_value_t = 7)]
        days: u32,
    },
    /// Trust the changed host key the host now presents (admin)
    Trust {
        name: String,
        /// The `SHA256:…` fingerprint you verified on the host
        fingerprint: String,
    },
}

#[derive(Debug, Clone, Args)]
pub struct ProcSelect {
    /// Regex on `app-config-proc` (program name for unmanaged procs)
    pattern: Option<String>,
    /// Regex on the host name
    #[arg(long)]
    host: Option<String>,
    #[arg(long)]
    squad: Option<String>,
    /// Only procs in this state (RUNNING, FATAL, MISSING…)
    #[arg(long, value_parser = parse_state)]
    state: Option<ProcState>,
}

fn parse_state(s: &str) -> Result<ProcState, String> {
    ProcState::parse_any(s).ok_or_else(|| {
        format!("{s:?} is not a state: STOPPED, STARTING, RUNNING, BACKOFF, STOPPING, EXITED, FATAL, UNKNOWN or MISSING")
    })
}

impl ProcSelect {
    fn filter(&self) -> ProcFilter {
        ProcFilter {
            pattern: self.pattern.clone(),
            host: self.host.clone(),
            squad: self.squad.clone(),
            state: self.state,
        }
    }
    fn is_everything(&self) -> bool {
        self.pattern.is_none()
            && self.host.is_none()
            && self.squad.is_none()
            && self.state.is_none()
    }
}

#[derive(Debug, Subcommand)]
pub enum ProcsCommand {
    /// List procs (all, or those matching)
    List {
        #[command(flatten)]
        select: ProcSelect,
    },
    Start {
        #[command(flatten)]
        select: ProcSelect,
    },
    Stop {
        #[command(flatten)]
        select: ProcSelect,
    },
    Restart {
        #[command(flatten)]
        select: ProcSelect,
    },
    /// Stop, remove from Supervisor and delete the files of procs vr deployed
    Destroy {
        #[command(flatten)]
        select: ProcSelect,
        /// Do not ask for confirmation
        #[arg(long, short)]
        yes: bool,
    },
}

pub async fn squads(args: ClientArgs) -> anyhow::Result<()> {
    let c = client(&args)?;
    let squads: Vec<Squad> = c.get(paths::SQUADS).await?;
    if args.json {
        return print_json(&squads);
    }
    if squads.is_empty() {
        println!("no squads; add one with `vr squad add NAME`");
    }
    for s in squads {
        println!(
            "{:<20} {:>3} hosts  {}  {}",
            s.name,
            s.hosts.len(),
            s.hosts.join(","),
            s.description
        );
    }
    Ok(())
}

pub async fn squad(args: ClientArgs, cmd: SquadCommand) -> anyhow::Result<()> {
    let c = client(&args)?;
    match cmd {
        SquadCommand::Add { name, description } => {
            let s: Squad = c
                .post(paths::SQUADS, &NewSquad { name, description })
                .await?;
            if args.json {
                return print_json(&s);
            }
            println!("created squad {}", s.name);
        }
        SquadCommand::Edit {
            name,
            rename,
            description,
        } => {
            let s: Squad = c
                .patch(
                    &paths::squad(&name),
                    &SquadPatch {
                        name: rename,
                        description,
                    },
                )
                .await?;
            if args.json {
                return print_json(&s);
            }
            println!("updated squad {}", s.name);
        }
        SquadCommand::Rm { name } => {
            c.delete(&paths::squad(&name)).await?;
            println!("deleted squad {name}");
        }
    }
    Ok(())
}

fn health_line(h: &Host, now: i64) -> String {
    let s = &h.status;
    match s.health {
        Health::Ok => format!(
            "ok (supervisor {} via {})",
            s.supervisor_version.as_deref().unwrap_or("?"),
            s.via.as_deref().unwrap_or("?")
        ),
        Health::Unknown => "not polled yet".into(),
        Health::Inactive => "inactive".into(),
        other => format!(
            "{}{}: {}",
            other.as_str(),
            s.error_since
                .map(|t| format!(" since {}", format_age(now, t)))
                .unwrap_or_default(),
            s.error.as_deref().unwrap_or("")
        ),
    }
}

pub async fn hosts(args: ClientArgs, squad: Option<String>) -> anyhow::Result<()> {
    let c = client(&args)?;
    let mut hosts: Vec<Host> = c.get(paths::HOSTS).await?;
    if let Some(s) = &squad {
        hosts.retain(|h| h.settings.squad.as_ref() == Some(s));
    }
    if args.json {
        return print_json(&hosts);
    }
    let now = crate::clock::now_ms();
    for h in hosts {
        let s = &h.settings;
        println!(
            "{:<24} {:<28} {:<12} {}{}",
            s.name,
            format!("{}@{}:{}", s.user, s.address, s.port),
            s.squad.as_deref().unwrap_or("-"),
            if s.builder { "[builder] " } else { "" },
            health_line(&h, now)
        );
    }
    Ok(())
}

fn new_host(
    address: String,
    name: Option<String>,
    builder: bool,
    inactive: bool,
    f: HostFlags,
) -> NewHost {
    NewHost {
        address,
        name,
        port: f.port,
        user: f.user,
        squad: f.squad,
        active: Some(!inactive),
        builder: Some(builder),
        supervisorctl: f.supervisorctl,
        supervisor_socket: f.supervisor_socket,
        include_dir: f.include_dir,
        apps_root: f.apps_root,
        port_min: f.port_min,
        port_max: f.port_max,
        notes: f.notes,
    }
}

/// `Some(None)` for an empty value: `--include-dir ''` goes back to the default.
fn clearable<T>(v: Option<T>, empty: impl Fn(&T) -> bool) -> Option<Option<T>> {
    v.map(|v| if empty(&v) { None } else { Some(v) })
}

pub async fn host(args: ClientArgs, cmd: HostCommand) -> anyhow::Result<()> {
    let c = client(&args)?;
    match cmd {
        HostCommand::Add {
            address,
            name,
            builder,
            inactive,
            flags,
        } => {
            let h: Host = c
                .post(
                    paths::HOSTS,
                    &new_host(address, name, builder, inactive, flags),
                )
                .await?;
            if args.json {
                return print_json(&h);
            }
            println!(
                "added host {} ({}@{}:{}); check it with `vr host test {}`",
                h.settings.name,
                h.settings.user,
                h.settings.address,
                h.settings.port,
                h.settings.name
            );
        }
        HostCommand::Edit {
            name,
            rename,
            address,
            no_squad,
            active,
            inactive,
            builder,
            no_builder,
            flags,
        } => {
            let empty = |s: &String| s.is_empty();
            let patch = HostPatch {
                name: rename,
                address,
                port: flags.port,
                user: flags.user,
                squad: if no_squad {
                    Some(None)
                } else {
                    clearable(flags.squad, empty)
                },
                active: (active || inactive).then_some(active),
                builder: (builder || no_builder).then_some(builder),
                supervisorctl: clearable(flags.supervisorctl, empty),
                supervisor_socket: clearable(flags.supervisor_socket, empty),
                include_dir: clearable(flags.include_dir, empty),
                apps_root: clearable(flags.apps_root, empty),
                port_min: clearable(flags.port_min, |p| *p == 0),
                port_max: clearable(flags.port_max, |p| *p == 0),
                notes: flags.notes,
            };
            let h: Host = c.patch(&paths::host(&name), &patch).await?;
            if args.json {
                return print_json(&h);
            }
            println!(
                "updated host {}: squad {}, {}",
                h.settings.name,
                h.settings.squad.as_deref().unwrap_or("none"),
                if h.settings.active {
                    "active"
                } else {
                    "inactive"
                }
            );
        }
        HostCommand::Rm { name } => {
            c.delete(&paths::host(&name)).await?;
            println!("deleted host {name} (nothing on the host was touched)");
        }
        HostCommand::Test { name } => {
            let r: ConnectionReport = c.post(&paths::host_test(&name), &()).await?;
            if args.json {
                print_json(&r)?;
            } else if r.ok {
                println!(
                    "ok in {} ms: supervisor {} via {}, {} procs; host key {}{}",
                    r.elapsed_ms,
                    r.supervisor_version.as_deref().unwrap_or("?"),
                    r.via.as_deref().unwrap_or("?"),
                    r.proc_count.unwrap_or(0),
                    r.host_key.as_deref().unwrap_or("?"),
                    if r.key_pinned_now {
                        " (pinned now)"
                    } else {
                        ""
                    }
                );
                if let Some(caps) = &r.capabilities {
                    println!("isolation: {}", caps.summary());
                }
            }
            if !r.ok {
                return Err(anyhow!(
                    "{name}: {}",
                    r.error.as_deref().unwrap_or("failed")
                ));
            }
        }
        HostCommand::Clean { name, days } => {
            let removed: Vec<String> = c
                .post(&format!("{}/clean?days={days}", paths::host(&name)), &())
                .await?;
            if args.json {
                return print_json(&removed);
            }
            if removed.is_empty() {
                println!("{name}: nothing to remove");
            }
            for r in removed {
                println!("{name}: {r}");
            }
        }
        HostCommand::Trust { name, fingerprint } => {
            let h: Host = c
                .post(&paths::host_trust(&name), &TrustKey { fingerprint })
                .await?;
            println!(
                "host {} now pinned to {}",
                h.settings.name,
                h.host_key.as_deref().unwrap_or("?")
            );
        }
    }
    Ok(())
}

fn proc_line(p: &Proc, now: i64) -> String {
    let what = p
        .meta
        .as_ref()
        .map(|m| format!("{} {} port {}", m.match_key(), m.version, m.port))
        .unwrap_or_else(|| "unmanaged".into());
    format!(
        "{:<9} {:<20} {:<44} {:<36} {}",
        p.state.as_str(),
        p.host,
        p.name,
        what,
        if p.state == ProcState::Running {
            p.description.clone()
        } else {
            format!(
                "{} (since {})",
                p.description,
                format_age(now, p.state_since)
            )
        }
    )
}

pub async fn procs(args: ClientArgs, cmd: ProcsCommand) -> anyhow::Result<()> {
    let c = client(&args)?;
    let (action, select, yes) = match cmd {
        ProcsCommand::List { select } => {
            let procs: Vec<Proc> = c.get_query(paths::PROCS, &select.filter()).await?;
            if args.json {
                return print_json(&procs);
            }
            let now = crate::clock::now_ms();
            for p in &procs {
                println!("{}", proc_line(p, now));
            }
            return Ok(());
        }
        ProcsCommand::Start { select } => (ProcAction::Start, select, true),
        ProcsCommand::Stop { select } => (ProcAction::Stop, select, true),
        ProcsCommand::Restart { select } => (ProcAction::Restart, select, true),
        ProcsCommand::Destroy { select, yes } => (ProcAction::Destroy, select, yes),
    };
    if action == ProcAction::Destroy && select.is_everything() {
        return Err(anyhow!(
            "refusing to destroy every proc: give a REGEX, --host, --squad or --state (use '.*' to mean all)"
        ));
    }
    if !yes {
        let procs: Vec<Proc> = c.get_query(paths::PROCS, &select.filter()).await?;
        if procs.is_empty() {
            return Err(anyhow!("no proc matches"));
        }
        let lines: Vec<String> = procs
            .iter()
            .map(|p| format!("{} on {}", p.name, p.host))
            .collect();
        confirm(
            &format!("this will {} {} proc(s):", action.as_str(), procs.len()),
            &lines,
        )?;
    }
    let report: ProcActionReport = c
        .post(
            paths::PROC_ACTIONS,
            &ProcActionRequest {
                action,
                procs: Vec::new(),
                filter: Some(select.filter()),
            },
        )
        .await?;
    print_report(&args, &report, action.as_str())
}

/// Asks on the terminal before a destructive action, listing what it touches; `--yes` skips.
pub(super) fn confirm(what: &str, lines: &[String]) -> anyhow::Result<()> {
    eprintln!("{what}");
    for l in lines {
        eprintln!("  {l}");
    }
    if !std::io::stdin().is_terminal() {
        return Err(anyhow!("not a terminal: pass --yes to confirm"));
    }
    eprint!("go ahead? [y/N] ");
    let mut answer = String::new();
    std::io::stdin()
        .read_line(&mut answer)
        .context("reading the answer")?;
    if !answer.trim().eq_ignore_ascii_case("y") {
        return Err(anyhow!("cancelled"));
    }
    Ok(())
}

/// One line per proc of a proc action's report; an error when any failed.
pub(super) fn print_report(
    args: &ClientArgs,
    report: &ProcActionReport,
    action: &str,
) -> anyhow::Result<()> {
    if args.json {
        print_json(report)?;
    } else {
        for r in &report.results {
            println!(
                "{} {} on {}: {}",
                if r.ok { "ok  " } else { "FAIL" },
                r.name,
                r.host,
                r.message.replace('\n', "; ")
            );
        }
    }
    let failed = report.results.iter().filter(|r| !r.ok).count();
    if failed > 0 {
        return Err(anyhow!(
            "{failed} of {} proc(s) failed to {action}",
            report.results.len()
        ));
    }
    Ok(())
}
