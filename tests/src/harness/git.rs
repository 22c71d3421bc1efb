//! Real git repositories made by tests: an app or a buildpack, with commits, tags and branches,
//! reached by `file://` URLs (no network).

use std::path::{Path, PathBuf};
use std::process::Command;

pub struct GitRepo {
    dir: tempfile::TempDir,
}

impl GitRepo {
    /// An empty repository with `main` as its branch.
    pub fn new() -> GitRepo {
        let dir = tempfile::Builder::new()
            .prefix("vr-git")
            .tempdir()
            .expect("creating a repo dir");
        // Like a repo an operator would point vr at: readable by anyone (vr refuses to build
        // from a local repo that only root may read).
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755))
                .expect("opening up the repo dir");
        }
        let repo = GitRepo { dir };
        repo.git(&["init", "-q", "-b", "main"]);
        repo
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// `file://…`, as an operator would give it to `vr`.
    pub fn url(&self) -> String {
        format!("file://{}", self.path().display())
    }

    /// Runs git in the repo, panicking with its output on failure; returns stdout.
    #[track_caller]
    pub fn git(&self, args: &[&str]) -> String {
        let out = Command::new("git")
            .args([
                "-c",
                "user.name=vr tests",
                "-c",
                "user.email=tests@vr.invalid",
            ])
            .args([
                "-c",
                "init.defaultBranch=main",
                "-c",
                "commit.gpgsign=false",
            ])
            .args(args)
            .current_dir(self.path())
            .output()
            .expect("running git");
        assert!(
            out.status.success(),
            "git {args:?} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Writes files (executable when their name says so: `bin/*` and `*.sh`) and commits them;
    /// returns the commit id.
    pub fn commit(&self, files: &[(&str, &str)], message: &str) -> String {
        for (name, body) in files {
            let path: PathBuf = self.path().join(name);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).expect("creating a dir in the repo");
            }
            std::fs::write(&path, body).expect("writing a file in the repo");
            if name.starts_with("bin/") || name.ends_with(".sh") {
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
                    .expect("chmod");
            }
        }
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "-m", message]);
        self.head()
    }

    pub fn head(&self) -> String {
        self.git(&["rev-parse", "HEAD"]).trim().to_string()
    }

    pub fn tag(&self, name: &str) {
        self.git(&["tag", "-a", name, "-m", name]);
    }

    pub fn remove(&self, name: &str, message: &str) -> String {
        self.git(&["rm", "-q", name]);
        self.git(&["commit", "-q", "-m", message]);
        self.head()
    }
}

impl Default for GitRepo {
    fn default() -> Self {
        GitRepo::new()
    }
}

/// A buildpack that detects apps with an `app.sh`, counts its compiles in the cache dir, fails
/// when the app has a `fail` file, sleeps when it has a `slow` file, and declares env vars.
pub fn shell_buildpack() -> GitRepo {
    let bp = GitRepo::new();
    bp.commit(
        &[
            (
                "bin/detect",
                "#!/bin/sh\nif [ -f \"$1/app.sh\" ]; then echo Shell; exit 0; fi\nexit 1\n",
            ),
            (
                "bin/compile",
                "#!/bin/sh\nset -e\nbuild=$1; cache=$2\n\
                 n=$(cat \"$cache/count\" 2>/dev/null || echo 0); n=$((n+1)); echo $n > \"$cache/count\"\n\
                 echo \"compiling; cache uses: $n\"\n\
                 if [ -f \"$build/slow\" ]; then sleep 60; fi\n\
                 if [ -f \"$build/fail\" ]; then echo 'compile error: asked to fail' >&2; exit 2; fi\n\
                 echo built > \"$build/BUILT\"\n",
            ),
            (
                "bin/release",
                "#!/bin/sh\ncat <<'YAML'\n---\nconfig_vars:\n  GREETING: hello world\n  WORKERS: 2\ndefault_process_types:\n  web: ./app.sh\nYAML\n",
            ),
        ],
        "shell buildpack",
    );
    bp
}

/// A buildpack that never detects anything.
pub fn never_buildpack() -> GitRepo {
    let bp = GitRepo::new();
    bp.commit(
        &[
            ("bin/detect", "#!/bin/sh\nexit 1\n"),
            ("bin/compile", "#!/bin/sh\nexit 1\n"),
        ],
        "never",
    );
    bp
}

/// An app the shell buildpack builds: `web` runs `app.sh`.
pub fn shell_app() -> GitRepo {
    let app = GitRepo::new();
    app.commit(
        &[
            ("Procfile", "web: ./app.sh\nworker: ./app.sh worker\n"),
            (
                "app.sh",
                "#!/bin/sh\necho \"hello from $1\"\nexec sleep 1000\n",
            ),
        ],
        "first",
    );
    app
}
