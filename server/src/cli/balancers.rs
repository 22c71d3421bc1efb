//! `vr balancers` and `vr balancer add|edit|show|rm|apply`.

use super::ClientArgs;
use super::client::{client, print_json};
use vr_app::balancer::{Balancer, BalancerKind, BalancerSpec, paths};

#[derive(Debug, clap::Args)]
pub struct BalancerFields {
    /// nginx, haproxy or none
    #[arg(long)]
    kind: Option<String>,
    /// A host (known to vr) that runs the balancer (repeatable; replaces the list)
    #[arg(long = "host")]
    hosts: Vec<String>,
    /// The folder of pool files [default: the kind's, e.g. /etc/nginx/conf.d]
    #[arg(long)]
    pool_dir: Option<String>,
    /// The command that checks the config [default: the kind's, e.g. `nginx -t`]
    #[arg(long = "validate")]
    validate_cmd: Option<String>,
    /// The command that reloads the balancer [default: the kind's, e.g. `nginx -s reload`]
    #[arg(long = "reload")]
    reload_cmd: Option<String>,
    /// The master's pid file: after a reload vr waits for the old workers to finish
    /// [default: the kind's, e.g. /run/nginx.pid]
    #[arg(long)]
    pid_file: Option<String>,
    /// How long a proc out of its pool keeps running before it stops (ms)
    #[arg(long)]
    drain_ms: Option<u64>,
}

impl BalancerFields {
    /// `spec` with what was given changed.
    fn apply(self, mut spec: BalancerSpec) -> anyhow::Result<BalancerSpec> {
        if let Some(k) = self.kind {
            spec.kind = BalancerKind::parse(&k)
                .ok_or_else(|| anyhow::anyhow!("--kind {k:?}: use nginx, haproxy or none"))?;
        }
        if !self.hosts.is_empty() {
            spec.hosts = self.hosts;
        }
        if let Some(d) = self.pool_dir {
            spec.pool_dir = d;
        }
        if let Some(v) = self.validate_cmd {
            spec.validate_cmd = v;
        }
        if let Some(r) = self.reload_cmd {
            spec.reload_cmd = r;
        }
        if let Some(p) = self.pid_file {
            spec.pid_file = p;
        }
        if let Some(d) = self.drain_ms {
            spec.drain_ms = d;
        }
        Ok(spec)
    }
}

#[derive(Debug, clap::Subcommand)]
pub enum BalancerCommand {
    /// Add a balancer
    Add {
        name: String,
        #[command(flatten)]
        fields: BalancerFields,
    },
    /// Change what is given, keep the rest
    Edit {
        name: String,
        /// A new name
        #[arg(long)]
        rename: Option<String>,
        #[command(flatten)]
        fields: BalancerFields,
    },
    /// A balancer, its pools and what each of its hosts holds
    Show { name: String },
    /// Delete a balancer no swarm routes to (its pool files stay on its hosts)
    Rm { name: String },
    /// Write a pool's nodes to every balancer host again (after fixing a host)
    Apply { name: String, pool: String },
}

pub async fn list(args: ClientArgs) -> anyhow::Result<()> {
    let c = client(&args)?;
    let list: Vec<Balancer> = c.get(paths::BALANCERS).await?;
    if args.json {
        return print_json(&list);
    }
    if list.is_empty() {
        println!("no balancers; add one with `vr balancer add NAME --host HOST`");
    }
    for b in list {
        let drift = b.pools.iter().filter(|p| p.drift()).count();
        println!(
            "{:<20} {:<8} {:>2} pool(s){}  {}",
            b.spec.name,
            b.spec.kind.as_str(),
            b.pools.len(),
            if drift > 0 {
                format!(" ({drift} drifting)")
            } else {
                String::new()
            },
            b.spec.hosts.join(",")
        );
    }
    Ok(())
}

fn print_balancer(b: &Balancer) {
    let s = &b.spec;
    println!("balancer {} ({})", s.name, s.kind.as_str());
    println!("hosts:     {}", s.hosts.join(", "));
    println!("pool dir:  {}", s.pool_dir());
    println!("validate:  {}", s.validate_line());
    println!("reload:    {}", s.reload_line());
    println!("pid file:  {}", s.pid_file_path());
    println!("drain:     {} ms", s.drain_ms);
    for p in &b.pools {
        println!(
            "pool {} — {} node(s){}{}",
            p.pool,
            p.nodes.len(),
            p.swarm
                .as_deref()
                .map(|s| format!(", routed by swarm {s}"))
                .unwrap_or_default(),
            if p.drift() { ", DRIFT" } else { "" }
        );
        for n in &p.nodes {
            println!("  {}:{} {}", n.address, n.port, n.program);
        }
        for h in &p.hosts {
            let state = if h.applied == p.wanted {
                "holds it"
            } else {
                "behind"
            };
            println!(
                "  on {}: {state} — {}",
                h.host,
                h.message.lines().next().unwrap_or("")
            );
        }
    }
}

pub async fn command(args: ClientArgs, cmd: BalancerCommand) -> anyhow::Result<()> {
    let c = client(&args)?;
    let b: Balancer = match cmd {
        BalancerCommand::Add { name, fields } => {
            let spec = fields.apply(BalancerSpec {
                name,
                ..BalancerSpec::default()
            })?;
            c.post(paths::BALANCERS, &spec).await?
        }
        BalancerCommand::Edit {
            name,
            rename,
            fields,
        } => {
            let current: Balancer = c.get(&paths::balancer(&name)).await?;
            let mut spec = fields.apply(current.spec)?;
            if let Some(n) = rename {
                spec.name = n;
            }
            c.put(&paths::balancer(&name), &spec).await?
        }
        BalancerCommand::Show { name } => c.get(&paths::balancer(&name)).await?,
        BalancerCommand::Rm { name } => {
            c.delete(&paths::balancer(&name)).await?;
            println!("deleted balancer {name}");
            return Ok(());
        }
        BalancerCommand::Apply { name, pool } => {
            let b: Balancer = c
                .post(&paths::reapply(&name, &pool), &serde_json::json!({}))
                .await?;
            if args.json {
                return print_json(&b);
            }
            let p = b.pools.iter().find(|p| p.pool == pool);
            print_balancer(&b);
            if p.is_some_and(|p| p.drift()) {
                anyhow::bail!("pool {pool} is still not on every host of {name} (see above)");
            }
            return Ok(());
        }
    };
    if args.json {
        return print_json(&b);
    }
    print_balancer(&b);
    Ok(())
}
