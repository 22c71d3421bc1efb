//! The one shared fleet snapshot of the signed-in app: fetched once from `GET /api/fleet`,
//! then kept current by the live channel, so every fleet page updates without a reload.
//!
//! `Host` messages replace one host and all its procs; `HostRemoved` drops a host; `Fleet`
//! (squads or settings changed) and every reconnection of the live channel refetch the whole
//! snapshot. Host messages that arrive while a refetch is under way are replayed on top of its
//! answer, so a snapshot taken a moment earlier cannot undo them.

use leptos::prelude::*;
use leptos::task::spawn_local;
use vr_app::api::LiveMessage;
use vr_app::fleet::{Fleet, Host, Proc, Squad};

use crate::api;
use crate::live::Live;

/// Handle on the fleet snapshot; cheap to copy.
#[derive(Debug, Clone, Copy)]
pub struct FleetStore {
    fleet: RwSignal<Fleet>,
    loaded: RwSignal<bool>,
    error: RwSignal<Option<String>>,
    /// Bumped per refetch: an older answer arriving late is dropped.
    generation: StoredValue<u64>,
    /// Live updates seen while a refetch is in flight, replayed on its answer.
    pending: StoredValue<Option<Vec<LiveMessage>>>,
}

fn empty() -> Fleet {
    Fleet {
        hosts: Vec::new(),
        procs: Vec::new(),
        squads: Vec::new(),
    }
}

/// Applies one host-level live message to a snapshot.
fn apply(fleet: &mut Fleet, message: &LiveMessage) {
    match message {
        LiveMessage::Host { host, procs } => {
            let name = &host.settings.name;
            match fleet.hosts.iter_mut().find(|h| h.id == host.id) {
                Some(slot) => *slot = (**host).clone(),
                None => fleet.hosts.push((**host).clone()),
            }
            fleet.procs.retain(|p| &p.host != name);
            fleet.procs.extend(procs.iter().cloned());
        }
        LiveMessage::HostRemoved { name } => {
            fleet.hosts.retain(|h| &h.settings.name != name);
            fleet.procs.retain(|p| &p.host != name);
        }
        _ => return,
    }
    sync_squad_members(fleet);
}

impl FleetStore {
    /// Creates the store for the signed-in frame, provides it as context, loads the snapshot and
    /// follows `live`.
    pub fn start(live: Live) -> FleetStore {
        let store = FleetStore {
            fleet: RwSignal::new(empty()),
            loaded: RwSignal::new(false),
            error: RwSignal::new(None),
            generation: StoredValue::new(0),
            pending: StoredValue::new(None),
        };
        provide_context(store);
        store.reload();
        live.subscribe(move |message| match message {
            LiveMessage::Fleet => store.reload(),
            LiveMessage::Host { .. } | LiveMessage::HostRemoved { .. } => {
                store.pending.update_value(|p| {
                    if let Some(list) = p {
                        list.push(message.clone());
                    }
                });
                store.fleet.update(|f| apply(f, message));
            }
            _ => {}
        });
        // Messages may have been missed while the channel was down.
        Effect::watch(move || live.opens(), move |_, _, _| store.reload(), false);
        store
    }

    /// Refetches the whole snapshot.
    pub fn reload(&self) {
        let store = *self;
        self.generation.update_value(|g| *g += 1);
        let asked_in = self.generation.get_value();
        self.pending.set_value(Some(Vec::new()));
        spawn_local(async move {
            let result = api::fleet::fleet().await;
            if store.generation.try_get_value() != Some(asked_in) {
                return;
            }
            let replay = store.pending.try_update_value(Option::take).flatten();
            match result {
                Ok(mut fleet) => {
                    for message in replay.iter().flatten() {
                        apply(&mut fleet, message);
                    }
                    let _ = store.fleet.try_set(fleet);
                    let _ = store.loaded.try_set(true);
                    let _ = store.error.try_set(None);
                }
                Err(e) => {
                    let _ = store.error.try_set(Some(e.message));
                }
            }
        });
    }

    /// True once the first snapshot arrived (tracked).
    pub fn loaded(&self) -> bool {
        self.loaded.get()
    }

    /// Why the last refetch failed, if it did (tracked).
    pub fn error(&self) -> Option<String> {
        self.error.get()
    }

    /// Reads the snapshot (tracked).
    pub fn with<R>(&self, f: impl FnOnce(&Fleet) -> R) -> R {
        self.fleet.with(f)
    }

    /// Reads the snapshot without tracking (for event handlers).
    pub fn with_untracked<R>(&self, f: impl FnOnce(&Fleet) -> R) -> R {
        self.fleet.with_untracked(f)
    }

    /// The host named `name` (tracked).
    pub fn host(&self, name: &str) -> Option<Host> {
        self.fleet
            .with(|f| f.hosts.iter().find(|h| h.settings.name == name).cloned())
    }

    /// The proc `name` on `host` (tracked).
    pub fn proc(&self, host: &str, name: &str) -> Option<Proc> {
        self.fleet.with(|f| {
            f.procs
                .iter()
                .find(|p| p.host == host && p.name == name)
                .cloned()
        })
    }

    /// The squad named `name` (tracked).
    pub fn squad(&self, name: &str) -> Option<Squad> {
        self.fleet
            .with(|f| f.squads.iter().find(|s| s.name == name).cloned())
    }

    /// Squad names, sorted (tracked).
    pub fn squad_names(&self) -> Vec<String> {
        self.fleet.with(|f| {
            let mut names: Vec<String> = f.squads.iter().map(|s| s.name.clone()).collect();
            names.sort();
            names
        })
    }

    /// Records a host the server just answered with (after a create or change), under its id:
    /// a rename also moves its procs to the new name.
    pub fn put_host(&self, host: Host) {
        self.fleet.update(|f| {
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
        self.fleet.update(|f| apply(f, &message));
    }

    /// Records a squad the server just answered with; `old_name` is its name before a rename.
    pub fn put_squad(&self, squad: Squad, old_name: Option<&str>) {
        self.fleet.update(|f| {
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
        self.fleet.update(|f| f.squads.retain(|s| s.name != name));
    }
}

/// Recomputes each squad's host list from the hosts' own squad settings.
fn sync_squad_members(f: &mut Fleet) {
    for squad in f.squads.iter_mut() {
        squad.hosts = f
            .hosts
            .iter()
            .filter(|h| h.settings.squad.as_deref() == Some(squad.name.as_str()))
            .map(|h| h.settings.name.clone())
            .collect();
        squad.hosts.sort();
    }
}

/// The fleet store of the signed-in frame.
pub fn use_fleet() -> FleetStore {
    expect_context::<FleetStore>()
}
