//! Isolation (issue 16): what a host can do to fence a proc in — bubblewrap for a sandbox, which
//! cgroups for a memory limit — read from one probe of the host and told by "Test connection".

use serde::{Deserialize, Serialize};

/// Which cgroup hierarchy a host has, and its controllers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(tag = "version", rename_all = "lowercase")]
pub enum Cgroups {
    /// The unified hierarchy at `/sys/fs/cgroup`, with the controllers it offers.
    V2 { controllers: Vec<String> },
    /// Separate hierarchies (`/sys/fs/cgroup/memory`, …): the controllers mounted.
    V1 { controllers: Vec<String> },
    /// Neither is mounted.
    None,
}

/// How a proc's memory limit is held on a host.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum MemoryLimit {
    /// cgroup v2's `memory.max`: the kernel kills the proc past it.
    CgroupV2,
    /// cgroup v1's `memory.limit_in_bytes`.
    CgroupV1,
    /// `ulimit -v`: allocation fails past it (address space, not memory used).
    Ulimit,
}

impl MemoryLimit {
    pub fn as_str(self) -> &'static str {
        match self {
            MemoryLimit::CgroupV2 => "cgroup v2",
            MemoryLimit::CgroupV1 => "cgroup v1",
            MemoryLimit::Ulimit => "ulimit -v",
        }
    }
}

/// What a host offers for isolation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct HostCapabilities {
    /// bubblewrap's version, when `bwrap` is installed.
    pub bubblewrap: Option<String>,
    /// `setpriv` (util-linux), which drops to the run-as user inside a sandbox.
    pub setpriv: bool,
    pub cgroups: Cgroups,
    /// mmdebstrap's version, when installed: a builder with it can build stack images.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mmdebstrap: Option<String>,
}

impl HostCapabilities {
    /// Reads the probe's `key=value` lines (see `remote::capabilities`).
    pub fn parse(out: &str) -> HostCapabilities {
        let get = |key: &str| {
            out.lines()
                .find_map(|l| l.strip_prefix(key)?.strip_prefix('='))
                .map(str::trim)
                .unwrap_or_default()
        };
        let words = |s: &str| -> Vec<String> { s.split_whitespace().map(str::to_string).collect() };
        let bubblewrap = Some(get("bwrap"))
            .filter(|v| !v.is_empty())
            .map(|v| v.trim_start_matches("bubblewrap ").to_string());
        let cgroups = match get("cgroupfs") {
            "cgroup2fs" => Cgroups::V2 {
                controllers: words(get("v2")),
            },
            _ if !get("v1").is_empty() => Cgroups::V1 {
                controllers: words(get("v1")),
            },
            _ => Cgroups::None,
        };
        HostCapabilities {
            bubblewrap,
            setpriv: get("setpriv") == "yes",
            cgroups,
            mmdebstrap: Some(get("mmdebstrap"))
                .filter(|v| !v.is_empty())
                .map(|v| v.trim_start_matches("mmdebstrap ").to_string()),
        }
    }

    /// How a memory limit would be held here.
    pub fn memory_limit(&self) -> MemoryLimit {
        match &self.cgroups {
            Cgroups::V2 { controllers } if controllers.iter().any(|c| c == "memory") => {
                MemoryLimit::CgroupV2
            }
            Cgroups::V1 { controllers } if controllers.iter().any(|c| c == "memory") => {
                MemoryLimit::CgroupV1
            }
            _ => MemoryLimit::Ulimit,
        }
    }

