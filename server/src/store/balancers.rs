//! Balancers and the pools vr renders for them.

use super::swarms::{json_column, to_json};
use super::{Store, StoreError, unique_conflict};
use rusqlite::{Connection, OptionalExtension, params};
use vr_app::balancer::{Balancer, BalancerSpec, Node, PoolHost, PoolView};

fn pools_of(c: &Connection, balancer_id: i64, name: &str) -> Result<Vec<PoolView>, StoreError> {
    let mut stmt =
        c.prepare("SELECT pool, nodes, wanted FROM pools WHERE balancer_id = ?1 ORDER BY pool")?;
    let mut pools: Vec<PoolView> = stmt
        .query_map([balancer_id], |r| {
            Ok(PoolView {
                balancer: name.to_string(),
                pool: r.get(0)?,
                swarm: None,
                nodes: json_column::<Vec<Node>>(r, 1)?,
                wanted: r.get(2)?,
                hosts: Vec::new(),
            })
        })?
        .collect::<Result<_, _>>()?;
    let mut stmt = c.prepare(
        "SELECT host, applied, ok, message, at FROM pool_hosts \
         WHERE balancer_id = ?1 AND pool = ?2 ORDER BY host",
    )?;
    for p in &mut pools {
        p.hosts = stmt
            .query_map(params![balancer_id, p.pool], |r| {
                Ok(PoolHost {
                    host: r.get(0)?,
                    applied: r.get(1)?,
                    ok: r.get(2)?,
                    message: r.get(3)?,
                    at: r.get(4)?,
                })
            })?
            .collect::<Result<_, _>>()?;
    }
    Ok(pools)
}

fn balancer_row(c: &Connection, id: i64) -> Result<Balancer, StoreError> {
    let (name, spec, created_by, created_at): (String, BalancerSpec, String, i64) = c
        .query_row(
            "SELECT name, spec, created_by, created_at FROM balancers WHERE id = ?1",
            [id],
            |r| Ok((r.get(0)?, json_column(r, 1)?, r.get(2)?, r.get(3)?)),
        )
        .optional()?
        .ok_or_else(|| StoreError::not_found(format!("balancer {id}")))?;
    let pools = pools_of(c, id, &name)?;
    Ok(Balancer {
        id,
        spec: BalancerSpec { name, ..spec },
        pools,
        created_by,
        created_at,
    })
}

fn id_named(c: &Connection, name: &str) -> Result<i64, StoreError> {
    c.query_row("SELECT id FROM balancers WHERE name = ?1", [name], |r| {
        r.get(0)
    })
    .optional()?
    .ok_or_else(|| StoreError::not_found(format!("balancer {name}")))
}

impl Store {
    pub async fn list_balancers(&self) -> Result<Vec<Balancer>, StoreError> {
        self.call(|c| {
            let ids: Vec<i64> = c
                .prepare("SELECT id FROM balancers ORDER BY name")?
                .query_map([], |r| r.get(0))?
                .collect::<Result<_, _>>()?;
            ids.into_iter().map(|id| balancer_row(c, id)).collect()
        })
        .await
    }

    pub async fn balancer(&self, name: String) -> Result<Balancer, StoreError> {
        self.call(move |c| balancer_row(c, id_named(c, &name)?))
            .await
    }

    pub async fn create_balancer(
        &self,
        spec: BalancerSpec,
        by: String,
        now: i64,
    ) -> Result<Balancer, StoreError> {
        self.call(move |c| {
            let json = to_json(&spec)?;
            c.execute(
                "INSERT INTO balancers (name, spec, created_by, created_at, updated_at) \
                 VALUES (?1, ?2, ?3, ?4, ?4)",
                params![spec.name, json, by, now],
            )
            .map_err(|e| {
                unique_conflict(
                    e,
                    "name",
                    format!("a balancer named {} already exists", spec.name),
                )
            })?;
            balancer_row(c, c.last_insert_rowid())
        })
        .await
    }

