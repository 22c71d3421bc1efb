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
    /// `POST` ([`super::NewStackBuild`]): a new image built by mmdebstrap on a builder host.
    pub fn stack_build(name: &str) -> String {
        format!("{}/build", stack(name))
    }
    /// `GET`: one image.
    pub fn image(id: i64) -> String {
        format!("{STACKS}/images/{id}")
    }
    /// `GET ?offset=N`: an image build's log from byte `offset` ([`crate::build::BuildLog`]).
    pub fn image_log(id: i64) -> String {
        format!("{STACKS}/images/{id}/log")
    }
}

/// Where an image came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum StackSource {
    Upload,
    Mmdebstrap,
}

impl StackSource {
    pub const ALL: [StackSource; 2] = [StackSource::Upload, StackSource::Mmdebstrap];

    pub fn as_str(self) -> &'static str {
        match self {
            StackSource::Upload => "upload",
            StackSource::Mmdebstrap => "mmdebstrap",
        }
    }

    pub fn parse(s: &str) -> Option<StackSource> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

/// mmdebstrap's variants, smallest first (`minbase`: the Essential packages and apt).
pub const VARIANTS: [&str; 6] = [
    "essential",
    "minbase",
    "apt",
    "required",
    "important",
    "standard",
];

/// `POST /api/stacks/{name}/build`: an image built from a Debian suite and packages.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct NewStackBuild {
    /// A Debian suite or codename: `bookworm`, `stable`…
    pub suite: String,
    /// Packages on top of the variant's.
    #[serde(default)]
    pub packages: Vec<String>,
    /// One of [`VARIANTS`]; empty: `minbase`.
    #[serde(default)]
    pub variant: String,
    /// The mirror: a URL, or a whole `deb …` sources line; empty: mmdebstrap's default.
    #[serde(default)]
    pub mirror: String,
}

impl NewStackBuild {
    /// The variant to build (the default filled in).
    pub fn variant(&self) -> &str {
        if self.variant.is_empty() {
            "minbase"
        } else {
            &self.variant
        }
    }

    /// What it is, in a line: `bookworm (minbase) + curl, python3`.
    pub fn summary(&self) -> String {
        let mut s = format!("{} ({})", self.suite, self.variant());
        if !self.packages.is_empty() {
            s.push_str(&format!(" + {}", self.packages.join(", ")));
        }
        s
    }

    /// Each value reaches mmdebstrap as one argument; these keep them plain words.
    pub fn validate(&self) -> Result<(), Invalid> {
        let word = |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit() || b"+-.".contains(&c);
        if self.suite.is_empty()
            || self.suite.len() > 40
            || !self.suite.bytes().all(word)
            || self.suite.starts_with(['-', '.'])
        {
            return Err(Invalid::new(
                "suite",
                "a Debian suite or codename, e.g. bookworm or stable",
            ));
        }
        if !self.variant.is_empty() && !VARIANTS.contains(&self.variant.as_str()) {
            return Err(Invalid::new(
                "variant",
                format!("one of {}", VARIANTS.join(", ")),
            ));
        }
        if self.packages.len() > 200 {
            return Err(Invalid::new("packages", "at most 200 packages"));
        }
        if let Some(bad) = self.packages.iter().find(|p| {
            p.len() < 2
                || p.len() > 100
                || !p.bytes().all(word)
                || !p.as_bytes()[0].is_ascii_alphanumeric()
        }) {
            return Err(Invalid::new(
                "packages",
                format!("{bad:?} is not a Debian package name"),
            ));
        }
        let m = self.mirror.as_str();
        if !m.is_empty()
            && (m.len() > 500
                || m.chars().any(char::is_control)
                || !["http://", "https://", "file:///", "deb "]
                    .iter()
                    .any(|p| m.starts_with(p)))
        {
            return Err(Invalid::new(
                "mirror",
                "an http(s):// or file:/// URL, or a whole `deb …` sources line",
            ));
        }
        Ok(())
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
    /// `pending`/`running` while mmdebstrap builds it, `succeeded` once stored, `failed`
    /// (see `error`), `expired` when retention deleted its tarball.
    pub status: BuildStatus,
    pub source: StackSource,
    /// What mmdebstrap built ([`NewStackBuild::summary`]); empty for uploads.
    pub recipe: String,
    /// Stored images only.
    pub sha256: Option<String>,
    pub size: Option<u64>,
    /// The builder host of a built image.
    pub host: Option<String>,
    pub error: Option<String>,
    /// Releases that run on it (an image they use never expires).
    pub used_by_releases: u32,
    /// The stack's newest stored image: what new builds of its apps compile in.
    pub current: bool,
    pub created_by: String,
    pub created_at: i64,
    pub finished_at: Option<i64>,
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

/// `field` names a stack that has no stored image (so nothing could build or run on it).
pub fn unknown(field: &'static str, name: &str) -> Invalid {
    Invalid::new(
        field,
        format!(
            "there is no stack {name}: upload an image of it first (vr stack upload {name} FILE)"
        ),
    )
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

    #[test]
    fn a_build_recipe_is_plain_words() {
        let good = NewStackBuild {
            suite: "bookworm".into(),
            packages: vec!["python3".into(), "libstdc++6".into()],
            variant: String::new(),
            mirror: "deb [trusted=yes] file:///srv/mirror stable main".into(),
        };
        good.validate().expect("valid");
        assert_eq!(good.summary(), "bookworm (minbase) + python3, libstdc++6");
        let field = |b: NewStackBuild| b.validate().err().map(|e| e.field);
        for (bad, f) in [
            (
                NewStackBuild {
                    suite: "--help".into(),
                    ..good.clone()
                },
                "suite",
            ),
            (
                NewStackBuild {
                    suite: "a b".into(),
                    ..good.clone()
                },
                "suite",
            ),
            (
                NewStackBuild {
                    variant: "huge".into(),
                    ..good.clone()
                },
                "variant",
            ),
            (
                NewStackBuild {
                    packages: vec!["-x".into()],
                    ..good.clone()
                },
                "packages",
            ),
            (
                NewStackBuild {
                    packages: vec!["$(id)".into()],
                    ..good.clone()
                },
                "packages",
            ),
            (
                NewStackBuild {
                    mirror: "ftp://x".into(),
                    ..good.clone()
                },
                "mirror",
            ),
            (
                NewStackBuild {
                    mirror: "deb x\nrm".into(),
                    ..good.clone()
                },
                "mirror",
            ),
        ] {
            assert_eq!(field(bad), Some(f));
        }
    }
}
