//! [`FromJson`] for every type the UI reads from the API, field for field as serde writes
//! them (`tests` below compare with serde on values that fill every field).

use serde_json::Value;

use super::{Fields, FromJson, JsonError};
use crate::api::{
    ApiToken, AuthSession, CreatedToken, Event, Me, Outcome, SetupStatus, SshKey, User, VersionInfo,
};
use crate::balancer::{Balancer, BalancerKind, BalancerSpec, Node, PoolHost, PoolView};
use crate::build::{App, Build, BuildLog, BuildStatus, Buildpack};
use crate::deploy::{DeployStatus, DeployStep, DeployStepKind, Deployment, UptestResult};
use crate::error::{ErrorBody, ErrorDetail};
use crate::fleet::{
    ConnectionReport, Fleet, Health, Host, HostSettings, HostStatus, LogChunk, LogStream, Proc,
    ProcActionReport, ProcActionResult, ProcDetail, ProcMeta, ProcRef, Squad, StateChange,
};
use crate::isolation::{Cgroups, HostCapabilities};
use crate::notify::{
    Delivery, DeliveryStatus, NotifyEvent, TestQueued, Webhook, WebhookFormat, WebhookSecret,
};
use crate::orphans::Orphan;
use crate::plan::{NewProc, Plan};
use crate::release::{
    Difference, Ingredient, Layer, Release, ReleaseConfig, ReleaseDiff, ReleasePreview, Runner,
    Sourced, Volume,
};
use crate::role::Role;
use crate::secret::Revealed;
use crate::stack::{StackImage, StackRef, StackSource};
use crate::supervisor::ProcState;
use crate::swarm::{
    Dispatch, DispatchStatus, DispatchStep, DispatchStepKind, LastDispatch, Placement, SpecChange,
    Swarm, SwarmSpec, SwarmState, SwarmStatus,
};
use crate::{from_json_named, from_json_struct};

// api
from_json_struct!(VersionInfo {
    version,
    schema_version
});
from_json_struct!(SetupStatus { needed });
from_json_struct!(User {
    id,
    username,
    role,
    disabled,
    created_at,
    last_login_at
});
from_json_struct!(AuthSession { me, setup_needed });
from_json_struct!(Me { user, csrf_token });
from_json_struct!(ApiToken {
    id,
    name,
    username,
    prefix,
    created_at,
    last_used_at,
    expires_at
});
from_json_struct!(CreatedToken { token, secret });
from_json_named!(Outcome, Outcome::ALL, Outcome::as_str);
from_json_struct!(Event {
    id,
    at,
    actor,
    action,
    object,
    outcome,
    detail
});
from_json_struct!(SshKey {
    public_key,
    fingerprint
});
from_json_named!(Role, Role::ALL, Role::as_str);

// build
from_json_struct!(App {
    id,
    name,
    repo_url,
    buildpack,
    notes,
    created_at,
    build_uid,
    stack
});
from_json_struct!(StackRef { name, sha256 });
from_json_struct!(StackImage {
    id,
    stack,
    status,
    source,
    recipe,
    sha256,
    size,
    host,
    error,
    used_by_releases,
    current,
    created_by,
    created_at,
    finished_at
});
from_json_named!(StackSource, StackSource::ALL, StackSource::as_str);
from_json_struct!(Buildpack {
    id,
    url,
    order,
    description
});
from_json_named!(BuildStatus, BuildStatus::ALL, BuildStatus::as_str);
from_json_struct!(Build {
    id,
    app,
    version,
    commit,
    status,
    error,
    buildpack,
    buildpack_commit,
    host,
    sha256,
    size,
    procfile,
    env,
    prebuilt,
    reused_from,
    requested_by,
    created_at,
    started_at,
    finished_at,
    stack,
});
from_json_struct!(BuildLog {
    text,
    offset,
    complete
});

