//! A throwaway "Linux host" for tests: its own sshd and its own supervisord, on this machine.
//!
//! `vr` reaches hosts over SSH and drives Supervisor with `supervisorctl`, so a test host is
//! exactly that pair, each with private config, keys, sockets and logs in one temp dir. Hosts on
//! loopback ([`TestHost`]) listen on 127.0.0.1 with a port of their own; hosts in a network
//! namespace (see [`super::netns::NetnsHost`]) reuse this type with another address.
//!
//! Both daemons run in the foreground as children of the test process (`sshd -D`,
//! `supervisord -n`) so they are killed and reaped with everything they started when the host is
//! dropped, and a daemon that dies at start-up is noticed at once instead of at a deadline.

use nix::sys::signal::Signal;
use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::{Mutex, MutexGuard, Once};
use std::time::Duration;

use super::ports::{free_port, tcp_connects, wait_until};
use super::procs;

/// Parent of every host's temp dir. A fixed, short place: supervisord's unix socket path must
/// stay under about 100 bytes, and crashed test processes' hosts can be found and cleaned.
pub(crate) const HOSTS_BASE: &str = "/tmp/vr-test-hosts";

/// How long a daemon may take to answer after it is started. Generous: the machine has two
/// cores shared with compilers; a healthy start takes a fraction of a second.
const READY_TIMEOUT: Duration = Duration::from_secs(20);

/// How long `stop_supervisord` lets supervisord stop its programs before killing everything.
const SUPERVISORD_STOP_TIMEOUT: Duration = Duration::from_secs(15);

/// The environment daemons start with: a real host's daemons do not inherit a test runner's
/// `CARGO_*`, `RUST_LOG` and the like, and programs under supervisord inherit its environment.
const DAEMON_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// Options for starting a host.
#[derive(Debug, Clone, Default)]
pub struct HostOptions {
    /// Public key lines (`ssh-ed25519 AAAA… comment`) allowed to log in as root.
    pub authorized_keys: Vec<String>,
    /// Extra `sshd_config` lines, appended after the harness's own.
    pub extra_sshd_config: String,
    /// sshd logs each login (`LogLevel INFO`), so [`TestHost::logins`] can count connections.
    pub log_logins: bool,
}

/// Where a host lives on the network.
#[derive(Debug, Clone)]
pub(crate) enum Placement {
    /// 127.0.0.1 with a free port.
    Loopback,
    /// Inside network namespace `netns`, listening on `address:22`. `etc_dir` is
    /// `/etc/netns/NS`, which `ip netns exec` bind-mounts over `/etc`.
    Netns {
        netns: String,
        address: Ipv4Addr,
        etc_dir: PathBuf,
    },
    /// One of several hosts in a [`super::sandbox::Sandbox`]: listening on `address:22` in its
    /// namespace, with vr's default layout (`/apps`, `/etc/supervisor/conf.d`, plain
    /// `supervisorctl`, `/srv`) bound to its own dirs in a mount namespace of its daemons.
    Sandbox { netns: String, address: Ipv4Addr },
}

/// The real dir behind `mount` in a sandboxed host's view, under its dir.
const SANDBOX_BINDS: [(&str, &str); 3] = [
    ("apps", "/apps"),
    ("srv", "/srv"),
    ("etc-supervisor", "/etc/supervisor"),
];

