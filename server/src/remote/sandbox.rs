//! The sandbox a proc runs in under the `sandbox` runner (issue 16): the shell line that starts
//! it under bubblewrap, from a root-owned run script.
//!
//! Inside, the root is an empty tmpfs holding only what the proc needs: the host's `/usr` and
//! `/etc` read-only (with vr's own folders there hidden), the build read-only at `/app`, the
//! proc's `env` and `settings.yaml` read-only under `/run/vr`, its home (the only place of its
//! own it can write) at `/home/app`, each volume at its mount dir, a private `/tmp`, its own
//! `/proc` and `/dev`; other procs' folders, the builds and everything else on the host are not
//! there. It has its own pid, IPC and UTS namespaces and dies with its parent. bubblewrap runs
//! as root and `setpriv` drops to the run-as user (no new privileges) before anything of the
//! app runs — the env file is sourced only then, as root never reads what the user can change.
//! Supervisor still sees one program: bwrap stays in its process group, so a stop signals the
//! proc, and when the proc ends its pid namespace ends with every process left in it.

use super::shell::quote;

/// Where the build is inside the sandbox.
pub const APP_DIR: &str = "/app";
/// Where the proc's `env` and `settings.yaml` are inside.
pub const CONFIG_DIR: &str = "/run/vr";
/// The proc's home inside, its only writable place besides its volumes and `/tmp`.
pub const HOME_DIR: &str = "/home/app";
/// Who a sandboxed proc runs as when its release names nobody.
pub const DEFAULT_USER: &str = "nobody";

/// What one sandbox holds; host paths are absolute.
#[derive(Debug, Clone)]
pub struct Sandbox<'a> {
    pub build_dir: &'a str,
    pub proc_dir: &'a str,
    /// `(host path, mount dir)`.
    pub volumes: &'a [(String, String)],
    pub run_as: Option<&'a str>,
    /// vr's folders on the host (procs, builds, Supervisor's program files): hidden when they
    /// lie under a folder the sandbox shows.
    pub hidden: &'a [&'a str],
    pub port: u16,
    pub command: &'a str,
    /// The unpacked stack image the proc runs on as `/`; `None`: the host's `/usr` and `/etc`.
    pub stack_dir: Option<&'a str>,
}

/// Shell that puts a stack image at the sandbox's root: each top-level folder of `$stack` is
/// bound read-only at `/NAME` and each top-level link made again, by prepending bubblewrap
/// arguments to `"$@"`. Skipped: what the sandbox makes itself (its own `/dev`, `/proc`,
/// `/tmp`, `/run`, `/home`, the build's and the builder's mount points) and empty folders
/// (Debian's `/srv`, `/mnt`, `/opt`), so volumes can be mounted there.
pub const STACK_BINDS: &str = r#"for e in "$stack"/*; do
  b=${e##*/}
  case $b in '*'|app|build|cache|dev|home|proc|run|sys|tmp) continue ;; esac
  if [ -L "$e" ]; then set -- --symlink "$(readlink "$e")" "/$b" "$@"
  elif [ -d "$e" ] && [ -n "$(ls -A "$e")" ]; then set -- --ro-bind "$e" "/$b" "$@"
  fi
done
"#;

/// `setpriv`'s options that make `user` (a name on the host) by number, so they work in a stack
/// whose own passwd does not know the user; evaluated by the host's shell before the sandbox.
pub fn drop_to(user: &str) -> String {
    format!(
        "--reuid \"$(id -u -- {u})\" --regid \"$(id -g -- {u})\" --groups \"$(id -G -- {u} | tr ' ' ,)\"",
        u = quote(user)
    )
}

/// The host folders every sandbox shows, read-only.
const SYSTEM: [&str; 2] = ["/usr", "/etc"];
/// The usual merged-/usr links.
const LINKS: [(&str, &str); 4] = [
    ("usr/bin", "/bin"),
    ("usr/sbin", "/sbin"),
    ("usr/lib", "/lib"),
    ("usr/lib64", "/lib64"),
];

