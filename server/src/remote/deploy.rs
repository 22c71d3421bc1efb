//! Putting one proc on a host (SPEC §2, §3.3): the build unpacked once per host under
//! `{apps_root}/builds/{sha256}/` (checked, atomically renamed), the proc folder
//! `{apps_root}/procs/{program}/` (proc.json, env, settings.yaml, run) and the program file
//! `{include_dir}/{program}.conf`, written last and atomically so Supervisor never sees a
//! half-written proc.

use super::RemoteError;
use super::shell::quote;
use super::ssh::Connection;
use super::supervisor::Layout;
use std::collections::BTreeMap;
use std::io::Read;
use std::time::Duration;

/// How putting a proc on a host failed: the host (lost, timed out) apart from the work itself.
#[derive(Debug, thiserror::Error)]
pub enum DeployError {
    #[error(transparent)]
    Remote(#[from] RemoteError),
    /// The host answered, and the step failed there (its words).
    #[error("{0}")]
    Failed(String),
    /// Refused before anything was sent: it would become shell syntax in the env file.
    #[error(
        "{0:?} is not an environment variable name (letters, digits and _, not starting with a digit)"
    )]
    EnvName(String),
    /// This server's own copy of what it was to send is missing.
    #[error("{0}")]
    MissingHere(String),
}

/// What a proc runs with; the caller has merged and validated it.
pub struct ProcSpec<'a> {
    pub program: &'a str,
    pub build_sha256: &'a str,
    pub proc_json: &'a str,
    pub settings_yaml: &'a str,
    pub env: &'a BTreeMap<String, String>,
    pub command: &'a str,
    pub port: u16,
    pub run_as: Option<&'a str>,
    pub mem_limit_mb: Option<u64>,
    pub cpu_weight: Option<u32>,
    pub volumes: &'a [(String, String)],
    pub runner: vr_app::release::Runner,
    /// The sha256 of the stack image it runs on (sandbox only).
    pub stack_sha256: Option<&'a str>,
}

impl ProcSpec<'_> {
    fn sandboxed(&self) -> bool {
        self.runner == vr_app::release::Runner::Sandbox
    }

    /// Its run script starts as root (no Supervisor `user=`) and drops to the run-as user
    /// itself: in a sandbox, and for a memory limit or CPU weight, whose cgroup only root can
    /// make and join.
    fn starts_as_root(&self) -> bool {
        self.sandboxed() || self.mem_limit_mb.is_some() || self.cpu_weight.is_some()
    }

    /// Who owns the proc's env, settings and home: its run-as user, or in a sandbox the user
    /// it drops to.
    fn owner(&self) -> &str {
        match (self.run_as, self.sandboxed()) {
            (Some(u), _) => u,
            (None, true) => super::sandbox::DEFAULT_USER,
            (None, false) => "",
        }
    }

    /// The command that runs `command` in this proc's sandbox (the run script's last line
    /// after `exec`, and the uptests'), with vr's own folders hidden.
    fn sandbox_line(&self, layout: &Layout, command: &str) -> String {
        let build = build_dir(layout, self.build_sha256);
        let proc_dir = layout.proc_dir(self.program);
        let stack = self
            .stack_sha256
            .map(|sha| Unpacked::Stack.dir(layout, sha));
        super::sandbox::Sandbox {
            build_dir: &build,
            proc_dir: &proc_dir,
            volumes: self.volumes,
            run_as: self.run_as,
            hidden: &[layout.apps_root.as_str(), layout.include_dir.as_str()],
            port: self.port,
            command,
            stack_dir: stack.as_deref(),
        }
        .line()
    }
}

pub(super) fn line(layout: &Layout, script: &str, args: &[&str]) -> String {
    let mut words = vec![quote("sh"), quote("-c"), quote(script), quote("sh")];
    words.extend(args.iter().map(|a| quote(a)));
    let l = words.join(" ");
    if layout.sudo {
        format!("sudo -n {l}")
    } else {
        l
    }
}

