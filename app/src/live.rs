//! How a view keeps data current from the live channel: it fetches, then merges each live
//! message into what it holds. Messages that arrive while a fetch is under way are kept and
//! replayed on its answer ([`Replay`]), so an answer read a moment earlier cannot undo them; an
//! answer overtaken by a later fetch is dropped. Pure, so every live list, record and the fleet
//! snapshot share one tested mechanism, and the merges themselves are tested here.

use crate::api::{Event, EventQuery, LiveMessage};
use crate::fleet::Fleet;

/// What a live message did to a view's data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Merge {
    /// Not about this view.
    Ignored,
    /// Merged in.
    Applied,
    /// About this view, but it cannot be merged: fetch again.
    Refetch,
}

/// The fetch-and-replay bookkeeping of one live view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replay<M> {
    generation: u64,
    /// Messages merged while the current fetch is in flight; `None` when none is.
    pending: Option<Vec<M>>,
}

impl<M> Default for Replay<M> {
    fn default() -> Self {
        Replay {
            generation: 0,
            pending: None,
        }
    }
}

impl<M> Replay<M> {
    /// A fetch starts; its answer is to be handed to [`Replay::finish`] with this number.
    pub fn begin(&mut self) -> u64 {
        self.generation += 1;
        self.pending = Some(Vec::new());
        self.generation
    }

    /// A message was merged into the current data; kept for replay while a fetch is in flight.
    pub fn merged(&mut self, message: M) {
        if let Some(pending) = &mut self.pending {
            pending.push(message);
        }
    }

    pub fn fetching(&self) -> bool {
        self.pending.is_some()
    }

    /// Fetch `generation` answered: the messages to replay on its answer, in order, or `None`
    /// when a later fetch began since (its answer is the one to keep).
    pub fn finish(&mut self, generation: u64) -> Option<Vec<M>> {
        if generation != self.generation {
            return None;
        }
        Some(self.pending.take().unwrap_or_default())
    }
}

/// Inserts `item` into `list` (newest first by `id`, at most `limit`) or replaces the entry
/// with its id. Ids grow with creation, so they order entries as the server does.
pub fn upsert_newest<T: Clone>(
    list: &mut Vec<T>,
    item: &T,
    id: fn(&T) -> i64,
    limit: usize,
) -> Merge {
    let key = id(item);
    match list.iter_mut().find(|x| id(x) == key) {
        Some(slot) => *slot = item.clone(),
        None => {
            let at = list.iter().position(|x| id(x) < key).unwrap_or(list.len());
            list.insert(at, item.clone());
            list.truncate(limit);
        }
    }
    Merge::Applied
}

/// Replaces the one record a page shows with `item` when it is that record (same `id`).
pub fn replace_record<T: Clone>(
    slot: &mut Option<T>,
    item: &T,
    id: fn(&T) -> i64,
    want: i64,
) -> Merge {
    if id(item) != want {
        return Merge::Ignored;
    }
    *slot = Some(item.clone());
    Merge::Applied
}

/// Merges a host-level message into the fleet snapshot: `Host` replaces one host and all its
/// procs, `HostRemoved` drops one; `Fleet` (squads or settings changed) asks for a refetch.
pub fn merge_fleet(fleet: &mut Fleet, message: &LiveMessage) -> Merge {
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
        LiveMessage::Fleet => return Merge::Refetch,
        _ => return Merge::Ignored,
    }
    sync_squad_members(fleet);
    Merge::Applied
}

/// Recomputes each squad's host list from the hosts' own squad settings.
pub fn sync_squad_members(f: &mut Fleet) {
    for squad in f.squads.iter_mut() {
        squad.hosts = f
            .hosts
            .iter()
            .filter(|h| h.settings.squad.as_deref() == Some(squad.name.as_str()))
            .map(|h| h.settings.name.clone())
            .collect();
        crate::order::sort(&mut squad.hosts);
    }
}

/// Adds `incoming` to `list` without duplicates, keeping newest (highest id) first.
pub fn merge_events(list: &mut Vec<Event>, incoming: Vec<Event>) {
    for event in incoming {
        if !list.iter().any(|e| e.id == event.id) {
            list.push(event);
        }
    }
    crate::order::sort_by_key(list, |e| std::cmp::Reverse(e.id));
}

/// Whether a live event belongs in a list filtered by `q` (mirrors the server's filters:
/// exact actor, action prefix, free text in object or detail).
pub fn event_matches(q: &EventQuery, event: &Event) -> bool {
    let actor_ok = q
        .actor
        .as_deref()
        .is_none_or(|a| a.is_empty() || event.actor == a);
    let action_ok = q
        .action
        .as_deref()
        .is_none_or(|a| event.action.starts_with(a));
    let text_ok = q.q.as_deref().is_none_or(|t| {
        let t = t.to_lowercase();
        event.object.to_lowercase().contains(&t) || event.detail.to_lowercase().contains(&t)
    });
    actor_ok && action_ok && text_ok
}

