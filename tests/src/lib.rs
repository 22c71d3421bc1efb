//! Support code for `vr`'s integration tests: simulated hosts (sshd + supervisord) on loopback or
//! in network namespaces, the `vr` server as a child process with an API client, and a headless
//! browser. The tests themselves live in `suites/`.

pub mod harness;