/// What vr unpacks on hosts by sha256: builds, and the stack images they run on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unpacked {
    Build,
    Stack,
}

impl Unpacked {
    /// Its folder under `{apps_root}`.
    fn folder(self) -> &'static str {
        match self {
            Unpacked::Build => "builds",
            Unpacked::Stack => "stacks",
        }
    }

    fn what(self) -> &'static str {
        match self {
            Unpacked::Build => "build",
            Unpacked::Stack => "stack image",
        }
    }

    /// Where it is unpacked on a host.
    pub fn dir(self, layout: &Layout, sha256: &str) -> String {
        format!("{}/{}/{sha256}", layout.apps_root, self.folder())
    }
}

pub fn build_dir(layout: &Layout, sha256: &str) -> String {
    Unpacked::Build.dir(layout, sha256)
}

/// True when the build or image is already unpacked on the host.
pub fn has_unpacked(
    conn: &mut Connection,
    layout: &Layout,
    kind: Unpacked,
    sha256: &str,
) -> Result<bool, RemoteError> {
    let marker = format!("{}/.vr-complete", kind.dir(layout, sha256));
    let out = conn.exec(&line(layout, "test -f \"$1\"", &[&marker]))?;
    Ok(out.status == 0)
}

/// Whether some process on the host listens on port `$1` already (any address, IPv4 or IPv6,
/// read from `/proc/net/tcp*` so it also catches programs vr does not manage), and whether the
/// build marker `$2` is there: a deploy's first step asks both in one round trip.
const PORT_AND_BUILD: &str = r#"hex=$(printf '%04X' "$1")
if cat /proc/net/tcp /proc/net/tcp6 2>/dev/null | awk -v p=":$hex" '$4 == "0A" && substr($2, length($2) - 4) == p { found = 1 } END { exit found ? 0 : 1 }'; then echo port-taken; else echo port-free; fi
if [ -f "$2" ]; then echo build-here; else echo build-missing; fi
"#;

/// What a deploy's first look at the host found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PortAndBuild {
    pub port_taken: bool,
    pub build_here: bool,
}

/// Whether something on the host already listens on `port`, and whether build `sha256` is
/// unpacked there.
pub fn port_and_build(
    conn: &mut Connection,
    layout: &Layout,
    port: u16,
    sha256: &str,
) -> Result<PortAndBuild, DeployError> {
    let marker = format!("{}/.vr-complete", build_dir(layout, sha256));
    let out = conn.exec(&line(layout, PORT_AND_BUILD, &[&port.to_string(), &marker]))?;
    let said: Vec<&str> = out.stdout.split_whitespace().collect();
    if out.status != 0 || said.len() != 2 {
        return Err(DeployError::Failed(format!(
            "checking the port and the build said {:?} (exit {}): {}",
            out.stdout.trim(),
            out.status,
            out.stderr.trim()
        )));
    }
    Ok(PortAndBuild {
        port_taken: said[0] == "port-taken",
        build_here: said[1] == "build-here",
    })
}

/// `$1` apps root, `$2` sha256, `$3` folder (`builds`, `stacks`), `$4` what it is.
const UNPACK: &str = r#"set -e
umask 022
root=$1; sha=$2; folder=$3; what=$4
mkdir -p "$root/$folder"
tmp=$(mktemp -d "$root/$folder/.tmp-$sha.XXXXXX")
cat > "$tmp.tar.gz"
got=$(sha256sum "$tmp.tar.gz" | cut -d' ' -f1)
if [ "$got" != "$sha" ]; then
  rm -rf "$tmp" "$tmp.tar.gz"; echo "the $what arrived damaged: sha256 $got" >&2; exit 5
fi
# Root unpacks: the archive's owners and modes are not kept (a setuid file must not become a
# setuid-root file), and nothing in it may be writable by group or others. A stack image's
# /dev, /proc and /sys are the sandbox's own: not unpacked.
if [ "$folder" = stacks ]; then
  tar --no-same-owner --no-same-permissions --wildcards --exclude='dev/*' --exclude='./dev/*' \
    --exclude='proc/*' --exclude='./proc/*' --exclude='sys/*' --exclude='./sys/*' \
    -xzf "$tmp.tar.gz" -C "$tmp"
