//! Fleet helpers on top of [`super::VrServer`] and [`super::TestHost`]: register a harness host
//! with `vr`, plant a program as `vr` would have deployed it, and wait on the snapshot.

use super::host::TestHost;
use super::server::ApiClient;
use std::time::{Duration, Instant};
use vr_app::fleet::{Fleet, Health, Host, NewHost, Proc, ProcMeta, paths};

/// The server's SSH public key (to put in a host's `authorized_keys`).
pub async fn server_key(api: &ApiClient) -> String {
    let v = api.get("/api/settings/ssh-key").await.expect_ok().value();
    v["public_key"].as_str().expect("public_key").to_string()
}

/// The settings that point `vr` at a harness host (its own supervisorctl config, socket,
/// include dir and apps root).
pub fn new_host(host: &TestHost, name: &str, squad: Option<&str>) -> NewHost {
    NewHost {
        address: host.address(),
        name: Some(name.to_string()),
        port: Some(host.ssh_port()),
        user: Some(host.user().to_string()),
        squad: squad.map(str::to_string),
        supervisorctl: Some(host.supervisorctl()),
        supervisor_socket: Some(host.supervisor_socket().display().to_string()),
        include_dir: Some(host.include_dir().display().to_string()),
        apps_root: Some(host.apps_root().display().to_string()),
        ..Default::default()
    }
}

/// Registers a harness host through the API.
pub async fn add_host(api: &ApiClient, host: &TestHost, name: &str, squad: Option<&str>) -> Host {
    api.post(paths::HOSTS, &new_host(host, name, squad))
        .await
        .expect_status(201)
        .json()
}

pub async fn fleet(api: &ApiClient) -> Fleet {
    api.get(paths::FLEET).await.expect_ok().json()
}

/// Polls the snapshot until `pick` returns `Some`, or panics after `timeout` with the last
/// snapshot and `what`.
pub async fn wait_fleet<T>(
    api: &ApiClient,
    what: &str,
    timeout: Duration,
    mut pick: impl FnMut(&Fleet) -> Option<T>,
) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        let f = fleet(api).await;
        if let Some(v) = pick(&f) {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "never {what} within {timeout:?}; last snapshot: {f:#?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits until host `name` has `health`; returns it.
pub async fn wait_health(api: &ApiClient, name: &str, health: Health, timeout: Duration) -> Host {
    wait_fleet(
        api,
        &format!("saw host {name} {}", health.as_str()),
        timeout,
        |f| {
            f.hosts
                .iter()
                .find(|h| h.settings.name == name && h.status.health == health)
                .cloned()
        },
    )
    .await
}

/// Waits until `cond` holds for the snapshot's procs of `host`; returns them.
pub async fn wait_procs(
    api: &ApiClient,
    host: &str,
    what: &str,
    timeout: Duration,
    cond: impl Fn(&[Proc]) -> bool,
) -> Vec<Proc> {
    wait_fleet(api, &format!("procs of {host}: {what}"), timeout, |f| {
        let procs: Vec<Proc> = f.procs.iter().filter(|p| p.host == host).cloned().collect();
        cond(&procs).then_some(procs)
    })
    .await
}

pub use vr_app::fixtures::meta;

impl TestHost {
    /// Plants a program the way `vr` deploys one: `APPS/procs/NAME/proc.json`, then the program
    /// file in the include dir, `reread` + `add`; waits until it runs.
    pub fn add_managed_program(&self, name: &str, command: &str, meta: &ProcMeta) {
        let dir = self.apps_root().join("procs").join(name);
        std::fs::create_dir_all(&dir).expect("creating the proc folder");
        std::fs::write(
            dir.join("proc.json"),
            serde_json::to_string_pretty(meta).expect("proc.json"),
        )
        .expect("writing proc.json");
        self.add_program(name, command);
    }
}
