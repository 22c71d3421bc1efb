//! A pool file on a balancer host: written beside the live one and renamed over it, validated,
//! and reloaded — or, when validation fails, the previous file put back and nothing reloaded.

use std::time::Duration;

use super::RemoteError;
use super::deploy::line;
use super::ssh::Connection;
use super::supervisor::Layout;

/// `$1` folder, `$2` file name, `$3` validate command, `$4` reload command, `$5` the balancer's
/// pid file ('' = none); the new file on stdin. Exit 20: validation refused it (the old file is
/// back); 21: the reload failed.
///
/// A reload only signals the balancer: its old workers keep serving the old pool until they
/// have handed over and finished what they hold. So when the pid file names a live master, the
/// script waits (up to 10 s) until the workers it had before the reload are gone — only then is
/// the old pool out of use, whatever the host's load — and says how long after the reload.
const APPLY: &str = r#"set -u
dir=$1; file=$2; check=$3; reload=$4; pidfile=$5
# Whether pid $1 is a live (not zombie) child of $master: a worker still serving.
serving() {
  read -r line 2>/dev/null < "/proc/$1/stat" || return 1
  rest=${line##*) }
  set -- $rest
  [ "${2-}" = "$master" ] && [ "${1-}" != Z ]
}
workers() {
  for st in /proc/[0-9]*/stat; do
    p=${st#/proc/}; p=${p%/stat}
    serving "$p" && printf '%s ' "$p"
  done
}
mkdir -p -- "$dir" || exit 10
tmp="$dir/.$file.vr-new"; old="$dir/.$file.vr-old"
cat > "$tmp" || { rm -f -- "$tmp"; exit 11; }
had=0
if [ -e "$dir/$file" ]; then cp -p -- "$dir/$file" "$old" || exit 12; had=1; fi
mv -f -- "$tmp" "$dir/$file" || exit 13
if [ -n "$check" ]; then
  if ! out=$(sh -c "$check" 2>&1); then
    if [ $had = 1 ]; then mv -f -- "$old" "$dir/$file"; else rm -f -- "$dir/$file"; fi
    printf '%s\n' "$out" >&2
    exit 20
  fi
fi
rm -f -- "$old"
[ -n "$reload" ] || { echo "written (no reload command)"; exit 0; }
master=; before=
[ -n "$pidfile" ] && master=$(cat -- "$pidfile" 2>/dev/null) && master=${master%%[!0-9]*}
if [ -n "$master" ] && [ -d "/proc/$master" ]; then before=$(workers); fi
t0=$(date +%s%N)
if ! out=$(sh -c "$reload" 2>&1); then printf '%s\n' "$out" >&2; exit 21; fi
[ -n "$before" ] || { echo reloaded; exit 0; }
i=0
while [ $i -lt 200 ]; do
  left=0
  for w in $before; do
    # A zombie has finished; its master just has not reaped it yet.
    if serving "$w"; then left=$((left + 1)); fi
  done
  if [ $left = 0 ]; then
    now=$(date +%s%N)
    # Without nanoseconds from `date` the time is not known, only that they are gone.
    case "$t0$now" in
      *[!0-9]*) echo "reloaded, old workers done" ;;
      *) echo "reloaded, old workers done in $(( (now - t0) / 1000000 )) ms" ;;
    esac
    exit 0
  fi
  i=$((i + 1)); sleep 0.05
done
echo "reloaded, $left old worker(s) still finishing after 10 s"
"#;

/// What a host that took the file said, and how long after the reload its old workers were
/// gone (that much of a drain grace has passed already: no request reaches a retiring proc
/// through this host after it); none when the script could not tell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    pub said: String,
    pub settled: Option<Duration>,
}

fn settled_after(said: &str) -> Option<Duration> {
    let rest = said.strip_prefix("reloaded, old workers done in ")?;
    let ms = rest.strip_suffix(" ms")?.trim().parse::<u64>().ok()?;
    Some(Duration::from_millis(ms))
}

/// What one balancer host said to a pool update.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    /// The host did not answer or the connection broke: what it holds is unknown.
    #[error(transparent)]
    Remote(#[from] RemoteError),
    /// Validation refused the new file; the previous one is back and nothing was reloaded.
    #[error("validation failed, the previous pool file was put back: {0}")]
    Invalid(String),
    /// The file is in place and valid but the reload failed.
    #[error("the pool file is valid but the reload failed: {0}")]
    Reload(String),
    /// Writing the file failed.
    #[error("writing the pool file failed: {0}")]
    Write(String),
}

