//! `vr list-swarms [REGEX]`, `vr swarm REGEX VERSION|-` (VR's verbs, with real regexes), and
//! `vr swarm create|show|delete|history`.

use super::ClientArgs;
use super::client::{Client, client, print_json};
use super::progress::Progress;
use anyhow::{Context, anyhow, bail};
use regex::Regex;
use std::time::Duration;
use vr_app::swarm::{
    Dispatch, DispatchRequest, DispatchStatus, Placement, RollbackRequest, Swarm, SwarmSpec, paths,
};
use vr_app::time::format_utc;

#[derive(Debug, clap::Subcommand)]
pub enum SwarmCommand {
    /// Create a swarm (it changes nothing on hosts until it is dispatched)
    Create {
        #[arg(long)]
        app: String,
        /// Tag, branch or commit
        #[arg(long)]
        version: String,
        /// Procfile process type (`web`, `worker`…)
        #[arg(long = "proc")]
        proc_type: String,
        /// Config name, e.g. `prod`
        #[arg(long)]
        config: String,
        #[arg(long)]
        squad: String,
        /// Procs wanted (ignored with --one-per-host)
        #[arg(long, default_value_t = 1)]
        size: u32,
        /// One proc on every active host of the squad (workers)
        #[arg(long)]
        one_per_host: bool,
        /// The procs bind no port (workers): port 0
        #[arg(long)]
        no_port: bool,
        /// New procs per round (0 = all at once)
        #[arg(long, default_value_t = 0)]
        batch: u32,
        /// Dispatch by itself when a host with its procs has been unreachable this long (s)
        #[arg(long, default_value_t = 0, value_name = "SECS")]
        heal_after: u32,
        /// How its procs run: plain (Supervisor programs) or sandbox (each in a bubblewrap
        /// sandbox)
        #[arg(long, default_value = "plain", value_parser = ["plain", "sandbox"])]
        runner: String,
        /// Build in and run on this stack (an OS image; sandbox runner) instead of the app's
        #[arg(long)]
        stack: Option<String>,
        /// A YAML file of settings
        #[arg(long, value_name = "FILE")]
        settings: Option<std::path::PathBuf>,
        /// A YAML file of env values
        #[arg(long, value_name = "FILE")]
        env: Option<std::path::PathBuf>,
        /// Ingredient names, merged in this order (repeatable)
        #[arg(long = "ingredient")]
        ingredients: Vec<String>,
        /// The balancer pool its procs are routed in (with --balancer)
        #[arg(long, requires = "balancer")]
        pool: Option<String>,
        /// The balancer that holds the pool
        #[arg(long, requires = "pool")]
        balancer: Option<String>,
        /// Take the pool over from the swarm that routes it now (that swarm loses it)
        #[arg(long, requires = "pool")]
        take_pool: bool,
    },
    /// Show a swarm (by name `app-config-proc` or id)
    Show { swarm: String },
    /// Change a swarm's settings (nothing changes on hosts until it is dispatched)
    Edit {
        swarm: String,
        /// Another app (the next dispatch replaces the procs; the old ones retire after it)
        #[arg(long)]
        app: Option<String>,
        /// Another Procfile process type
        #[arg(long = "proc")]
        proc_type: Option<String>,
        /// Another config name
        #[arg(long)]
        config: Option<String>,
        /// Another squad
        #[arg(long)]
        squad: Option<String>,
        #[arg(long)]
        version: Option<String>,
        #[arg(long)]
        size: Option<u32>,
        /// New procs per round (0 = all at once)
        #[arg(long)]
        batch: Option<u32>,
        /// Self-healing delay in seconds (0 = off)
        #[arg(long, value_name = "SECS")]
        heal_after: Option<u32>,
        /// How its procs run: plain or sandbox
        #[arg(long, value_parser = ["plain", "sandbox"])]
        runner: Option<String>,
        /// Build in and run on this stack; an empty value goes back to the app's
        #[arg(long)]
        stack: Option<String>,
        /// A YAML file of settings (replaces the swarm's)
        #[arg(long, value_name = "FILE")]
        settings: Option<std::path::PathBuf>,
        /// A YAML file of env values (replaces the swarm's; a masked value keeps its secret)
        #[arg(long, value_name = "FILE")]
        env: Option<std::path::PathBuf>,
        /// Ingredient names in order, replacing the swarm's (repeatable)
        #[arg(long = "ingredient")]
        ingredients: Vec<String>,
        /// Leave new procs whose uptests failed in place
        #[arg(long)]
        keep_failed: Option<bool>,
        /// Route the procs in this pool (with --balancer)
        #[arg(long, requires = "balancer")]
        pool: Option<String>,
        /// The balancer that holds the pool
        #[arg(long, requires = "pool")]
        balancer: Option<String>,
        /// Stop routing the swarm through a balancer
        #[arg(long, conflicts_with_all = ["pool", "balancer"])]
        no_pool: bool,
        /// Take the pool over from the swarm that routes it now (that swarm loses it)
        #[arg(long, requires = "pool")]
        take_pool: bool,
    },
    /// Delete a swarm; its procs keep running (listed by `vr orphans`) unless --take-down
    Delete {
        swarm: String,
        /// Drain and destroy its procs first
        #[arg(long)]
        take_down: bool,
    },
    /// A swarm's dispatches, newest first, with what each changed
    History { swarm: String },
    /// The config the swarm's next dispatch would release: each key and the layer it comes from
    Preview { swarm: String },
    /// Dispatch again what an earlier successful dispatch ran (its settings and build)
    /// [default: the newest one of another release]
    Rollback {
        swarm: String,
        dispatch: Option<i64>,
    },
}

