//! Balancers (SPEC §1, §3.7): where a swarm's pool is routed, and the pool files vr renders
//! for them from its own records — never read back and edited, so two dispatches cannot lose
//! each other's nodes.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::validate::{self, Invalid};

/// Most balancer hosts one balancer may have.
pub const MAX_HOSTS: usize = 16;
/// Longest drain grace period accepted (ms).
pub const MAX_DRAIN_MS: u64 = 10 * 60 * 1000;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum BalancerKind {
    #[default]
    Nginx,
    Haproxy,
    /// Routing is done elsewhere: the route step records the nodes and touches no host.
    None,
}

impl BalancerKind {
    pub const ALL: [BalancerKind; 3] = [
        BalancerKind::Nginx,
        BalancerKind::Haproxy,
        BalancerKind::None,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            BalancerKind::Nginx => "nginx",
            BalancerKind::Haproxy => "haproxy",
            BalancerKind::None => "none",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Debian's layout: nginx includes `conf.d/*.conf` in its `http` block; haproxy reads a
    /// second `-f` folder once `/etc/default/haproxy` names it (see README "Balancers").
    pub fn default_pool_dir(self) -> &'static str {
        match self {
            BalancerKind::Nginx => "/etc/nginx/conf.d",
            BalancerKind::Haproxy => "/etc/haproxy/pools",
            BalancerKind::None => "",
        }
    }

    pub fn default_validate(self) -> &'static str {
        match self {
            BalancerKind::Nginx => "nginx -t",
            BalancerKind::Haproxy => "haproxy -c -f /etc/haproxy/haproxy.cfg -f /etc/haproxy/pools",
            BalancerKind::None => "",
        }
    }

    pub fn default_reload(self) -> &'static str {
        match self {
            BalancerKind::Nginx => "nginx -s reload",
            BalancerKind::Haproxy => "systemctl reload haproxy",
            BalancerKind::None => "",
        }
    }

    /// Where the balancer's master writes its pid (Debian's units): vr waits after a reload
    /// until the workers it had before are gone.
    pub fn default_pid_file(self) -> &'static str {
        match self {
            BalancerKind::Nginx => "/run/nginx.pid",
            BalancerKind::Haproxy => "/run/haproxy.pid",
            BalancerKind::None => "",
        }
    }

    /// A pool's file in the pool folder.
    pub fn pool_file(self, pool: &str) -> String {
        match self {
            BalancerKind::Haproxy => format!("vr-pool-{pool}.cfg"),
            _ => format!("vr-pool-{pool}.conf"),
        }
    }
}

/// What an operator sets about a balancer. Empty folder and commands mean the kind's defaults.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(default)]
pub struct BalancerSpec {
    pub name: String,
    pub kind: BalancerKind,
    /// Hosts vr knows (by name), each running the balancer.
    pub hosts: Vec<String>,
    pub pool_dir: String,
    pub validate_cmd: String,
    pub reload_cmd: String,
    /// The master's pid file; after a reload vr waits for the old workers to finish.
    pub pid_file: String,
    /// How long a proc taken out of its pool keeps running, so requests in flight end (ms).
    pub drain_ms: u64,
}

impl BalancerSpec {
    pub fn validate(&self) -> Result<(), Invalid> {
        validate::squad_name("name", &self.name)?;
        if self.kind == BalancerKind::None {
            return Ok(());
        }
        if self.hosts.is_empty() {
            return Err(Invalid::new(
                "hosts",
                "name at least one host that runs the balancer",
            ));
        }
        if self.hosts.len() > MAX_HOSTS {
            return Err(Invalid::new("hosts", format!("at most {MAX_HOSTS} hosts")));
        }
        for h in &self.hosts {
            validate::host_name("hosts", h)?;
        }
        let dir = self.pool_dir();
        if !dir.starts_with('/') || dir.contains("/../") || dir.ends_with("/..") {
            return Err(Invalid::new("pool_dir", "must be an absolute folder path"));
        }
        if dir.chars().any(|c| c.is_control()) {
            return Err(Invalid::new("pool_dir", "must not hold control characters"));
        }
        let pid = self.pid_file.trim();
        if !pid.is_empty() && (!pid.starts_with('/') || pid.chars().any(|c| c.is_control())) {
            return Err(Invalid::new("pid_file", "must be an absolute file path"));
        }
        for (field, cmd) in [
            ("validate_cmd", &self.validate_cmd),
            ("reload_cmd", &self.reload_cmd),
        ] {
            if cmd.contains('\n') || cmd.contains('\0') {
                return Err(Invalid::new(field, "must be one line"));
            }
        }
        if self.drain_ms > MAX_DRAIN_MS {
            return Err(Invalid::new(
                "drain_ms",
                format!("must be at most {MAX_DRAIN_MS}"),
            ));
        }
        Ok(())
    }