// deploy
from_json_named!(DeployStatus, DeployStatus::ALL, DeployStatus::as_str);
from_json_named!(DeployStepKind, DeployStepKind::ALL, DeployStepKind::label);
from_json_struct!(DeployStep {
    name,
    ok,
    message,
    ms
});
from_json_struct!(Deployment {
    id,
    release_id,
    app,
    proc_type,
    config,
    host,
    port,
    program,
    status,
    error,
    steps,
    requested_by,
    created_at,
    finished_at,
});
from_json_struct!(UptestResult {
    host,
    program,
    name,
    passed,
    output,
    ms,
    at
});

// error
from_json_struct!(ErrorBody { error });
from_json_struct!(ErrorDetail {
    code,
    message,
    field
});

// fleet
from_json_struct!(Squad {
    id,
    name,
    description,
    hosts,
    created_at
});
from_json_struct!(HostSettings {
    name,
    address,
    port,
    user,
    squad,
    active,
    builder,
    supervisorctl,
    supervisor_socket,
    include_dir,
    apps_root,
    port_min,
    port_max,
    notes,
});
from_json_named!(Health, Health::ALL, Health::as_str);
from_json_struct!(HostStatus {
    health,
    error,
    error_since,
    last_ok_at,
    last_poll_at,
    supervisor_version,
    via,
    presented_key,
});
from_json_struct!(Host { id, host_key, host_key_pinned_at, status, created_at } flatten { settings });
from_json_struct!(ProcMeta { app, version, config, proc_type, port, release_id, swarm_id }
    default { release_hash, deployed_by, deployed_at });
from_json_struct!(Proc {
    host,
    name,
    state,
    description,
    pid,
    started_at,
    meta,
    expected,
    state_since,
    last_seen_at,
} default { oom_kills });
from_json_struct!(Fleet {
    hosts,
    procs,
    squads
});
from_json_struct!(StateChange {
    state,
    description,
    at
});
from_json_struct!(ProcDetail { proc, history });
from_json_named!(LogStream, LogStream::ALL, LogStream::as_str);
from_json_struct!(LogChunk {
    text,
    offset,
    overflow
});
from_json_struct!(ProcRef { host, name });
from_json_struct!(ProcActionResult {
    host,
    name,
    ok,
    message
});
from_json_struct!(ProcActionReport { batch, results });
from_json_struct!(ConnectionReport {
    ok,
    host_key,
    key_pinned_now,
    supervisor_version,
    proc_count,
    via,
    elapsed_ms,
    error,
    capabilities,
});
from_json_struct!(HostCapabilities {
    bubblewrap,
    setpriv,
    cgroups,
    mmdebstrap
});

/// Internally tagged on the wire: `{"version": "v2", "controllers": […]}`.
impl FromJson for Cgroups {
    fn from_json(value: Value) -> Result<Self, JsonError> {
        let mut fields = Fields::of(value)?;
        let version: String = fields.take("version")?;
        match version.as_str() {
            "v2" => Ok(Cgroups::V2 {
                controllers: fields.take("controllers")?,
            }),
            "v1" => Ok(Cgroups::V1 {
                controllers: fields.take("controllers")?,
            }),
            "none" => Ok(Cgroups::None),
            _ => Err(JsonError::expected("one of: v1 v2 none").at("version")),
        }
    }

    fn empty() -> Self {
        Cgroups::None
    }
}

// release
from_json_struct!(Volume {
    host_dir,
    mount_dir
});
from_json_struct!(Ingredient {
    id,
    name,
    settings_yaml,
    env_yaml,
    settings,
    env,
    secret_keys,
    notes,
    updated_at,
    used_by_releases,
});
from_json_struct!(ReleaseConfig {
    settings,
    env,
    secret_keys,
    volumes,
    run_as,
    mem_limit_mb,
    cpu_weight,
    runner,
    stack
});

/// Left out of the JSON when plain.
impl FromJson for Runner {
    fn from_json(value: Value) -> Result<Self, JsonError> {
        value
            .as_str()
            .and_then(Runner::parse)
            .ok_or_else(|| JsonError::expected("plain or sandbox"))
    }

