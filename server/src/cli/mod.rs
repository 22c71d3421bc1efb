//! The command line: `vr serve` (the default) and client commands that talk to a server's API.
//! This is glue: errors are `anyhow` with context, printed once by `main`.

mod balancers;
mod builds;
mod client;
mod credentials;
mod deploys;
mod events;
mod fleet;
mod local;
mod login;
mod logs;
mod orphans;
mod progress;
mod releases;
mod stacks;
mod swarms;
mod webhooks;

use crate::config::ServeArgs;
use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "vr",
    version,
    about = "Deploy manager: builds apps, makes releases and runs them under Supervisor over SSH.",
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    /// `vr` alone starts the server with these flags.
    #[command(flatten)]
    pub serve: ServeArgs,
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// How client commands reach the server.
#[derive(Debug, Clone, clap::Args)]
pub struct ClientArgs {
    /// Server URL [default: the one saved by `vr login`, else http://127.0.0.1:8000]
    #[arg(long, env = "VR_URL", global = true)]
    pub url: Option<String>,
    /// API token [default: the one saved by `vr login`]
    #[arg(long, env = "VR_TOKEN", global = true, hide_env_values = true)]
    pub token: Option<String>,
    /// Print JSON instead of text, for scripts
    #[arg(long, global = true)]
    pub json: bool,
    /// Seconds to wait for the server's next bytes before giving up [default: 60]
    #[arg(long, env = "VR_TIMEOUT", global = true, value_name = "SECS")]
    pub timeout: Option<u64>,
}

