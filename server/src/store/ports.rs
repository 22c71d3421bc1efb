//! Port reservations: the ports jobs in flight have been promised, per host.

use super::{Store, StoreError};
use rusqlite::{Connection, OptionalExtension, params};

/// Who holds a reservation: a job kind and its id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PortOwner {
    Deploy(i64),
    Dispatch(i64),
}

impl PortOwner {
    fn key(&self) -> String {
        match self {
            PortOwner::Deploy(id) => format!("deploy:{id}"),
            PortOwner::Dispatch(id) => format!("dispatch:{id}"),
        }
    }

    /// What holds it, for a person: "deploy #12".
    fn describe(key: &str) -> String {
        match key.split_once(':') {
            Some((kind, id)) => format!("{kind} #{id}"),
            None => key.to_string(),
        }
    }
}

/// Reserves `port` on `host` for `owner` inside the caller's transaction; a port another job
/// holds is a conflict naming it.
pub(super) fn reserve(
    c: &Connection,
    host: &str,
    port: u16,
    owner: &PortOwner,
    now: i64,
) -> Result<(), StoreError> {
    let holder: Option<String> = c
        .query_row(
            "SELECT owner FROM port_reservations WHERE host = ?1 AND port = ?2",
            params![host, port],
            |r| r.get(0),
        )
        .optional()?;
    if let Some(holder) = holder {
        return Err(StoreError::Conflict {
            field: Some("port"),
            message: format!(
                "port {port} on {host} is reserved by {} in flight",
                PortOwner::describe(&holder)
            ),
        });
    }
    c.execute(
        "INSERT INTO port_reservations (host, port, owner, since) VALUES (?1, ?2, ?3, ?4)",
        params![host, port, owner.key(), now],
    )?;
    Ok(())
}

impl Store {
    /// Ends every reservation `owner` holds (its job ended).
    pub async fn release_ports(&self, owner: PortOwner) -> Result<usize, StoreError> {
        self.call(move |c| {
            Ok(c.execute(
                "DELETE FROM port_reservations WHERE owner = ?1",
                [owner.key()],
            )?)
        })
        .await
    }

    /// Reserves every `(host, port)` for `owner` in one transaction: all or none (a port
    /// another job holds is a conflict naming it).
    pub async fn reserve_ports(
        &self,
        owner: PortOwner,
        ports: Vec<(String, u16)>,
        now: i64,
    ) -> Result<(), StoreError> {
        self.call(move |c| {
            let tx = c.transaction()?;
            for (host, port) in ports.iter().filter(|(_, p)| *p != 0) {
                reserve(&tx, host, *port, &owner, now)?;
            }
            tx.commit()?;
            Ok(())
        })
        .await
    }

    /// Every reserved port, by host: what the planner must not hand out.
    pub async fn reserved_ports(&self) -> Result<Vec<(String, u16)>, StoreError> {
        self.call(|c| {
            let mut stmt = c.prepare_cached("SELECT host, port FROM port_reservations")?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .await
    }

    /// Ends every reservation: at start-up no job is in flight yet, so any left are from jobs a
    /// stopped server left behind.
    pub async fn release_all_ports(&self) -> Result<usize, StoreError> {
        self.call(|c| Ok(c.execute("DELETE FROM port_reservations", [])?))
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn holders(s: &Store) -> Vec<(String, u16, String)> {
        s.call(|c| {
            let mut stmt =
                c.prepare("SELECT host, port, owner FROM port_reservations ORDER BY host, port")?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .await
        .expect("read")
    }

    async fn reserve_one(s: &Store, host: &str, port: u16, id: i64) -> Result<(), StoreError> {
        let host = host.to_string();
        s.call(move |c| reserve(c, &host, port, &PortOwner::Deploy(id), 1))
            .await
    }

    #[tokio::test]
    async fn a_port_has_one_holder_per_host_until_released() {
        let s = Store::open_in_memory().expect("store");
        reserve_one(&s, "web1", 5000, 1).await.expect("first");
        reserve_one(&s, "web2", 5000, 2).await.expect("other host");
        reserve_one(&s, "web1", 5001, 1).await.expect("other port");
        match reserve_one(&s, "web1", 5000, 3).await {
            Err(StoreError::Conflict { field, message }) => {
                assert_eq!(field, Some("port"));
                assert_eq!(
                    message,
                    "port 5000 on web1 is reserved by deploy #1 in flight"
                );
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            s.release_ports(PortOwner::Deploy(1))
                .await
                .expect("release"),
            2
        );
        reserve_one(&s, "web1", 5000, 3).await.expect("free again");
        assert_eq!(
            holders(&s).await,
            vec![
                ("web1".to_string(), 5000, "deploy:3".to_string()),
                ("web2".to_string(), 5000, "deploy:2".to_string()),
            ]
        );
        assert_eq!(s.release_all_ports().await.expect("all"), 2);
        assert!(holders(&s).await.is_empty());
    }
}
