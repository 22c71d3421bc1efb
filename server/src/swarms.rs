//! Swarm settings: the checks a swarm's spec passes before it is saved (its YAML parses, its
//! ingredients exist, masked secrets keep their stored values) and the view the API answers
//! (secret values masked).

use std::collections::BTreeMap;

use vr_app::fleet::Fleet;
use vr_app::release::NewRelease;
use vr_app::secret::{self, MASK};
use vr_app::swarm::{Swarm, SwarmSpec, assess};
use vr_app::validate::Invalid;

use crate::releases::{self, ReleaseError};
use crate::store::{Store, StoreError, SwarmRow};

/// Checks `spec` (to replace `current`, when editing) and returns it as it is to be stored: env
/// values given as the mask take the current swarm's values of those keys.
pub async fn check(
    store: &Store,
    spec: SwarmSpec,
    current: Option<&SwarmRow>,
) -> Result<SwarmSpec, ReleaseError> {
    Ok(check_saving(store, spec, current, false).await?.0)
}

/// [`check`], and when `take_pool` confirms it, the swarm whose pool this one takes over.
pub async fn check_saving(
    store: &Store,
    mut spec: SwarmSpec,
    current: Option<&SwarmRow>,
    take_pool: bool,
) -> Result<(SwarmSpec, Option<SwarmRow>), ReleaseError> {
    spec.validate()?;
    releases::validate_rest(&NewRelease {
        volumes: spec.volumes.clone(),
        run_as: spec.run_as.clone(),
        mem_limit_mb: spec.mem_limit_mb,
        cpu_weight: spec.cpu_weight,
        runner: spec.runner,
        ingredients: spec.ingredients.clone(),
        ..NewRelease::default()
    })?;
    for k in &spec.secret_keys {
        vr_app::validate::env_name("secret_keys", k)?;
    }
    spec.stack = spec.stack.filter(|s| !s.is_empty());
    if let Some(stack) = &spec.stack {
        vr_app::stack::check_name("stack", stack)?;
        if store.current_stack_image(stack.clone()).await.is_err() {
            return Err(vr_app::stack::unknown("stack", stack).into());
        }
        if spec.runner != vr_app::release::Runner::Sandbox {
            return Err(Invalid::new(
                "runner",
                "procs run on a stack only in a sandbox: set the runner to sandbox",
            )
            .into());
        }
    }
    let (_, mut env) =
        releases::parse_texts(spec.settings_yaml.clone(), spec.env_yaml.clone()).await?;
    if env.values().any(|v| v == MASK) {
        let stored = match current {
            Some(c) => {
                releases::parse_texts(String::new(), c.spec.env_yaml.clone())
                    .await?
                    .1
            }
            None => BTreeMap::new(),
        };
        for (key, value) in env.iter_mut().filter(|(_, v)| v.as_str() == MASK) {
            let known = current.is_some_and(|c| c.spec.secret_keys.contains(key));
            match stored.get(key).filter(|_| known) {
                Some(v) => v.clone_into(value),
                None => {
                    return Err(Invalid::new(
                        "env_yaml",
                        format!("{key} is masked, but the swarm has no secret {key} to keep"),
                    )
                    .into());
                }
            }
        }
        spec.env_yaml = secret::env_yaml(&env);
    }
    if let Some(missing) = spec.secret_keys.iter().find(|k| !env.contains_key(*k)) {
        return Err(Invalid::new(
            "secret_keys",
            format!("{missing} is marked secret but the swarm's env does not set it"),
        )
        .into());
    }
    // Every ingredient must exist (the error names the missing one).
    store.ingredients_in_order(spec.ingredients.clone()).await?;
    let mut taken = None;
    if let (Some(pool), Some(balancer)) = (&spec.pool, &spec.balancer) {
        taken = check_pool(store, pool, balancer, current.map(|c| c.id), take_pool).await?;
    }
    Ok((spec, taken))
}

/// The balancer exists, and no other swarm routes the pool (VR let a second swarm take over a
/// pool silently: each dispatch then replaced the other's nodes).
async fn check_pool(
    store: &Store,
    pool: &str,
    balancer: &str,
    this: Option<i64>,
    take: bool,
) -> Result<Option<SwarmRow>, ReleaseError> {
    if let Err(StoreError::NotFound { .. }) = store.balancer(balancer.to_string()).await {
        return Err(Invalid::new(
            "balancer",
            format!(
                "there is no balancer {balancer}; add it first (Balancers, or `vr balancer add`)"
            ),
        )
        .into());
    }
    let owner = store.list_swarms().await?.into_iter().find(|s| {
        Some(s.id) != this
            && s.spec.pool.as_deref() == Some(pool)
            && s.spec.balancer.as_deref() == Some(balancer)
    });
    match owner {
        Some(owner) if take => Ok(Some(owner)),
        Some(owner) => Err(Invalid::new(
            "pool",
            format!(
                "swarm {} (#{}) already routes pool {pool} on {balancer}: two swarms in one pool \
                 would replace each other's procs; pick another pool, or confirm taking it over \
                 (that swarm then routes nowhere)",
                owner.spec.name(),
                owner.id
            ),
        )
        .into()),
        None => Ok(None),
    }
}