    pub async fn update_balancer(
        &self,
        name: String,
        spec: BalancerSpec,
        now: i64,
    ) -> Result<Balancer, StoreError> {
        self.call(move |c| {
            let id = id_named(c, &name)?;
            let json = to_json(&spec)?;
            c.execute(
                "UPDATE balancers SET name = ?1, spec = ?2, updated_at = ?3 WHERE id = ?4",
                params![spec.name, json, now, id],
            )
            .map_err(|e| {
                unique_conflict(
                    e,
                    "name",
                    format!("a balancer named {} already exists", spec.name),
                )
            })?;
            balancer_row(c, id)
        })
        .await
    }

    pub async fn delete_balancer(&self, name: String) -> Result<(), StoreError> {
        self.call(move |c| {
            let id = id_named(c, &name)?;
            c.execute("DELETE FROM balancers WHERE id = ?1", [id])?;
            Ok(())
        })
        .await
    }

    /// Records what vr routes to a pool now (the file's fingerprint is `wanted`).
    pub async fn set_pool(
        &self,
        balancer_id: i64,
        pool: String,
        nodes: Vec<Node>,
        wanted: String,
        now: i64,
    ) -> Result<(), StoreError> {
        self.call(move |c| {
            c.execute(
                "INSERT INTO pools (balancer_id, pool, nodes, wanted, updated_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (balancer_id, pool) DO UPDATE \
                 SET nodes = excluded.nodes, wanted = excluded.wanted, \
                     updated_at = excluded.updated_at",
                params![balancer_id, pool, to_json(&nodes)?, wanted, now],
            )?;
            Ok(())
        })
        .await
    }

    /// Records one balancer host's answer to an update of the pool. `applied` is the
    /// fingerprint it now holds (unchanged when the update failed).
    pub async fn set_pool_host(
        &self,
        balancer_id: i64,
        pool: String,
        state: PoolHost,
    ) -> Result<(), StoreError> {
        self.call(move |c| {
            c.execute(
                "INSERT INTO pool_hosts (balancer_id, pool, host, applied, ok, message, at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) \
                 ON CONFLICT (balancer_id, pool, host) DO UPDATE \
                 SET applied = excluded.applied, ok = excluded.ok, \
                     message = excluded.message, at = excluded.at",
                params![
                    balancer_id,
                    pool,
                    state.host,
                    state.applied,
                    state.ok,
                    state.message,
                    state.at
                ],
            )?;
            Ok(())
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::store;
    use super::*;
    use vr_app::balancer::{BalancerKind, fingerprint, render};

    fn spec(name: &str) -> BalancerSpec {
        BalancerSpec {
            name: name.into(),
            kind: BalancerKind::Nginx,
            hosts: vec!["lb1".into(), "lb2".into()],
            ..Default::default()
        }
    }

    #[tokio::test]
    async fn pools_keep_what_each_host_holds_so_drift_shows() {
        let s = store();
        let b = s
            .create_balancer(spec("edge"), "ann".into(), 1)
            .await
            .expect("create");
        let clash = s.create_balancer(spec("edge"), "ann".into(), 2).await;
        assert!(
            matches!(
                clash,
                Err(StoreError::Conflict {
                    field: Some("name"),
                    ..
                })
            ),
            "{clash:?}"
        );
        let nodes = vec![Node {
            address: "10.0.0.1".into(),
            port: 5000,
            program: "shop-web-5000".into(),
        }];
        let wanted = fingerprint(&render(BalancerKind::Nginx, "shop", &nodes));
        s.set_pool(b.id, "shop".into(), nodes.clone(), wanted.clone(), 3)
            .await
            .expect("pool");
        for (host, ok) in [("lb1", true), ("lb2", false)] {
            s.set_pool_host(
                b.id,
                "shop".into(),
                PoolHost {
                    host: host.into(),
                    applied: if ok { wanted.clone() } else { String::new() },
                    message: if ok {
                        "reloaded".into()
                    } else {
                        "did not answer".into()
                    },
                    ok,
                    at: 4,
                },
            )
            .await
            .expect("host");
        }
        let got = s.balancer("edge".into()).await.expect("read");
        assert_eq!(got.pools.len(), 1);
        assert_eq!(got.pools[0].nodes, nodes);
        assert!(got.pools[0].drift());
        assert_eq!(got.pools[0].hosts[1].message, "did not answer");
        s.delete_balancer("edge".into()).await.expect("delete");
        assert!(s.list_balancers().await.expect("list").is_empty());
    }
}
