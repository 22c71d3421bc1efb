//! A test host inside its own network namespace, for "the host is gone" tests.
//!
//! Each [`NetnsHost`] gets namespace `vrtN` with a veth pair to this machine: `10.201.N.1/24` on
//! the machine's side (`vrtNh`), `10.201.N.2/24` inside (`vrtNn`), `lo` up and no default route,
//! so nothing it sends can leave the machine. Its sshd listens on `10.201.N.2:22` and its
//! supervisord runs inside too, so procs deployed there bind the namespace's ports like on a real
//! host. `/etc/netns/vrtN/supervisor/` is bind-mounted over `/etc/supervisor` for every process
//! in the namespace, so plain `supervisorctl` works there.
//!
//! [`NetnsHost::cut`] makes the host vanish from the network without a trace: packets are
//! dropped silently, so connects and open connections hang instead of failing fast — the case
//! that must never slow `vr` down.

use std::fs::OpenOptions;
use std::io::Write;
use std::net::Ipv4Addr;
use std::ops::Deref;
use std::path::PathBuf;
use std::process::Command;
use std::sync::Once;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::host::{HOSTS_BASE, HostOptions, Placement, TestHost};
use super::procs;

/// Subnet numbers available for namespaces: `10.201.N.0/24`.
const FIRST_N: usize = 1;
const LAST_N: usize = 254;

/// A host in a network namespace. Derefs to [`TestHost`] for everything but the network.
#[derive(Debug)]
pub struct NetnsHost {
    // Field order is drop order: the daemons die before their namespace is deleted (a namespace
    // with processes in it would outlive `ip netns del` and keep its addresses).
    host: TestHost,
    net: Netns,
}

impl NetnsHost {
    /// Creates a namespace, starts sshd and supervisord in it, and waits until both answer
    /// (sshd is reached across the veth pair, which proves the network works).
    pub fn start(opts: HostOptions) -> NetnsHost {
        procs::become_subreaper();
        let net = Netns::create();
        let host = TestHost::start_at(
            opts,
            Placement::Netns {
                netns: net.name.clone(),
                address: net.inside,
                etc_dir: net.etc_dir.clone(),
            },
        );
        NetnsHost { host, net }
    }

    /// Starts `n` namespaced hosts at once, one thread each.
    pub fn start_many(n: usize, opts: HostOptions) -> Vec<NetnsHost> {
        std::thread::scope(|s| {
            let handles: Vec<_> = (0..n)
                .map(|_| {
                    let opts = opts.clone();
                    s.spawn(move || NetnsHost::start(opts))
                })
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join()
                        .expect("a namespaced host failed to start (see above)")
                })
                .collect()
        })
    }

    /// The namespace's name (`vrtN`), for `ip netns exec`.
    pub fn namespace(&self) -> &str {
        &self.net.name
    }

    /// This machine's address on the host's link (`10.201.N.1`): how the host sees the test
    /// machine, e.g. the vr server or a balancer.
    pub fn gateway(&self) -> Ipv4Addr {
        self.net.outside
    }

    /// Cuts the host off: its side of the link goes down, and every packet to or from it is
    /// dropped without an error. New connects and open connections hang.
    pub fn cut(&self) {
        ip(&[
            "-n",
            &self.net.name,
            "link",
            "set",
            &self.net.inside_if,
            "down",
        ]);
    }

    /// Reconnects the host after [`NetnsHost::cut`]; open TCP connections resume.
    pub fn restore(&self) {
        ip(&[
            "-n",
            &self.net.name,
            "link",
            "set",
            &self.net.inside_if,
            "up",
        ]);
    }

    /// The underlying host.
    pub fn host(&self) -> &TestHost {
        &self.host
    }
}

impl Deref for NetnsHost {
    type Target = TestHost;
    fn deref(&self) -> &TestHost {
        &self.host
    }
}

/// One namespace with its veth pair, deleted on drop.
#[derive(Debug)]
pub(crate) struct Netns {
    pub(crate) name: String,
    outside_if: String,
    inside_if: String,
    outside: Ipv4Addr,
    pub(crate) inside: Ipv4Addr,
    pub(crate) etc_dir: PathBuf,
    lock: PathBuf,
}

fn locks_dir() -> PathBuf {
    PathBuf::from(HOSTS_BASE).join("netns")
}

impl Netns {
    pub(crate) fn create() -> Netns {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        clean_stale_namespaces();
        std::fs::create_dir_all(locks_dir()).expect("creating the netns lock dir");
        // Start where this process is unlikely to meet another test process, then take the first
        // subnet whose lock file we can create: the lock, not the guess, guarantees uniqueness.
        let span = LAST_N - FIRST_N + 1;
        let start = (std::process::id() as usize).wrapping_mul(37)
            + COUNTER.fetch_add(1, Ordering::Relaxed);
        for i in 0..span {
            let n = FIRST_N + (start + i) % span;
            let lock = locks_dir().join(format!("vrt{n}.lock"));
            let Ok(mut f) = OpenOptions::new().write(true).create_new(true).open(&lock) else {
                continue;
            };
            write!(f, "{}", std::process::id()).expect("writing a netns lock");
            return Netns::setup(n, lock);
        }
        panic!("no free 10.201.N.0/24 subnet for a test namespace (all {span} locked)");
    }

