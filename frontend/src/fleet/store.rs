//! The one shared fleet snapshot of the signed-in app: fetched once from `GET /api/fleet`,
//! then kept current by the live channel, so every fleet page updates without a reload.
//!
//! `Host` messages replace one host and all its procs; `HostRemoved` drops a host; `Fleet`
//! (squads or settings changed) and every reconnection of the live channel refetch the whole
//! snapshot. Host messages that arrive while a refetch is under way are replayed on top of its
//! answer, so a snapshot taken a moment earlier cannot undo them.

use crate::components::CollectVec;
use leptos::prelude::*;
use vr_app::api::LiveMessage;
use vr_app::fleet::{Fleet, Host, Proc, Squad};
use vr_app::live::{merge_fleet, sync_squad_members};

use crate::api;
use crate::live::LiveData;

/// Handle on the fleet snapshot; cheap to copy.
#[derive(Clone, Copy)]
pub struct FleetStore {
    data: LiveData<Fleet>,
}

fn empty() -> Fleet {
    Fleet {
        hosts: Vec::new(),
        procs: Vec::new(),
        squads: Vec::new(),
    }
}

impl FleetStore {
    /// Creates the store for the signed-in frame (after the live channel), provides it as
    /// context, and loads and follows the snapshot.
    pub fn start() -> FleetStore {
        let store = FleetStore {
            data: LiveData::follow(empty(), api::fleet::fleet, merge_fleet),
        };
        provide_context(store);
        store
    }

    /// True once the first snapshot arrived (tracked).
    pub fn loaded(&self) -> bool {
        self.data.loaded()
    }

    /// Why the last refetch failed, if it did (tracked).
    pub fn error(&self) -> Option<String> {
        self.data.error_text()
    }

    /// Reads the snapshot (tracked).
    pub fn with<R>(&self, f: impl FnOnce(&Fleet) -> R) -> R {
        self.data.with(f)
    }

    /// Reads the snapshot without tracking (for event handlers).
    pub fn with_untracked<R>(&self, f: impl FnOnce(&Fleet) -> R) -> R {
        self.data.with_untracked(f)
    }

    /// The host named `name` (tracked).
    pub fn host(&self, name: &str) -> Option<Host> {
        self.data
            .with(|f| f.hosts.iter().find(|h| h.settings.name == name).cloned())
    }

    /// The proc `name` on `host` (tracked).
    pub fn proc(&self, host: &str, name: &str) -> Option<Proc> {
        self.data.with(|f| {
            f.procs
                .iter()
                .find(|p| p.host == host && p.name == name)
                .cloned()
        })
    }

    /// The squad named `name` (tracked).
    pub fn squad(&self, name: &str) -> Option<Squad> {
        self.data
            .with(|f| f.squads.iter().find(|s| s.name == name).cloned())
    }

    /// Squad names, sorted (tracked).
    pub fn squad_names(&self) -> Vec<String> {
        self.data.with(|f| {
            let mut names: Vec<String> = f.squads.iter().map(|s| s.name.clone()).collect_vec();
            vr_app::order::sort(&mut names);
            names
        })
    }

    /// Records a host the server just answered with (after a create or change), under its id:
    /// a rename also moves its procs to the new name.
    pub fn put_host(&self, host: Host) {
        self.data.update(|f| {
            let new_name = host.settings.name.clone();
            match f.hosts.iter_mut().find(|h| h.id == host.id) {
                Some(slot) => {
                    let old_name = std::mem::replace(slot, host).settings.name;
                    if old_name != new_name {
                        for p in f.procs.iter_mut().filter(|p| p.host == old_name) {
                            p.host = new_name.clone();
                        }
                    }
                }
                None => f.hosts.push(host),
            }
            sync_squad_members(f);
        });
    }

    /// Forgets a host the server just deleted.
    pub fn remove_host(&self, name: &str) {
        let message = LiveMessage::HostRemoved {
            name: name.to_string(),
        };
        self.data.update(|f| {
            merge_fleet(f, &message);
        });
    }

    /// Records a squad the server just answered with; `old_name` is its name before a rename.
    pub fn put_squad(&self, squad: Squad, old_name: Option<&str>) {
        self.data.update(|f| {
            let key = old_name.unwrap_or(&squad.name).to_string();
            if key != squad.name {
                for h in f.hosts.iter_mut() {
                    if h.settings.squad.as_deref() == Some(key.as_str()) {
                        h.settings.squad = Some(squad.name.clone());
                    }
                }
            }
            match f.squads.iter_mut().find(|s| s.id == squad.id) {
                Some(slot) => *slot = squad,
                None => f.squads.push(squad),
            }
        });
    }

    /// Forgets a squad the server just deleted.
    pub fn remove_squad(&self, name: &str) {
        self.data.update(|f| f.squads.retain(|s| s.name != name));
    }
}

/// The fleet store of the signed-in frame.
pub fn use_fleet() -> FleetStore {
    expect_context::<FleetStore>()
}
