//! Building an app on a builder host (SPEC §3.1): a mirror of the app's repo cached by URL, a
//! clean checkout of one commit, buildpacks cached by URL and tried in order (or the pinned one),
//! `bin/compile BUILD CACHE ENV` with a persistent per-app cache, `bin/release`, a tar.gz of the
//! result, copied back to the server.
//!
//! The scripts are constant text; every value reaches them as a positional parameter of
//! `sh -c SCRIPT sh ARGS…`, each quoted, so nothing in a URL or version can become shell syntax.

use super::RemoteError;
use super::deploy::line;
use super::shell::quote;
use super::ssh::Connection;
use super::supervisor::Layout;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::io::Write;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error(transparent)]
    Remote(#[from] RemoteError),
    /// The build itself failed (bad version, no buildpack detects, compile error…).
    #[error("{0}")]
    Failed(String),
}

/// Where builds live on the builder: `{apps_root}/build`.
pub(super) fn build_root(layout: &Layout) -> String {
    format!("{}/build", layout.apps_root)
}

/// A cache directory name for a URL: the same URL always maps to the same directory.
pub fn url_key(url: &str) -> String {
    hex::encode(&Sha256::digest(url.as_bytes())[..10])
}

/// A repository on the builder itself (`file://`) is fetched by root, so it must be one an
/// unprivileged user could read anyway: else a build could carry root-only files (an `/etc`
/// kept in git) into an artifact. `$1` uid, `$2` URL.
const LOCAL_REPO_CHECK: &str = r#"local_repo_ok() {
  case "$2" in
    file://*)
      setpriv --reuid="$1" --regid="$1" --clear-groups --no-new-privs -- \
        sh -c 'test -r "$1" && test -x "$1" && [ -z "$(find "$1" ! -readable -print -quit 2>&1)" ]' \
        sh "${2#file://}" || {
        echo "$2 is a repository on the builder that unprivileged users cannot read: builds may read only what they could" >&2
        return 1
      } ;;
  esac
}
"#;

const RESOLVE: &str = r#"set -eu
repos="$1/repos"; dir="$repos/$2.git"; url=$3; version=$4; uid=$5
local_repo_ok "$uid" "$url" || exit 4
mkdir -p "$repos"
if [ -d "$dir" ]; then
  git -C "$dir" fetch --quiet --prune origin
else
  git clone --quiet --mirror -- "$url" "$dir.tmp.$$" && mv "$dir.tmp.$$" "$dir"
fi
if ! git -C "$dir" rev-parse --verify --quiet "$version^{commit}"; then
  echo "no branch, tag or commit named $version in $url" >&2
  exit 3
fi
"#;

/// Fetches the app's repo into its cache on the builder and resolves `version` to a commit.
pub fn resolve(
    conn: &mut Connection,
    layout: &Layout,
    repo_url: &str,
    version: &str,
    uid: u32,
    deadline: Duration,
) -> Result<String, BuildError> {
    let root = build_root(layout);
    let key = url_key(repo_url);
    let script = format!("{LOCAL_REPO_CHECK}{RESOLVE}");
    let out = conn.exec_within(
        &line(
            layout,
            &script,
            &[&root, &key, repo_url, version, &uid.to_string()],
        ),
        deadline,
    )?;
    let commit = out.stdout.trim();
    if out.status != 0 || commit.len() != 40 || !commit.bytes().all(|b| b.is_ascii_hexdigit()) {
        let why = out.stderr.trim();
        return Err(BuildError::Failed(if why.is_empty() {
            format!("could not resolve {version} (exit {})", out.status)
        } else {
            why.to_string()
        }));
    }
    Ok(commit.to_string())
}

/// The build script. Arguments: root, build id, app, build uid, repo key, commit, pinned
/// (0/1), the unpacked stack image (empty: none), then per buildpack: URL, cache key, ref (may
/// be empty).
///
/// Root fetches and unpacks (mirrors and buildpacks stay root's); the app's code, the
/// buildpack's `detect`/`compile`/`release`, the read of the Procfile and the packing all run
/// as the app's own unprivileged build uid (no passwd entry needed), with the app's cache
/// owned by that uid alone, so one app's build cannot touch another's cache, the mirrors, or
/// the builder, and nothing root-only can be read into an artifact.
const BUILD: &str = r#"set -eu
# What root writes here (results, the artifact) is root's alone; buildpacks are unpacked
# readable, below, since the build uid runs them.
umask 077
root=$1; id=$2; app=$3; uid=$4; repo_key=$5; commit=$6; pinned=$7; stack=$8; shift 8
if ! command -v setpriv >/dev/null 2>&1; then
  echo "the builder needs setpriv (util-linux) to run buildpacks without root" >&2; exit 68
