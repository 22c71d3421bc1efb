//! Squads and hosts: what operators configure about the fleet.

use super::{Store, StoreError, unique_conflict};
use rusqlite::{Connection, OptionalExtension, Row, params};
use vr_app::fleet::{Health, Host, HostSettings, HostStatus, NewSquad, Squad, SquadPatch};

const HOST_COLUMNS: &str = "h.id, h.name, h.address, h.port, h.ssh_user, s.name, h.active, \
     h.builder, h.supervisorctl, h.supervisor_socket, h.include_dir, h.apps_root, h.port_min, \
     h.port_max, h.notes, h.host_key, h.host_key_pinned_at, h.created_at, st.health, st.error, \
     st.error_since, st.last_ok_at, st.last_poll_at, st.supervisor_version, st.via, \
     st.presented_key";

const HOST_FROM: &str = "hosts h LEFT JOIN squads s ON s.id = h.squad_id \
     LEFT JOIN host_status st ON st.host_id = h.id";

fn host_from_row(r: &Row<'_>) -> rusqlite::Result<Host> {
    let active: bool = r.get(6)?;
    let health: Option<String> = r.get(18)?;
    let health = if !active {
        Health::Inactive
    } else {
        health
            .as_deref()
            .and_then(Health::parse)
            .unwrap_or(Health::Unknown)
    };
    Ok(Host {
        id: r.get(0)?,
        settings: HostSettings {
            name: r.get(1)?,
            address: r.get(2)?,
            port: r.get(3)?,
            user: r.get(4)?,
            squad: r.get(5)?,
            active,
            builder: r.get(7)?,
            supervisorctl: r.get(8)?,
            supervisor_socket: r.get(9)?,
            include_dir: r.get(10)?,
            apps_root: r.get(11)?,
            port_min: r.get(12)?,
            port_max: r.get(13)?,
            notes: r.get(14)?,
        },
        host_key: r.get(15)?,
        host_key_pinned_at: r.get(16)?,
        created_at: r.get(17)?,
        status: HostStatus {
            health,
            error: r.get(19)?,
            error_since: r.get(20)?,
            last_ok_at: r.get(21)?,
            last_poll_at: r.get(22)?,
            supervisor_version: r.get(23)?,
            via: r.get(24)?,
            presented_key: r.get(25)?,
        },
    })
}

pub(super) fn host_by(
    c: &Connection,
    clause: &str,
    key: &dyn rusqlite::ToSql,
) -> Result<Option<Host>, StoreError> {
    Ok(c.query_row(
        &format!("SELECT {HOST_COLUMNS} FROM {HOST_FROM} WHERE {clause}"),
        [key],
        host_from_row,
    )
    .optional()?)
}

pub(super) fn host_named(c: &Connection, name: &str) -> Result<Host, StoreError> {
    host_by(c, "h.name = ?1", &name)?.ok_or_else(|| StoreError::not_found(format!("host {name}")))
}

pub(super) fn host_with_id(c: &Connection, id: i64) -> Result<Host, StoreError> {
    host_by(c, "h.id = ?1", &id)?.ok_or_else(|| StoreError::not_found(format!("host {id}")))
}