/// `--perms 0755 --dir` for each folder above `path` (bubblewrap makes missing parents 0700,
/// which the run-as user could not pass through).
fn parents(path: &str, made: &mut Vec<String>, args: &mut Vec<String>) {
    let mut cur = String::new();
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    for part in &parts[..parts.len().saturating_sub(1)] {
        cur.push('/');
        cur.push_str(part);
        if !made.contains(&cur) && !SYSTEM.iter().any(|s| cur.starts_with(s)) {
            made.push(cur.clone());
            args.extend(["--perms".into(), "0755".into(), "--dir".into(), cur.clone()]);
        }
    }
}

impl Sandbox<'_> {
    /// `bwrap … -- setpriv … -- /bin/sh -c '…'`: the command (the run script `exec`s it).
    pub fn line(&self) -> String {
        let user = self.run_as.unwrap_or(DEFAULT_USER);
        let mut args: Vec<String> = vec![
            "--die-with-parent".into(),
            "--unshare-pid".into(),
            "--unshare-ipc".into(),
            "--unshare-uts".into(),
            "--hostname".into(),
            "sandbox".into(),
        ];
        if self.stack_dir.is_none() {
            for dir in SYSTEM {
                args.extend(["--ro-bind".into(), dir.into(), dir.into()]);
            }
            for hidden in self.hidden {
                if SYSTEM.iter().any(|s| hidden.starts_with(&format!("{s}/"))) {
                    args.extend(["--tmpfs".into(), (*hidden).to_string()]);
                }
            }
            for (target, link) in LINKS {
                args.extend(["--symlink".into(), target.into(), link.into()]);
            }
        }
        args.extend([
            "--proc".into(),
            "/proc".into(),
            "--dev".into(),
            "/dev".into(),
            "--perms".into(),
            "1777".into(),
            "--tmpfs".into(),
            "/tmp".into(),
        ]);
        let mut made: Vec<String> = Vec::new();
        let mut bind = |kind: &str, from: String, to: &str, args: &mut Vec<String>| {
            parents(to, &mut made, args);
            args.extend([kind.into(), from, to.into()]);
        };
        bind("--ro-bind", self.build_dir.to_string(), APP_DIR, &mut args);
        for file in ["env", "settings.yaml"] {
            let to = format!("{CONFIG_DIR}/{file}");
            bind(
                "--ro-bind",
                format!("{}/{file}", self.proc_dir),
                &to,
                &mut args,
            );
        }
        bind(
            "--bind",
            format!("{}/home", self.proc_dir),
            HOME_DIR,
            &mut args,
        );
        for (host, mount) in self.volumes {
            bind("--bind", host.clone(), mount, &mut args);
        }
        args.extend([
            "--chdir".into(),
            APP_DIR.into(),
            "--setenv".into(),
            "HOME".into(),
            HOME_DIR.into(),
        ]);
        let inner = format!(
            ". {CONFIG_DIR}/env; export PORT={} APP_SETTINGS_YAML={CONFIG_DIR}/settings.yaml HOME={HOME_DIR}; exec /bin/sh -c {}",
            self.port,
            quote(self.command)
        );
        let words: Vec<String> = args.iter().map(|a| quote(a)).collect();
        let rest = format!(
            "{} -- setpriv {} --no-new-privs -- /bin/sh -c {}",
            words.join(" "),
            drop_to(user),
            quote(&inner),
        );
        match self.stack_dir {
            None => format!("bwrap {rest}"),
            // The host's shell lists the stack's top level when the proc starts.
            Some(stack) => format!(
                "/bin/sh -c {} sh {} {rest}",
                quote(&format!("stack=$1; shift\n{STACK_BINDS}exec bwrap \"$@\"")),
                quote(stack),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::{PermissionsExt, chown};
    use std::path::Path;

    fn write(path: &Path, text: &str) {
        std::fs::write(path, text).expect("write");
    }

    /// A proc in a sandbox, on this machine (the tests run as root, with bubblewrap installed
    /// by the test bootstrap): what it can see, read and write.
    #[test]
    fn a_sandboxed_proc_sees_only_its_build_config_home_volumes_and_tmp() {
        let root = tempfile::tempdir().expect("tempdir");
        let r = root.path();
        let (build, procs, vol) = (r.join("builds/abc"), r.join("procs"), r.join("vol"));
        let (mine, other) = (procs.join("mine"), procs.join("other"));
        for d in [&build, &mine.join("home"), &other, &vol] {
            std::fs::create_dir_all(d).expect("mkdir");
        }
        write(&build.join("hello"), "from the build\n");
        write(&other.join("env"), "export TOKEN=not-yours\n");
        write(&mine.join("env"), "export GREETING='it works'\n");
        write(&mine.join("settings.yaml"), "a: 1\n");
        let nobody = 65534;
        for f in ["env", "settings.yaml"] {
            chown(mine.join(f), Some(nobody), None).expect("chown");
            std::fs::set_permissions(mine.join(f), PermissionsExt::from_mode(0o400))
                .expect("chmod");
        }
        chown(mine.join("home"), Some(nobody), Some(nobody)).expect("chown");
        std::fs::set_permissions(mine.join("home"), PermissionsExt::from_mode(0o700))
            .expect("chmod");
        chown(&vol, Some(nobody), None).expect("chown");
        let other_env = other.join("env").display().to_string();
        let command = format!(
            "echo \"user=$(id -u) greeting=$GREETING port=$PORT home=$HOME pwd=$(pwd)\"; \
             cat /app/hello; cat {other_env} 2>/dev/null || echo other:hidden; \
             ls {procs} 2>/dev/null || echo procs:hidden; \
             touch /app/x 2>/dev/null || echo app:read-only; \
             touch /etc/x 2>/dev/null || echo etc:read-only; \
             echo made > $HOME/file && echo home:written; \
             echo made > /data/shared/file && echo volume:written; \
             echo t > /tmp/t && echo tmp:written; \
             echo processes=$(ls /proc | grep -c '^[0-9]')",
            procs = procs.display()
        );
        let volumes = [(vol.display().to_string(), "/data/shared".to_string())];
        let procs_str = procs.display().to_string();
        let hidden = [procs_str.as_str()];
        let sandbox = Sandbox {
            build_dir: &build.display().to_string(),
            proc_dir: &mine.display().to_string(),
            volumes: &volumes,
            run_as: None,
            hidden: &hidden,
            port: 5000,
            command: &command,
            stack_dir: None,
        };
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(sandbox.line())
            .output()
            .expect("sh");
        let text = String::from_utf8_lossy(&out.stdout);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{text}\n{err}");
        for want in [
            "user=65534 greeting=it works port=5000 home=/home/app pwd=/app",
            "from the build",
            "other:hidden",
            "procs:hidden",
            "app:read-only",
            "etc:read-only",
            "home:written",
            "volume:written",
            "tmp:written",
        ] {
            assert!(text.contains(want), "{want} in:\n{text}\n{err}");
        }
        // Its own pid namespace: only its few processes.
        let n: usize = text
            .lines()
            .find_map(|l| l.strip_prefix("processes="))
            .and_then(|n| n.trim().parse().ok())
            .unwrap_or(99);
        assert!(n <= 5, "{text}");
        // What it wrote landed in its home and the volume, and nowhere else on the host.
        assert!(mine.join("home/file").exists() && vol.join("file").exists());
        assert!(!build.join("x").exists());
    }

    /// A root filesystem of a few of this machine's programs and the libraries they load.
    pub(crate) fn tiny_stack(root: &Path) {
        for dir in ["usr/bin", "etc", "srv"] {
            std::fs::create_dir_all(root.join(dir)).expect("mkdir");
        }
        for (link, target) in [
            ("bin", "usr/bin"),
            ("lib", "usr/lib"),
            ("lib64", "usr/lib64"),
        ] {
            std::os::unix::fs::symlink(target, root.join(link)).expect("symlink");
        }
        for prog in ["sh", "setpriv", "cat", "id", "ls", "touch", "sleep"] {
            let found = std::process::Command::new("sh")
                .arg("-c")
                .arg(format!("command -v {prog}"))
                .output()
                .expect("sh");
            let path = String::from_utf8_lossy(&found.stdout).trim().to_string();
            std::fs::copy(&path, root.join("usr/bin").join(prog)).expect("copy program");
            let libs = std::process::Command::new("ldd")
                .arg(&path)
                .output()
                .expect("ldd");
            for lib in String::from_utf8_lossy(&libs.stdout)
                .split_whitespace()
                .filter(|w| w.starts_with('/'))
            {
                // Merged /usr: /lib/x and /lib64/x live under usr/.
                let inside = root
                    .join("usr")
                    .join(lib.trim_start_matches("/usr/").trim_start_matches('/'));
                std::fs::create_dir_all(inside.parent().expect("parent")).expect("mkdir");
                std::fs::copy(lib, &inside).expect("copy library");
            }
        }
        write(&root.join("etc/vr-stack"), "tiny stack\n");
    }

    #[test]
    fn a_stack_is_the_root_of_its_sandbox() {
        let root = tempfile::tempdir().expect("tempdir");
        let r = root.path();
        let (stack, build, proc_dir) = (r.join("stack"), r.join("build"), r.join("proc"));
        tiny_stack(&stack);
        for d in [&build, &proc_dir.join("home")] {
            std::fs::create_dir_all(d).expect("mkdir");
        }
        write(&proc_dir.join("env"), "export GREETING=hi\n");
        write(&proc_dir.join("settings.yaml"), "{}\n");
        let nobody = 65534;
        for f in ["env", "settings.yaml", "home"] {
            chown(proc_dir.join(f), Some(nobody), Some(nobody)).expect("chown");
        }
        let vol = r.join("vol");
        std::fs::create_dir_all(&vol).expect("mkdir");
        chown(&vol, Some(nobody), None).expect("chown");
        let volumes = [(vol.display().to_string(), "/srv/data".to_string())];
        let command = "echo \"user=$(id -u) greeting=$GREETING\"; cat /etc/vr-stack; \
             [ -e /usr/bin/python3 ] && echo python:host || echo python:absent; \
             touch /etc/x 2>/dev/null || echo etc:read-only; \
             echo v > /srv/data/v && echo volume:written; \
             echo h > $HOME/h && echo home:written";
        let line = Sandbox {
            build_dir: &build.display().to_string(),
            proc_dir: &proc_dir.display().to_string(),
            volumes: &volumes,
            run_as: None,
            hidden: &[],
            port: 1,
            command,
            stack_dir: Some(&stack.display().to_string()),
        }
        .line();
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(&line)
            .output()
            .expect("sh");
        let text = String::from_utf8_lossy(&out.stdout);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{text}\n{err}\n{line}");
        for want in [
            "user=65534 greeting=hi",
            "tiny stack",
            "python:absent",
            "etc:read-only",
            "volume:written",
            "home:written",
        ] {
            assert!(text.contains(want), "{want} in:\n{text}\n{err}");
        }
    }

    #[test]
    fn every_value_is_quoted() {
        let volumes = [("/srv/a b".to_string(), "/data/$(reboot)".to_string())];
        let line = Sandbox {
            build_dir: "/apps/builds/x",
            proc_dir: "/apps/procs/p",
            volumes: &volumes,
            run_as: Some("app;id"),
            hidden: &["/etc/supervisor/conf.d"],
            port: 1,
            command: "echo '$HOME'",
            stack_dir: None,
        }
        .line();
        assert!(line.contains("'/data/$(reboot)'"), "{line}");
        assert!(line.contains("--reuid \"$(id -u -- 'app;id')\""), "{line}");
        assert!(line.contains("--tmpfs /etc/supervisor/conf.d"), "{line}");
    }
}