fi
if [ -n "$stack" ] && ! command -v bwrap >/dev/null 2>&1; then
  echo "the builder needs bubblewrap (Debian package bubblewrap) to build in a stack" >&2; exit 71
fi
if getent passwd "$uid" >/dev/null 2>&1; then
  echo "uid $uid, vr's build uid for $app, belongs to a user on the builder ($(getent passwd "$uid" | cut -d: -f1)); refusing to build as it" >&2; exit 69
fi
# Whatever the build started dies with it, however it ends: nothing of one build may wait for
# the next one of the app.
cleanup() { pkill -KILL -U "$uid" 2>/dev/null || true; }
trap cleanup EXIT
trap 'cleanup; exit 129' HUP INT TERM
work="$root/work/$id"
cache="$root/cache/$app"
rm -rf "$work"
mkdir -p "$root/work" "$root/cache" "$root/buildpacks" "$cache"
chmod 711 "$root/work" "$root/cache"
chmod 700 "$root/buildpacks"
mkdir -m 711 "$work"
mkdir -m 755 "$work/env"
mkdir "$work/app" "$work/home" "$work/tmp"
chown "$uid:$uid" "$work/app" "$work/home" "$work/tmp"
chmod 700 "$work/app" "$work/home" "$work/tmp"
if [ "$(stat -c %u "$cache")" != "$uid" ]; then chown -R -h "$uid:$uid" "$cache"; fi
chmod 700 "$cache"
if ! setpriv --reuid="$uid" --regid="$uid" --clear-groups -- test -w "$work/app"; then
  echo "the build uid cannot reach $work: every directory above it must be searchable (o+x)" >&2; exit 70
fi
as_app() {
  (umask 022; setpriv --reuid="$uid" --regid="$uid" --clear-groups --no-new-privs -- \
    env -i PATH="/usr/local/bin:/usr/bin:/bin" HOME="$work/home" TMPDIR="$work/tmp" LANG=C.UTF-8 "$@")
}
# The buildpack's own programs: in the stack when there is one (its OS as /, the work dir at
# /build, the cache at /cache), so build and run see the same OS. $W and $C are those paths.
if [ -n "$stack" ]; then W=/build; C=/cache; else W=$work; C=$cache; fi
as_build() {
  if [ -z "$stack" ]; then as_app "$@"; return; fi
  (umask 022
  set -- --die-with-parent --unshare-pid --unshare-ipc --unshare-uts \
    --proc /proc --dev /dev --perms 1777 --tmpfs /tmp \
    --bind "$work" /build --bind "$cache" /cache --chdir /build \
    -- setpriv --reuid="$uid" --regid="$uid" --clear-groups --no-new-privs -- \
    env -i PATH="/usr/local/bin:/usr/bin:/bin" HOME=/build/home TMPDIR=/tmp LANG=C.UTF-8 "$@"
@STACK_BINDS@
  exec bwrap "$@")
}
git -C "$root/repos/$repo_key.git" archive --format=tar "$commit" | as_app tar -x -C "$work/app"
echo "-----> Checked out $commit; building as uid $uid"
chosen=""; n=0
while [ $# -gt 0 ]; do
  url=$1; key=$2; ref=$3; shift 3; n=$((n+1))
  local_repo_ok "$uid" "$url" || exit 4
  bpcache="$root/buildpacks/$key.git"
  if [ -d "$bpcache" ]; then
    git -C "$bpcache" fetch --quiet --prune origin
  else
    git clone --quiet --mirror -- "$url" "$bpcache.tmp.$$" && mv "$bpcache.tmp.$$" "$bpcache"
  fi
  if ! bpc=$(git -C "$bpcache" rev-parse --verify --quiet "${ref:-HEAD}^{commit}"); then
    echo "buildpack $url has no ref ${ref:-HEAD}" >&2; exit 64
  fi
  dir="$work/bp-$n"; mkdir -m 755 "$dir"
  git -C "$bpcache" archive --format=tar "$bpc" | (umask 022; tar --no-same-owner -x -C "$dir")
  if [ "$pinned" = 1 ]; then
    chosen=$dir; echo "-----> Using pinned buildpack $url"
  elif [ -x "$dir/bin/detect" ] && name=$(as_build "$W/bp-$n/bin/detect" "$W/app" 2>&1); then
    chosen=$dir; echo "-----> $name app detected by $url"
  else
    echo "-----> $url does not detect this app"
  fi
  if [ -n "$chosen" ]; then
    printf 'buildpack=%s\nbuildpack_commit=%s\n' "$url" "$bpc" > "$work/result"
    break
  fi
done
if [ -z "$chosen" ]; then echo "no buildpack detects this app (tried $n)" >&2; exit 65; fi
inside="$W/${chosen##*/}"
if [ -n "$stack" ]; then echo "-----> Compiling in the stack image ${stack##*/}"; fi
set +e
as_build "$inside/bin/compile" "$W/app" "$C" "$W/env" 2>&1
code=$?
set -e
if [ $code -ne 0 ]; then echo "bin/compile failed with exit status $code" >&2; exit 66; fi
if [ -x "$chosen/bin/release" ]; then as_build "$inside/bin/release" "$W/app" | head -c 1048576 > "$work/release.yml"; fi
if ! as_app test -f "$work/app/Procfile"; then echo "the build has no Procfile" >&2; exit 67; fi
as_app head -c 65536 -- "$work/app/Procfile" > "$work/Procfile"
as_app tar --owner=0 --group=0 --numeric-owner -czf - -C "$work/app" . > "$work/out.tar.gz"
sha=$(sha256sum "$work/out.tar.gz" | cut -d' ' -f1)
size=$(wc -c < "$work/out.tar.gz")
printf 'sha256=%s\nsize=%s\n' "$sha" "$size" >> "$work/result"
echo "-----> Packed $size bytes, sha256 $sha"
"#;

/// What the builder produced, before the artifact is copied back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Built {
    pub buildpack: String,
    pub buildpack_commit: String,
    pub sha256: String,
    pub size: u64,
    pub procfile: String,
    pub release_yaml: String,
    /// The artifact's path on the builder.
    pub artifact: String,
    pub work: String,
}

