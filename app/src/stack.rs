//! Stacks (Velociraptor's OS images, issue 16): a root filesystem an app's builds compile in
//! and its sandboxed procs run on as `/`. A stack is a name; each upload of it is an image,
//! stored once by sha256 like a build. A build records the image it compiled in, its releases
//! carry that image, so build and run always see the same OS.

use crate::build::BuildStatus;
use crate::validate::Invalid;
use serde::{Deserialize, Serialize};

pub mod paths {
    /// `GET`: every image, newest first.
    pub const STACKS: &str = "/api/stacks";

    /// `POST` with a tar.gz body: a new image of the stack (created by its first upload).
    pub fn stack(name: &str) -> String {
        format!("{STACKS}/{}", crate::fleet::path_segment(name))
    }
}

/// The image of a stack a build compiled in and a release runs on.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct StackRef {
    pub name: String,
    pub sha256: String,
}

impl StackRef {
    /// `name@` and the first 12 hex digits: enough to tell images apart in a list.
    pub fn short(&self) -> String {
        format!(
            "{}@{}",
            self.name,
            &self.sha256[..self.sha256.len().min(12)]
        )
    }
}

/// One image of a stack.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct StackImage {
    pub id: i64,
    pub stack: String,
    /// `succeeded` once stored; `expired` when retention deleted its tarball.
    pub status: BuildStatus,
    pub sha256: String,
    pub size: u64,
    /// Releases that run on it (an image they use never expires).
    pub used_by_releases: u32,
    /// The stack's newest stored image: what new builds of its apps compile in.
    pub current: bool,
    pub created_by: String,
    pub created_at: i64,
}

/// What a stack image must hold, looked for among its entries: the sandbox starts `/bin/sh`
/// and drops privileges with the image's own `setpriv` (util-linux, Essential in Debian).
pub const REQUIRED_FILES: [(&str, &[&str]); 2] = [
    ("a shell at /bin/sh", &["bin/sh", "usr/bin/sh"]),
    (
        "setpriv (util-linux) at /usr/bin/setpriv",
        &["usr/bin/setpriv", "bin/setpriv"],
    ),
];

/// An archive entry's path as `a/b` (no `./`, no trailing `/`).
pub fn entry_path(raw: &str) -> &str {
    raw.trim_start_matches("./").trim_end_matches('/')
}

/// What an image lacks, given the paths of its entries that matter.
pub fn missing_files<'a>(present: impl Fn(&str) -> bool) -> Vec<&'a str> {
    REQUIRED_FILES
        .iter()
        .filter(|(_, paths)| !paths.iter().any(|p| present(p)))
        .map(|(what, _)| *what)
        .collect()
}

/// Entries below these folders are not unpacked on hosts: the sandbox gives every proc a
/// fresh `/dev`, `/proc` and `/tmp` of its own, and a device node in an image would be a raw
/// disk for whoever could reach it on the host.
pub const SKIPPED_DIRS: [&str; 3] = ["dev", "proc", "sys"];

/// Whether an entry at `path` is one hosts skip.
pub fn skipped(path: &str) -> bool {
    let p = entry_path(path);
    SKIPPED_DIRS
        .iter()
        .any(|d| p == *d || p.strip_prefix(d).is_some_and(|rest| rest.starts_with('/')))
}

/// A stack name: like an app's (lowercase letters, digits, `_`).
pub fn check_name(field: &'static str, name: &str) -> Result<(), Invalid> {
    crate::validate::app_name(field, name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_image_needs_a_shell_and_setpriv_wherever_merged_usr_puts_them() {
        let have = |list: &'static [&'static str]| move |p: &str| list.contains(&p);
        assert!(missing_files(have(&["usr/bin/sh", "usr/bin/setpriv"])).is_empty());
        assert!(missing_files(have(&["bin/sh", "bin/setpriv"])).is_empty());
        assert_eq!(
            missing_files(have(&["bin/sh"])),
            ["setpriv (util-linux) at /usr/bin/setpriv"]
        );
        assert_eq!(missing_files(have(&[])).len(), 2);
        assert_eq!(entry_path("./usr/bin/"), "usr/bin");
    }

    #[test]
    fn devices_and_kernel_folders_are_left_to_the_sandbox() {
        assert!(skipped("./dev/null"));
        assert!(skipped("dev"));
        assert!(skipped("proc/1"));
        assert!(!skipped("devices/x"));
        assert!(!skipped("usr/dev/x"));
    }

    #[test]
    fn a_ref_is_short_in_lists() {
        let r = StackRef {
            name: "bookworm".into(),
            sha256: "0123456789abcdef".into(),
        };
        assert_eq!(r.short(), "bookworm@0123456789ab");
        check_name("name", "bookworm_2").expect("valid");
        assert!(check_name("name", "Book worm").is_err());
    }
}