else
  tar --no-same-owner --no-same-permissions -xzf "$tmp.tar.gz" -C "$tmp"
fi
rm -f "$tmp.tar.gz"
# Only files, directories and links: a device node would hand the proc's user a raw disk.
odd=$(find "$tmp" \( -type b -o -type c -o -type p -o -type s \) -print | head -n 1)
if [ -n "$odd" ]; then
  rm -rf "$tmp"; echo "the $what holds a device, FIFO or socket (${odd#"$tmp"/}): refused" >&2; exit 7
fi
chmod -R u-s,g-s,go-w "$tmp"
chmod 755 "$tmp"
# The archive may hold a link of this name: replace it, never write through it.
rm -rf -- "$tmp/.vr-complete"
: > "$tmp/.vr-complete"
rm -rf "$root/$folder/$sha"
mv "$tmp" "$root/$folder/$sha"
"#;

/// Whether [`unpack_once`] found it there or sent it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unpack {
    AlreadyThere,
    Copied,
}

/// Makes sure the build or image `sha256` is unpacked on the host: one look, and the tarball
/// at `tarball` (this server's copy) sent and unpacked only when it is not there.
pub fn unpack_once(
    conn: &mut Connection,
    layout: &Layout,
    kind: Unpacked,
    sha256: &str,
    tarball: &std::path::Path,
    deadline: Duration,
) -> Result<Unpack, DeployError> {
    if has_unpacked(conn, layout, kind, sha256)? {
        return Ok(Unpack::AlreadyThere);
    }
    let mut file = std::fs::File::open(tarball).map_err(|e| {
        DeployError::MissingHere(format!(
            "the {} {} is missing on this server: {e}",
            kind.what(),
            tarball.display()
        ))
    })?;
    copy_unpacked(conn, layout, kind, sha256, &mut file, deadline)?;
    Ok(Unpack::Copied)
}

/// Sends a build's or image's tarball and unpacks it (checked, then renamed into place).
pub fn copy_unpacked(
    conn: &mut Connection,
    layout: &Layout,
    kind: Unpacked,
    sha256: &str,
    tarball: &mut dyn Read,
    deadline: Duration,
) -> Result<(), DeployError> {
    let out = conn.exec_with_stdin(
        &line(
            layout,
            UNPACK,
            &[&layout.apps_root, sha256, kind.folder(), kind.what()],
        ),
        tarball,
        deadline,
    )?;
    if out.status != 0 {
        return Err(DeployError::Failed(format!(
            "unpacking the {} failed: {}",
            kind.what(),
            out.stderr.trim()
        )));
    }
    Ok(())
}

/// `export KEY='value'` lines. A value starting with `$NAME` is taken from the host's
/// environment instead (SPEC: values starting with `$`). Names were validated where they
/// entered; this checks again because a name is written unquoted and the file is sourced.
fn env_file(env: &BTreeMap<String, String>) -> Result<String, DeployError> {
    let mut out = String::from("# Written by vr. Do not edit: a redeploy replaces it.\n");
    for (k, v) in env {
        if !vr_app::validate::is_env_name(k) {
            return Err(DeployError::EnvName(k.clone()));
        }
        let from_host = v
            .strip_prefix('$')
            .filter(|n| vr_app::validate::is_env_name(n));
        match from_host {
            Some(name) => out.push_str(&format!("export {k}=\"${{{name}}}\"\n")),
            None => out.push_str(&format!("export {k}={}\n", quote(v))),
        }
    }
    Ok(out)
}