pub struct BuildJob<'a> {
    pub id: i64,
    pub app: &'a str,
    /// The unprivileged uid the app's build runs as ([`vr_app::build::build_uid`]).
    pub uid: u32,
    pub repo_url: &'a str,
    pub commit: &'a str,
    /// Buildpack URLs (with `#ref`), in detection order; one when pinned.
    pub buildpacks: &'a [String],
    pub pinned: bool,
    /// Where the stack image to compile in is unpacked on the builder.
    pub stack_dir: Option<String>,
}

/// Runs the build, sending its output to `log` as it comes.
pub fn run(
    conn: &mut Connection,
    layout: &Layout,
    job: &BuildJob<'_>,
    deadline: Duration,
    log: &mut dyn FnMut(&[u8]),
) -> Result<Built, BuildError> {
    if job.buildpacks.is_empty() {
        return Err(BuildError::Failed(
            "no buildpacks are configured: add one on the Buildpacks page or with the API".into(),
        ));
    }
    let root = build_root(layout);
    let id = job.id.to_string();
    let repo_key = url_key(job.repo_url);
    let mut args: Vec<String> = vec![
        root.clone(),
        id.clone(),
        job.app.to_string(),
        job.uid.to_string(),
        repo_key,
        job.commit.to_string(),
        if job.pinned { "1" } else { "0" }.to_string(),
        job.stack_dir.clone().unwrap_or_default(),
    ];
    for bp in job.buildpacks {
        let (url, r#ref) = bp.split_once('#').unwrap_or((bp, ""));
        args.extend([url.to_string(), url_key(url), r#ref.to_string()]);
    }
    let arg_refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut stderr_tail = Vec::new();
    let script = format!(
        "{LOCAL_REPO_CHECK}{}",
        BUILD.replace("@STACK_BINDS@", super::sandbox::STACK_BINDS)
    );
    let status = conn.exec_streaming(
        &line(layout, &script, &arg_refs),
        deadline,
        &mut |is_err, bytes| {
            log(bytes);
            if is_err {
                stderr_tail.extend_from_slice(bytes);
                let cut = stderr_tail.len().saturating_sub(2000);
                stderr_tail.drain(..cut);
            }
            Ok(())
        },
    )?;
    let work = format!("{root}/work/{id}");
    if status != 0 {
        let why = String::from_utf8_lossy(&stderr_tail).trim().to_string();
        let last = why.lines().last().unwrap_or("the build failed").to_string();
        cleanup(conn, layout, &work);
        return Err(BuildError::Failed(last));
    }
    let read = format!(
        "cat {w}/result; printf '\\036'; cat {w}/Procfile; printf '\\036'; cat {w}/release.yml 2>/dev/null; true",
        w = quote(&work)
    );
    let out = conn.exec(&layout.privileged(&read))?;
    let mut parts = out.stdout.split('\u{1e}');
    let result: BTreeMap<&str, &str> = parts
        .next()
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split_once('='))
        .collect();
    let field = |k: &str| {
        result
            .get(k)
            .map(|v| v.to_string())
            .ok_or_else(|| BuildError::Failed(format!("the builder did not report {k}")))
    };
    Ok(Built {
        buildpack: field("buildpack")?,
        buildpack_commit: field("buildpack_commit")?,
        sha256: field("sha256")?,
        size: field("size")?
            .trim()
            .parse()
            .map_err(|_| BuildError::Failed("the builder reported no artifact size".into()))?,
        procfile: parts.next().unwrap_or_default().to_string(),
        release_yaml: parts.next().unwrap_or_default().to_string(),
        artifact: format!("{work}/out.tar.gz"),
        work,
    })
}

/// Copies the artifact into `dest`, hashing it on the way; fails unless the hash is `sha256`.
pub fn download(
    conn: &mut Connection,
    layout: &Layout,
    built: &Built,
    dest: &mut dyn Write,
    deadline: Duration,
) -> Result<(), BuildError> {
    download_file(
        conn,
        layout,
        &Made {
            path: built.artifact.clone(),
            sha256: built.sha256.clone(),
            size: built.size,
        },
        dest,
        deadline,
    )
}

/// A file a builder made, as it reported it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Made {
    pub path: String,
    pub sha256: String,
    pub size: u64,
}

/// Copies `made` into `dest`, hashing it on the way; fails unless it is what was reported.
pub fn download_file(
    conn: &mut Connection,
    layout: &Layout,
    made: &Made,
    dest: &mut dyn Write,
    deadline: Duration,
) -> Result<(), BuildError> {
    let mut hasher = Sha256::new();
    let mut stderr = Vec::new();
    let mut received: u64 = 0;
    let cat = format!("cat -- {}", quote(&made.path));
    let line = if layout.sudo {
        format!("sudo -n {cat}")
    } else {
        cat
    };
    // The builder said how big the artifact is: a builder that sends more is stopped there
    // instead of filling the server's disk.
    let status = conn.exec_streaming(&line, deadline, &mut |is_err, bytes| {
        if is_err {
            if stderr.len() < 64 * 1024 {
                stderr.extend_from_slice(bytes);
            }
            Ok(())
        } else {
            received += bytes.len() as u64;
            if received > made.size {
                return Err(std::io::Error::other(format!(
                    "the builder sent more than the {} bytes it reported",
                    made.size
                )));
            }
            hasher.update(bytes);
            dest.write_all(bytes)
        }
    })?;
    if status != 0 {
        return Err(BuildError::Failed(format!(
            "copying the artifact failed: {}",
            String::from_utf8_lossy(&stderr).trim()
        )));
    }
    let got = hex::encode(hasher.finalize());
    if got != made.sha256 {
        return Err(BuildError::Failed(format!(
            "the artifact arrived damaged: sha256 {got}, the builder said {}",
            made.sha256
        )));
    }
    Ok(())
}

/// Deletes a build's work dir; failures are only logged (the next build of that id replaces it).
pub fn cleanup(conn: &mut Connection, layout: &Layout, work: &str) {
    let rm = format!("rm -rf -- {}", quote(work));
    let line = if layout.sudo {
        format!("sudo -n {rm}")
    } else {
        rm
    };
    if let Err(e) = conn.exec(&line) {
        tracing::warn!(work, error = %e, "could not remove a build's work dir");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn script_arguments_stay_arguments() {
        let layout = Layout {
            supervisorctl: vec!["supervisorctl".into()],
            socket: String::new(),
            include_dir: "/i".into(),
            apps_root: "/a".into(),
            sudo: false,
        };
        let line = line(
            &layout,
            "printf '%s\\0' \"$@\"",
            &["a b", "$(id)", "'q'", ""],
        );
        let out = std::process::Command::new("/bin/sh")
            .arg("-c")
            .arg(&line)
            .output()
            .expect("sh");
        assert_eq!(out.stdout, b"a b\0$(id)\0'q'\0\0");
        assert_eq!(url_key("file:///x"), url_key("file:///x"));
        assert_ne!(url_key("file:///x"), url_key("file:///y"));
    }
}