/// Takes the pool off `owner` (another swarm took it over with the operator's confirmation).
pub async fn release_pool(
    store: &Store,
    owner: SwarmRow,
    now: i64,
) -> Result<SwarmRow, StoreError> {
    let mut spec = owner.spec;
    spec.pool = None;
    spec.balancer = None;
    store.update_swarm(owner.id, spec, now).await
}

/// The swarm that routes `pool` on `balancer`, if one does.
pub fn pool_owner<'a>(swarms: &'a [SwarmRow], balancer: &str, pool: &str) -> Option<&'a SwarmRow> {
    swarms.iter().find(|s| {
        s.spec.pool.as_deref() == Some(pool) && s.spec.balancer.as_deref() == Some(balancer)
    })
}

/// The swarm as the API answers it: its own settings and env parsed, secret values masked,
/// and how it stands against `fleet` (the snapshot).
pub async fn view(row: SwarmRow, fleet: &Fleet) -> Result<Swarm, ReleaseError> {
    let SwarmRow {
        id,
        mut spec,
        release_id,
        release_hash,
        last,
        created_by,
        created_at,
        updated_at,
    } = row;
    let status = assess(
        id,
        &spec,
        release_hash.as_deref(),
        last,
        &fleet.hosts,
        &fleet.procs,
    );
    let (settings, mut env) =
        releases::parse_texts(spec.settings_yaml.clone(), spec.env_yaml.clone()).await?;
    if !spec.secret_keys.is_empty() {
        for key in &spec.secret_keys {
            if let Some(v) = env.get_mut(key) {
                *v = MASK.to_string();
            }
        }
        spec.env_yaml = secret::env_yaml(&env);
    }
    Ok(Swarm {
        id,
        name: spec.name(),
        spec,
        settings,
        env,
        release_id,
        release_hash,
        last_dispatch: last,
        status,
        created_by,
        created_at,
        updated_at,
    })
}

/// The build a preview of `spec` uses: the swarm's current one when it runs the same app, else
/// the app's newest successful build of the version, else its newest successful build; none
/// before the app was ever built.
pub async fn preview_build(
    store: &Store,
    spec: &SwarmSpec,
    current: Option<&SwarmRow>,
) -> Result<Option<i64>, StoreError> {
    if let Some(rid) = current.and_then(|c| c.release_id) {
        let release = store.release(rid).await?;
        if release.app == spec.app {
            return Ok(Some(release.build_id));
        }
    }
    let builds = store
        .list_builds(vr_app::build::BuildQuery {
            app: Some(spec.app.clone()),
            limit: Some(200),
        })
        .await?;
    let ok = || {
        builds
            .iter()
            .filter(|b| b.status == vr_app::build::BuildStatus::Succeeded)
    };
    Ok(ok()
        .find(|b| b.version == spec.version)
        .or_else(|| ok().next())
        .map(|b| b.id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn secrets_are_masked_in_answers_and_kept_when_sent_back_masked() {
        let s = crate::store::test_support::store_with_app_and_squad().await;
        let mut spec = vr_app::fixtures::swarm_spec();
        spec.env_yaml = "TOKEN: s3cret\nCOLOUR: blue\n".into();
        spec.secret_keys = vec!["TOKEN".into()];
        let spec = check(&s, spec, None).await.expect("valid");
        let row = s.create_swarm(spec, "ann".into(), 1).await.expect("saved");
        let fleet = Fleet {
            hosts: Vec::new(),
            procs: Vec::new(),
            squads: Vec::new(),
        };
        let shown = view(row.clone(), &fleet).await.expect("view");
        assert_eq!(shown.env.get("TOKEN").map(String::as_str), Some(MASK));
        assert!(
            !shown.spec.env_yaml.contains("s3cret"),
            "{}",
            shown.spec.env_yaml
        );
        // The masked answer sent back with one change keeps the secret's value.
        let mut edited = shown.spec.clone();
        edited.env_yaml = edited.env_yaml.replace("blue", "green");
        let kept = check(&s, edited, Some(&row)).await.expect("valid");
        assert!(
            kept.env_yaml.contains("s3cret") && kept.env_yaml.contains("green"),
            "{}",
            kept.env_yaml
        );
        // A masked value for a key that is not a stored secret is refused, naming the field.
        let mut forged = shown.spec.clone();
        forged.env_yaml = format!("COLOUR: {MASK}\n");
        let err = check(&s, forged, Some(&row))
            .await
            .expect_err("not a secret");
        assert!(
            matches!(err, ReleaseError::Invalid(ref i) if i.field == "env_yaml"),
            "{err}"
        );
        // A secret key the env does not set is refused too.
        let mut missing = vr_app::fixtures::swarm_spec();
        missing.secret_keys = vec!["NOPE".into()];
        let err = check(&s, missing, None).await.expect_err("no such key");
        assert!(
            matches!(err, ReleaseError::Invalid(ref i) if i.field == "secret_keys"),
            "{err}"
        );
    }
}