    /// What a sandboxed proc needs that this host lacks (empty: it can run one).
    pub fn sandbox_missing(&self) -> Vec<&'static str> {
        let mut missing = Vec::new();
        if self.bubblewrap.is_none() {
            missing.push("bubblewrap (Debian package `bubblewrap`)");
        }
        if !self.setpriv {
            missing.push("setpriv (Debian package `util-linux`)");
        }
        missing
    }

    /// One line for people.
    pub fn summary(&self) -> String {
        let sandbox = match &self.bubblewrap {
            Some(v) if self.setpriv => format!("sandbox: bubblewrap {v}"),
            _ => format!(
                "sandbox: no ({} missing)",
                self.sandbox_missing().join(", ")
            ),
        };
        let cgroups = match &self.cgroups {
            Cgroups::V2 { controllers } => format!("cgroup v2 ({})", controllers.join(" ")),
            Cgroups::V1 { controllers } => format!("cgroup v1 ({})", controllers.join(" ")),
            Cgroups::None => "no cgroups".to_string(),
        };
        let images = match &self.mmdebstrap {
            Some(v) => format!("stack images by mmdebstrap {v}"),
            None => "no mmdebstrap (stack images cannot be built here)".to_string(),
        };
        format!(
            "{sandbox}; {cgroups}; memory limits by {}; {images}",
            self.memory_limit().as_str()
        )
    }
}

/// Folders a sandbox makes itself: a volume may not be mounted on or under them.
pub const SANDBOX_OWN: [&str; 7] = [
    "/usr",
    "/etc",
    "/proc",
    "/dev",
    "/app",
    "/run/vr",
    "/home/app",
];

/// A volume's mount dir, for a sandboxed proc: somewhere the sandbox can make, not one of its
/// own folders.
pub fn check_sandbox_mount(mount_dir: &str) -> Result<(), crate::validate::Invalid> {
    let dir = mount_dir.trim_end_matches('/');
    let clash = dir.is_empty()
        || SANDBOX_OWN
            .iter()
            .any(|own| dir == *own || dir.starts_with(&format!("{own}/")));
    if clash {
        return Err(crate::validate::Invalid::new(
            "volumes",
            format!(
                "a sandboxed proc cannot mount a volume at {mount_dir}: the sandbox makes {} itself",
                SANDBOX_OWN.join(", ")
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn sandbox_mounts_stay_out_of_the_sandbox_s_own_folders() {
        use super::check_sandbox_mount as ok;
        assert!(ok("/data").is_ok());
        assert!(ok("/var/lib/app").is_ok());
        assert!(ok("/applications").is_ok());
        for bad in [
            "/",
            "/usr/local/x",
            "/etc",
            "/app",
            "/app/data",
            "/home/app/x",
            "/proc/1",
        ] {
            assert_eq!(ok(bad).map_err(|e| e.field), Err("volumes"), "{bad}");
        }
    }

    use super::*;

    #[test]
    fn the_probe_reads_as_what_the_host_offers() {
        let v1 = HostCapabilities::parse(
            "bwrap=bubblewrap 0.8.0\nsetpriv=yes\ncgroupfs=tmpfs\nv2=\nv1=cpu memory pids\nmmdebstrap=mmdebstrap 1.3.5\n",
        );
        assert_eq!(v1.bubblewrap.as_deref(), Some("0.8.0"));
        assert_eq!(v1.memory_limit(), MemoryLimit::CgroupV1);
        assert!(v1.sandbox_missing().is_empty());
        assert_eq!(
            v1.summary(),
            "sandbox: bubblewrap 0.8.0; cgroup v1 (cpu memory pids); memory limits by cgroup v1; stack images by mmdebstrap 1.3.5"
        );
        let v2 = HostCapabilities::parse(
            "bwrap=\nsetpriv=yes\ncgroupfs=cgroup2fs\nv2=cpu io memory\nv1=\n",
        );
        assert_eq!(v2.memory_limit(), MemoryLimit::CgroupV2);
        assert_eq!(
            v2.sandbox_missing(),
            ["bubblewrap (Debian package `bubblewrap`)"]
        );
        let bare = HostCapabilities::parse("bwrap=\nsetpriv=no\ncgroupfs=tmpfs\nv2=\nv1=\n");
        assert_eq!(bare.cgroups, Cgroups::None);
        assert_eq!(bare.memory_limit(), MemoryLimit::Ulimit);
        assert_eq!(bare.sandbox_missing().len(), 2);
        assert!(
            bare.summary()
                .ends_with("no mmdebstrap (stack images cannot be built here)")
        );
        let v2_no_memory = HostCapabilities::parse("cgroupfs=cgroup2fs\nv2=cpu pids\n");
        assert_eq!(v2_no_memory.memory_limit(), MemoryLimit::Ulimit);
    }
}
