//! Making releases: YAML from operators parsed (errors name the field, line and column), layers
//! merged (build env ← ingredients in order ← own values), hashed in canonical form, stored once.

use crate::clock::now_ms;
use crate::store::{IngredientRecord, ReleaseRecord, Store, StoreError};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};
use vr_app::build::BuildStatus;
use vr_app::release::{
    ConfigLayer, Ingredient, IngredientPatch, Layer, Merged, NewIngredient, NewRelease, Release,
    ReleaseConfig, ReleasePreview, merge,
};
use vr_app::secret::MASK;
use vr_app::validate::{self, Invalid};

#[derive(Debug, thiserror::Error)]
pub enum ReleaseError {
    #[error(transparent)]
    Invalid(#[from] Invalid),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A YAML mapping as JSON; empty text is an empty mapping. Parsed within [`crate::yaml`]'s
/// limits; callers on async threads go through [`parse_texts`].
pub fn settings_from_yaml(field: &'static str, text: &str) -> Result<Map<String, Value>, Invalid> {
    if text.trim().is_empty() {
        return Ok(Map::new());
    }
    let yaml = crate::yaml::parse(text).map_err(|e| Invalid::new(field, e.to_string()))?;
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
/// quote them. Names must be shell identifiers: they are written into a sourced file.
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

/// Settings and env texts parsed on the blocking pool: parsing is bounded, but it is CPU work
/// that must not hold an async worker.
pub async fn parse_texts(
    settings_yaml: String,
    env_yaml: String,
) -> Result<(Map<String, Value>, BTreeMap<String, String>), Invalid> {
    tokio::task::spawn_blocking(move || {
        Ok((
            settings_from_yaml("settings_yaml", &settings_yaml)?,
            env_from_yaml("env_yaml", &env_yaml)?,
        ))
    })
    .await
    .unwrap_or_else(|e| {
        Err(Invalid::new(
            "settings_yaml",
            format!("parsing failed: {e}"),
        ))
    })
}

/// Secret key names, each an env name.
fn secret_names(keys: &[String]) -> Result<BTreeSet<String>, Invalid> {
    keys.iter()
        .map(|k| validate::env_name("secret_keys", k).map(|()| k.clone()))
        .collect()
}

pub fn validate_rest(new: &NewRelease) -> Result<(), Invalid> {
    for v in &new.volumes {
        validate::remote_path("volumes", &v.host_dir)?;
        validate::remote_path("volumes", &v.mount_dir)?;
        if new.runner == vr_app::release::Runner::Sandbox {
            vr_app::isolation::check_sandbox_mount(&v.mount_dir)?;
        }
    }
    if let Some(user) = new.run_as.as_deref().filter(|u| !u.is_empty()) {
        validate::unix_user("run_as", user)?;
    }
    if new
        .cpu_weight
        .is_some_and(|w| w == 0 || w > vr_app::release::CPU_WEIGHT_MAX)
    {
        return Err(Invalid::new(
            "cpu_weight",
            "must be 1 to 10000 (100 is the default share)",
        ));
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

/// Own env values given as the mask ("unchanged") take their value from the release named in
/// `secrets_from`, where the key must be secret.
/// Returns the keys it filled: they stay secret in the new release.
async fn unmask_env(
    store: &Store,
    app: &str,
    secrets_from: Option<i64>,
    env: &mut BTreeMap<String, String>,
) -> Result<Vec<String>, ReleaseError> {
    let masked: Vec<String> = env
        .iter()
        .filter(|(_, v)| v.as_str() == MASK)
        .map(|(k, _)| k.clone())
        .collect();
    if masked.is_empty() {
        return Ok(masked);
    }
    let Some(from) = secrets_from else {
        return Err(Invalid::new(
            "env_yaml",
            format!(
                "{} is masked: give its value, or make the release from one that has it (secrets_from)",
                masked.join(", ")
            ),
        )
        .into());
    };
    let base = store.release(from).await?;
    if base.app != app {
        return Err(Invalid::new(
            "secrets_from",
            format!("release {from} is of app {}, not {app}", base.app),
        )
        .into());
    }
    for key in &masked {
        match base.config.env.get(key) {
            Some(v) if base.config.secret_keys.contains(key) => {
                env.insert(key.clone(), v.clone());
            }
            _ => {
                return Err(Invalid::new(
                    "env_yaml",
                    format!("{key} is masked, but release {from} has no secret {key}"),
                )
                .into());
            }
        }
    }
    Ok(masked)
}

/// The merged configuration, where each key came from, and the hash — for preview and create.
/// Secret values are in it as they are; callers showing it mask them.
pub async fn resolve(
    store: &Store,
    new: &NewRelease,
) -> Result<(ReleasePreview, String), ReleaseError> {
    validate_rest(new)?;
    let mut own_secret = secret_names(&new.secret_keys)?;
    let (own_settings, mut own_env) =
        parse_texts(new.settings_yaml.clone(), new.env_yaml.clone()).await?;
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
    // A value taken from another release's secret is a secret here too, marked or not.
    own_secret.extend(unmask_env(store, &build.app, new.secrets_from, &mut own_env).await?);
    let ingredients = store.ingredients_in_order(new.ingredients.clone()).await?;
    let empty = Map::new();
    let none = BTreeSet::new();
    let mut layers = vec![ConfigLayer {
        from: Layer::Build,
        settings: &empty,
        env: &build.env,
        secret_keys: &none,
    }];
    for i in &ingredients {
        layers.push(ConfigLayer {
            from: Layer::Ingredient(i.name.clone()),
            settings: &i.settings,
            env: &i.env,
            secret_keys: &i.secret_keys,
        });
    }
    layers.push(ConfigLayer {
        from: Layer::Own,
        settings: &own_settings,
        env: &own_env,
        secret_keys: &own_secret,
    });
    let Merged {
        settings,
        env,
        secret_keys,
        settings_from,
        env_from,
    } = merge(&layers);
    if let Some(missing) = own_secret.iter().find(|k| !env.contains_key(*k)) {
        return Err(Invalid::new(
            "secret_keys",
            format!("{missing} is marked secret but no layer sets it"),
        )
        .into());
    }
    let config = ReleaseConfig {
        settings,
        env,
        secret_keys,
        volumes: new.volumes.clone(),
        run_as: new.run_as.clone(),
        mem_limit_mb: new.mem_limit_mb,
        cpu_weight: new.cpu_weight,
        runner: new.runner,
        stack: build.stack.clone(),
    }
    .canonical();
    // Build and run see the same OS: only a sandbox can give a proc its stack as `/`.
    if let Some(stack) = &config.stack
        && config.runner != vr_app::release::Runner::Sandbox
    {
        return Err(Invalid::new(
            "runner",
            format!(
                "build {} was made in stack {}, whose procs run only in a sandbox: set the runner to sandbox",
                build.id,
                stack.short()
            ),
        )
        .into());
    }
    let key = store.instance_hash_key(rand::random()).await?;
    let hash = config.hash_keyed(&sha, &key);
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

/// An ingredient's texts, parsed.
pub struct ParsedIngredient {
    pub settings: Option<(String, Map<String, Value>)>,
    pub env: Option<(String, BTreeMap<String, String>)>,
}

/// Parses the texts a create or a patch gives, on the blocking pool.
pub async fn parse_ingredient(
    settings_yaml: Option<String>,
    env_yaml: Option<String>,
) -> Result<ParsedIngredient, Invalid> {
    tokio::task::spawn_blocking(move || {
        Ok(ParsedIngredient {
            settings: match settings_yaml {
                Some(t) => Some((t.clone(), settings_from_yaml("settings_yaml", &t)?)),
                None => None,
            },
            env: match env_yaml {
                Some(t) => Some((t.clone(), env_from_yaml("env_yaml", &t)?)),
                None => None,
            },
        })
    })
    .await
    .unwrap_or_else(|e| Err(Invalid::new("env_yaml", format!("parsing failed: {e}"))))
}

/// The record of a new ingredient.
pub fn ingredient_record(
    new: &NewIngredient,
    parsed: ParsedIngredient,
) -> Result<IngredientRecord, Invalid> {
    validate::squad_name("name", &new.name)?;
    ingredient_from_parts(&new.name, parsed, &new.secret_keys, &new.notes, None)
}

/// The record of an edited ingredient: the patch over `current`. A secret value sent back as the
/// mask keeps the current value.
pub fn ingredient_edit(
    current: &Ingredient,
    patch: &IngredientPatch,
    parsed: ParsedIngredient,
) -> Result<IngredientRecord, Invalid> {
    let parsed = ParsedIngredient {
        settings: parsed
            .settings
            .or_else(|| Some((current.settings_yaml.clone(), current.settings.clone()))),
        env: parsed
            .env
            .or_else(|| Some((current.env_yaml.clone(), current.env.clone()))),
    };
    let secret: Vec<String> = patch
        .secret_keys
        .clone()
        .unwrap_or_else(|| current.secret_keys.iter().cloned().collect());
    let notes = patch.notes.as_deref().unwrap_or(&current.notes);
    ingredient_from_parts(&current.name, parsed, &secret, notes, Some(current))
}

fn ingredient_from_parts(
    name: &str,
    parsed: ParsedIngredient,
    secret_keys: &[String],
    notes: &str,
    current: Option<&Ingredient>,
) -> Result<IngredientRecord, Invalid> {
    validate::label_or_empty("notes", notes)?;
    let (settings_yaml, settings) = parsed.settings.unwrap_or_default();
    let (mut env_yaml, mut env) = parsed.env.unwrap_or_default();
    let secret = secret_names(secret_keys)?;
    let mut unmasked = false;
    for (k, v) in env.iter_mut().filter(|(_, v)| v.as_str() == MASK) {
        match current.and_then(|c| c.env.get(k).filter(|_| c.secret_keys.contains(k))) {
            Some(real) => {
                *v = real.clone();
                unmasked = true;
            }
            None => {
                return Err(Invalid::new(
                    "env_yaml",
                    format!("{k} is masked, but there is no secret {k} to keep: give its value"),
                ));
            }
        }
    }
    if unmasked {
        // The text had masks in it: store what they stand for.
        env_yaml = vr_app::secret::env_yaml(&env);
    }
    if let Some(missing) = secret.iter().find(|k| !env.contains_key(*k)) {
        return Err(Invalid::new(
            "secret_keys",
            format!("{missing} is marked secret but env_yaml does not set it"),
        ));
    }
    Ok(IngredientRecord {
        name: name.to_string(),
        settings_yaml,
        env_yaml,
        settings_json: Value::Object(settings).to_string(),
        env_json: serde_json::to_string(&env).unwrap_or_else(|_| "{}".into()),
        secret_keys_json: serde_json::to_string(&secret).unwrap_or_else(|_| "[]".into()),
        notes: notes.to_string(),
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