    pub fn pool_dir(&self) -> &str {
        or_default(&self.pool_dir, self.kind.default_pool_dir())
    }

    pub fn validate_line(&self) -> &str {
        or_default(&self.validate_cmd, self.kind.default_validate())
    }

    pub fn reload_line(&self) -> &str {
        or_default(&self.reload_cmd, self.kind.default_reload())
    }

    pub fn pid_file_path(&self) -> &str {
        or_default(&self.pid_file, self.kind.default_pid_file())
    }
}

fn or_default<'a>(set: &'a str, default: &'a str) -> &'a str {
    if set.trim().is_empty() {
        default
    } else {
        set.trim()
    }
}

/// One routed proc: where the balancer sends requests.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Node {
    pub address: String,
    pub port: u16,
    /// The proc's program name, for the file's comments.
    pub program: String,
}

/// The pool file for `nodes`, the same bytes for the same nodes in any order. An empty pool
/// still validates: nginx gets a placeholder marked `down`, haproxy a backend with no server.
pub fn render(kind: BalancerKind, pool: &str, nodes: &[Node]) -> String {
    let mut nodes = nodes.to_vec();
    nodes.sort();
    nodes.dedup();
    let mut out = format!(
        "# Written by vr for pool {pool} ({} node(s)). Do not edit: vr rewrites it from its records.\n",
        nodes.len()
    );
    match kind {
        BalancerKind::Nginx => {
            out.push_str(&format!("upstream {pool} {{\n"));
            if nodes.is_empty() {
                out.push_str("    # empty pool: a placeholder so the file still validates\n");
                out.push_str("    server 127.0.0.1:9 down;\n");
            }
            for n in &nodes {
                out.push_str(&format!(
                    "    server {}:{}; # {}\n",
                    n.address, n.port, n.program
                ));
            }
            out.push_str("}\n");
        }
        BalancerKind::Haproxy => {
            out.push_str(&format!("backend {pool}\n    balance roundrobin\n"));
            for (i, n) in nodes.iter().enumerate() {
                out.push_str(&format!(
                    "    server n{i} {}:{} check # {}\n",
                    n.address, n.port, n.program
                ));
            }
        }
        BalancerKind::None => {
            for n in &nodes {
                out.push_str(&format!("# {}:{} {}\n", n.address, n.port, n.program));
            }
        }
    }
    out
}

/// A short fingerprint of a rendered file: what each balancer host is known to hold.
pub fn fingerprint(rendered: &str) -> String {
    Sha256::digest(rendered.as_bytes())
        .iter()
        .take(6)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The pool as vr last rendered it and what each balancer host holds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(default)]
pub struct PoolView {
    pub balancer: String,
    pub pool: String,
    /// The swarm that routes to it, if any.
    pub swarm: Option<String>,
    pub nodes: Vec<Node>,
    pub wanted: String,
    pub hosts: Vec<PoolHost>,
}

impl PoolView {
    /// A balancer host does not hold the file vr rendered last.
    pub fn drift(&self) -> bool {
        self.hosts.iter().any(|h| h.applied != self.wanted)
    }
}

/// One balancer host's copy of a pool.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(default)]
pub struct PoolHost {
    pub host: String,
    /// The fingerprint of the file it holds (empty: never written).
    pub applied: String,
    /// What the last attempt said (the validation error, the host not answering).
    pub message: String,
    pub ok: bool,
    pub at: i64,
}