fn run_script(layout: &Layout, spec: &ProcSpec<'_>) -> String {
    let dir = layout.proc_dir(spec.program);
    let mut s = format!(
        "#!/bin/sh\n# Written by vr for {program}. Do not edit: a redeploy replaces it.\nset -e\n",
        program = spec.program,
    );
    let build = build_dir(layout, spec.build_sha256);
    if spec.mem_limit_mb.is_some() || spec.cpu_weight.is_some() {
        // The script runs as root here: a cgroup of its own where the host has one (else
        // `ulimit -v` for memory).
        s.push_str(&super::cgroup::cgroup_lines(
            spec.program,
            super::cgroup::Limits {
                mem_mb: spec.mem_limit_mb,
                cpu_weight: spec.cpu_weight,
            },
        ));
    }
    if spec.sandboxed() {
        // Started as root; the user's env is read only inside, after privileges are dropped.
        s.push_str(&format!(
            "exec {}\n",
            spec.sandbox_line(layout, spec.command)
        ));
        return s;
    }
    let body = format!(
        ". {env}; export PORT={port} APP_SETTINGS_YAML={settings} HOME={home}; cd {build}; exec /bin/sh -c {command}",
        env = quote(&format!("{dir}/env")),
        port = spec.port,
        settings = quote(&format!("{dir}/settings.yaml")),
        home = quote(&format!("{dir}/home")),
        build = quote(&build),
        command = quote(spec.command),
    );
    match spec.run_as.filter(|_| spec.starts_as_root()) {
        // Privileges dropped before the user's env file is read: root never reads what the
        // user can change.
        Some(user) => s.push_str(&format!(
            "exec setpriv {} --no-new-privs -- /bin/sh -c {}\n",
            super::sandbox::drop_to(user),
            quote(&body)
        )),
        None => {
            s.push_str(&body);
            s.push('\n');
        }
    }
    s
}

/// Supervisor config values are interpolated by Python: `%` must be doubled.
fn ini(v: &str) -> String {
    v.replace('%', "%%")
}

fn program_conf(layout: &Layout, spec: &ProcSpec<'_>) -> String {
    let dir = layout.proc_dir(spec.program);
    let mut s = format!(
        "; Written by vr. Do not edit: a redeploy replaces it.\n[program:{name}]\ncommand={dir}/run\n\
         directory={build}\nautostart=true\nautorestart=true\nstartsecs=1\nstopwaitsecs=10\n\
         stopasgroup=true\nkillasgroup=true\n\
         stdout_logfile={dir}/stdout.log\nstdout_logfile_maxbytes=10MB\nstdout_logfile_backups=3\n\
         stderr_logfile={dir}/stderr.log\nstderr_logfile_maxbytes=10MB\nstderr_logfile_backups=3\n",
        name = spec.program,
        dir = ini(&dir),
        build = ini(&build_dir(layout, spec.build_sha256)),
    );
    // A sandbox, or a proc with a memory limit, starts as root and drops to its user itself.
    if let Some(user) = spec.run_as.filter(|_| !spec.starts_as_root()) {
        s.push_str(&format!("user={}\n", ini(user)));
    }
    s
}

/// Everything root reads or runs (the program file, the proc folder, `run`, `proc.json`, the
/// logs Supervisor writes there) stays root's and unwritable by the proc's user, who gets only
/// `home/` to write in and can read `env` and `settings.yaml` (its group), nobody else can.
const WRITE: &str = r#"set -eu
umask 022
procs=$1; inc=$2; name=$3; user=$4; shift 4
group=""
if [ -n "$user" ]; then
  if ! group=$(id -g -- "$user" 2>/dev/null); then
    echo "the run-as user $user does not exist on this host" >&2; exit 6
  fi
fi
mkdir -p "$procs" "$inc"
t=$(mktemp -d "$procs/.tmp-$name.XXXXXX")
tar --no-same-owner --no-same-permissions -x -C "$t"
chmod 755 "$t" "$t/run"
chmod 644 "$t/proc.json" "$t/program.conf"
mkdir "$t/home"
# env and settings.yaml: the proc's user alone reads them (not its group: others may share it).
# Root never reads them back; the folder stays root's, so they cannot be replaced.
chmod 400 "$t/env" "$t/settings.yaml"
if [ -n "$user" ]; then
  chown "$user:0" "$t/env" "$t/settings.yaml"
  chown "$user:$group" "$t/home"