/// One simulated host. Dropping it kills its daemons, everything they started, and its files.
#[derive(Debug)]
pub struct TestHost {
    dir: tempfile::TempDir,
    placement: Placement,
    address: IpAddr,
    port: Mutex<u16>,
    sshd: Mutex<Option<Child>>,
    supervisord: Mutex<Option<Child>>,
    /// Processes frozen by [`TestHost::stop_sshd_hanging`], thawed by `resume_sshd`.
    frozen: Mutex<BTreeSet<i32>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A test that panicked while holding a host lock must not stop Drop from cleaning up.
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl TestHost {
    /// Starts a host on 127.0.0.1 with its own port and waits until sshd accepts connections and
    /// supervisord answers.
    pub fn start(opts: HostOptions) -> TestHost {
        TestHost::start_at(opts, Placement::Loopback)
    }

    /// Starts `n` hosts at once (one thread each): Python start-up of supervisord dominates, and
    /// it overlaps well.
    pub fn start_many(n: usize, opts: HostOptions) -> Vec<TestHost> {
        std::thread::scope(|s| {
            let handles: Vec<_> = (0..n)
                .map(|_| {
                    let opts = opts.clone();
                    s.spawn(move || TestHost::start(opts))
                })
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join()
                        .expect("a host failed to start (see its panic above)")
                })
                .collect()
        })
    }

    pub(crate) fn start_at(opts: HostOptions, placement: Placement) -> TestHost {
        procs::become_subreaper();
        clean_stale_hosts();
        std::fs::create_dir_all(HOSTS_BASE).expect("creating the hosts base dir");
        let dir = tempfile::Builder::new()
            .prefix("h")
            .tempdir_in(HOSTS_BASE)
            .expect("creating a host temp dir");
        // Like a real host's /apps: procs that run as another user than root must reach it.
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755))
            .expect("opening up the host dir");
        std::fs::write(dir.path().join("owner.pid"), std::process::id().to_string())
            .expect("writing the host's owner.pid");
        for sub in ["conf.d", "apps", "logs", "srv", "etc-supervisor"] {
            std::fs::create_dir(dir.path().join(sub)).expect("creating a host subdir");
        }
        if let Placement::Sandbox { .. } = &placement {
            std::fs::create_dir(dir.path().join("etc-supervisor/conf.d"))
                .expect("creating the sandboxed conf.d");
            // The mount points must exist; inside, each host sees its own dirs there.
            for (_, target) in SANDBOX_BINDS {
                std::fs::create_dir_all(target).expect("creating a mount point");
            }
        }
        let (address, port) = match &placement {
            Placement::Loopback => (IpAddr::V4(Ipv4Addr::LOCALHOST), free_port()),
            Placement::Netns { address, .. } | Placement::Sandbox { address, .. } => {
                (IpAddr::V4(*address), 22)
            }
        };
        let host = TestHost {
            dir,
            placement,
            address,
            port: Mutex::new(port),
            sshd: Mutex::new(None),
            supervisord: Mutex::new(None),
            frozen: Mutex::new(BTreeSet::new()),
        };
        host.generate_host_key();
        let mut keys = String::new();
        for k in &opts.authorized_keys {
            writeln!(keys, "{}", k.trim()).expect("writing to a String");
        }
        std::fs::write(host.authorized_keys_path(), keys).expect("writing authorized_keys");
        std::fs::write(
            host.dir().join("extra_sshd_config"),
            &opts.extra_sshd_config,
        )
        .expect("writing extra sshd config");
        std::fs::write(
            host.dir().join("log_level"),
            if opts.log_logins { "INFO" } else { "ERROR" },
        )
        .expect("writing the log level");
        host.write_supervisord_conf();
        // Start both daemons before waiting on either, so their start-ups overlap.
        host.spawn_supervisord();
        host.spawn_sshd(true);
        host.wait_supervisord_ready();
        host
    }

    /// The address to SSH to: `127.0.0.1`, or the namespace side of a [`super::netns::NetnsHost`].
    pub fn address(&self) -> String {
        self.address.to_string()
    }

    /// TCP connections to this host's sshd open now (from `/proc/net/tcp`: the harness's
    /// loopback hosts listen on IPv4 in this namespace).
    pub fn open_ssh_connections(&self) -> usize {
        let port = format!(":{:04X}", self.ssh_port());
        std::fs::read_to_string("/proc/net/tcp")
            .unwrap_or_default()
            .lines()
            .skip(1)
            .filter(|l| {
                let f: Vec<&str> = l.split_whitespace().collect();
                // The local address ends in sshd's port; state 01 is ESTABLISHED.
                f.len() > 3 && f[1].ends_with(&port) && f[3] == "01"
            })
            .count()
    }

    pub fn ssh_port(&self) -> u16 {
        *lock(&self.port)
    }

    /// `address():ssh_port()` as a socket address.
    pub fn ssh_addr(&self) -> SocketAddr {
        SocketAddr::new(self.address, self.ssh_port())
    }

    /// The login user: root, as on the seed's hosts.
    pub fn user(&self) -> &'static str {
        ensure_test_login();
        TEST_LOGIN
    }

    /// SSH logins accepted so far (needs [`HostOptions::log_logins`]; counts since sshd last
    /// started).
    pub fn logins(&self) -> usize {
        std::fs::read_to_string(self.dir().join("sshd.log"))
            .unwrap_or_default()
            .lines()
            .filter(|l| l.contains("Accepted publickey"))
            .count()
    }

    /// The host's private dir (configs, keys, sockets, logs).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The command that reaches this host's Supervisor when run over SSH on the host.
    ///
    /// A loopback host shares `/etc` with every other host on this machine, so it names its
    /// config explicitly; a namespaced host has its own `/etc/supervisor/supervisord.conf` and
    /// answers to plain `supervisorctl`, like a real host with default settings.
    pub fn supervisorctl(&self) -> String {
        match self.placement {
            Placement::Loopback => {
                format!("supervisorctl -c {}", self.supervisord_conf().display())
            }
            Placement::Netns { .. } | Placement::Sandbox { .. } => "supervisorctl".to_string(),
        }
    }

    /// Where program config files go (`[include] files = DIR/conf.d/*.conf`). The same path is
    /// valid inside and outside a namespaced host.
    pub fn include_dir(&self) -> PathBuf {
        match self.placement {
            // What the host itself calls /etc/supervisor/conf.d.
            Placement::Sandbox { .. } => self.dir().join("etc-supervisor/conf.d"),
            _ => self.dir().join("conf.d"),
        }
    }

    /// The host's apps root, where `vr` puts procs and unpacked builds.
    pub fn apps_root(&self) -> PathBuf {
        self.dir().join("apps")
    }

    /// supervisord's config file.
    pub fn supervisord_conf(&self) -> PathBuf {
        match self.placement {
            // What the host itself calls /etc/supervisor/supervisord.conf.
            Placement::Sandbox { .. } => self.dir().join("etc-supervisor/supervisord.conf"),
            _ => self.dir().join("supervisord.conf"),
        }
    }

    /// supervisord's unix socket (the XML-RPC endpoint).
    pub fn supervisor_socket(&self) -> PathBuf {
        self.dir().join("supervisor.sock")
    }

    /// The host's public host key, as in `ssh_host_ed25519_key.pub` (`ssh-ed25519 AAAA… comment`).
    pub fn host_key_public(&self) -> String {
        std::fs::read_to_string(self.dir().join("ssh_host_ed25519_key.pub"))
            .expect("reading the host's public key")
            .trim()
            .to_string()
    }

    /// The host key as an OpenSSH `known_hosts` line for this host's address and port.
    pub fn known_hosts_line(&self) -> String {
        let key = self.host_key_public();
        let mut parts = key.split_whitespace();
        let (kind, b64) = (
            parts.next().expect("key type in .pub"),
            parts.next().expect("key data in .pub"),
        );
        let port = self.ssh_port();
        if port == 22 {
            format!("{} {kind} {b64}", self.address)
        } else {
            format!("[{}]:{port} {kind} {b64}", self.address)
        }
    }

    /// Allows another public key to log in (e.g. the key `vr` generated on its first start).
    pub fn authorize_key(&self, public_key_line: &str) {
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(self.authorized_keys_path())
            .expect("opening authorized_keys");
        writeln!(f, "{}", public_key_line.trim()).expect("appending to authorized_keys");
    }

    fn authorized_keys_path(&self) -> PathBuf {
        self.dir().join("authorized_keys")
    }

    // ---- Supervisor, "by hand" on the host ----

    /// Runs `supervisorctl -c CONF ARGS` on this machine, as a person logged in on the host.
    pub fn ctl(&self, args: &[&str]) -> Output {
        Command::new("supervisorctl")
            .arg("-c")
            .arg(self.supervisord_conf())
            .args(args)
            .output()
            .expect("running supervisorctl")
    }

    /// Adds a program the way a person would: writes `conf.d/NAME.conf`, then `reread` and
    /// `add NAME` (see [`TestHost::add_program_conf`]). It starts at once (`startsecs=0`); this
    /// waits until it is RUNNING. To `vr` it is an unmanaged program.
    pub fn add_program(&self, name: &str, command: &str) {
        let logs = self.dir().join("logs");
        let body = format!(
            "command={command}\nautostart=true\nautorestart=unexpected\nstartsecs=0\n\
             stopwaitsecs=2\nstdout_logfile={}\nstderr_logfile={}\n",
            logs.join(format!("{name}.out")).display(),
            logs.join(format!("{name}.err")).display(),
        );
        self.add_program_conf(name, &body);
        self.wait_program_state(name, "RUNNING", READY_TIMEOUT);
    }

    /// Like [`TestHost::add_program`] with the lines after `[program:NAME]` given verbatim, and
    /// without waiting for any state.
    ///
    /// The `reread` + `add` go straight to supervisord's XML-RPC socket (`reloadConfig`,
    /// `addProcessGroup`: exactly what `supervisorctl` sends) because each `supervisorctl` run
    /// costs a Python start-up, and tests add many programs.
    pub fn add_program_conf(&self, name: &str, body: &str) {
        std::fs::write(
            self.include_dir().join(format!("{name}.conf")),
            format!("[program:{name}]\n{body}"),
        )
        .expect("writing a program config");
        self.rpc_ok("supervisor.reloadConfig", &[]);
        self.rpc_ok("supervisor.addProcessGroup", &[name]);
    }

    /// Stops and removes a program and deletes its config file, as a person would with
    /// `supervisorctl stop NAME; supervisorctl remove NAME; rm conf.d/NAME.conf` (over XML-RPC,
    /// like [`TestHost::add_program_conf`]).
    pub fn remove_program(&self, name: &str) {
        // Not `wait=true`: supervisord answers that only on its next one-second tick. Asking
        // for the stop and watching the state is quicker.
        let stop = xmlrpc_values(
            &self.supervisor_socket(),
            "supervisor.stopProcessGroup",
            &[xml_string(name), "<boolean>0</boolean>".to_string()],
        )
        .expect("asking supervisord to stop a program");
        assert!(!stop.contains("<fault>"), "stopping {name}: {stop}");
        self.wait_program_stopped(name);
        self.rpc_ok("supervisor.removeProcessGroup", &[name]);
        let _ = std::fs::remove_file(self.include_dir().join(format!("{name}.conf")));
    }

    /// Calls a supervisord XML-RPC method with string parameters; returns the reply body, which
    /// may be a `<fault>`.
    pub fn rpc(&self, method: &str, params: &[&str]) -> String {
        xmlrpc(&self.supervisor_socket(), method, params)
            .unwrap_or_else(|e| panic!("supervisord XML-RPC {method} failed: {e}"))
    }

    /// Like [`TestHost::rpc`] but panics on a fault.
    #[track_caller]
    pub fn rpc_ok(&self, method: &str, params: &[&str]) -> String {
        let reply = self.rpc(method, params);
        assert!(
            !reply.contains("<fault>"),
            "supervisord XML-RPC {method}({params:?}) failed: {}",
            member(&reply, "faultString").unwrap_or(reply.clone())
        );
        reply
    }

    /// Runs supervisorctl and panics with its output unless it exits 0. Returns stdout.
    #[track_caller]
    pub fn ctl_ok(&self, args: &[&str]) -> String {
        let out = self.ctl(args);
        assert!(
            out.status.success(),
            "supervisorctl {args:?} failed ({}): {}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// A program's state name (`RUNNING`, `STOPPED`, `FATAL`, …) read straight from supervisord's
    /// XML-RPC socket (no Python start-up per call), or `None` if it is unknown or supervisord is
    /// down.
    pub fn program_state(&self, name: &str) -> Option<String> {
        let reply = xmlrpc(
            &self.supervisor_socket(),
            "supervisor.getProcessInfo",
            &[name],
        )
        .ok()?;
        if reply.contains("<fault>") {
            return None;
        }
        member(&reply, "statename")
    }

    /// Every program supervisord knows, as `(name, state)`, via XML-RPC.
    pub fn program_states(&self) -> Vec<(String, String)> {
        let reply = xmlrpc(
            &self.supervisor_socket(),
            "supervisor.getAllProcessInfo",
            &[],
        )
        .expect("asking supervisord for all process info");
        reply
            .split("<struct>")
            .skip(1)
            .filter_map(|s| Some((member(s, "name")?, member(s, "statename")?)))
            .collect()
    }

    /// Waits until `name` is in a state where it has no process (STOPPED, EXITED, FATAL, …).
    fn wait_program_stopped(&self, name: &str) {
        let mut last = None;
        let stopped = wait_until(READY_TIMEOUT, || {
            last = self.program_state(name);
            !matches!(
                last.as_deref(),
                Some("RUNNING" | "STARTING" | "STOPPING" | "BACKOFF")
            )
        });
        assert!(stopped, "program {name} did not stop (last: {last:?})");
    }

    /// Waits until `name` is in `state`, panicking with the program's log tail otherwise.
    #[track_caller]
    pub fn wait_program_state(&self, name: &str, state: &str, timeout: Duration) {
        let mut last = None;
        let ok = wait_until(timeout, || {
            last = self.program_state(name);
            last.as_deref() == Some(state)
        });
        if !ok {
            let err = std::fs::read_to_string(self.dir().join(format!("logs/{name}.err")))
                .unwrap_or_default();
            panic!(
                "program {name} never reached {state} within {timeout:?} (last: {last:?}); stderr: {err}"
            );
        }
    }

    // ---- sshd ----

    /// Kills sshd and every session it serves: new connections are refused, open ones drop.
    pub fn kill_sshd(&self) {
        lock(&self.frozen).clear();
        if let Some(mut child) = lock(&self.sshd).take() {
            procs::destroy(&mut child, false);
        }
    }

    /// Freezes sshd and its sessions (SIGSTOP): the kernel still completes TCP handshakes, but no
    /// banner or reply ever comes — the "hanging host" case.
    pub fn stop_sshd_hanging(&self) {
        let pid = self.sshd_pid().expect("sshd is not running");
        let frozen = procs::freeze_family(procs::Family {
            root: Some(pid),
            group: None,
            marker: None,
        });
        lock(&self.frozen).extend(frozen);
    }

    /// Thaws what [`TestHost::stop_sshd_hanging`] froze.
    pub fn resume_sshd(&self) {
        for pid in std::mem::take(&mut *lock(&self.frozen)) {
            procs::signal(pid, Signal::SIGCONT);
        }
    }

    /// (Re)starts sshd on the host's port and waits until it accepts connections.
    pub fn start_sshd(&self) {
        self.spawn_sshd(false);
    }

    /// Starts sshd. Only on the host's first start may it move to another port when the one
    /// picked was taken meanwhile: later, tests (and `vr`) already know the port.
    fn spawn_sshd(&self, may_move: bool) {
        let mut slot = lock(&self.sshd);
        if let Some(mut old) = slot.take() {
            procs::destroy(&mut old, false);
        }
        // A loopback port was free when picked but another process may have taken it since;
        // sshd then exits at once and the host moves to another port.
        for _attempt in 0..5 {
            self.write_sshd_config();
            let log = self.dir().join("sshd.log");
            let mut child = self
                .command_in_place("/usr/sbin/sshd")
                .args(["-D", "-e", "-f"])
                .arg(self.dir().join("sshd_config"))
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(std::fs::File::create(&log).expect("creating sshd.log"))
                .spawn()
                .expect("spawning sshd");
            let addr = self.ssh_addr();
            let mut exited: Option<ExitStatus> = None;
            let up = wait_until(READY_TIMEOUT, || {
                if let Ok(Some(status)) = child.try_wait() {
                    exited = Some(status);
                    return true;
                }
                match &self.placement {
                    // Its address is only reachable inside the namespace.
                    Placement::Sandbox { netns, .. } => super::sandbox::connects_in(netns, addr),
                    _ => tcp_connects(addr, Duration::from_millis(500)),
                }
            });
            let log_text = std::fs::read_to_string(&log).unwrap_or_default();
            match exited {
                None if up => {
                    *slot = Some(child);
                    return;
                }
                None => {
                    procs::destroy(&mut child, false);
                    panic!(
                        "sshd on {addr} did not accept connections within {READY_TIMEOUT:?}: {log_text}"
                    );
                }
                Some(status) => {
                    let in_use = log_text.contains("Address already in use");
                    if in_use && may_move && matches!(self.placement, Placement::Loopback) {
                        *lock(&self.port) = free_port();
                        continue;
                    }
                    panic!("sshd on {addr} exited at start-up ({status}): {log_text}");
                }
            }
        }
        panic!("sshd could not find a free port in 5 attempts");
    }

    /// Replaces the host key with a new one and restarts sshd, as when a host is re-installed:
    /// a client that pinned the old key must now refuse to connect.
    pub fn regenerate_host_key(&self) {
        self.kill_sshd();
        for f in ["ssh_host_ed25519_key", "ssh_host_ed25519_key.pub"] {
            let _ = std::fs::remove_file(self.dir().join(f));
        }
        self.generate_host_key();
        self.start_sshd();
    }

    /// Installs the host key at `private_key` (and its `.pub`) and restarts sshd: the host
    /// reinstalled with a key known in advance.
    pub fn replace_host_key(&self, private_key: &Path) {
        self.kill_sshd();
        let dest = self.dir().join("ssh_host_ed25519_key");
        std::fs::copy(private_key, &dest).expect("copying the host key");
        std::fs::set_permissions(&dest, std::fs::Permissions::from_mode(0o600))
            .expect("host key mode");
        let mut public = private_key.as_os_str().to_owned();
        public.push(".pub");
        std::fs::copy(&public, self.dir().join("ssh_host_ed25519_key.pub"))
            .expect("copying the public host key");
        self.start_sshd();
    }

    /// The pid of the listening sshd, if it runs.
    pub fn sshd_pid(&self) -> Option<i32> {
        lock(&self.sshd).as_ref().map(|c| c.id() as i32)
    }

    // ---- supervisord ----

    /// Stops supervisord the way `service supervisor stop` does (SIGTERM: it stops its programs
    /// first), and waits for it to exit. Anything left after the grace period is killed.
    pub fn stop_supervisord(&self) {
        if let Some(mut child) = lock(&self.supervisord).take() {
            procs::signal(child.id() as i32, Signal::SIGTERM);
            let sock = self.supervisor_socket();
            let exited = wait_until(SUPERVISORD_STOP_TIMEOUT, || {
                // supervisord's Python loop only notices a signal or a dead child when its poll
                // wakes up, which is once a second unless a socket is busy: knocking on its
                // socket makes the shutdown take milliseconds instead of seconds.
                let _ = UnixStream::connect(&sock);
                matches!(child.try_wait(), Ok(Some(_)))
            });
            if !exited {
                eprintln!("vr-tests: supervisord ignored SIGTERM; killing it");
            }
            procs::destroy(&mut child, false);
        }
    }

    /// Starts supervisord again (programs with `autostart` start too) and waits until it answers.
    pub fn start_supervisord(&self) {
        if lock(&self.supervisord).is_some() {
            return;
        }
        self.spawn_supervisord();
        self.wait_supervisord_ready();
    }

    /// The pid of supervisord, if it runs.
    pub fn supervisord_pid(&self) -> Option<i32> {
        lock(&self.supervisord).as_ref().map(|c| c.id() as i32)
    }

    // ---- system `ssh` client ----

    /// Runs `command` on the host through the system `ssh` client with `key`, without checking or
    /// recording host keys. For tests that need to look at a host the way an operator would.
    pub fn ssh(&self, key: &ClientKey, command: &str) -> Output {
        Command::new("ssh")
            .arg("-i")
            .arg(key.private_path())
            .args([
                "-o",
                "StrictHostKeyChecking=no",
                "-o",
                "UserKnownHostsFile=/dev/null",
                "-o",
                "BatchMode=yes",
                "-o",
                "ConnectTimeout=5",
                "-o",
                "LogLevel=ERROR",
                "-p",
            ])
            .arg(self.ssh_port().to_string())
            .arg(format!("{}@{}", self.user(), self.address))
            .arg(command)
            .stdin(Stdio::null())
            .output()
            .expect("running ssh")
    }

    // ---- internals ----

    /// A command that runs inside the host's network namespace, if it has one.
    fn command_in_place(&self, program: &str) -> Command {
        let mut cmd = match &self.placement {
            Placement::Loopback => Command::new(program),
            Placement::Netns { netns, .. } => {
                let mut c = Command::new("ip");
                c.args(["netns", "exec", netns, program]);
                c
            }
            Placement::Sandbox { netns, .. } => {
                // A private mount namespace per daemon, with this host's dirs at vr's default
                // places; what the daemons start (sessions, programs) inherits it.
                let mut c = Command::new("ip");
                c.args(["netns", "exec", netns, "unshare", "--mount", "--propagation", "private"])
                    .args(["sh", "-c", "while [ $# -gt 1 ] && [ \"$1\" != -- ]; do mount --bind \"$1\" \"$2\" || exit 1; shift 2; done; shift; exec \"$@\"", "sh"]);
                for (sub, target) in SANDBOX_BINDS {
                    c.arg(self.dir().join(sub)).arg(target);
                }
                c.args(["--", program]);
                c
            }
        };
        cmd.env_clear()
            .env("PATH", DAEMON_PATH)
            .env("HOME", "/root")
            .env("LANG", "C.UTF-8")
            .current_dir("/");
        cmd
    }

    fn generate_host_key(&self) {
        let key = self.dir().join("ssh_host_ed25519_key");
        let out = Command::new("ssh-keygen")
            .args(["-q", "-t", "ed25519", "-N", "", "-C", "vr-test-host", "-f"])
            .arg(&key)
            .stdin(Stdio::null())
            .output()
            .expect("running ssh-keygen");
        assert!(
            out.status.success(),
            "ssh-keygen failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn write_sshd_config(&self) {
        // sshd refuses to start without its privilege-separation dir.
        std::fs::create_dir_all("/run/sshd").expect("creating /run/sshd");
        let d = self.dir();
        let extra = std::fs::read_to_string(d.join("extra_sshd_config")).unwrap_or_default();
        let log_level =
            std::fs::read_to_string(d.join("log_level")).unwrap_or_else(|_| "ERROR".into());
        let conf = format!(
            "Port {port}\n\
             ListenAddress {addr}\n\
             HostKey {d}/ssh_host_ed25519_key\n\
             PidFile {d}/sshd.pid\n\
             AuthorizedKeysFile {d}/authorized_keys\n\
             UsePAM no\n\
             StrictModes no\n\
             PasswordAuthentication no\n\
             KbdInteractiveAuthentication no\n\
             PermitRootLogin prohibit-password\n\
             Subsystem sftp /usr/lib/openssh/sftp-server\n\
             LogLevel {log_level}\n\
             # vr keeps a pool of sessions and opens many channels at once; benchmarks connect to\n\
             # many hosts in parallel. The defaults (10 sessions, 10 pending) are for humans.\n\
             MaxSessions 100\n\
             MaxStartups 100\n\
             UseDNS no\n\
             {extra}\n",
            port = self.ssh_port(),
            addr = self.address,
            d = d.display(),
        );
        std::fs::write(d.join("sshd_config"), conf).expect("writing sshd_config");
    }

    fn write_supervisord_conf(&self) {
        let d = self.dir().display().to_string();
        let conf = format!(
            "[unix_http_server]\n\
             file={d}/supervisor.sock\n\
             chmod=0700\n\
             \n\
             [supervisord]\n\
             logfile={d}/supervisord.log\n\
             pidfile={d}/supervisord.pid\n\
             childlogdir={d}/logs\n\
             loglevel=info\n\
             \n\
             [rpcinterface:supervisor]\n\
             supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n\
             \n\
             [supervisorctl]\n\
             serverurl=unix://{d}/supervisor.sock\n\
             \n\
             [include]\n\
             files = {include}/*.conf\n",
            include = self.include_dir().display()
        );
        std::fs::write(self.supervisord_conf(), &conf).expect("writing supervisord.conf");
        if let Placement::Netns { etc_dir, .. } = &self.placement {
            // Inside the namespace /etc/supervisor is this dir, so plain `supervisorctl` finds the
            // host's config, and /etc/supervisor/conf.d is its include dir, as on a real host.
            let sup = etc_dir.join("supervisor");
            std::fs::create_dir_all(&sup).expect("creating /etc/netns/NS/supervisor");
            std::fs::write(sup.join("supervisord.conf"), &conf)
                .expect("writing the namespace's supervisord.conf");
            let link = sup.join("conf.d");
            let _ = std::fs::remove_file(&link);
            std::os::unix::fs::symlink(self.include_dir(), &link)
                .expect("linking the namespace's conf.d");
        }
    }

    fn spawn_supervisord(&self) {
        let child = self
            .command_in_place("/usr/bin/supervisord")
            .args(["-n", "-c"])
            .arg(self.supervisord_conf())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(
                std::fs::File::create(self.dir().join("supervisord.out"))
                    .expect("creating supervisord.out"),
            )
            .spawn()
            .expect("spawning supervisord");
        *lock(&self.supervisord) = Some(child);
    }

    fn wait_supervisord_ready(&self) {
        let sock = self.supervisor_socket();
        let mut exited = None;
        let ready = wait_until(READY_TIMEOUT, || {
            if let Some(child) = lock(&self.supervisord).as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                exited = Some(status);
                return true;
            }
            xmlrpc(&sock, "supervisor.getState", &[])
                .ok()
                .and_then(|r| member(&r, "statename"))
                .is_some_and(|s| s == "RUNNING")
        });
        if !ready || exited.is_some() {
            let out =
                std::fs::read_to_string(self.dir().join("supervisord.out")).unwrap_or_default();
            let log =
                std::fs::read_to_string(self.dir().join("supervisord.log")).unwrap_or_default();
            if let Some(mut child) = lock(&self.supervisord).take() {
                procs::destroy(&mut child, false);
            }
            panic!(
                "supervisord in {} did not come up within {READY_TIMEOUT:?} (exit: {exited:?}): {out}{log}",
                self.dir().display()
            );
        }
    }
}

impl Drop for TestHost {
    fn drop(&mut self) {
        // Frozen processes need no thawing: SIGKILL ends stopped processes too.
        lock(&self.frozen).clear();
        let sshd = lock(&self.sshd).take();
        let sup = lock(&self.supervisord).take();
        for mut child in sshd.into_iter().chain(sup) {
            procs::destroy(&mut child, false);
        }
        if let Placement::Netns { etc_dir, .. } = &self.placement {
            let _ = std::fs::remove_dir_all(etc_dir);
        }
    }
}

/// An ed25519 key pair for the system `ssh` client, in its own temp dir.
#[derive(Debug)]
pub struct ClientKey {
    dir: tempfile::TempDir,
    public: String,
}

impl ClientKey {
    pub fn generate() -> ClientKey {
        let dir = tempfile::Builder::new()
            .prefix("vr-test-key")
            .tempdir()
            .expect("creating a key temp dir");
        let path = dir.path().join("id_ed25519");
        let out = Command::new("ssh-keygen")
            .args([
                "-q",
                "-t",
                "ed25519",
                "-N",
                "",
                "-C",
                "vr-test-client",
                "-f",
            ])
            .arg(&path)
            .stdin(Stdio::null())
            .output()
            .expect("running ssh-keygen");
        assert!(
            out.status.success(),
            "ssh-keygen failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let public = std::fs::read_to_string(path.with_extension("pub"))
            .expect("reading the generated public key")
            .trim()
            .to_string();
        ClientKey { dir, public }
    }

    /// Path of the private key file (OpenSSH format).
    pub fn private_path(&self) -> PathBuf {
        self.dir.path().join("id_ed25519")
    }

    /// The private key in OpenSSH PEM format.
    pub fn private_pem(&self) -> String {
        std::fs::read_to_string(self.private_path()).expect("reading the private key")
    }

    /// The public key line, for `authorized_keys`.
    pub fn public_line(&self) -> &str {
        &self.public
    }
}

/// Calls one supervisord XML-RPC method with string parameters over its unix socket and returns
/// the response body. Deliberately minimal: the harness only needs to read states.
pub fn xmlrpc(socket: &Path, method: &str, params: &[&str]) -> std::io::Result<String> {
    let values: Vec<String> = params.iter().map(|p| xml_string(p)).collect();
    xmlrpc_values(socket, method, &values)
}

/// Like [`xmlrpc`] with each parameter given as an XML-RPC value (`<string>…</string>`,
/// `<boolean>0</boolean>`, …).
pub fn xmlrpc_values(socket: &Path, method: &str, values: &[String]) -> std::io::Result<String> {
    let mut body =
        format!("<?xml version=\"1.0\"?><methodCall><methodName>{method}</methodName><params>");
    for v in values {
        write!(body, "<param><value>{v}</value></param>").expect("writing to a String");
    }
    body.push_str("</params></methodCall>");
    let mut stream = UnixStream::connect(socket)?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    stream.set_write_timeout(Some(Duration::from_secs(5)))?;
    write!(
        stream,
        "POST /RPC2 HTTP/1.0\r\nHost: localhost\r\nContent-Type: text/xml\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )?;
    let mut reply = String::new();
    stream.read_to_string(&mut reply)?;
    match reply.split_once("\r\n\r\n") {
        Some((head, body))
            if head.starts_with("HTTP/1.0 200") || head.starts_with("HTTP/1.1 200") =>
        {
            Ok(body.to_string())
        }
        _ => Err(std::io::Error::other(format!(
            "unexpected supervisord reply: {reply}"
        ))),
    }
}

/// An XML-RPC string value.
pub fn xml_string(s: &str) -> String {
    let escaped = s
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    format!("<string>{escaped}</string>")
}

/// The text of struct member `key` in an XML-RPC reply fragment, for string and int values.
fn member(xml: &str, key: &str) -> Option<String> {
    let after = &xml[xml.find(&format!("<name>{key}</name>"))?..];
    let value = &after[after.find("<value>")? + "<value>".len()..];
    let value = &value[..value.find("</value>")?];
    // Strip a type tag such as <string>…</string> or <int>…</int>; untyped values are strings.
    let inner = match value.strip_prefix('<') {
        Some(rest) => {
            let open_end = rest.find('>')?;
            let rest = &rest[open_end + 1..];
            &rest[..rest.rfind("</")?]
        }
        None => value,
    };
    Some(
        inner
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&"),
    )
}

/// The SSH login of every test host: a second name for uid 0 whose shell is `/bin/sh` and whose
/// home is empty. Logging in as `root` would run this machine's `/root/.bashrc` on every
/// command (bash sources it for sshd sessions), and a developer's or CI image's dotfiles are not
/// part of a host: e.g. pyenv's `rehash` waits up to 60 s on a lock that a killed session left.
pub const TEST_LOGIN: &str = "vrtest";
const TEST_LOGIN_HOME: &str = "/var/lib/vr-test-home";

/// Creates [`TEST_LOGIN`] once per machine (idempotent; test machines run as root).
fn ensure_test_login() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        std::fs::create_dir_all(TEST_LOGIN_HOME).expect("creating the test login's home");
        let exists = Command::new("id")
            .arg(TEST_LOGIN)
            .output()
            .is_ok_and(|o| o.status.success());
        if exists {
            return;
        }
        let out = Command::new("useradd")
            // -o -u 0: another name for root. `*`: no password, yet not "locked" (sshd without
            // PAM refuses locked accounts).
            .args([
                "-o",
                "-u",
                "0",
                "-g",
                "0",
                "-M",
                "-d",
                TEST_LOGIN_HOME,
                "-s",
                "/bin/sh",
            ])
            .args(["-p", "*", TEST_LOGIN])
            .output()
            .expect("running useradd");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success() || err.contains("exists"),
            "creating the test login {TEST_LOGIN}: {err}"
        );
    });
}

