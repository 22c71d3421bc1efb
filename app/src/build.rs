//! Apps, buildpacks and builds as the API shows them (SPEC §1, §3.1).

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub mod paths {
    pub const APPS: &str = "/api/apps";
    pub const BUILDPACKS: &str = "/api/buildpacks";
    /// `GET ?app=NAME&limit=N`: newest first. `POST` ([`super::BuildRequest`]): start a build.
    pub const BUILDS: &str = "/api/builds";

    pub fn app(name: &str) -> String {
        format!("{APPS}/{}", crate::fleet::path_segment(name))
    }
    pub fn buildpack(id: i64) -> String {
        format!("{BUILDPACKS}/{id}")
    }
    pub fn build(id: i64) -> String {
        format!("{BUILDS}/{id}")
    }
    /// `GET ?offset=N`: the build's log from byte `offset`.
    pub fn build_log(id: i64) -> String {
        format!("{BUILDS}/{id}/log")
    }
    /// `GET`: the build's tar.gz.
    pub fn build_artifact(id: i64) -> String {
        format!("{BUILDS}/{id}/artifact")
    }
    /// `POST ?version=V` with a tar.gz body: a prebuilt build.
    pub fn build_upload(app_name: &str) -> String {
        format!("{}/builds", app(app_name))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct App {
    pub id: i64,
    pub name: String,
    pub repo_url: String,
    /// URL of the buildpack every build of this app uses; `None`: detection over the list.
    pub buildpack: Option<String>,
    pub notes: String,
    pub created_at: i64,
    /// The unprivileged uid its builds run as on builders (and which owns its build cache
    /// there); given at its first build.
    #[serde(default)]
    pub build_uid: Option<u32>,
    /// The stack its builds compile in and its procs run on (sandbox runner); `None`: the
    /// builder's and hosts' own OS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stack: Option<String>,
}

/// First uid of vr's build users: an app's build runs as a uid in
/// `BUILD_UID_BASE .. BUILD_UID_BASE + 2^24` with no passwd entry, so apps cannot touch each
/// other's caches or the builder.
pub const BUILD_UID_BASE: u32 = 1_610_612_736;

/// The `attempt`th candidate uid for the app's builds, drawn from the installation's `key`:
/// the store keeps the first that no other app of the installation has, and two installations
/// sharing a builder are unlikely to meet.
pub fn build_uid_candidate(key: &[u8], app_id: i64, attempt: u32) -> u32 {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(key);
    h.update(app_id.to_le_bytes());
    h.update(attempt.to_le_bytes());
    let d = h.finalize();
    BUILD_UID_BASE + ((u32::from(d[0]) << 16) | (u32::from(d[1]) << 8) | u32::from(d[2]))
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct NewApp {
    pub name: String,
    pub repo_url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub buildpack: Option<String>,
    #[serde(default)]
    pub notes: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stack: Option<String>,
}

/// `PATCH /api/apps/{name}`; `"buildpack": null` goes back to detection.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct AppPatch {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repo_url: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::fleet::nullable"
    )]
    #[cfg_attr(feature = "schema", schemars(with = "Option<String>"))]
    pub buildpack: Option<Option<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    /// `null`: back to the hosts' own OS.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::fleet::nullable"
    )]
    #[cfg_attr(feature = "schema", schemars(with = "Option<String>"))]
    pub stack: Option<Option<String>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Buildpack {
    pub id: i64,
    /// Git URL; a `#ref` fragment pins a branch, tag or commit.
    pub url: String,
    /// Detection tries buildpacks by ascending order.
    pub order: i64,
    pub description: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct NewBuildpack {
    pub url: String,
    /// Default: after the last one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order: Option<i64>,
    #[serde(default)]
    pub description: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct BuildpackPatch {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum BuildStatus {
    Pending,
    Running,
    Succeeded,
    Failed,
    /// Its artifact was deleted by retention; the record stays.
    Expired,
}

impl BuildStatus {
    pub const ALL: [BuildStatus; 5] = [
        BuildStatus::Pending,
        BuildStatus::Running,
        BuildStatus::Succeeded,
        BuildStatus::Failed,
        BuildStatus::Expired,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            BuildStatus::Pending => "pending",
            BuildStatus::Running => "running",
            BuildStatus::Succeeded => "succeeded",
            BuildStatus::Failed => "failed",
            BuildStatus::Expired => "expired",
        }
    }

    pub fn parse(s: &str) -> Option<BuildStatus> {
        BuildStatus::ALL.into_iter().find(|b| b.as_str() == s)
    }

    /// Still going: a client following it waits.
    pub fn in_progress(self) -> bool {
        matches!(self, BuildStatus::Pending | BuildStatus::Running)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Build {
    pub id: i64,
    pub app: String,
    /// What was asked for: a tag, branch or commit.
    pub version: String,
    /// The commit it resolved to (None until resolved, and for prebuilt builds).
    pub commit: Option<String>,
    pub status: BuildStatus,
    /// Why it failed.
    pub error: Option<String>,
    /// Buildpack URL (with `#ref` if pinned) and the commit of it that compiled.
    pub buildpack: Option<String>,
    pub buildpack_commit: Option<String>,
    /// Host it ran on.
    pub host: Option<String>,
    pub sha256: Option<String>,
    pub size: Option<u64>,
    /// Procfile entries: proc type → command.
    pub procfile: BTreeMap<String, String>,
    /// Default env vars from the buildpack's `bin/release`.
    pub env: BTreeMap<String, String>,
    /// Uploaded, not built.
    pub prebuilt: bool,
    /// Same commit and buildpack as this earlier build, whose artifact it shares.
    pub reused_from: Option<i64>,
    pub requested_by: String,
    pub created_at: i64,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
    /// The stack image it compiled in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stack: Option<crate::stack::StackRef>,
}

/// `POST /api/builds`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct BuildRequest {
    pub app: String,
    pub version: String,
    /// Build again even if a successful build of the same commit exists.
    #[serde(default)]
    pub force: bool,
    /// Compile in this stack's current image instead of the app's stack.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stack: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct BuildQuery {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct BuildLogQuery {
    #[serde(default)]
    pub offset: u64,
}

/// A piece of a build's log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct BuildLog {
    pub text: String,
    /// Where the next read starts.
    pub offset: u64,
    /// The build is over: nothing more will be written.
    pub complete: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct UploadQuery {
    pub version: String,
}

/// Largest Procfile read, anywhere: they are a few lines.
pub const PROCFILE_MAX: usize = 64 * 1024;
const PROCFILE_MAX_TYPES: usize = 100;

/// Parses a Procfile: `type: command` lines; blank lines and `#` comments are skipped. Types are
/// letters, digits, `_` and `-`. An error names the line.
pub fn parse_procfile(text: &str) -> Result<BTreeMap<String, String>, String> {
    if text.len() > PROCFILE_MAX {
        return Err(format!(
            "the Procfile is larger than {} KiB",
            PROCFILE_MAX / 1024
        ));
    }
    let mut out = BTreeMap::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((kind, command)) = line.split_once(':') else {
            return Err(format!("Procfile line {}: expected `type: command`", i + 1));
        };
        let kind = kind.trim();
        if kind.is_empty()
            || kind.len() > 50
            || !kind
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        {
            return Err(format!(
                "Procfile line {}: bad process type {kind:?}",
                i + 1
            ));
        }
        if command.trim().is_empty() {
            return Err(format!("Procfile line {}: {kind} has no command", i + 1));
        }
        out.insert(kind.to_string(), command.trim().to_string());
        if out.len() > PROCFILE_MAX_TYPES {
            return Err(format!(
                "the Procfile names more than {PROCFILE_MAX_TYPES} process types"
            ));
        }
    }
    if out.is_empty() {
        return Err("the Procfile names no process type".into());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn procfiles() {
        let p = parse_procfile("# comment\nweb: ./run web --port $PORT\n\nworker:  python w.py \n")
            .unwrap_or_default();
        assert_eq!(
            p.get("web").map(String::as_str),
            Some("./run web --port $PORT")
        );
        assert_eq!(p.get("worker").map(String::as_str), Some("python w.py"));
        assert!(parse_procfile("").is_err());
        assert!(
            parse_procfile("web ./run")
                .expect_err("no colon")
                .contains("line 1")
        );
        assert!(parse_procfile("we b: x").is_err());
        assert!(parse_procfile("web:").is_err());
        let huge = format!("web: {}\n", "x".repeat(PROCFILE_MAX));
        assert!(
            parse_procfile(&huge)
                .expect_err("too big")
                .contains("larger than")
        );
        let many: String = (0..200).map(|i| format!("t{i}: run\n")).collect();
        assert!(
            parse_procfile(&many)
                .expect_err("too many")
                .contains("more than")
        );
    }

    proptest::proptest! {
        /// Whatever a build or an upload holds, the parser answers, never panics, and keeps no
        /// more than it was given.
        #[test]
        fn any_text_parses_or_fails_cleanly(text in "(?s).{0,4000}") {
            if let Ok(p) = parse_procfile(&text) {
                let kept: usize = p.iter().map(|(k, v)| k.len() + v.len()).sum();
                proptest::prop_assert!(kept <= text.len());
            }
        }

        #[test]
        fn any_bytes_parse_or_fail_cleanly(raw in proptest::collection::vec(proptest::num::u8::ANY, 0..4000)) {
            let _ = parse_procfile(&String::from_utf8_lossy(&raw));
        }
    }
}

/// What a build has done, as its log's own step lines say: a progress bar's steps.
pub const BUILD_PHASES: [&str; 6] = [
    "started",
    "checked out",
    "compiling",
    "packed",
    "stored",
    "succeeded",
];

/// Which of [`BUILD_PHASES`] a log line (without its end) says was reached, counted from 1.
pub fn build_phase(line: &str) -> Option<usize> {
    let step = line.strip_prefix("-----> ")?;
    Some(if step.starts_with("Building ") {
        1
    } else if step.starts_with("Checked out ") {
        2
    } else if step.starts_with("Using pinned buildpack ") || step.contains(" app detected by ") {
        3
    } else if step.starts_with("Packed ") {
        4
    } else if step.starts_with("Stored ") {
        5
    } else if step.starts_with("Build succeeded") || step.starts_with("Reusing build #") {
        6
    } else {
        return None;
    })
}

#[cfg(test)]
mod phase_tests {
    use super::*;

    #[test]
    fn the_log_s_own_step_lines_are_the_phases() {
        let log = [
            "-----> Building shop v1 on b1",
            "-----> v1 is 0123abcd",
            "-----> Checked out 0123abcd; building as uid 20001",
            "-----> Shell app detected by file:///bp",
            "compiling…",
            "-----> Packed 100 bytes, sha256 ab",
            "-----> Stored 100 bytes as ab",
            "-----> Build succeeded",
        ];
        let phases: Vec<usize> = log.iter().filter_map(|l| build_phase(l)).collect();
        assert_eq!(phases, [1, 2, 3, 4, 5, 6]);
        assert_eq!(BUILD_PHASES.len(), 6);
        assert_eq!(
            build_phase("-----> Reusing build #3 of the same commit"),
            Some(6)
        );
        assert_eq!(build_phase("Building it myself"), None);
    }
}
