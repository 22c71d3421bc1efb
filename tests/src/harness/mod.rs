//! The test harness: everything an integration test needs to stand up a small fleet and a `vr`
//! server, drive it, and leave nothing behind.
//!
//! - [`host`]: [`TestHost`], sshd + supervisord on 127.0.0.1 with a port of its own.
//! - [`netns`]: [`NetnsHost`], the same inside a network namespace that can be cut off.
//! - [`server`]: [`VrServer`] (the real `vr serve`) and [`ApiClient`].
//! - [`browser`]: [`Browser`], headless Chromium through chromedriver.
//! - [`ports`]: free ports and deadline-bound waits ([`wait_until`]).
//! - [`procs`]: killing and reaping process trees, so nothing outlives a test.
//! - [`balancer`]: nginx with a folder of pool files, and a web app that answers its version.
//! - [`load`]: a steady HTTP request loop through a balancer, recording every failure.
//! - [`tls`]: a throwaway CA and nginx in the foreground (also a test balancer).
//!
//! A typical feature test:
//!
//! ```text
//! #[tokio::test]
//! async fn dispatch_reaches_every_host() {
//!     let server = VrServer::start(ServerOptions {
//!         admin_password: Some("pw-for-tests".into()),
//!         ..Default::default()
//!     })
//!     .await;
//!     let api = server.admin().await;
//!     let key = api.get("/api/settings/ssh-key").await.expect_ok().value();
//!     let hosts = TestHost::start_many(3, HostOptions {
//!         authorized_keys: vec![key["public_key"].as_str().unwrap().into()],
//!         ..Default::default()
//!     });
//!     // register hosts[i].address(), ssh_port(), supervisorctl(), include_dir(), apps_root()
//!     // with the API, dispatch, then check hosts[i].program_states() …
//! }
//! ```
//!
//! Everything blocks except the HTTP and browser helpers, which are async. Blocking calls are
//! fine inside `#[tokio::test]`: the server under test is another process.

pub mod balancer;
pub mod browser;
pub mod fleet;
pub mod git;
pub mod host;
pub mod load;
pub mod netns;
pub mod ports;
pub mod procs;
pub mod sandbox;
pub mod schema;
pub mod server;
pub mod stack;
pub mod tls;

pub use browser::Browser;
pub use host::{ClientKey, HostOptions, TestHost};
pub use netns::NetnsHost;
pub use ports::{
    free_port, proc_port_range, tcp_connects, wait_for, wait_for_async, wait_until,
    wait_until_async,
};
pub use server::{ApiClient, Reply, ServerOptions, VrServer};