pub(super) fn all_hosts(c: &Connection) -> Result<Vec<Host>, StoreError> {
    let mut stmt = c.prepare_cached(&format!(
        "SELECT {HOST_COLUMNS} FROM {HOST_FROM} ORDER BY h.name"
    ))?;
    let rows = stmt.query_map([], host_from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub(super) fn all_squads(c: &Connection) -> Result<Vec<Squad>, StoreError> {
    let mut stmt = c.prepare_cached(
        "SELECT s.id, s.name, s.description, s.created_at, \
                coalesce((SELECT group_concat(name, char(10)) FROM \
                   (SELECT name FROM hosts WHERE squad_id = s.id ORDER BY name)), '') \
         FROM squads s ORDER BY s.name",
    )?;
    let rows = stmt.query_map([], |r| {
        let hosts: String = r.get(4)?;
        Ok(Squad {
            id: r.get(0)?,
            name: r.get(1)?,
            description: r.get(2)?,
            created_at: r.get(3)?,
            hosts: hosts
                .split('\n')
                .filter(|h| !h.is_empty())
                .map(str::to_string)
                .collect(),
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

fn squad_named(c: &Connection, name: &str) -> Result<Squad, StoreError> {
    all_squads(c)?
        .into_iter()
        .find(|s| s.name == name)
        .ok_or_else(|| StoreError::not_found(format!("squad {name}")))
}

/// The squad's id, or a conflict naming the field when there is no such squad.
fn squad_id(c: &Connection, name: Option<&str>) -> Result<Option<i64>, StoreError> {
    let Some(name) = name else { return Ok(None) };
    c.query_row("SELECT id FROM squads WHERE name = ?1", [name], |r| {
        r.get(0)
    })
    .optional()?
    .map(Some)
    .ok_or_else(|| StoreError::Conflict {
        field: Some("squad"),
        message: format!("there is no squad named {name}; create it first"),
    })
}

/// The settings columns in the order both the insert and the update name them (`?1`…`?14`),
/// then `last` (`?15`: creation time, or the id to update).
fn settings_params<'a>(
    h: &'a HostSettings,
    squad: Option<i64>,
    last: i64,
) -> [Box<dyn rusqlite::ToSql + 'a>; 15] {
    [
        Box::new(&h.name),
        Box::new(&h.address),
        Box::new(h.port),
        Box::new(&h.user),
        Box::new(squad),
        Box::new(h.active),
        Box::new(h.builder),
        Box::new(&h.supervisorctl),
        Box::new(&h.supervisor_socket),
        Box::new(&h.include_dir),
        Box::new(&h.apps_root),
        Box::new(h.port_min),
        Box::new(h.port_max),
        Box::new(&h.notes),
        Box::new(last),
    ]
}

impl Store {
    pub async fn list_squads(&self) -> Result<Vec<Squad>, StoreError> {
        self.call(|c| all_squads(c)).await
    }

    pub async fn squad(&self, name: String) -> Result<Squad, StoreError> {
        self.call(move |c| squad_named(c, &name)).await
    }

    pub async fn create_squad(&self, new: NewSquad, now: i64) -> Result<Squad, StoreError> {
        self.call(move |c| {
            c.execute(
                "INSERT INTO squads (name, description, created_at) VALUES (?1, ?2, ?3)",
                params![new.name, new.description.trim(), now],
            )
            .map_err(|e| {
                unique_conflict(
                    e,
                    "name",
                    format!("a squad named {} already exists", new.name),
                )
            })?;
            squad_named(c, &new.name)
        })
        .await
    }

    pub async fn update_squad(&self, name: String, patch: SquadPatch) -> Result<Squad, StoreError> {
        self.call(move |c| {
            let tx = c.transaction()?;
            let current = squad_named(&tx, &name)?;
            let new_name = patch.name.unwrap_or(current.name);
            let description = patch.description.unwrap_or(current.description);
            tx.execute(
                "UPDATE squads SET name = ?1, description = ?2 WHERE id = ?3",
                params![new_name, description.trim(), current.id],
            )
            .map_err(|e| {
                unique_conflict(
                    e,
                    "name",
                    format!("a squad named {new_name} already exists"),
                )
            })?;
            let squad = squad_named(&tx, &new_name)?;
            tx.commit()?;
            Ok(squad)
        })
        .await
    }

    /// Refuses while hosts are in the squad, naming them.
    pub async fn delete_squad(&self, name: String) -> Result<(), StoreError> {
        self.call(move |c| {
            let tx = c.transaction()?;
            let squad = squad_named(&tx, &name)?;
            if !squad.hosts.is_empty() {
                return Err(StoreError::Conflict {
                    field: None,
                    message: format!(
                        "squad {name} still has {} host(s): {}; move or remove them first",
                        squad.hosts.len(),
                        squad.hosts.join(", ")
                    ),
                });
            }
            tx.execute("DELETE FROM squads WHERE id = ?1", [squad.id])?;
            tx.commit()?;
            Ok(())
        })
        .await
    }

    pub async fn list_hosts(&self) -> Result<Vec<Host>, StoreError> {
        self.call(|c| all_hosts(c)).await
    }

    pub async fn host(&self, name: String) -> Result<Host, StoreError> {
        self.call(move |c| host_named(c, &name)).await
    }

    pub async fn host_by_id(&self, id: i64) -> Result<Host, StoreError> {
        self.call(move |c| host_with_id(c, id)).await
    }

    /// Inserts a host whose settings were validated by the caller.
    pub async fn create_host(&self, h: HostSettings, now: i64) -> Result<Host, StoreError> {
        self.call(move |c| {
            let tx = c.transaction()?;
            let squad = squad_id(&tx, h.squad.as_deref())?;
            tx.execute(
                "INSERT INTO hosts (name, address, port, ssh_user, squad_id, active, builder, \
                   supervisorctl, supervisor_socket, include_dir, apps_root, port_min, port_max, \
                   notes, created_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
                rusqlite::params_from_iter(settings_params(&h, squad, now)),
            )
            .map_err(|e| {
                unique_conflict(e, "name", format!("a host named {} already exists", h.name))
            })?;
            let host = host_named(&tx, &h.name)?;
            tx.commit()?;
            Ok(host)
        })
        .await
    }

    /// Changes a host's settings in one transaction: `edit` gets the current settings and
    /// returns the new ones (checked) and what changed, so parallel edits never lose each
    /// other's fields and the change list describes exactly what this edit did. Nothing is
    /// written when nothing changed. A new address or port keeps the pinned key: the next
    /// contact is checked against it, and a different machine needs an admin's trust.
    pub async fn edit_host<E>(
        &self,
        name: String,
        edit: E,
    ) -> Result<(Host, Vec<String>), StoreError>
    where
        E: FnOnce(&HostSettings) -> Result<(HostSettings, Vec<String>), vr_app::validate::Invalid>
            + Send
            + 'static,
    {
        self.call(move |c| {
            let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let before = host_named(&tx, &name)?;
            let (h, changes) = edit(&before.settings)?;
            if changes.is_empty() {
                return Ok((before, changes));
            }
            let id = before.id;
            let squad = squad_id(&tx, h.squad.as_deref())?;
            tx.execute(
                "UPDATE hosts SET name = ?1, address = ?2, port = ?3, ssh_user = ?4, squad_id = ?5, \
                   active = ?6, builder = ?7, supervisorctl = ?8, supervisor_socket = ?9, \
                   include_dir = ?10, apps_root = ?11, port_min = ?12, port_max = ?13, notes = ?14 \
                 WHERE id = ?15",
                rusqlite::params_from_iter(settings_params(&h, squad, id)),
            )
            .map_err(|e| unique_conflict(e, "name", format!("a host named {} already exists", h.name)))?;
            if before.settings.address != h.address || before.settings.port != h.port {
                // What was seen at the old address says nothing about the new one.
                tx.execute("DELETE FROM host_status WHERE host_id = ?1", [id])?;
            }
            let host = host_with_id(&tx, id)?;
            tx.commit()?;
            Ok((host, changes))
        })
        .await
    }

    pub async fn delete_host(&self, id: i64) -> Result<(), StoreError> {
        self.call(move |c| {
            let n = c.execute("DELETE FROM hosts WHERE id = ?1", [id])?;
            if n == 0 {
                return Err(StoreError::not_found(format!("host {id}")));
            }
            Ok(())
        })
        .await
    }

    /// Pins `fingerprint` if the pinned key is still `expected` (compare-and-set, so two first
    /// contacts or an admin and the poller cannot overwrite each other). True when it pinned.
    pub async fn pin_host_key(
        &self,
        id: i64,
        expected: Option<String>,
        fingerprint: String,
        now: i64,
    ) -> Result<bool, StoreError> {
        self.call(move |c| {
            let n = c.execute(
                "UPDATE hosts SET host_key = ?1, host_key_pinned_at = ?2 \
                 WHERE id = ?3 AND host_key IS ?4",
                params![fingerprint, now, id, expected],
            )?;
            if n == 1 {
                c.execute(
                    "UPDATE host_status SET presented_key = NULL, health = 'unknown', error = NULL \
                     WHERE host_id = ?1 AND health = 'key_changed'",
                    [id],
                )?;
            }
            Ok(n == 1)
        })
        .await
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use crate::store::StoreError;
    use crate::store::test_support::store;
    use vr_app::fleet::{Health, HostSettings, NewSquad, SquadPatch};

    pub(crate) fn settings(name: &str, squad: Option<&str>) -> HostSettings {
        let mut s = vr_app::fixtures::host_settings(name, squad);
        s.address = "127.0.0.1".into();
        s
    }

    fn squad(name: &str) -> NewSquad {
        NewSquad {
            name: name.into(),
            description: " web tier ".into(),
        }
    }

    #[tokio::test]
    async fn squads_crud_and_delete_guard() {
        let s = store();
        let web = s.create_squad(squad("web"), 1).await.expect("create");
        assert_eq!(web.description, "web tier");
        assert!(matches!(
            s.create_squad(squad("web"), 2).await,
            Err(StoreError::Conflict {
                field: Some("name"),
                ..
            })
        ));
        s.create_host(settings("h1", Some("web")), 3)
            .await
            .expect("host");
        s.create_host(settings("h2", Some("web")), 3)
            .await
            .expect("host");
        let err = s
            .delete_squad("web".into())
            .await
            .expect_err("hosts in the way");
        assert!(err.to_string().contains("h1, h2"), "{err}");
        let renamed = s
            .update_squad(
                "web".into(),
                SquadPatch {
                    name: Some("front".into()),
                    description: None,
                },
            )
            .await
            .expect("rename");
        assert_eq!(renamed.hosts, ["h1", "h2"]);
        assert_eq!(
            s.host("h1".into())
                .await
                .expect("h1")
                .settings
                .squad
                .as_deref(),
            Some("front")
        );
        for h in ["h1", "h2"] {
            let host = s.host(h.into()).await.expect("host");
            s.delete_host(host.id).await.expect("delete");
        }
        s.delete_squad("front".into()).await.expect("now empty");
        assert!(s.list_squads().await.expect("list").is_empty());
    }

    #[tokio::test]
    async fn hosts_need_a_real_squad_and_unique_names() {
        let s = store();
        let err = s
            .create_host(settings("h1", Some("nope")), 1)
            .await
            .expect_err("no squad");
        assert!(
            matches!(
                err,
                StoreError::Conflict {
                    field: Some("squad"),
                    ..
                }
            ),
            "{err}"
        );
        let h = s
            .create_host(settings("h1", None), 1)
            .await
            .expect("create");
        assert_eq!(h.status.health, Health::Unknown);
        assert!(matches!(
            s.create_host(settings("h1", None), 1).await,
            Err(StoreError::Conflict {
                field: Some("name"),
                ..
            })
        ));
        let (h, changes) = s
            .edit_host("h1".into(), |cur| {
                let mut next = cur.clone();
                next.active = false;
                Ok((next, vec!["active".into()]))
            })
            .await
            .expect("update");
        assert_eq!(changes, ["active"]);
        assert_eq!(h.status.health, Health::Inactive);
        // An edit's own check refuses it, inside the transaction: nothing changes.
        let err = s
            .edit_host("h1".into(), |_| {
                Err(vr_app::validate::Invalid::new("port", "nope"))
            })
            .await
            .expect_err("refused");
        assert!(matches!(err, StoreError::Invalid(_)), "{err}");
    }

    #[tokio::test]
    async fn host_key_pinning_is_compare_and_set_and_address_change_keeps_the_pin() {
        let s = store();
        let h = s
            .create_host(settings("h1", None), 1)
            .await
            .expect("create");
        assert!(
            s.pin_host_key(h.id, None, "SHA256:a".into(), 2)
                .await
                .expect("pin")
        );
        assert!(
            !s.pin_host_key(h.id, None, "SHA256:b".into(), 3)
                .await
                .expect("stale")
        );
        let pinned = s.host("h1".into()).await.expect("host");
        assert_eq!(pinned.host_key.as_deref(), Some("SHA256:a"));
        let (moved, _) = s
            .edit_host("h1".into(), |cur| {
                let mut next = cur.clone();
                next.port = 2222;
                Ok((next, vec!["port".into()]))
            })
            .await
            .expect("move");
        assert_eq!(moved.host_key.as_deref(), Some("SHA256:a"));
    }

    #[tokio::test]
    async fn parallel_edits_of_one_host_keep_every_field() {
        let s = store();
        s.create_host(settings("h1", None), 1)
            .await
            .expect("create");
        let mut tasks = Vec::new();
        for i in 0..20u16 {
            let s = s.clone();
            tasks.push(tokio::spawn(async move {
                s.edit_host("h1".into(), move |cur| {
                    let mut next = cur.clone();
                    if i % 2 == 0 {
                        next.notes = format!("{}{i},", cur.notes);
                    } else {
                        next.port = cur.port + 1;
                    }
                    Ok((next, vec![format!("edit {i}")]))
                })
                .await
            }));
        }
        for t in tasks {
            t.await.expect("join").expect("edit");
        }
        let h = s.host("h1".into()).await.expect("host");
        assert_eq!(h.settings.port, 22 + 10, "every port edit counted");
        assert_eq!(
            h.settings.notes.matches(',').count(),
            10,
            "{}",
            h.settings.notes
        );
    }
}
