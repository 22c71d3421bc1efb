//! Deploying one proc (SPEC §2, §3.3): the request, the durable record of the job with its
//! steps, and how a proc's Supervisor program is named.

use serde::{Deserialize, Serialize};

pub mod paths {
    /// `GET ?limit=N` newest first; `POST` a [`super::DeployRequest`].
    pub const DEPLOYS: &str = "/api/deploys";

    pub fn deploy(id: i64) -> String {
        format!("{DEPLOYS}/{id}")
    }
}

/// `POST /api/deploys`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct DeployRequest {
    pub release_id: i64,
    /// A process type of the release's Procfile (`web`, `worker`…).
    pub proc_type: String,
    /// Config name, e.g. `prod`.
    pub config: String,
    pub host: String,
    /// 0 = the proc binds no port.
    pub port: u16,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum DeployStatus {
    Running,
    Succeeded,
    Failed,
}

impl DeployStatus {
    pub const ALL: [DeployStatus; 3] = [
        DeployStatus::Running,
        DeployStatus::Succeeded,
        DeployStatus::Failed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DeployStatus::Running => "running",
            DeployStatus::Succeeded => "succeeded",
            DeployStatus::Failed => "failed",
        }
    }
    pub fn parse(s: &str) -> Option<DeployStatus> {
        DeployStatus::ALL.into_iter().find(|d| d.as_str() == s)
    }
}

/// A step of the one-proc deploy. On the wire (and in stored deploys) each is its label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum DeployStepKind {
    /// The proc already runs: nothing to do.
    #[serde(rename = "check")]
    AlreadyRunning,
    /// Nothing on the host listens on the proc's port.
    #[serde(rename = "check port")]
    CheckPort,
    /// The build's artifact is on the host, unpacked.
    #[serde(rename = "copy build")]
    CopyBuild,
    /// The proc's directory: config, settings, env, the Supervisor program file.
    #[serde(rename = "write proc")]
    WriteProc,
    #[serde(rename = "add to Supervisor")]
    AddToSupervisor,
    #[serde(rename = "wait for RUNNING")]
    WaitRunning,
    #[serde(rename = "uptests")]
    Uptests,
}

impl DeployStepKind {
    pub const ALL: [DeployStepKind; 7] = [
        DeployStepKind::AlreadyRunning,
        DeployStepKind::CheckPort,
        DeployStepKind::CopyBuild,
        DeployStepKind::WriteProc,
        DeployStepKind::AddToSupervisor,
        DeployStepKind::WaitRunning,
        DeployStepKind::Uptests,
    ];

    /// What the step is called in records, the UI and the CLI.
    pub fn label(self) -> &'static str {
        match self {
            DeployStepKind::AlreadyRunning => "check",
            DeployStepKind::CheckPort => "check port",
            DeployStepKind::CopyBuild => "copy build",
            DeployStepKind::WriteProc => "write proc",
            DeployStepKind::AddToSupervisor => "add to Supervisor",
            DeployStepKind::WaitRunning => "wait for RUNNING",
            DeployStepKind::Uptests => "uptests",
        }
    }

    /// The steps a deploy runs, in order, for a proc on `port`: a port is checked only when
    /// the proc has one (0: a worker).
    pub fn plan(port: u16) -> &'static [DeployStepKind] {
        const WITH_PORT: [DeployStepKind; 6] = [
            DeployStepKind::CheckPort,
            DeployStepKind::CopyBuild,
            DeployStepKind::WriteProc,
            DeployStepKind::AddToSupervisor,
            DeployStepKind::WaitRunning,
            DeployStepKind::Uptests,
        ];
        if port == 0 {
            &WITH_PORT[1..]
        } else {
            &WITH_PORT
        }
    }
}

/// One step of a deploy, as it went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct DeployStep {
    pub name: DeployStepKind,
    pub ok: bool,
    pub message: String,
    pub ms: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Deployment {
    pub id: i64,
    pub release_id: i64,
    pub app: String,
    pub proc_type: String,
    pub config: String,
    pub host: String,
    pub port: u16,
    /// The Supervisor program name.
    pub program: String,
    pub status: DeployStatus,
    pub error: Option<String>,
    pub steps: Vec<DeployStep>,
    pub requested_by: String,
    pub created_at: i64,
    pub finished_at: Option<i64>,
}

/// A component of a program name: `[A-Za-z0-9_.]`, anything else written as `_` (a version
/// `v1.2-rc1` becomes `v1.2_rc1`). The true values live in `proc.json`.
pub fn name_part(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// `{app}-{version}-{config}-{release_hash}-{proc}-{port}` (SPEC §2).
pub fn program_name(
    app: &str,
    version: &str,
    config: &str,
    release_hash: &str,
    proc_type: &str,
    port: u16,
) -> String {
    [app, version, config, release_hash, proc_type]
        .iter()
        .map(|p| name_part(p))
        .chain(std::iter::once(port.to_string()))
        .collect::<Vec<_>>()
        .join("-")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn program_names_keep_to_the_safe_alphabet() {
        assert_eq!(
            program_name("shop", "v1.2-rc1", "prod", "ab12cd34ef56", "web", 5001),
            "shop-v1.2_rc1-prod-ab12cd34ef56-web-5001"
        );
        assert_eq!(
            program_name("shop", "feature/x y", "prod;rm", "h", "worker", 0),
            "shop-feature_x_y-prod_rm-h-worker-0"
        );
    }
}

/// One uptest run: an executable in the build's `uptests/<proc>/`, called with `HOST PORT`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct UptestResult {
    pub host: String,
    pub program: String,
    pub name: String,
    pub passed: bool,
    /// Its output (stdout and stderr), cut to the last 4 KiB.
    pub output: String,
    pub ms: u64,
    pub at: i64,
}

/// `GET /api/uptests?host=&program=`: the latest results (each program's newest run).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct UptestQuery {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub program: Option<String>,
}

pub mod uptest_paths {
    pub const UPTESTS: &str = "/api/uptests";
}