/// The swarms whose names match `pattern` (a whole-name regex), minus those matching any
/// `exclude`, within `squad` if given.
fn select<'a>(
    swarms: &'a [Swarm],
    pattern: &str,
    exclude: &[String],
    squad: Option<&str>,
) -> anyhow::Result<Vec<&'a Swarm>> {
    let anchored = |p: &str| {
        Regex::new(&format!("^(?:{p})$")).with_context(|| format!("{p:?} is not a valid regex"))
    };
    let include = anchored(pattern)?;
    let excludes = exclude
        .iter()
        .map(|p| anchored(p))
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(swarms
        .iter()
        .filter(|s| include.is_match(&s.name))
        .filter(|s| !excludes.iter().any(|x| x.is_match(&s.name)))
        .filter(|s| squad.is_none_or(|q| s.spec.squad == q))
        .collect())
}

/// Names as `vr list-swarms` prints them: with the squad when two swarms share a name.
fn labels(swarms: &[&Swarm]) -> Vec<String> {
    swarms
        .iter()
        .map(|s| {
            if swarms.iter().filter(|o| o.name == s.name).count() > 1 {
                format!("{} (squad {})", s.name, s.spec.squad)
            } else {
                s.name.clone()
            }
        })
        .collect()
}

pub async fn list(args: ClientArgs, pattern: Option<String>) -> anyhow::Result<()> {
    let c = client(&args)?;
    let all: Vec<Swarm> = c.get(paths::SWARMS).await?;
    let picked = select(&all, pattern.as_deref().unwrap_or(".*"), &[], None)?;
    if args.json {
        return print_json(&picked);
    }
    let mut lines = labels(&picked);
    lines.sort();
    for l in lines {
        println!("{l}");
    }
    Ok(())
}

/// Options of `vr swarm REGEX VERSION|-`.
pub struct DispatchArgs {
    pub pattern: String,
    pub version: String,
    pub exclude: Vec<String>,
    pub squad: Option<String>,
    pub size: Option<u32>,
    pub dry_run: bool,
    pub countdown: u64,
}