/// Kills the daemons of hosts whose test process died without dropping them (a crash, or a
/// test run killed at its timeout), and removes their dirs, so they cannot break later runs.
fn clean_stale_hosts() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let Ok(entries) = std::fs::read_dir(HOSTS_BASE) else {
            return;
        };
        for entry in entries.flatten() {
            let dir = entry.path();
            let Some(owner) = std::fs::read_to_string(dir.join("owner.pid"))
                .ok()
                .and_then(|s| s.trim().parse::<i32>().ok())
            else {
                continue;
            };
            if procs::alive(owner) {
                continue;
            }
            for pidfile in ["sshd.pid", "supervisord.pid"] {
                let Some(pid) = std::fs::read_to_string(dir.join(pidfile))
                    .ok()
                    .and_then(|s| s.trim().parse::<i32>().ok())
                else {
                    continue;
                };
                // Only kill the pid if it still is this host's daemon, not a recycled pid.
                let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
                if String::from_utf8_lossy(&cmdline).contains(&*dir.to_string_lossy()) {
                    procs::destroy_foreign(pid);
                }
            }
            let _ = std::fs::remove_dir_all(&dir);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn member_reads_typed_and_untyped_values() {
        let xml = "<struct><member><name>name</name><value><string>web</string></value></member>\
                   <member><name>statename</name><value>RUNNING</value></member>\
                   <member><name>pid</name><value><int>42</int></value></member></struct>";
        assert_eq!(member(xml, "name").as_deref(), Some("web"));
        assert_eq!(member(xml, "statename").as_deref(), Some("RUNNING"));
        assert_eq!(member(xml, "pid").as_deref(), Some("42"));
        assert_eq!(member(xml, "nope"), None);
    }
}
