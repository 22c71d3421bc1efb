//! One command that reads what a host offers for isolation: bubblewrap and setpriv, which
//! cgroup hierarchy is mounted with which controllers, and mmdebstrap (stack images). Parsed by
//! `vr_app::isolation::HostCapabilities::parse`.

use super::RemoteError;
use super::ssh::Connection;

/// Prints `bwrap=`, `setpriv=`, `cgroupfs=`, `v2=`, `v1=` and `mmdebstrap=` lines; reads only,
/// as the login user.
const PROBE: &str = r#"b=$(bwrap --version 2>/dev/null | head -n 1); echo "bwrap=$b"
if command -v mmdebstrap >/dev/null 2>&1; then
  m=$(dpkg-query -W -f='${Version}' mmdebstrap 2>/dev/null); echo "mmdebstrap=${m:-yes}"
else echo mmdebstrap=; fi
if command -v setpriv >/dev/null 2>&1; then echo setpriv=yes; else echo setpriv=no; fi
echo "cgroupfs=$(stat -fc %T /sys/fs/cgroup 2>/dev/null)"
echo "v2=$(cat /sys/fs/cgroup/cgroup.controllers 2>/dev/null)"
v1=""; for c in memory cpu pids; do
  [ "$(stat -fc %T /sys/fs/cgroup/$c 2>/dev/null)" = cgroupfs ] && v1="$v1 $c"
done; echo "v1=$v1"; exit 0"#;

pub fn probe(conn: &mut Connection) -> Result<String, RemoteError> {
    Ok(conn.exec(PROBE)?.stdout)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_probe_runs_in_sh_and_reads_this_machine() {
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(PROBE)
            .output()
            .expect("sh");
        let text = String::from_utf8_lossy(&out.stdout);
        let caps = vr_app::isolation::HostCapabilities::parse(&text);
        let fs = std::process::Command::new("stat")
            .args(["-fc", "%T", "/sys/fs/cgroup"])
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .unwrap_or_default();
        match fs.as_str() {
            "cgroup2fs" => assert!(matches!(
                caps.cgroups,
                vr_app::isolation::Cgroups::V2 { .. }
            )),
            _ if std::path::Path::new("/sys/fs/cgroup/memory/memory.limit_in_bytes").exists() => {
                assert_eq!(
                    caps.memory_limit(),
                    vr_app::isolation::MemoryLimit::CgroupV1,
                    "{text}"
                )
            }
            _ => {}
        }
        let has_bwrap = std::process::Command::new("sh")
            .args(["-c", "command -v bwrap"])
            .status()
            .is_ok_and(|s| s.success());
        assert_eq!(caps.bubblewrap.is_some(), has_bwrap, "{text}");
    }
}