/// Dispatches every matching swarm, printing each one's steps as they end and a summary;
/// fails if any dispatch failed.
pub async fn dispatch(args: ClientArgs, d: DispatchArgs) -> anyhow::Result<()> {
    let c = client(&args)?;
    let all: Vec<Swarm> = c.get(paths::SWARMS).await?;
    let picked = select(&all, &d.pattern, &d.exclude, d.squad.as_deref())?;
    if picked.is_empty() {
        bail!("no swarm matches {:?} (see `vr list-swarms`)", d.pattern);
    }
    if !args.json {
        let names = labels(&picked);
        eprintln!(
            "{} {} swarm(s) at {}: {}",
            if d.dry_run { "planning" } else { "dispatching" },
            picked.len(),
            d.version,
            names.join(", ")
        );
        for left in (1..=d.countdown).rev() {
            eprintln!("starting in {left} s (Ctrl-C to stop)");
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }
    let req = DispatchRequest {
        version: Some(d.version.clone()),
        size: d.size,
        dry_run: d.dry_run,
    };
    // All are queued first, so they run at once (each swarm's own dispatches run in turn).
    let mut started = Vec::new();
    for s in &picked {
        let queued: Dispatch = c.post(&paths::dispatch_swarm(s.id), &req).await?;
        started.push(queued);
    }
    let ended = follow_all(&c, started, args.json).await?;
    if args.json {
        print_json(&ended)?;
    } else {
        eprintln!();
        for e in &ended {
            eprintln!(
                "{:<9} {} (dispatch #{}){}",
                e.status.as_str(),
                e.swarm,
                e.id,
                e.error
                    .as_deref()
                    .map(|why| format!(": {}", why.lines().next().unwrap_or("")))
                    .unwrap_or_default()
            );
        }
    }
    let failed = ended
        .iter()
        .filter(|e| e.status != DispatchStatus::Succeeded)
        .count();
    if failed > 0 {
        bail!("{failed} of {} dispatch(es) did not succeed", ended.len());
    }
    Ok(())
}

/// Waits for the dispatches to end, printing each one's steps as they finish. Each pass asks
/// for every one still in flight and waits only if some are: dispatches of swarms that already
/// match end in milliseconds, so 50 of them take one pass, not 50 waits.
async fn follow_all(
    c: &Client,
    mut all: Vec<Dispatch>,
    quiet: bool,
) -> anyhow::Result<Vec<Dispatch>> {
    let mut shown = vec![0; all.len()];
    // On a terminal, a bar of the dispatches ended so far under the steps.
    let mut bar = Progress::new(if quiet { 0 } else { all.len() });
    loop {
        let mut pending = false;
        for (d, shown) in all.iter_mut().zip(shown.iter_mut()) {
            if d.status.in_flight() {
                *d = c.get(&paths::dispatch(d.id)).await?;
            }
            if !quiet {
                for s in d.steps.iter().skip(*shown) {
                    bar.println(&format!(
                        "{}: {} {} ({} ms): {}",
                        d.swarm,
                        if s.ok { "ok  " } else { "FAIL" },
                        s.name.label(),
                        s.ms,
                        s.message.replace('\n', "\n    ")
                    ));
                }
            }
            *shown = d.steps.len();
            pending |= d.status.in_flight();
        }
        let done = all.iter().filter(|d| !d.status.in_flight()).count();
        let current = all
            .iter()
            .find(|d| d.status.in_flight())
            .map_or("", |d| d.swarm.as_str());
        bar.set(done, &format!("dispatch(es) ended {current}"));
        if !pending {
            bar.finish();
            return Ok(all);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The swarm `key` names: an id, or a name (`app-config-proc`) that only one swarm has.
async fn find(c: &Client, key: &str) -> anyhow::Result<Swarm> {
    let all: Vec<Swarm> = c.get(paths::SWARMS).await?;
    if let Ok(id) = key.trim_start_matches('#').parse::<i64>()
        && let Some(s) = all.iter().find(|s| s.id == id)
    {
        return Ok(s.clone());
    }
    let named: Vec<&Swarm> = all.iter().filter(|s| s.name == key).collect();
    match named.as_slice() {
        [one] => Ok((*one).clone()),
        [] => Err(anyhow!("no swarm named {key:?} (see `vr list-swarms`)")),
        many => Err(anyhow!(
            "{} swarms are named {key}: give the id of one ({})",
            many.len(),
            many.iter()
                .map(|s| format!("#{} on squad {}", s.id, s.spec.squad))
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

/// A swarm just written: as JSON, or a line saying how to dispatch it.
/// The query that confirms taking a pool over.
fn take(take_pool: bool) -> &'static str {
    if take_pool {
        vr_app::swarm::TAKE_POOL
    } else {
        ""
    }
}

fn print_saved(args: &ClientArgs, s: &Swarm, what: &str) -> anyhow::Result<()> {
    if args.json {
        return print_json(s);
    }
    println!(
        "swarm #{} {} {what}; dispatch it with `vr swarm {} -`",
        s.id, s.name, s.name
    );
    Ok(())
}

fn read_file(path: Option<&std::path::Path>) -> anyhow::Result<String> {
    match path {
        Some(p) => std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display())),
        None => Ok(String::new()),
    }
}

pub async fn command(args: ClientArgs, command: SwarmCommand) -> anyhow::Result<()> {
    let c = client(&args)?;
    match command {
        SwarmCommand::Create {
            app,
            version,
            proc_type,
            config,
            squad,
            size,
            one_per_host,
            no_port,
            batch,
            heal_after,
            runner,
            stack,
            settings,
            env,
            ingredients,
            pool,
            balancer,
            take_pool,
        } => {
            let spec = SwarmSpec {
                runner: vr_app::release::Runner::parse(&runner).unwrap_or_default(),
                stack: stack.filter(|s| !s.is_empty()),
                pool,
                balancer,
                app,
                version,
                proc_type,
                config,
                squad,
                size,
                placement: if one_per_host {
                    Placement::OnePerHost
                } else {
                    Placement::Spread
                },
                batch_size: batch,
                heal_after_secs: heal_after,
                uses_ports: !no_port,
                settings_yaml: read_file(settings.as_deref())?,
                env_yaml: read_file(env.as_deref())?,
                ingredients,
                ..SwarmSpec::default()
            };
            let path = format!("{}{}", paths::SWARMS, take(take_pool));
            let made: Swarm = c.post(&path, &spec).await?;
            print_saved(&args, &made, "created")
        }
        SwarmCommand::Show { swarm } => {
            let s = find(&c, &swarm).await?;
            if args.json {
                return print_json(&s);
            }
            let spec = &s.spec;
            println!("swarm #{} {}", s.id, s.name);
            let st = &s.status;
            println!(
                "  status     {} ({} of {} running, {} missing, {} extra, {} stale, {} unknown, {} orphaned)",
                st.state.as_str(),
                st.running,
                st.wanted,
                st.missing,
                st.extra,
                st.stale,
                st.unknown,
                st.orphaned
            );
            println!("  squad      {}", spec.squad);
            println!("  version    {}", spec.version);
            println!("  size       {} ({})", spec.size, spec.placement.as_str());
            println!("  batch      {}", spec.batch_size);
            println!("  runner     {}", spec.runner.as_str());
            if let Some(stack) = &spec.stack {
                println!("  stack      {stack}");
            }
            println!(
                "  self-heal  {}",
                match spec.heal_after_secs {
                    0 => "off".to_string(),
                    n => format!("after {n} s unreachable"),
                }
            );
            println!(
                "  ports      {}",
                if spec.uses_ports {
                    "yes"
                } else {
                    "no (port 0)"
                }
            );
            println!(
                "  release    {}",
                s.release_id.map_or("none yet".into(), |r| format!("#{r}"))
            );
            println!("  ingredients {}", spec.ingredients.join(", "));
            for (k, v) in &s.env {
                println!("  env {k}={v}");
            }
            Ok(())
        }
        SwarmCommand::Edit {
            swarm,
            app,
            proc_type,
            config,
            squad,
            version,
            size,
            batch,
            heal_after,
            runner,
            stack,
            settings,
            env,
            ingredients,
            keep_failed,
            pool,
            balancer,
            no_pool,
            take_pool,
        } => {
            let s = find(&c, &swarm).await?;
            // The answer's env has secret values masked; sent back, they keep their values.
            let mut spec = s.spec.clone();
            for (field, given) in [
                (&mut spec.app, app),
                (&mut spec.proc_type, proc_type),
                (&mut spec.config, config),
                (&mut spec.squad, squad),
            ] {
                if let Some(v) = given {
                    *field = v;
                }
            }
            if let Some(v) = version {
                spec.version = v;
            }
            if let Some(n) = size {
                spec.size = n;
            }
            if let Some(b) = batch {
                spec.batch_size = b;
            }
            if let Some(h) = heal_after {
                spec.heal_after_secs = h;
            }
            if let Some(r) = runner.as_deref().and_then(vr_app::release::Runner::parse) {
                spec.runner = r;
            }
            if let Some(stack) = stack {
                spec.stack = (!stack.is_empty()).then_some(stack);
            }
            if settings.is_some() {
                spec.settings_yaml = read_file(settings.as_deref())?;
            }
            if env.is_some() {
                spec.env_yaml = read_file(env.as_deref())?;
            }
            if !ingredients.is_empty() {
                spec.ingredients = ingredients;
            }
            if let Some(k) = keep_failed {
                spec.keep_failed = k;
            }
            if pool.is_some() || no_pool {
                spec.pool = pool;
                spec.balancer = balancer;
            }
            let path = format!("{}{}", paths::swarm(s.id), take(take_pool));
            let saved: Swarm = c.put(&path, &spec).await?;
            print_saved(&args, &saved, "saved")
        }
        SwarmCommand::Delete { swarm, take_down } => {
            let s = find(&c, &swarm).await?;
            let query = if take_down {
                vr_app::swarm::TAKE_DOWN
            } else {
                ""
            };
            c.delete(&format!("{}{query}", paths::swarm(s.id))).await?;
            if !args.json {
                if take_down {
                    println!(
                        "swarm #{} {} deleted; its procs were drained and destroyed",
                        s.id, s.name
                    );
                } else {
                    println!(
                        "swarm #{} {} deleted; its procs keep running (see `vr orphans`)",
                        s.id, s.name
                    );
                }
            }
            Ok(())
        }
        SwarmCommand::Rollback { swarm, dispatch } => {
            let s = find(&c, &swarm).await?;
            let queued: Dispatch = c
                .post(&paths::rollback(s.id), &RollbackRequest { dispatch })
                .await?;
            let id = queued.id;
            let end = follow_all(&c, vec![queued], args.json)
                .await?
                .pop()
                .ok_or_else(|| anyhow!("dispatch {id} was not followed"))?;
            if args.json {
                print_json(&end)?;
            }
            match end.status {
                DispatchStatus::Succeeded => Ok(()),
                other => Err(anyhow!(
                    "rollback dispatch #{} {}: {}",
                    end.id,
                    other.as_str(),
                    end.error.as_deref().unwrap_or("")
                )),
            }
        }
        SwarmCommand::Preview { swarm } => {
            let s = find(&c, &swarm).await?;
            let p: vr_app::release::ReleasePreview = c
                .post(&format!("{}?id={}", paths::PREVIEW, s.id), &s.spec)
                .await?;
            if args.json {
                return print_json(&p);
            }
            println!("swarm #{} {}: release {} would hold", s.id, s.name, p.hash);
            for (title, keys) in [("settings", &p.settings_from), ("env", &p.env_from)] {
                println!("{title}:");
                if keys.is_empty() {
                    println!("  (none)");
                }
                for k in keys {
                    let value = match &k.value {
                        serde_json::Value::String(v) => v.clone(),
                        other => other.to_string(),
                    };
                    println!("  {} = {value}   ({})", k.key, k.from.label());
                }
            }
            Ok(())
        }
        SwarmCommand::History { swarm } => {
            let s = find(&c, &swarm).await?;
            let list: Vec<Dispatch> = c.get_query(paths::DISPATCHES, &[("swarm", s.id)]).await?;
            if args.json {
                return print_json(&list);
            }
            for d in &list {
                println!(
                    "#{:<5} {:<9} {} {} by {}{}{}{}",
                    d.id,
                    d.status.as_str(),
                    format_utc(d.created_at),
                    d.version,
                    d.requested_by,
                    d.release_id
                        .map(|r| format!(" release #{r}"))
                        .unwrap_or_default(),
                    if d.dry_run { " (dry run)" } else { "" },
                    d.rollback_of
                        .map(|r| format!(" (rollback to #{r})"))
                        .unwrap_or_default()
                );
                for c in &d.changes {
                    println!("       {}: {} → {}", c.field, c.before, c.after);
                }
                if let (Some(before), Some(now)) =
                    (vr_app::swarm::replaced_release(&list, d), d.release_id)
                {
                    println!(
                        "       config: release #{before} → #{now} (see `vr compare-releases {before} {now}`)"
                    );
                }
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn swarm(id: i64, app: &str, config: &str, proc_type: &str, squad: &str) -> Swarm {
        Swarm {
            id,
            name: vr_app::swarm::swarm_name(app, config, proc_type),
            spec: SwarmSpec {
                app: app.into(),
                config: config.into(),
                proc_type: proc_type.into(),
                squad: squad.into(),
                ..SwarmSpec::default()
            },
            settings: Default::default(),
            env: Default::default(),
            release_id: None,
            release_hash: None,
            last_dispatch: None,
            status: vr_app::swarm::assess(id, &SwarmSpec::default(), None, None, &[], &[]),
            created_by: String::new(),
            created_at: 0,
            updated_at: 0,
        }
    }

    fn names(v: Vec<&Swarm>) -> Vec<String> {
        v.into_iter().map(|s| s.name.clone()).collect()
    }

    #[test]
    fn regexes_are_real_and_match_whole_names() {
        let all = [
            swarm(1, "a", "b", "c", "eu"),
            swarm(2, "d", "e", "f", "eu"),
            swarm(3, "shop", "prod", "web", "eu"),
            swarm(4, "shop", "prod", "web", "us"),
        ];
        // VR's client split on dashes and matched nothing here.
        assert_eq!(
            names(select(&all, "a-b-c|d-e-f", &[], None).expect("ok")),
            ["a-b-c", "d-e-f"]
        );
        // Whole names only: `shop` alone is not `shop-prod-web`.
        assert!(select(&all, "shop", &[], None).expect("ok").is_empty());
        assert_eq!(
            select(&all, "shop-.*", &[], Some("us")).expect("ok").len(),
            1
        );
        assert_eq!(
            names(select(&all, ".*", &["shop-.*".into(), "a-b-c".into()], None).expect("ok")),
            ["d-e-f"]
        );
        assert!(select(&all, "(", &[], None).is_err());
        let both = select(&all, "shop-prod-web", &[], None).expect("ok");
        assert_eq!(
            labels(&both),
            ["shop-prod-web (squad eu)", "shop-prod-web (squad us)"]
        );
    }
}
