//! Making releases: YAML from operators parsed (errors name the field, line and column), layers
//! merged (build env ← ingredients in order ← own values), hashed in canonical form, stored once.

use crate::clock::now_ms;
use crate::store::{IngredientRecord, ReleaseRecord, Store, StoreError};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use vr_app::build::BuildStatus;
use vr_app::release::{
    ConfigLayer, Layer, Merged, NewIngredient, NewRelease, Release, ReleaseConfig, ReleasePreview,
    merge,
};
use vr_app::validate::{self, Invalid};

#[derive(Debug, thiserror::Error)]
pub enum ReleaseError {
    #[error(transparent)]
    Invalid(#[from] Invalid),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A YAML mapping as JSON; empty text is an empty mapping.
pub fn settings_from_yaml(field: &'static str, text: &str) -> Result<Map<String, Value>, Invalid> {
    if text.trim().is_empty() {
        return Ok(Map::new());
    }
    let yaml: serde_yaml_ng::Value = serde_yaml_ng::from_str(text).map_err(|e| {
        let at = e
            .location()
            .map(|l| format!("line {}, column {}: ", l.line(), l.column()))
            .unwrap_or_default();
        Invalid::new(field, format!("not valid YAML: {at}{e}"))
    })?;
    match serde_json::to_value(&yaml) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(Value::Null) => Ok(Map::new()),
        Ok(_) => Err(Invalid::new(
            field,
            "must be a YAML mapping (key: value lines)",
        )),
        Err(e) => Err(Invalid::new(
            field,
            format!("cannot be used as settings: {e}"),
        )),
    }
}

/// A YAML mapping of strings (env vars). Numbers and booleans are refused rather than guessed:
/// quote them.
pub fn env_from_yaml(field: &'static str, text: &str) -> Result<BTreeMap<String, String>, Invalid> {
    let map = settings_from_yaml(field, text)?;
    let mut env = BTreeMap::new();
    for (k, v) in map {
        validate::env_name(field, &k)?;
        match v {
            Value::String(s) => {
                if s.contains('\0') {
                    return Err(Invalid::new(field, format!("{k} contains a NUL byte")));
                }
                env.insert(k, s);
            }
            other => {
                return Err(Invalid::new(
                    field,
                    format!("{k} must be a string, not {other}; quote it: {k}: \"{other}\""),
                ));
            }
        }
    }
    Ok(env)
}

fn validate_rest(new: &NewRelease) -> Result<(), Invalid> {
    for v in &new.volumes {
        validate::remote_path("volumes", &v.host_dir)?;
        validate::remote_path("volumes", &v.mount_dir)?;
    }
    if let Some(user) = new.run_as.as_deref().filter(|u| !u.is_empty()) {
        validate::unix_user("run_as", user)?;
    }
    if new.mem_limit_mb.is_some_and(|m| m > 1024 * 1024) {
        return Err(Invalid::new(
            "mem_limit_mb",
            "must be at most 1048576 (1 TiB)",
        ));
    }
    for name in &new.ingredients {
        validate::squad_name("ingredients", name)?;
    }
    Ok(())
}

/// The merged configuration, where each key came from, and the hash — for preview and create.
pub async fn resolve(
    store: &Store,
    new: &NewRelease,
) -> Result<(ReleasePreview, String), ReleaseError> {
    validate_rest(new)?;
    let own_settings = settings_from_yaml("settings_yaml", &new.settings_yaml)?;
    let own_env = env_from_yaml("env_yaml", &new.env_yaml)?;
    let build = store.build(new.build_id).await?;
    let sha = match (build.status, build.sha256.clone()) {
        (BuildStatus::Succeeded, Some(sha)) => sha,
        _ => {
            return Err(Invalid::new(
                "build_id",
                format!(
                    "build {} is {}, not a succeeded build",
                    build.id,
                    build.status.as_str()
                ),
            )
            .into());
        }
    };
    let ingredients = store.ingredients_in_order(new.ingredients.clone()).await?;
    let empty = Map::new();
    let mut layers = vec![ConfigLayer {
        from: Layer::Build,
        settings: &empty,
        env: &build.env,
    }];
    for i in &ingredients {
        layers.push(ConfigLayer {
            from: Layer::Ingredient(i.name.clone()),
            settings: &i.settings,
            env: &i.env,
        });
    }
    layers.push(ConfigLayer {
        from: Layer::Own,
        settings: &own_settings,
        env: &own_env,
    });
    let Merged {
        settings,
        env,
        settings_from,
        env_from,
    } = merge(&layers);
    let config = ReleaseConfig {
        settings,
        env,
        volumes: new.volumes.clone(),
        run_as: new.run_as.clone(),
        mem_limit_mb: new.mem_limit_mb,
    }
    .canonical();
    let hash = config.hash(&sha);
    Ok((
        ReleasePreview {
            config,
            settings_from,
            env_from,
            hash,
        },
        build.app,
    ))
}

/// Makes the release, or finds the identical one; the bool says whether it is new.
pub async fn create(
    store: &Store,
    actor: &str,
    new: NewRelease,
) -> Result<(Release, bool), ReleaseError> {
    let (preview, _app) = resolve(store, &new).await?;
    Ok(store
        .create_release(ReleaseRecord {
            build_id: new.build_id,
            hash: preview.hash,
            config: preview.config,
            ingredients: new.ingredients,
            created_by: actor.to_string(),
            now: now_ms(),
        })
        .await?)
}

/// Parses and checks an ingredient into the record to store.
pub fn ingredient_record(new: NewIngredient) -> Result<IngredientRecord, Invalid> {
    validate::squad_name("name", &new.name)?;
    validate::label_or_empty("notes", &new.notes)?;
    let settings = settings_from_yaml("settings_yaml", &new.settings_yaml)?;
    let env = env_from_yaml("env_yaml", &new.env_yaml)?;
    Ok(IngredientRecord {
        name: new.name,
        settings_yaml: new.settings_yaml,
        env_yaml: new.env_yaml,
        settings_json: Value::Object(settings).to_string(),
        env_json: serde_json::to_string(&env).unwrap_or_else(|_| "{}".into()),
        notes: new.notes,
        now: now_ms(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_errors_name_line_and_column() {
        let err = settings_from_yaml("settings_yaml", "a: 1\nb: [unclosed\n").expect_err("bad");
        assert_eq!(err.field, "settings_yaml");
        assert!(err.message.contains("line "), "{}", err.message);
        assert!(err.message.contains("column "), "{}", err.message);
        let err = settings_from_yaml("settings_yaml", "- a\n- b\n").expect_err("list");
        assert!(err.message.contains("mapping"));
        assert!(settings_from_yaml("s", "  \n").expect("empty").is_empty());
        assert!(settings_from_yaml("s", "~").expect("null").is_empty());
        let nested = settings_from_yaml("s", "db:\n  host: x\n  port: 5432\n").expect("ok");
        assert_eq!(nested["db"]["port"], 5432);
    }

    #[test]
    fn env_values_must_be_strings() {
        let env = env_from_yaml("env_yaml", "A: \"1\"\nB: 'x; rm -rf / $(id)'\n").expect("ok");
        assert_eq!(env["B"], "x; rm -rf / $(id)");
        let err = env_from_yaml("env_yaml", "WORKERS: 2\n").expect_err("int");
        assert_eq!(err.field, "env_yaml");
        assert!(
            err.message.contains("WORKERS must be a string"),
            "{}",
            err.message
        );
        assert!(env_from_yaml("env_yaml", "\"A B\": x\n").is_err());
        let err = env_from_yaml("env_yaml", "\"A;curl x|sh;B\": x\n").expect_err("not a name");
        assert!(
            err.message.contains("not an environment variable name"),
            "{}",
            err.message
        );
        assert!(env_from_yaml("env_yaml", "X: {a: 1}\n").is_err());
    }
}