    fn absent() -> Option<Self> {
        Some(Runner::Plain)
    }

    fn empty() -> Self {
        Runner::Plain
    }
}
from_json_struct!(Release { id, app, build_id, commit, hash, ingredients, created_by, created_at }
    default { version } flatten { config });
from_json_struct!(Sourced { key, value, from });
from_json_struct!(ReleasePreview {
    config,
    settings_from,
    env_from,
    hash
});
from_json_struct!(Difference { section, key, a, b } default { secret });
from_json_struct!(ReleaseDiff { a, b, differences });
from_json_struct!(Revealed { key, value });

from_json_named!(ProcState, ProcState::EVERY, ProcState::as_str);

// balancer
from_json_named!(BalancerKind, BalancerKind::ALL, BalancerKind::as_str);
from_json_struct!(BalancerSpec {} default { name, kind, hosts, pool_dir, validate_cmd, reload_cmd, pid_file, drain_ms });
from_json_struct!(Node {
    address,
    port,
    program
});
from_json_struct!(PoolHost {} default { host, applied, message, ok, at });
from_json_struct!(PoolView {} default { balancer, pool, swarm, nodes, wanted, hosts });
from_json_struct!(Balancer {} default { id, spec, pools, created_by, created_at });

// orphans
from_json_struct!(Orphan {
    host,
    name,
    port,
    state,
    swarm_id,
    swarm,
    why
});

// swarm
from_json_named!(Placement, Placement::ALL, Placement::as_str);
from_json_named!(SwarmState, SwarmState::ALL, SwarmState::as_str);
from_json_named!(DispatchStatus, DispatchStatus::ALL, DispatchStatus::as_str);
from_json_named!(
    DispatchStepKind,
    DispatchStepKind::ALL,
    DispatchStepKind::label
);
from_json_struct!(SwarmSpec { app, version, proc_type, config, squad, run_as, mem_limit_mb, cpu_weight, runner, stack, pool, balancer }
    default { size, placement, batch_size, uses_ports, settings_yaml, env_yaml, secret_keys, ingredients, volumes, keep_failed, heal_after_secs });
from_json_struct!(SwarmStatus {
    state,
    wanted,
    running,
    missing,
    extra,
    stale,
    unknown
} default { orphaned });
from_json_struct!(LastDispatch { id, status, short });
from_json_struct!(Swarm { id, name, settings, env, release_id, release_hash, last_dispatch, status, created_by, created_at, updated_at }
    flatten { spec });
from_json_struct!(NewProc { host, port });
from_json_struct!(Plan {
    keep,
    start,
    retire,
    short
});
from_json_struct!(DispatchStep {
    name,
    ok,
    message,
    ms
});
from_json_struct!(SpecChange {
    field,
    before,
    after
});
from_json_struct!(Dispatch {
    id,
    swarm_id,
    swarm,
    version,
    dry_run,
    status,
    build_id,
    release_id,
    plan,
    steps,
    deploys,
    short,
    error,
    changes,
    rollback_of,
    cancel_requested,
    requested_by,
    created_at,
    started_at,
    finished_at
});

// notify
from_json_named!(NotifyEvent, NotifyEvent::ALL, NotifyEvent::as_str);
from_json_named!(WebhookFormat, WebhookFormat::ALL, WebhookFormat::as_str);
from_json_named!(DeliveryStatus, DeliveryStatus::ALL, DeliveryStatus::as_str);
from_json_struct!(Webhook {
    id,
    name,
    url,
    events,
    format,
    enabled,
    created_by,
    created_at,
    pending,
    failed_recently
});
from_json_struct!(WebhookSecret { webhook, secret });
from_json_struct!(TestQueued { delivery });
from_json_struct!(Delivery {
    id,
    webhook,
    event,
    object,
    status,
    attempts,
    response_status,
    error,
    created_at,
    next_at,
    finished_at
});