fi
chmod 700 "$t/home"
# Creating a volume follows no link and enters no directory another user owns: else a proc
# could have root make (and hand it) a directory anywhere.
safe_to_create() {
  cur=""; rest=${1#/}
  while [ -n "$rest" ]; do
    part=${rest%%/*}
    if [ "$part" = "$rest" ]; then rest=""; else rest=${rest#*/}; fi
    cur="$cur/$part"
    if [ -L "$cur" ]; then echo "volume $1: $cur is a link; not creating it" >&2; return 1; fi
    [ -e "$cur" ] || return 0
    if [ "$(stat -c %u -- "$cur")" != 0 ] || [ -n "$(find "$cur" -maxdepth 0 -perm /022)" ]; then
      echo "volume $1: $cur is not root's alone; not creating it" >&2; return 1
    fi
  done
}
for v in "$@"; do
  if [ ! -e "$v" ] && [ ! -L "$v" ]; then
    safe_to_create "$v" || exit 8
    mkdir -p -- "$v"
    if [ -n "$user" ]; then chown -h "$user:$group" -- "$v"; fi
  fi
  ls -ld -- "$v"
done
mv "$t/program.conf" "$inc/$name.conf.tmp"
rm -rf "$procs/$name"
mv "$t" "$procs/$name"
mv "$inc/$name.conf.tmp" "$inc/$name.conf"
"#;

/// Writes the proc folder and then its program file; returns what it reports about volumes.
pub fn write_proc(
    conn: &mut Connection,
    layout: &Layout,
    spec: &ProcSpec<'_>,
    deadline: Duration,
) -> Result<String, DeployError> {
    let files: [(&str, String, u32); 5] = [
        ("proc.json", spec.proc_json.to_string(), 0o644),
        ("env", env_file(spec.env)?, 0o600),
        ("settings.yaml", spec.settings_yaml.to_string(), 0o644),
        ("run", run_script(layout, spec), 0o755),
        ("program.conf", program_conf(layout, spec), 0o644),
    ];
    let mut tar = tar::Builder::new(Vec::new());
    for (name, body, mode) in &files {
        let mut h = tar::Header::new_gnu();
        h.set_size(body.len() as u64);
        h.set_mode(*mode);
        h.set_cksum();
        tar.append_data(&mut h, name, body.as_bytes())
            .map_err(|e| DeployError::Failed(format!("packing the proc files: {e}")))?;
    }
    let bytes = tar
        .into_inner()
        .map_err(|e| DeployError::Failed(format!("packing the proc files: {e}")))?;
    let procs = format!("{}/procs", layout.apps_root);
    let mut args: Vec<&str> = vec![&procs, &layout.include_dir, spec.program, spec.owner()];
    args.extend(spec.volumes.iter().map(|(host, _)| host.as_str()));
    let out = conn.exec_with_stdin(&line(layout, WRITE, &args), &mut &bytes[..], deadline)?;
    if out.status != 0 {
        return Err(DeployError::Failed(format!(
            "writing the proc failed: {}",
            out.stderr.trim()
        )));
    }
    Ok(out.stdout.trim().to_string())
}

const UPTESTS: &str = r#"set -u
build=$1; proc=$2; host=$3; port=$4; procdir=$5; limit=$6; user=$7
dir="$build/uptests/$proc"
[ -d "$dir" ] || exit 0
run='. "$1/env"; export PORT="$2" HOME="$1/home" APP_SETTINGS_YAML="$1/settings.yaml"; exec timeout "$3" "$4" "$5" "$2"'
for f in "$dir"/*; do
  [ -f "$f" ] && [ -x "$f" ] || continue
  start=$(date +%s%3N)
  if [ -n "$user" ]; then
    out=$(cd "$build" && runuser -u "$user" -- sh -c "$run" sh "$procdir" "$port" "$limit" "$f" "$host" 2>&1)
  else
    out=$(cd "$build" && sh -c "$run" sh "$procdir" "$port" "$limit" "$f" "$host" 2>&1)
  fi
  code=$?
  end=$(date +%s%3N)
  printf '\036%s\037%s\037%s\037' "${f##*/}" "$code" "$((end - start))"
  printf '%s' "$out" | tail -c 4096