/// Merges a live `Event` into a list of at most `limit` newest events filtered by `q`.
pub fn merge_event(
    list: &mut Vec<Event>,
    message: &LiveMessage,
    q: &EventQuery,
    limit: usize,
) -> Merge {
    match message {
        LiveMessage::Event { event } if event_matches(q, event) => {
            merge_events(list, vec![event.clone()]);
            list.truncate(limit);
            Merge::Applied
        }
        _ => Merge::Ignored,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures;
    use crate::fleet::{Health, Squad};
    use crate::supervisor::ProcState;

    #[test]
    fn a_message_merged_during_a_fetch_is_replayed_on_its_answer() {
        let mut r = Replay::<&str>::default();
        r.merged("before"); // no fetch in flight: nothing kept
        let first = r.begin();
        assert!(r.fetching());
        r.merged("during");
        assert_eq!(r.finish(first), Some(vec!["during"]));
        assert!(!r.fetching());
        // An answer overtaken by a later fetch is dropped; the later one gets the messages.
        let old = r.begin();
        r.merged("a");
        let new = r.begin();
        r.merged("b");
        assert_eq!(r.finish(old), None);
        assert_eq!(r.finish(new), Some(vec!["b"]));
    }

    #[test]
    fn newest_first_lists_insert_in_id_order_replace_by_id_and_keep_the_limit() {
        let id = |x: &(i64, &str)| x.0;
        let mut list = vec![(5, "e"), (3, "c"), (1, "a")];
        upsert_newest(&mut list, &(4, "d"), id, 10);
        upsert_newest(&mut list, &(3, "C"), id, 10);
        upsert_newest(&mut list, &(6, "f"), id, 10);
        assert_eq!(list, vec![(6, "f"), (5, "e"), (4, "d"), (3, "C"), (1, "a")]);
        upsert_newest(&mut list, &(7, "g"), id, 3);
        assert_eq!(list, vec![(7, "g"), (6, "f"), (5, "e")]);
        // Older than everything kept: it falls off the end again.
        upsert_newest(&mut list, &(2, "b"), id, 3);
        assert_eq!(list, vec![(7, "g"), (6, "f"), (5, "e")]);
    }

    #[test]
    fn a_record_is_replaced_only_by_itself() {
        let id = |x: &(i64, &str)| x.0;
        let mut slot = None;
        assert_eq!(
            replace_record(&mut slot, &(2, "other"), id, 1),
            Merge::Ignored
        );
        assert_eq!(slot, None);
        assert_eq!(
            replace_record(&mut slot, &(1, "new"), id, 1),
            Merge::Applied
        );
        assert_eq!(slot, Some((1, "new")));
    }

    #[test]
    fn host_messages_replace_a_host_and_its_procs_and_keep_squads_true() {
        let mut web1 = fixtures::host("web1", Some("web"));
        web1.id = 1;
        let mut fleet = Fleet {
            hosts: vec![web1.clone()],
            procs: vec![fixtures::proc("web1", "old", None, ProcState::Running)],
            squads: vec![Squad {
                id: 1,
                name: "web".into(),
                description: String::new(),
                hosts: vec!["web1".into()],
                created_at: 0,
            }],
        };
        let mut moved = web1.clone();
        moved.settings.squad = None;
        moved.status.health = Health::Unreachable;
        let message = LiveMessage::Host {
            host: Box::new(moved),
            procs: vec![fixtures::proc("web1", "new", None, ProcState::Stopped)],
        };
        assert_eq!(merge_fleet(&mut fleet, &message), Merge::Applied);
        assert_eq!(fleet.hosts[0].status.health, Health::Unreachable);
        let names: Vec<&str> = fleet.procs.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["new"]);
        assert!(fleet.squads[0].hosts.is_empty());
        let gone = LiveMessage::HostRemoved {
            name: "web1".into(),
        };
        assert_eq!(merge_fleet(&mut fleet, &gone), Merge::Applied);
        assert!(fleet.hosts.is_empty() && fleet.procs.is_empty());
        assert_eq!(merge_fleet(&mut fleet, &LiveMessage::Fleet), Merge::Refetch);
        assert_eq!(merge_fleet(&mut fleet, &LiveMessage::Apps), Merge::Ignored);
    }

    #[test]
    fn live_events_join_a_filtered_list_only_when_they_match() {
        let event = |id: i64, actor: &str, action: &str, object: &str| Event {
            id,
            at: 0,
            actor: actor.into(),
            action: action.into(),
            object: object.into(),
            outcome: crate::api::Outcome::Ok,
            detail: String::new(),
        };
        let q = EventQuery {
            actor: Some("ann".into()),
            action: Some("proc.".into()),
            ..Default::default()
        };
        let mut list = vec![event(1, "ann", "proc.stop", "proc:h/a")];
        let hit = LiveMessage::Event {
            event: event(3, "ann", "proc.start", "proc:h/a"),
        };
        let other_actor = LiveMessage::Event {
            event: event(4, "bob", "proc.start", "proc:h/a"),
        };
        let other_action = LiveMessage::Event {
            event: event(5, "ann", "host.add", "host:h"),
        };
        assert_eq!(merge_event(&mut list, &hit, &q, 10), Merge::Applied);
        assert_eq!(merge_event(&mut list, &hit, &q, 10), Merge::Applied); // no duplicate
        assert_eq!(merge_event(&mut list, &other_actor, &q, 10), Merge::Ignored);
        assert_eq!(
            merge_event(&mut list, &other_action, &q, 10),
            Merge::Ignored
        );
        assert_eq!(list.iter().map(|e| e.id).collect::<Vec<_>>(), [3, 1]);
        let text = EventQuery {
            q: Some("H/A".into()),
            ..Default::default()
        };
        assert!(event_matches(&text, &event(9, "x", "y", "proc:h/a")));
    }
}