    fn setup(n: usize, lock: PathBuf) -> Netns {
        let octet = u8::try_from(n).expect("subnet number fits in an octet");
        let net = Netns {
            name: format!("vrt{n}"),
            outside_if: format!("vrt{n}h"),
            inside_if: format!("vrt{n}n"),
            outside: Ipv4Addr::new(10, 201, octet, 1),
            inside: Ipv4Addr::new(10, 201, octet, 2),
            etc_dir: PathBuf::from(format!("/etc/netns/vrt{n}")),
            lock,
        };
        // Leftovers of a crashed run under the same name would make the steps below fail.
        teardown(&net.name, &net.outside_if, &net.etc_dir);
        std::fs::create_dir_all(&net.etc_dir).expect("creating /etc/netns/NS");
        // Fixed, locally administered MACs ("vr" = 76:72) let both sides know each other's
        // address up front: with permanent neighbour entries nothing waits on ARP, so a cut
        // link is a silent black hole rather than a "no route to host" a few seconds later.
        let mac_out = format!("02:76:72:00:{octet:02x}:01");
        let mac_in = format!("02:76:72:00:{octet:02x}:02");
        let (ns, out_if, in_if) = (&net.name, &net.outside_if, &net.inside_if);
        let (out_cidr, in_cidr) = (format!("{}/24", net.outside), format!("{}/24", net.inside));
        ip(&["netns", "add", ns]);
        ip(&[
            "link", "add", out_if, "address", &mac_out, "type", "veth", "peer", "name", in_if,
            "address", &mac_in, "netns", ns,
        ]);
        ip(&["addr", "add", &out_cidr, "dev", out_if]);
        ip(&["link", "set", out_if, "up"]);
        ip(&[
            "neigh",
            "replace",
            &net.inside.to_string(),
            "lladdr",
            &mac_in,
            "dev",
            out_if,
            "nud",
            "permanent",
        ]);
        ip(&["-n", ns, "addr", "add", &in_cidr, "dev", in_if]);
        ip(&["-n", ns, "link", "set", in_if, "up"]);
        ip(&["-n", ns, "link", "set", "lo", "up"]);
        ip(&[
            "-n",
            ns,
            "neigh",
            "replace",
            &net.outside.to_string(),
            "lladdr",
            &mac_out,
            "dev",
            in_if,
            "nud",
            "permanent",
        ]);
        net
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        teardown(&self.name, &self.outside_if, &self.etc_dir);
        let _ = std::fs::remove_file(&self.lock);
    }
}

/// Removes namespace `name`, its veth pair and its `/etc/netns` dir, ignoring parts that are
/// already gone. Processes still inside are killed first, or the namespace would live on.
fn teardown(name: &str, outside_if: &str, etc_dir: &PathBuf) {
    if let Ok(out) = Command::new("ip").args(["netns", "pids", name]).output() {
        for pid in String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .filter_map(|p| p.parse::<i32>().ok())
        {
            procs::destroy_foreign(pid);
        }
    }
    // Deleting one end of a veth pair deletes both.
    let _ = Command::new("ip")
        .args(["link", "del", outside_if])
        .output();
    let _ = Command::new("ip").args(["netns", "del", name]).output();
    let _ = std::fs::remove_dir_all(etc_dir);
}

/// Runs `ip ARGS`, panicking with its error output on failure.
#[track_caller]
pub(crate) fn ip(args: &[&str]) {
    let out = Command::new("ip").args(args).output().expect("running ip");
    assert!(
        out.status.success(),
        "ip {} failed: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Tears down namespaces whose owning test process died without dropping them.
fn clean_stale_namespaces() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let Ok(entries) = std::fs::read_dir(locks_dir()) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let Some(name) = path
                .file_name()
                .and_then(|f| f.to_str())
                .and_then(|f| f.strip_suffix(".lock"))
                .map(str::to_string)
            else {
                continue;
            };
            let owner = std::fs::read_to_string(&path)
                .ok()
                .and_then(|s| s.trim().parse::<i32>().ok());
            // A lock with no pid yet belongs to a process that is writing it right now.
            if owner.is_none_or(procs::alive) {
                continue;
            }
            teardown(
                &name,
                &format!("{name}h"),
                &PathBuf::from(format!("/etc/netns/{name}")),
            );
            let _ = std::fs::remove_file(&path);
        }
    });
}