done
exit 0
"#;

/// One uptest as it ran on the host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UptestRun {
    pub name: String,
    pub exit_code: i32,
    pub output: String,
    pub ms: u64,
}

/// Runs every executable in the build's `uptests/<proc_type>/`, in name order, in the proc's
/// environment and as its user, each with `HOST PORT` and a time limit. Empty: none exist.
pub fn run_uptests(
    conn: &mut Connection,
    layout: &Layout,
    spec: &ProcSpec<'_>,
    proc_type: &str,
    host_address: &str,
    limit: Duration,
) -> Result<Vec<UptestRun>, RemoteError> {
    let build = build_dir(layout, spec.build_sha256);
    let procdir = layout.proc_dir(spec.program);
    let port = spec.port.to_string();
    let secs = limit.as_secs().max(1).to_string();
    if spec.sandboxed() {
        // Inside a sandbox like the proc's: the same files, user and environment.
        let inner = format!(
            "dir={}; [ -d \"$dir\" ] || exit 0; {UPTESTS_LOOP}",
            quote(&format!("{}/uptests/{proc_type}", super::sandbox::APP_DIR))
        )
        .replace("$limit", &quote(&secs))
        .replace("$host", &quote(host_address));
        let out = conn.exec_within(
            &layout.privileged(&spec.sandbox_line(layout, &inner)),
            limit * 20 + Duration::from_secs(10),
        )?;
        return Ok(uptest_records(&out.stdout));
    }
    let out = conn.exec_within(
        &line(
            layout,
            UPTESTS,
            &[
                &build,
                proc_type,
                host_address,
                &port,
                &procdir,
                &secs,
                spec.run_as.unwrap_or(""),
            ],
        ),
        limit * 20 + Duration::from_secs(10),
    )?;
    Ok(uptest_records(&out.stdout))
}

/// One uptest run per `RS name US code US ms US output` record.
fn uptest_records(stdout: &str) -> Vec<UptestRun> {
    stdout
        .split('\u{1e}')
        .skip(1)
        .filter_map(|rec| {
            let mut parts = rec.splitn(4, '\u{1f}');
            Some(UptestRun {
                name: parts.next()?.to_string(),
                exit_code: parts.next()?.trim().parse().ok()?,
                ms: parts.next()?.trim().parse().unwrap_or(0),
                output: parts.next().unwrap_or_default().to_string(),
            })
        })
        .collect()
}

/// The uptest loop inside a sandbox (as its user, in its env, with `$PORT` set): `$dir`,
/// `$limit` and `$host` are filled in before.
const UPTESTS_LOOP: &str = r#"for f in "$dir"/*; do
  [ -f "$f" ] && [ -x "$f" ] || continue
  start=$(date +%s%3N)
  out=$(timeout $limit "$f" $host "$PORT" 2>&1)
  code=$?
  end=$(date +%s%3N)
  printf '\036%s\037%s\037%s\037' "${f##*/}" "$code" "$((end - start))"
  printf '%s' "$out" | tail -c 4096
done
exit 0"#;

/// Proc folders, unpacked builds and stack images nothing uses. Never follows a link (a link in `procs/` or
/// `builds/` is skipped, `rm -rf` is given the link-free path) and never touches what a deploy
/// may be writing: folders named in the arguments, folders whose program file exists, and
/// anything younger than an hour.
const HYGIENE: &str = r#"set -u
root=$1; days=$2; inc=$3; shift 3
procs="$root/procs"
for d in "$procs"/* "$procs"/.tmp-*; do
  [ -L "$d" ] && continue
  [ -d "$d" ] || continue
  n=${d##*/}
  keep=0
  for k in "$@"; do if [ "$k" = "$n" ]; then keep=1; break; fi; done
  [ $keep = 1 ] && continue
  [ -e "$inc/$n.conf" ] && continue
  [ -n "$(find "$d" -maxdepth 0 -mmin -60)" ] && continue
  rm -rf -- "$d" && echo "removed proc folder $n (not in Supervisor)"