/// Adjacently tagged on the wire: `{"kind": "ingredient", "name": "db"}`.
impl FromJson for Layer {
    fn from_json(value: Value) -> Result<Self, JsonError> {
        let mut fields = Fields::of(value)?;
        let kind: String = fields.take("kind")?;
        match kind.as_str() {
            "build" => Ok(Layer::Build),
            "own" => Ok(Layer::Own),
            "ingredient" => Ok(Layer::Ingredient(fields.take("name")?)),
            _ => Err(JsonError::expected("one of: build ingredient own").at("kind")),
        }
    }

    fn empty() -> Self {
        Layer::Build
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures;
    use serde::Serialize;
    use serde::de::DeserializeOwned;
    use std::fmt::Debug;

    /// Serde's encoding of `value` decodes to `value`, and serde agrees.
    fn same<T: Serialize + DeserializeOwned + FromJson + PartialEq + Debug>(value: T) {
        let json = serde_json::to_string(&value).expect("encode");
        let ours: T = crate::json::decode(&json).expect("decode");
        assert_eq!(ours, value, "{json}");
        let theirs: T = serde_json::from_str(&json).expect("serde");
        assert_eq!(theirs, value);
    }

    fn some<T>(v: T) -> Option<T> {
        Some(v)
    }

    #[test]
    fn swarms_and_dispatches_decode_as_serde_encodes_them() {
        let mut spec = fixtures::swarm_spec();
        spec.placement = Placement::OnePerHost;
        spec.batch_size = 2;
        spec.settings_yaml = "a: 1\n".into();
        spec.env_yaml = "B: x\n".into();
        spec.secret_keys = vec!["B".into()];
        spec.ingredients = vec!["db".into()];
        spec.volumes = vec![Volume {
            host_dir: "/srv/a".into(),
            mount_dir: "/a".into(),
        }];
        spec.run_as = some("app".into());
        spec.mem_limit_mb = some(256);
        spec.pool = some("web".into());
        spec.balancer = some("lb1".into());
        spec.keep_failed = true;
        let status = SwarmStatus {
            state: SwarmState::UnderCapacity,
            wanted: 3,
            running: 2,
            missing: 1,
            extra: 0,
            stale: 4,
            unknown: 5,
            orphaned: 6,
        };
        let last = LastDispatch {
            id: 9,
            status: DispatchStatus::Cancelled,
            short: 1,
        };
        same(Swarm {
            id: 1,
            name: spec.name(),
            spec: spec.clone(),
            settings: serde_json::json!({"a": 1})
                .as_object()
                .cloned()
                .unwrap_or_default(),
            env: [("B".to_string(), crate::secret::MASK.to_string())].into(),
            release_id: some(3),
            release_hash: some("abc".into()),
            last_dispatch: some(last),
            status,
            created_by: "ann".into(),
            created_at: 1,
            updated_at: 2,
        });
        let mut bare = fixtures::swarm_spec();
        bare.uses_ports = false;
        same(bare);
        same(Dispatch {
            id: 4,
            swarm_id: 1,
            swarm: "shop-prod-web".into(),
            version: "v2".into(),
            dry_run: true,
            status: DispatchStatus::Running,
            build_id: some(5),
            release_id: some(6),
            plan: some(Plan {
                keep: vec![ProcRef {
                    host: "a".into(),
                    name: "p".into(),
                }],
                start: vec![NewProc {
                    host: "b".into(),
                    port: 5001,
                }],
                retire: vec![],
                short: 2,
            }),
            steps: vec![DispatchStep {
                name: DispatchStepKind::ReservePorts,
                ok: false,
                message: "m".into(),
                ms: 7,
            }],
            deploys: vec![8, 9],
            short: 2,
            error: some("e".into()),
            changes: vec![SpecChange {
                field: "size".into(),
                before: "1".into(),
                after: "2".into(),
            }],
            rollback_of: some(2),
            cancel_requested: true,
            requested_by: "bob".into(),
            created_at: 10,
            started_at: some(11),
            finished_at: None,
        });
    }

    fn full_host() -> Host {
        let mut h = fixtures::host("web1", Some("prod"));
        h.settings.supervisorctl = some("sudo supervisorctl".into());
        h.settings.supervisor_socket = some("/run/s.sock".into());
        h.settings.include_dir = some("/etc/supervisor/conf.d".into());
        h.settings.apps_root = some("/srv".into());
        h.settings.port_min = some(5000);
        h.settings.port_max = some(6000);
        h.settings.notes = "rack 4".into();
        h.settings.builder = true;
        h.host_key = some("SHA256:abc".into());
        h.host_key_pinned_at = some(7);
        h.status = HostStatus {
            health: Health::KeyChanged,
            error: some("changed".into()),
            error_since: some(1),
            last_ok_at: some(2),
            last_poll_at: some(3),
            supervisor_version: some("4.2".into()),
            via: some("xmlrpc".into()),
            presented_key: some("SHA256:def".into()),
        };
        h
    }

    fn full_proc() -> Proc {
        let mut p = fixtures::proc(
            "web1",
            "shop-web",
            Some(("shop", "v1", "prod")),
            ProcState::Backoff,
        );
        p.pid = some(42);
        p.started_at = some(10);
        p.expected = true;
        if let Some(m) = p.meta.as_mut() {
            m.release_id = some(3);
            m.release_hash = "h".into();
            m.swarm_id = some(9);
            m.deployed_by = "ann".into();
            m.deployed_at = 11;
        }
        p
    }

    fn full_release() -> Release {
        let mut settings = serde_json::Map::new();
        settings.insert("n".into(), serde_json::json!({"a": [1, 2.5, null, "x"]}));
        Release {
            id: 1,
            app: "shop".into(),
            build_id: 2,
            version: "v1".into(),
            commit: some("abc".into()),
            hash: "h".into(),
            config: ReleaseConfig {
                settings,
                env: [("K".to_string(), "v".to_string())].into_iter().collect(),
                secret_keys: ["K".to_string()].into_iter().collect(),
                volumes: vec![Volume {
                    host_dir: "/a".into(),
                    mount_dir: "/b".into(),
                }],
                run_as: some("app".into()),
                mem_limit_mb: some(512),
                cpu_weight: some(50),
                runner: Runner::Sandbox,
                stack: some(StackRef {
                    name: "tiny".into(),
                    sha256: "ab".into(),
                }),
            },
            ingredients: vec!["db".into()],
            created_by: "ann".into(),
            created_at: 5,
        }
    }

    #[test]
    fn fleet_types_match_serde() {
        let host = full_host();
        same(host.clone());
        same(fixtures::host("bare", None));
        same(full_proc());
        same(fixtures::proc("h", "loose", None, ProcState::Unknown));
        same(Fleet {
            hosts: vec![host],
            procs: vec![full_proc()],
            squads: vec![Squad {
                id: 1,
                name: "prod".into(),
                description: "d".into(),
                hosts: vec!["web1".into()],
                created_at: 2,
            }],
        });
        same(ProcDetail {
            proc: full_proc(),
            history: vec![StateChange {
                state: ProcState::Fatal,
                description: "x".into(),
                at: 1,
            }],
        });
        same(LogChunk {
            text: "t".into(),
            offset: 9,
            overflow: true,
        });
        same(ProcRef {
            host: "h".into(),
            name: "n".into(),
        });
        same(ProcActionReport {
            batch: "b".into(),
            results: vec![ProcActionResult {
                host: "h".into(),
                name: "n".into(),
                ok: false,
                message: "m".into(),
            }],
        });
        same(ConnectionReport {
            ok: true,
            host_key: some("k".into()),
            key_pinned_now: true,
            supervisor_version: some("4".into()),
            proc_count: some(3),
            via: some("v".into()),
            elapsed_ms: 12,
            error: some("e".into()),
            capabilities: None,
        });
        for cgroups in [
            Cgroups::V2 {
                controllers: vec!["memory".into(), "cpu".into()],
            },
            Cgroups::V1 {
                controllers: vec!["memory".into()],
            },
            Cgroups::None,
        ] {
            same(ConnectionReport {
                ok: true,
                host_key: None,
                key_pinned_now: false,
                supervisor_version: None,
                proc_count: None,
                via: None,
                elapsed_ms: 1,
                error: None,
                capabilities: Some(HostCapabilities {
                    bubblewrap: Some("0.8.0".into()),
                    setpriv: true,
                    cgroups,
                    mmdebstrap: Some("1.3.5".into()),
                }),
            });
        }
        for s in [
            ProcState::Missing,
            ProcState::Stopping,
            ProcState::Exited,
            ProcState::Starting,
            ProcState::Running,
            ProcState::Stopped,
        ]
        .into_iter()
        .chain(ProcState::ALL)
        {
            same(s);
        }
        for h in [
            Health::Unknown,
            Health::Ok,
            Health::Unreachable,
            Health::SupervisorDown,
            Health::KeyChanged,
            Health::Inactive,
        ] {
            same(h);
        }
    }

    #[test]
    fn build_and_deploy_types_match_serde() {
        let mut b = fixtures::build(1, "shop");
        b.commit = some("c".into());
        b.error = some("e".into());
        b.buildpack = some("bp".into());
        b.buildpack_commit = some("bc".into());
        b.host = some("h".into());
        b.sha256 = some("s".into());
        b.size = some(u64::MAX);
        b.procfile.insert("web".into(), "run".into());
        b.env.insert("A".into(), "b".into());
        b.prebuilt = true;
        b.reused_from = some(4);
        b.started_at = some(1);
        b.finished_at = some(2);
        for status in [
            BuildStatus::Pending,
            BuildStatus::Running,
            BuildStatus::Succeeded,
            BuildStatus::Failed,
            BuildStatus::Expired,
        ] {
            same(Build {
                status,
                ..b.clone()
            });
        }
        same(fixtures::build(2, "bare"));
        same(BuildLog {
            text: "t".into(),
            offset: 1,
            complete: true,
        });
        same(App {
            id: 1,
            name: "a".into(),
            repo_url: "r".into(),
            buildpack: some("b".into()),
            notes: "n".into(),
            created_at: 2,
            build_uid: some(1000),
            stack: some("tiny".into()),
        });
        same(StackImage {
            id: 1,
            stack: "tiny".into(),
            status: BuildStatus::Expired,
            source: StackSource::Mmdebstrap,
            recipe: "bookworm (minbase)".into(),
            sha256: some("ab".into()),
            size: some(3),
            host: some("b".into()),
            error: some("e".into()),
            used_by_releases: 2,
            current: true,
            created_by: "ann".into(),
            created_at: 4,
            finished_at: some(5),
        });
        same(Buildpack {
            id: 1,
            url: "u".into(),
            order: -3,
            description: "d".into(),
        });
        let mut d = fixtures::deployment(1, "shop", "web1");
        d.error = some("e".into());
        d.finished_at = some(3);
        d.steps = vec![DeployStep {
            name: DeployStepKind::WriteProc,
            ok: true,
            message: "m".into(),
            ms: 5,
        }];
        for status in [
            DeployStatus::Running,
            DeployStatus::Succeeded,
            DeployStatus::Failed,
        ] {
            same(Deployment {
                status,
                ..d.clone()
            });
        }
        let kinds = [DeployStepKind::AlreadyRunning]
            .into_iter()
            .chain(DeployStepKind::plan(5000).iter().copied());
        for kind in kinds {
            same(kind);
            let wire = serde_json::to_value(kind).expect("encode");
            assert_eq!(wire.as_str(), Some(kind.label()));
        }
        assert_eq!(
            DeployStepKind::plan(0).first(),
            Some(&DeployStepKind::CopyBuild)
        );
        same(UptestResult {
            host: "h".into(),
            program: "p".into(),
            name: "n".into(),
            passed: true,
            output: "o".into(),
            ms: 1,
            at: 2,
        });
    }

    #[test]
    fn account_and_release_types_match_serde() {
        let user = User {
            id: 1,
            username: "ann".into(),
            role: Role::Deployer,
            disabled: true,
            created_at: 2,
            last_login_at: some(3),
        };
        for role in Role::ALL {
            same(User {
                role,
                ..user.clone()
            });
        }
        let me = Me {
            user,
            csrf_token: some("t".into()),
        };
        same(AuthSession {
            me: some(me),
            setup_needed: true,
        });
        same(AuthSession {
            me: None,
            setup_needed: false,
        });
        let token = ApiToken {
            id: 1,
            name: "n".into(),
            username: "u".into(),
            prefix: "p".into(),
            created_at: 1,
            last_used_at: some(2),
            expires_at: some(3),
        };
        same(CreatedToken {
            token,
            secret: "s".into(),
        });
        for outcome in [Outcome::Ok, Outcome::Failed] {
            same(Event {
                id: 1,
                at: 2,
                actor: "a".into(),
                action: "x.y".into(),
                object: "o".into(),
                outcome,
                detail: "d".into(),
            });
        }
        same(SshKey {
            public_key: "k".into(),
            fingerprint: "f".into(),
        });
        same(VersionInfo {
            version: "1".into(),
            schema_version: 4,
        });
        same(SetupStatus { needed: true });
        same(ErrorBody {
            error: ErrorDetail {
                code: "c".into(),
                message: "m".into(),
                field: some("f".into()),
            },
        });
        same(ErrorBody {
            error: ErrorDetail {
                code: "c".into(),
                message: "m".into(),
                field: None,
            },
        });
        same(Revealed {
            key: "k".into(),
            value: "v".into(),
        });

        let r = full_release();
        same(r.clone());
        same(Release {
            version: String::new(),
            commit: None,
            config: ReleaseConfig::default(),
            ..r.clone()
        });
        let layers = [Layer::Build, Layer::Own, Layer::Ingredient("db".into())];
        same(ReleasePreview {
            config: r.config.clone(),
            settings_from: layers
                .iter()
                .map(|l| Sourced {
                    key: "k".into(),
                    value: serde_json::json!([1]),
                    from: l.clone(),
                })
                .collect(),
            env_from: Vec::new(),
            hash: "h".into(),
        });
        same(ReleaseDiff {
            a: r.clone(),
            b: r,
            differences: vec![
                Difference {
                    section: "s".into(),
                    key: "k".into(),
                    a: some(Value::from(1)),
                    b: None,
                    secret: true,
                },
                Difference {
                    section: "s".into(),
                    key: "k".into(),
                    a: None,
                    b: some(Value::from("x")),
                    secret: false,
                },
            ],
        });
        same(Ingredient {
            id: 1,
            name: "db".into(),
            settings_yaml: "a: 1".into(),
            env_yaml: "B: c".into(),
            settings: serde_json::Map::new(),
            env: Default::default(),
            secret_keys: ["B".to_string()].into_iter().collect(),
            notes: "n".into(),
            updated_at: 2,
            used_by_releases: vec![1, 2],
        });
    }

    #[test]
    fn wrong_shapes_say_what_and_where() {
        let err = |text: &str| {
            crate::json::decode::<Fleet>(text)
                .expect_err("invalid")
                .to_string()
        };
        assert_eq!(
            err(r#"{"hosts": [], "procs": 3, "squads": []}"#),
            "expected a list at procs"
        );
        // A missing list is an empty one; a missing plain value is an error.
        let fleet: Fleet = crate::json::decode(r#"{"hosts": [], "squads": []}"#).expect("decode");
        assert!(fleet.procs.is_empty());
        assert_eq!(
            crate::json::decode::<SetupStatus>("{}")
                .expect_err("missing")
                .to_string(),
            "expected a value at needed"
        );
        assert!(
            err(r#"{"hosts":[],"squads":[],"procs":[{"host":"h","name":"n","state":"NAPPING"}]}"#)
                .ends_with("at procs.[0].state"),
        );
        assert!(err("{").starts_with("not JSON"));
        // Unknown fields are ignored, as serde does by default (a newer server may add some).
        let ok: SetupStatus =
            crate::json::decode(r#"{"needed": false, "new": 1}"#).expect("decode");
        assert!(!ok.needed);
        // Numbers must fit.
        assert_eq!(
            crate::json::decode::<LogChunk>(r#"{"text":"","offset":-1,"overflow":false}"#)
                .expect_err("negative")
                .to_string(),
            "expected a whole number (u64) at offset"
        );
        // Fields are read on after a bad one, but the first bad one in field order is told.
        assert_eq!(
            crate::json::decode::<LogChunk>(r#"{"text":1,"offset":-1,"overflow":false}"#)
                .expect_err("two bad fields")
                .to_string(),
            "expected a string at text"
        );
    }

    #[test]
    fn balancers_decode_as_serde_writes_them() {
        for kind in BalancerKind::ALL {
            same(kind);
        }
        same(Balancer {
            id: 3,
            spec: BalancerSpec {
                name: "edge".into(),
                kind: BalancerKind::Haproxy,
                hosts: vec!["lb1".into(), "lb2".into()],
                pool_dir: "/etc/haproxy/pools".into(),
                validate_cmd: "haproxy -c".into(),
                reload_cmd: "kill -USR2 1".into(),
                pid_file: "/run/haproxy.pid".into(),
                drain_ms: 300,
            },
            pools: vec![PoolView {
                balancer: "edge".into(),
                pool: "web".into(),
                swarm: some("shop-prod-web".into()),
                nodes: vec![Node {
                    address: "10.0.0.5".into(),
                    port: 5001,
                    program: "shop-web-5001".into(),
                }],
                wanted: "abc".into(),
                hosts: vec![PoolHost {
                    host: "lb1".into(),
                    applied: "abc".into(),
                    message: "reloaded".into(),
                    ok: true,
                    at: 9,
                }],
            }],
            created_by: "ann".into(),
            created_at: 1,
        });
    }

    #[test]
    fn orphans_decode_as_serde_writes_them() {
        same(Orphan {
            host: "a".into(),
            name: "shop-prod-web-5000".into(),
            port: 5000,
            state: ProcState::Running,
            swarm_id: 3,
            swarm: "shop-prod-web".into(),
            why: "swarm #3 was deleted".into(),
        });
    }

    #[test]
    fn webhooks_and_deliveries_decode_as_serde_writes_them() {
        let w = Webhook {
            id: 1,
            name: "ops".into(),
            url: "https://hooks.example/x".into(),
            events: vec![NotifyEvent::DispatchFailed, NotifyEvent::HostKeyChanged],
            format: WebhookFormat::Slack,
            enabled: false,
            created_by: "ann".into(),
            created_at: 2,
            pending: 3,
            failed_recently: 4,
        };
        same(WebhookSecret {
            webhook: w.clone(),
            secret: Some("s3cret-s3cret-s3cret".into()),
        });
        same(WebhookSecret {
            webhook: w,
            secret: None,
        });
        for status in DeliveryStatus::ALL {
            same(Delivery {
                id: 5,
                webhook: "ops".into(),
                event: NotifyEvent::Test,
                object: "webhook:ops".into(),
                status,
                attempts: 2,
                response_status: Some(500),
                error: Some("HTTP 500".into()),
                created_at: 1,
                next_at: Some(9),
                finished_at: None,
            });
        }
    }
}