/// One pool file to put on a balancer host.
pub struct PoolFile<'a> {
    pub dir: &'a str,
    pub file: &'a str,
    pub content: &'a str,
    pub validate: &'a str,
    pub reload: &'a str,
    pub pid_file: &'a str,
}

/// Writes, validates and reloads; returns what the host printed.
pub fn apply(
    conn: &mut Connection,
    layout: &Layout,
    f: &PoolFile<'_>,
    deadline: Duration,
) -> Result<Applied, ApplyError> {
    let cmd = line(
        layout,
        APPLY,
        &[f.dir, f.file, f.validate, f.reload, f.pid_file],
    );
    let out = conn.exec_with_stdin(&cmd, &mut f.content.as_bytes(), deadline)?;
    let said = out.stderr.trim().to_string();
    match out.status {
        0 => {
            let said = out.stdout.trim().to_string();
            Ok(Applied {
                settled: settled_after(&said),
                said,
            })
        }
        20 => Err(ApplyError::Invalid(said)),
        21 => Err(ApplyError::Reload(said)),
        code => Err(ApplyError::Write(format!("exit {code}: {said}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    /// The script run here with `sh`, in a temp folder, as a host would run it.
    fn run(dir: &std::path::Path, content: &str, check: &str) -> (i32, String) {
        use std::io::Write;
        let mut child = Command::new("sh")
            .args(["-c", APPLY, "sh"])
            .arg(dir)
            .args(["vr-pool-shop.conf", check, "true", ""])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("sh");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(content.as_bytes())
            .expect("write");
        let out = child.wait_with_output().expect("wait");
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    }

    #[test]
    fn a_refused_file_is_replaced_by_the_previous_one() {
        let tmp = tempfile::tempdir().expect("tmp");
        let file = tmp.path().join("vr-pool-shop.conf");
        // Validation sees the new file in place, as `nginx -t` would.
        let check = format!("grep -qx good {}", file.display());
        assert_eq!(run(tmp.path(), "good\n", &check).0, 0);
        assert_eq!(std::fs::read_to_string(&file).expect("read"), "good\n");
        let (code, said) = run(
            tmp.path(),
            "bad\n",
            &format!("{check} || {{ echo 'broken include' >&2; false; }}"),
        );
        assert_eq!(code, 20);
        assert!(said.contains("broken include"), "{said}");
        assert_eq!(std::fs::read_to_string(&file).expect("read"), "good\n");
        // No temp files are left behind.
        let names: Vec<String> = std::fs::read_dir(tmp.path())
            .expect("ls")
            .map(|e| e.expect("entry").file_name().to_string_lossy().to_string())
            .collect();
        assert_eq!(names, ["vr-pool-shop.conf"]);
    }

    #[test]
    fn after_a_reload_it_waits_for_the_masters_old_workers() {
        let tmp = tempfile::tempdir().expect("tmp");
        let d = tmp.path().display().to_string();
        // A "master" with one "worker" that the reload ends a little later, as nginx's old
        // workers end once they have finished their requests.
        let mut master = Command::new("sh")
            .args(["-c", &format!("sleep 30 & echo $! > {d}/worker.pid; wait")])
            .spawn()
            .expect("master");
        std::fs::write(tmp.path().join("master.pid"), master.id().to_string()).expect("pid");
        let worker = tmp.path().join("worker.pid");
        let started = std::time::Instant::now();
        while std::fs::read_to_string(&worker).map_or(true, |s| !s.ends_with('\n')) {
            assert!(started.elapsed() < std::time::Duration::from_secs(5));
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        let out = Command::new("sh")
            .args(["-c", APPLY, "sh", &d, "vr-pool-shop.conf", ""])
            .arg(format!(
                "(sleep 0.3; kill $(cat {d}/worker.pid)) >/dev/null 2>&1 &"
            ))
            .arg(format!("{d}/master.pid"))
            .output()
            .expect("sh");
        let said = String::from_utf8_lossy(&out.stdout);
        let waited = settled_after(said.trim()).unwrap_or_else(|| panic!("{out:?}"));
        assert!(waited >= std::time::Duration::from_millis(250), "{said}");
        let pid = std::fs::read_to_string(&worker).expect("worker pid");
        assert!(
            !std::path::Path::new(&format!("/proc/{}", pid.trim())).exists(),
            "returned while the old worker still ran"
        );
        master.wait().expect("master ends");
    }

    #[test]
    fn a_first_file_refused_leaves_no_file() {
        let tmp = tempfile::tempdir().expect("tmp");
        assert_eq!(run(tmp.path(), "bad\n", "false").0, 20);
        assert_eq!(std::fs::read_dir(tmp.path()).expect("ls").count(), 0);
    }
}