done
for kind in builds stacks; do
  what=build; [ "$kind" = stacks ] && what="stack image"
  for b in "$root/$kind"/*; do
    [ -L "$b" ] && continue
    [ -d "$b" ] || continue
    sha=${b##*/}
    used=0
    for r in "$procs"/*/run; do
      if [ -f "$r" ] && [ ! -L "$r" ] && head -c 65536 -- "$r" | grep -qF -- "$kind/$sha"; then
        used=1; break
      fi
    done
    [ $used = 1 ] && continue
    if [ -n "$(find "$b" -maxdepth 0 -mtime +"$days")" ]; then
      rm -rf -- "$b" && echo "removed $what $sha (no proc uses it, older than $days days)"
    fi
  done
done
exit 0
"#;

/// Removes proc folders of programs that are not in `keep` (Supervisor's programs and deploys
/// in flight) and have no program file, and unpacked builds and stack images no proc folder uses
/// that are older than `days`. Returns one line per removal.
pub fn hygiene(
    conn: &mut Connection,
    layout: &Layout,
    keep: &[String],
    days: u32,
    deadline: Duration,
) -> Result<Vec<String>, RemoteError> {
    let days = days.to_string();
    let mut args: Vec<&str> = vec![&layout.apps_root, &days, &layout.include_dir];
    args.extend(keep.iter().map(String::as_str));
    let out = conn.exec_within(&line(layout, HYGIENE, &args), deadline)?;
    if out.status != 0 {
        return Err(RemoteError::Exec {
            target: conn.target().to_string(),
            message: out.stderr.trim().to_string(),
        });
    }
    Ok(out.stdout.lines().map(str::to_string).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_look_finds_a_listening_port_and_a_build_marker() {
        let ask = |port: u16, marker: &std::path::Path| {
            let out = std::process::Command::new("/bin/sh")
                .args(["-c", PORT_AND_BUILD, "sh", &port.to_string()])
                .arg(marker)
                .output()
                .expect("sh");
            String::from_utf8_lossy(&out.stdout).to_string()
        };
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let taken = listener.local_addr().expect("addr").port();
        let tmp = tempfile::tempdir().expect("tmp");
        let marker = tmp.path().join(".vr-complete");
        assert_eq!(ask(taken, &marker), "port-taken\nbuild-missing\n");
        std::fs::write(&marker, "").expect("marker");
        drop(listener);
        assert_eq!(ask(taken, &marker), "port-free\nbuild-here\n");
    }

    #[test]
    fn env_files_quote_values_and_read_dollar_names_from_the_host() {
        let env = BTreeMap::from([
            ("A".to_string(), "x; rm -rf / $(id) 'q'".to_string()),
            ("B".to_string(), "$DATABASE_URL".to_string()),
            ("C".to_string(), "$(not a name)".to_string()),
        ]);
        let text = env_file(&env).expect("valid names");
        let out = std::process::Command::new("/bin/sh")
            .arg("-c")
            .arg(format!(
                "DATABASE_URL=pg://h; {text}\nprintf '%s|%s|%s' \"$A\" \"$B\" \"$C\""
            ))
            .output()
            .expect("sh");
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            "x; rm -rf / $(id) 'q'|pg://h|$(not a name)"
        );
    }

    #[test]
    fn env_files_refuse_names_that_are_not_identifiers() {
        for bad in ["A;curl x|sh;B", "1A", "A B", "", "A=B", "$(id)"] {
            let env = BTreeMap::from([(bad.to_string(), "v".to_string())]);
            assert!(
                matches!(env_file(&env), Err(DeployError::EnvName(n)) if n == bad),
                "{bad}"
            );
        }
    }

    #[test]
    fn program_files_escape_percent() {
        assert_eq!(ini("/a%b"), "/a%%b");
    }
}