impl ClientArgs {
    pub fn timeout_duration(&self) -> std::time::Duration {
        self.timeout.map_or(client::READ_TIMEOUT, |s| {
            std::time::Duration::from_secs(s.max(1))
        })
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start the server (UI and API)
    Serve(ServeArgs),
    /// Write a consistent copy of the database while the server runs
    Backup {
        /// Destination file (must not exist)
        file: std::path::PathBuf,
        #[arg(long, env = "VR_DATA_DIR")]
        data_dir: Option<std::path::PathBuf>,
    },
    /// Print a completion script for a shell (bash: `vr completions bash > ~/.vr.bash`,
    /// then `source ~/.vr.bash` in ~/.bashrc)
    Completions {
        /// bash, zsh, fish, elvish or powershell
        shell: clap_complete::Shell,
    },
    /// Print the server's SSH public key, to install in hosts' authorized_keys
    Pubkey {
        #[arg(long, env = "VR_DATA_DIR")]
        data_dir: Option<std::path::PathBuf>,
    },
    /// Sign in and save an API token for later commands
    Login {
        #[command(flatten)]
        client: ClientArgs,
        /// Username (asked for when absent)
        #[arg(long)]
        user: Option<String>,
        /// Read the password from standard input (for scripts)
        #[arg(long)]
        password_stdin: bool,
        /// Label for the token [default: cli@HOSTNAME]
        #[arg(long)]
        name: Option<String>,
        /// The saved token stops working after this many days [default: never]
        #[arg(long, value_name = "DAYS")]
        expires_days: Option<u32>,
    },
    /// Revoke and forget the saved token
    Logout {
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Show who the saved token belongs to
    Whoami {
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Show the merged log of matching procs (stdout and stderr of each, labelled), and
    /// follow it
    Logs {
        #[command(flatten)]
        client: ClientArgs,
        /// Regex matched against app-config-proc (or the program name of procs vr did not
        /// deploy); '' for all
        pattern: String,
        /// Only procs on hosts matching this regex
        #[arg(long)]
        host: Option<String>,
        /// Only the procs' stderr
        #[arg(long, conflicts_with = "stdout")]
        stderr: bool,
        /// Only the procs' stdout
        #[arg(long)]
        stdout: bool,
        /// Only lines containing this text (case-insensitive)
        #[arg(long)]
        grep: Option<String>,
        /// Lines of history per proc and stream first
        #[arg(short = 'n', long = "lines", default_value_t = vr_app::logs::DEFAULT_LINES)]
        lines: u32,
        /// Keep printing new lines until the server ends the stream or Ctrl-C
        #[arg(long, short)]
        follow: bool,
    },
    /// Show the activity log
    Events {
        #[command(flatten)]
        client: ClientArgs,
        /// Keep printing new events as they happen
        #[arg(long, short)]
        follow: bool,
        /// How many recent events to show
        #[arg(long, default_value_t = 50)]
        limit: u32,
        /// Only this user's events
        #[arg(long)]
        actor: Option<String>,
        /// Only actions starting with this, e.g. `user.`
        #[arg(long)]
        action: Option<String>,
    },
    /// List squads
    Squads {
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Add, edit or delete a squad
    Squad {
        #[command(flatten)]
        client: ClientArgs,
        #[command(subcommand)]
        command: fleet::SquadCommand,
    },
    /// List hosts with their health
    Hosts {
        #[command(flatten)]
        client: ClientArgs,
        /// Only hosts of this squad
        #[arg(long)]
        squad: Option<String>,
    },
    /// Add, edit, test, trust or delete a host
    Host {
        #[command(flatten)]
        client: ClientArgs,
        #[command(subcommand)]
        command: fleet::HostCommand,
    },
    /// List apps
    Apps {
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Add, edit or delete an app
    App {
        #[command(flatten)]
        client: ClientArgs,
        #[command(subcommand)]
        command: builds::AppCommand,
    },
    /// List stack images: OS images builds compile in and sandboxed procs run on
    Stacks {
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Upload an image of a stack
    Stack {
        #[command(flatten)]
        client: ClientArgs,
        #[command(subcommand)]
        command: stacks::StackCommand,
    },
    /// List buildpacks in detection order
    Buildpacks {
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Add, edit or remove a buildpack
    Buildpack {
        #[command(flatten)]
        client: ClientArgs,
        #[command(subcommand)]
        command: builds::BuildpackCommand,
    },
    /// Build APP at VERSION (tag, branch or commit), or `build upload APP VERSION FILE`
    #[command(args_conflicts_with_subcommands = true)]
    Build {
        #[command(flatten)]
        client: ClientArgs,
        #[command(subcommand)]
        upload: Option<builds::BuildSubcommand>,
        app: Option<String>,
        version: Option<String>,
        /// Build again even if this commit was built
        #[arg(long)]
        force: bool,
        /// Compile in this stack instead of the app's
        #[arg(long)]
        stack: Option<String>,
        /// Print the log until the build ends; exit non-zero if it failed
        #[arg(long, short)]
        follow: bool,
    },
    /// Procs vr deployed for a swarm that no longer owns them; `--clean` drains and destroys them
    Orphans {
        #[command(flatten)]
        client: ClientArgs,
        #[arg(long)]
        clean: bool,
        /// Do not ask for confirmation
        #[arg(long, short)]
        yes: bool,
    },
    /// List balancers, their pools and whether any drifts
    Balancers {
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Add, edit, show or delete a balancer, or re-apply one of its pools
    Balancer {
        #[command(flatten)]
        client: ClientArgs,
        #[command(subcommand)]
        command: balancers::BalancerCommand,
    },
    /// List webhooks (notifications), their events and how their deliveries go (admins)
    Webhooks {
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Add, edit, delete or test a webhook, or list its deliveries (admins)
    Webhook {
        #[command(flatten)]
        client: ClientArgs,
        #[command(subcommand)]
        command: webhooks::WebhookCommand,
    },
    /// List swarms (`app-config-proc`, sorted) whose names match REGEX [default: all]
    ListSwarms {
        #[command(flatten)]
        client: ClientArgs,
        regex: Option<String>,
    },
    /// Dispatch every swarm matching REGEX at VERSION (`-` keeps each one's), or
    /// `swarm create|show|delete|history`
    #[command(args_conflicts_with_subcommands = true)]
    Swarm {
        #[command(flatten)]
        client: ClientArgs,
        #[command(subcommand)]
        command: Option<swarms::SwarmCommand>,
        /// A regex over whole swarm names (`a-b-c|d-e-f` works)
        regex: Option<String>,
        /// Tag, branch or commit; `-` keeps each swarm's version
        #[arg(value_name = "VERSION")]
        to_version: Option<String>,
        /// Leave out swarms matching this regex (repeatable)
        #[arg(long, short = 'x')]
        exclude: Vec<String>,
        /// Only swarms on this squad
        #[arg(long)]
        squad: Option<String>,
        /// Set the size of every matching swarm
        #[arg(long)]
        size: Option<u32>,
        /// Show the plans; change nothing
        #[arg(long)]
        dry_run: bool,
        /// Seconds to wait (printing the swarms) before dispatching
        #[arg(long, default_value_t = 0, value_name = "SECS")]
        countdown: u64,
    },
    /// List builds, newest first
    Builds {
        #[command(flatten)]
        client: ClientArgs,
        /// Only this app's
        app: Option<String>,
    },
    /// List releases, newest first
    Releases {
        #[command(flatten)]
        client: ClientArgs,
        app: Option<String>,
    },
    /// Make or show a release
    Release {
        #[command(flatten)]
        client: ClientArgs,
        #[command(subcommand)]
        command: releases::ReleaseCommand,
    },
    /// What differs between two releases
    CompareReleases {
        #[command(flatten)]
        client: ClientArgs,
        a: i64,
        b: i64,
    },
    /// List ingredients
    Ingredients {
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Add, edit or remove an ingredient
    Ingredient {
        #[command(flatten)]
        client: ClientArgs,
        #[command(subcommand)]
        command: releases::IngredientCommand,
    },
    /// Deploy one proc of a release on a host (port 0: binds no port)
    Deploy {
        #[command(flatten)]
        client: ClientArgs,
        release: i64,
        host: String,
        port: u16,
        #[arg(value_name = "PROC")]
        proc_type: String,
        /// Config name, e.g. prod
        #[arg(long, short)]
        config: String,
        /// Return once started instead of following the steps
        #[arg(long)]
        no_wait: bool,
    },
    /// Latest uptest results of deployed procs
    Uptests {
        #[command(flatten)]
        client: ClientArgs,
        #[arg(long)]
        host: Option<String>,
        /// Program name
        #[arg(long)]
        program: Option<String>,
    },
    /// List deploys, newest first
    Deploys {
        #[command(flatten)]
        client: ClientArgs,
    },
    /// List, start, stop, restart or destroy procs across hosts
    Procs {
        #[command(flatten)]
        client: ClientArgs,
        #[command(subcommand)]
        command: fleet::ProcsCommand,
    },
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        None => local::serve(cli.serve).await,
        Some(Command::Serve(args)) => local::serve(args).await,
        Some(Command::Backup { file, data_dir }) => local::backup(&file, data_dir),
        Some(Command::Pubkey { data_dir }) => local::pubkey(data_dir),
        Some(Command::Completions { shell }) => {
            use clap::CommandFactory;
            use std::io::Write;
            // Into memory first: the generator panics on a closed pipe (`| head`).
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "vr", &mut script);
            match std::io::stdout().write_all(&script) {
                Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
                _ => Ok(()),
            }
        }
        Some(Command::Login {
            client,
            user,
            password_stdin,
            name,
            expires_days,
        }) => login::login(client, user, password_stdin, name, expires_days).await,
        Some(Command::Logout { client }) => login::logout(client).await,
        Some(Command::Whoami { client }) => login::whoami(client).await,
        Some(Command::Logs {
            client,
            pattern,
            host,
            stderr,
            stdout,
            grep,
            lines,
            follow,
        }) => {
            let stream = match (stdout, stderr) {
                (true, _) => Some(vr_app::fleet::LogStream::Stdout),
                (_, true) => Some(vr_app::fleet::LogStream::Stderr),
                _ => None,
            };
            let args = logs::LogsArgs {
                pattern,
                host,
                stream,
                grep,
                lines,
                follow,
            };
            logs::run(client, args).await
        }
        Some(Command::Events {
            client,
            follow,
            limit,
            actor,
            action,
        }) => events::run(client, follow, limit, actor, action).await,
        Some(Command::Squads { client }) => fleet::squads(client).await,
        Some(Command::Squad { client, command }) => fleet::squad(client, command).await,
        Some(Command::Hosts { client, squad }) => fleet::hosts(client, squad).await,
        Some(Command::Host { client, command }) => fleet::host(client, command).await,
        Some(Command::Procs { client, command }) => fleet::procs(client, command).await,
        Some(Command::Apps { client }) => builds::apps(client).await,
        Some(Command::App { client, command }) => builds::app(client, command).await,
        Some(Command::Buildpacks { client }) => builds::buildpacks(client).await,
        Some(Command::Stacks { client }) => stacks::stacks(client).await,
        Some(Command::Stack { client, command }) => stacks::stack(client, command).await,
        Some(Command::Buildpack { client, command }) => builds::buildpack(client, command).await,
        Some(Command::Builds { client, app }) => builds::builds(client, app).await,
        Some(Command::Deploy {
            client,
            release,
            host,
            port,
            proc_type,
            config,
            no_wait,
        }) => deploys::deploy(client, release, host, port, proc_type, config, no_wait).await,
        Some(Command::Deploys { client }) => deploys::deploys(client).await,
        Some(Command::Orphans { client, clean, yes }) => orphans::orphans(client, clean, yes).await,
        Some(Command::Balancers { client }) => balancers::list(client).await,
        Some(Command::Webhooks { client }) => webhooks::list(client).await,
        Some(Command::Webhook { client, command }) => webhooks::command(client, command).await,
        Some(Command::Balancer { client, command }) => balancers::command(client, command).await,
        Some(Command::ListSwarms { client, regex }) => swarms::list(client, regex).await,
        Some(Command::Swarm {
            client,
            command,
            regex,
            to_version,
            exclude,
            squad,
            size,
            dry_run,
            countdown,
        }) => match (command, regex, to_version) {
            (Some(command), _, _) => swarms::command(client, command).await,
            (None, Some(pattern), Some(version)) => {
                let args = swarms::DispatchArgs {
                    pattern,
                    version,
                    exclude,
                    squad,
                    size,
                    dry_run,
                    countdown,
                };
                swarms::dispatch(client, args).await
            }
            _ => Err(anyhow::anyhow!(
                "usage: vr swarm REGEX VERSION|- [-x REGEX] [--squad S] [--size N] [--dry-run] \
                 | vr swarm create|show|delete|history"
            )),
        },
        Some(Command::Uptests {
            client,
            host,
            program,
        }) => deploys::uptests(client, host, program).await,
        Some(Command::Releases { client, app }) => releases::releases(client, app).await,
        Some(Command::Release { client, command }) => releases::release(client, command).await,
        Some(Command::CompareReleases { client, a, b }) => releases::compare(client, a, b).await,
        Some(Command::Ingredients { client }) => releases::ingredients(client).await,
        Some(Command::Ingredient { client, command }) => {
            releases::ingredient(client, command).await
        }
        Some(Command::Build {
            client,
            upload,
            app,
            version,
            force,
            stack,
            follow,
        }) => match (upload, app, version) {
            (Some(builds::BuildSubcommand::Upload { app, version, file }), _, _) => {
                builds::upload(client, app, version, file).await
            }
            (None, Some(app), Some(version)) => {
                builds::build(client, app, version, force, stack, follow).await
            }
            _ => Err(anyhow::anyhow!(
                "usage: vr build APP VERSION [--force] [--follow] | vr build upload APP VERSION FILE"
            )),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    /// No subcommand may have an argument with the id of a global one (`url`, `token`,
    /// `json`): clap would put its value into the global, and a buildpack's URL would become
    /// the server the token is sent to.
    #[test]
    fn no_argument_shadows_a_global_one() {
        fn walk(cmd: &clap::Command, path: &str, out: &mut Vec<String>) {
            for a in cmd.get_arguments() {
                let id = a.get_id().as_str();
                if matches!(id, "url" | "token" | "json" | "timeout") && !a.is_global_set() {
                    out.push(format!("{path} {id}"));
                }
            }
            for sub in cmd.get_subcommands() {
                walk(sub, &format!("{path} {}", sub.get_name()), out);
            }
        }
        let mut bad = Vec::new();
        walk(&Cli::command(), "vr", &mut bad);
        assert!(bad.is_empty(), "{bad:?}");
        Cli::command().debug_assert();
    }

    #[test]
    fn a_buildpack_url_is_the_buildpacks_not_the_servers() {
        let cli = Cli::try_parse_from([
            "vr",
            "buildpack",
            "add",
            "https://github.com/org/buildpack-python.git#v3",
            "--description",
            "python",
        ])
        .expect("parses");
        let Some(Command::Buildpack { client, command }) = cli.command else {
            panic!("not a buildpack command");
        };
        assert_eq!(client.url, None);
        let builds::BuildpackCommand::Add { url, .. } = command else {
            panic!("not add");
        };
        assert_eq!(url, "https://github.com/org/buildpack-python.git#v3");
    }
}
