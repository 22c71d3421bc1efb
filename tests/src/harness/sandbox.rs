//! A small world in one network namespace, for running documentation exactly as written: hosts
//! at ordinary addresses (`10.0.0.5`) on its loopback, each with vr's default layout of its own
//! (see [`super::host::Placement::Sandbox`]), names resolved by its own `/etc/hosts`, a CA it
//! trusts in its own `/etc/ssl`, users of its own in `/etc/passwd`. `ip netns exec` binds
//! `/etc/netns/NS/*` over `/etc/*` for everything started inside. Nothing in it can reach
//! beyond the machine: its only link is the veth pair to this machine, with no route onwards.

use std::ffi::OsStr;
use std::net::{Ipv4Addr, SocketAddr};
use std::process::{Command, Stdio};

use super::host::{HostOptions, Placement, TestHost};
use super::netns::{Netns, ip};
use super::procs;

#[derive(Debug)]
pub struct Sandbox {
    net: Netns,
}

impl Sandbox {
    pub fn create() -> Sandbox {
        procs::become_subreaper();
        let sandbox = Sandbox {
            net: Netns::create(),
        };
        // Root logs in with /bin/sh inside: this machine's root dotfiles (a shell rc that may
        // hang on a lock) are not the sandboxed hosts'.
        let passwd = std::fs::read_to_string("/etc/passwd").expect("reading /etc/passwd");
        let passwd: String = passwd
            .lines()
            .map(|l| match l.strip_prefix("root:") {
                Some(rest) => {
                    let mut f: Vec<&str> = rest.split(':').collect();
                    if let Some(shell) = f.last_mut() {
                        *shell = "/bin/sh";
                    }
                    format!("root:{}\n", f.join(":"))
                }
                None => format!("{l}\n"),
            })
            .collect();
        sandbox.etc_file("passwd", &passwd);
        let group = std::fs::read_to_string("/etc/group").expect("reading /etc/group");
        sandbox.etc_file("group", &group);
        sandbox
    }

    /// The namespace's name, for `ip netns exec`.
    pub fn name(&self) -> &str {
        &self.net.name
    }

    /// Where this machine reaches servers listening on `0.0.0.0` inside.
    pub fn reach(&self) -> Ipv4Addr {
        self.net.inside
    }

    /// Gives the namespace's loopback another address (a host's, a git server's).
    pub fn add_address(&self, address: Ipv4Addr) {
        ip(&[
            "-n",
            &self.net.name,
            "addr",
            "add",
            &format!("{address}/32"),
            "dev",
            "lo",
        ]);
    }

    /// Writes `/etc/NAME` as seen inside (e.g. `hosts`, `passwd`, `ssl/certs/ca-certificates.crt`).
    pub fn etc_file(&self, name: &str, contents: &str) {
        let path = self.net.etc_dir.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("creating a dir in /etc/netns/NS");
        }
        std::fs::write(&path, contents).expect("writing a file in /etc/netns/NS");
    }

    /// `/etc/passwd` and `/etc/group` inside: this machine's, plus a system user `name`.
    pub fn add_user(&self, name: &str, uid: u32) {
        let read = |f: &str| {
            std::fs::read_to_string(self.net.etc_dir.join(f)).expect("reading the sandbox's /etc")
        };
        let passwd = format!(
            "{}{name}:x:{uid}:{uid}:{name}:/nonexistent:/usr/sbin/nologin\n",
            read("passwd")
        );
        let group = format!("{}{name}:x:{uid}:\n", read("group"));
        self.etc_file("passwd", &passwd);
        self.etc_file("group", &group);
    }

    /// `program` started inside the namespace.
    pub fn command(&self, program: impl AsRef<OsStr>) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.net.name]).arg(program);
        c
    }

    /// Starts a host at `address` (added to the loopback) with vr's default layout.
    pub fn host(&self, address: Ipv4Addr, opts: HostOptions) -> TestHost {
        self.add_address(address);
        TestHost::start_at(
            opts,
            Placement::Sandbox {
                netns: self.net.name.clone(),
                address,
            },
        )
    }
}

/// True when a TCP connection to `addr` succeeds from inside namespace `netns`.
pub(crate) fn connects_in(netns: &str, addr: SocketAddr) -> bool {
    Command::new("ip")
        .args(["netns", "exec", netns, "timeout", "2", "bash", "-c"])
        .arg(format!("exec 3<>/dev/tcp/{}/{}", addr.ip(), addr.port()))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}