/// A balancer as the API answers it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(default)]
pub struct Balancer {
    pub id: i64,
    pub spec: BalancerSpec,
    pub pools: Vec<PoolView>,
    pub created_by: String,
    pub created_at: i64,
}

pub mod paths {
    pub const BALANCERS: &str = "/api/balancers";

    pub fn balancer(name: &str) -> String {
        format!("/api/balancers/{name}")
    }

    pub fn reapply(name: &str, pool: &str) -> String {
        format!("/api/balancers/{name}/pools/{pool}/apply")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(port: u16) -> Node {
        Node {
            address: "10.0.0.1".into(),
            port,
            program: format!("shop-web-{port}"),
        }
    }

    #[test]
    fn the_same_nodes_in_any_order_render_the_same_file() {
        let a = render(BalancerKind::Nginx, "shop", &[node(5001), node(5000)]);
        let b = render(
            BalancerKind::Nginx,
            "shop",
            &[node(5000), node(5001), node(5000)],
        );
        assert_eq!(a, b);
        assert_eq!(
            a,
            "# Written by vr for pool shop (2 node(s)). Do not edit: vr rewrites it from its records.\n\
             upstream shop {\n    server 10.0.0.1:5000; # shop-web-5000\n    server 10.0.0.1:5001; # shop-web-5001\n}\n"
        );
        assert_eq!(fingerprint(&a), fingerprint(&b));
        assert_ne!(
            fingerprint(&a),
            fingerprint(&render(BalancerKind::Nginx, "shop", &[node(5000)]))
        );
    }

    #[test]
    fn an_empty_pool_still_has_a_valid_shape() {
        let nginx = render(BalancerKind::Nginx, "shop", &[]);
        assert!(nginx.contains("upstream shop {\n") && nginx.contains("server 127.0.0.1:9 down;"));
        let haproxy = render(BalancerKind::Haproxy, "shop", &[]);
        assert!(
            haproxy.ends_with("backend shop\n    balance roundrobin\n"),
            "{haproxy}"
        );
        let one = render(BalancerKind::Haproxy, "shop", &[node(5000)]);
        assert!(
            one.contains("    server n0 10.0.0.1:5000 check # shop-web-5000\n"),
            "{one}"
        );
    }

    #[test]
    fn specs_are_checked_naming_the_field() {
        let good = BalancerSpec {
            name: "edge".into(),
            hosts: vec!["lb1".into()],
            ..Default::default()
        };
        assert_eq!(good.validate(), Ok(()));
        assert_eq!(good.pool_dir(), "/etc/nginx/conf.d");
        assert_eq!(good.reload_line(), "nginx -s reload");
        assert_eq!(good.pid_file_path(), "/run/nginx.pid");
        let field = |s: BalancerSpec| s.validate().expect_err("invalid").field;
        assert_eq!(
            field(BalancerSpec {
                hosts: vec![],
                ..good.clone()
            }),
            "hosts"
        );
        assert_eq!(
            field(BalancerSpec {
                pool_dir: "etc/x".into(),
                ..good.clone()
            }),
            "pool_dir"
        );
        assert_eq!(
            field(BalancerSpec {
                pid_file: "run/nginx.pid".into(),
                ..good.clone()
            }),
            "pid_file"
        );
        assert_eq!(
            field(BalancerSpec {
                pool_dir: "/a/../b".into(),
                ..good.clone()
            }),
            "pool_dir"
        );
        assert_eq!(
            field(BalancerSpec {
                reload_cmd: "a\nb".into(),
                ..good.clone()
            }),
            "reload_cmd"
        );
        assert_eq!(
            field(BalancerSpec {
                name: "a b".into(),
                ..good.clone()
            }),
            "name"
        );
        assert_eq!(
            field(BalancerSpec {
                hosts: vec!["$(id)".into()],
                ..good.clone()
            }),
            "hosts"
        );
        // A balancer of kind none routes nowhere and needs no host.
        assert_eq!(
            BalancerSpec {
                kind: BalancerKind::None,
                hosts: vec![],
                ..good
            }
            .validate(),
            Ok(())
        );
    }
}
