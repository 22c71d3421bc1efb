//! A small stack image the tests make (issue 16): a root filesystem of a few of this machine's
//! programs and the libraries they load, a marker file, and a `/dev` node that hosts must skip.

use std::path::{Path, PathBuf};
use std::process::Command;

/// What every program of a tiny stack needs: the sandbox's shell and `setpriv`, the build
/// script's `env`, the uptest loop's `date`, `timeout` and `tail`, and a few for the test's
/// own commands.
pub const PROGRAMS: [&str; 14] = [
    "sh", "setpriv", "env", "cat", "id", "ls", "touch", "sleep", "date", "timeout", "tail",
    "mkdir", "head", "grep",
];

/// Makes the root filesystem in `root` with `programs` and `/etc/vr-stack` saying `marker`.
pub fn tiny_root(root: &Path, programs: &[&str], marker: &str) {
    for dir in ["usr/bin", "etc", "srv", "dev"] {
        std::fs::create_dir_all(root.join(dir)).expect("mkdir");
    }
    for (link, target) in [
        ("bin", "usr/bin"),
        ("lib", "usr/lib"),
        ("lib64", "usr/lib64"),
    ] {
        std::os::unix::fs::symlink(target, root.join(link)).expect("symlink");
    }
    for prog in programs {
        let found = Command::new("sh")
            .arg("-c")
            .arg(format!("command -v {prog}"))
            .output()
            .expect("sh");
        let path = String::from_utf8_lossy(&found.stdout).trim().to_string();
        assert!(
            path.starts_with('/'),
            "{prog} is not a program here: {path:?}"
        );
        std::fs::copy(&path, root.join("usr/bin").join(prog)).expect("copy program");
        let libs = Command::new("ldd").arg(&path).output().expect("ldd");
        for lib in String::from_utf8_lossy(&libs.stdout)
            .split_whitespace()
            .filter(|w| w.starts_with('/'))
        {
            // Merged /usr: /lib/x and /lib64/x live under usr/.
            let rel = lib.trim_start_matches("/usr/").trim_start_matches('/');
            let inside = root.join("usr").join(rel);
            std::fs::create_dir_all(inside.parent().expect("parent")).expect("mkdir");
            std::fs::copy(lib, &inside).expect("copy library");
        }
    }
    std::fs::write(root.join("etc/vr-stack"), format!("{marker}\n")).expect("marker");
    // A device node where images have them (the tests run as root): hosts must not unpack it.
    let made = Command::new("mknod")
        .arg(root.join("dev/null"))
        .args(["c", "1", "3"])
        .status()
        .expect("mknod");
    assert!(made.success());
}

/// The root in `root` as a tar.gz beside it, owned by root as image builders write them.
pub fn tarball(root: &Path) -> PathBuf {
    let out = root.with_extension("tar.gz");
    let ok = Command::new("tar")
        .args(["--owner=0", "--group=0", "--numeric-owner", "-czf"])
        .arg(&out)
        .arg("-C")
        .arg(root)
        .arg(".")
        .status()
        .expect("tar");
    assert!(ok.success());
    out
}
