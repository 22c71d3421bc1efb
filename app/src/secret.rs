//! Secrets (SPEC §5): env keys marked secret keep their values for the proc, but everything that
//! shows a release or an ingredient — the API, the UI, the CLI, diffs, logs — shows [`MASK`]
//! instead. A deployer can reveal one value on purpose; the server records that as an event.
//! Credentials in git URLs are masked the same way wherever a URL is shown.

use crate::build::{App, Build, Buildpack};
use crate::release::{Difference, Ingredient, Release, ReleaseConfig, ReleasePreview};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeSet;

/// What a secret value is shown as. Sent back for a secret key, it means "unchanged".
pub const MASK: &str = "••••••••";

/// `POST /api/releases/{id}/reveal` and `POST /api/ingredients/{name}/reveal`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct RevealRequest {
    pub key: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Revealed {
    pub key: String,
    pub value: String,
}

pub mod paths {
    pub fn release_reveal(id: i64) -> String {
        format!("{}/reveal", crate::release::paths::release(id))
    }
    pub fn ingredient_reveal(name: &str) -> String {
        format!("{}/reveal", crate::release::paths::ingredient(name))
    }
}

/// Secret key names as a person types them: separated by commas or spaces.
pub fn parse_key_list(text: &str) -> Vec<String> {
    let mut keys: Vec<String> = text
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|k| !k.is_empty())
        .map(str::to_string)
        .collect();
    crate::order::sort(&mut keys);
    keys.dedup();
    keys
}

/// The config with every secret value masked.
pub fn mask_config(config: &mut ReleaseConfig) {
    for key in &config.secret_keys {
        if let Some(v) = config.env.get_mut(key) {
            *v = MASK.to_string();
        }
    }
}

pub fn mask_release(release: &mut Release) {
    mask_config(&mut release.config);
}

/// The preview with secret values masked, in the merged config and in each key's provenance.
pub fn mask_preview(preview: &mut ReleasePreview) {
    let secret = preview.config.secret_keys.clone();
    mask_config(&mut preview.config);
    for s in &mut preview.env_from {
        if secret.contains(&s.key) {
            s.value = Value::String(MASK.into());
        }
    }
}

/// The ingredient with secret values masked; its env text, which holds them, is written anew
/// from the masked values (comments in it are not kept in this view).
pub fn mask_ingredient(ingredient: &mut Ingredient) {
    if ingredient.secret_keys.is_empty() {
        return;
    }
    for key in &ingredient.secret_keys {
        if let Some(v) = ingredient.env.get_mut(key) {
            *v = MASK.to_string();
        }
    }
    ingredient.env_yaml = env_yaml(&ingredient.env);
}

/// A flat env mapping as YAML, one `KEY: "value"` line per key (JSON strings are YAML
/// double-quoted scalars).
pub fn env_yaml(env: &std::collections::BTreeMap<String, String>) -> String {
    env.iter()
        .map(|(k, v)| {
            format!(
                "{k}: {}\n",
                serde_json::to_string(v).unwrap_or_else(|_| "\"\"".into())
            )
        })
        .collect()
}

/// Differences with secret values masked: a secret that changed is listed, without its values.
pub fn mask_differences(differences: &mut [Difference], a: &Release, b: &Release) {
    let secret: BTreeSet<&String> = a
        .config
        .secret_keys
        .iter()
        .chain(b.config.secret_keys.iter())
        .collect();
    for d in differences.iter_mut() {
        if d.section == "env" && secret.contains(&d.key) {
            d.secret = true;
            for side in [&mut d.a, &mut d.b] {
                if side.is_some() {
                    *side = Some(Value::String(MASK.into()));
                }
            }
        }
    }
}

/// A git URL with its credentials masked: the password of `scheme://user:password@host/…`, or
/// for http(s) a lone user part (a token used as the user name). Other URLs are unchanged.
pub fn mask_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(end);
    let Some((userinfo, host)) = authority.rsplit_once('@') else {
        return url.to_string();
    };
    let masked = match userinfo.split_once(':') {
        Some((user, _password)) => format!("{user}:{MASK}"),
        None if matches!(scheme, "http" | "https") => MASK.to_string(),
        None => return url.to_string(),
    };
    format!("{scheme}://{masked}@{host}{path}")
}

/// The secret part of a git URL (password, or token-as-user for http(s)), to redact from logs.
pub fn url_secret(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (userinfo, _) = rest[..end].rsplit_once('@')?;
    match userinfo.split_once(':') {
        Some((_, password)) if !password.is_empty() => Some(password.to_string()),
        None if matches!(scheme, "http" | "https") && !userinfo.is_empty() => {
            Some(userinfo.to_string())
        }
        _ => None,
    }
}

pub fn mask_app(app: &mut App) {
    app.repo_url = mask_url(&app.repo_url);
    if let Some(bp) = &mut app.buildpack {
        *bp = mask_url(bp);
    }
}

pub fn mask_buildpack(bp: &mut Buildpack) {
    bp.url = mask_url(&bp.url);
}

pub fn mask_build(build: &mut Build) {
    if let Some(bp) = &mut build.buildpack {
        *bp = mask_url(bp);
    }
}

/// A submitted URL that is the masked form of the current one means "unchanged".
pub fn unmask_url(submitted: &str, current: &str) -> String {
    if submitted != current && submitted == mask_url(current) {
        current.to_string()
    } else {
        submitted.to_string()
    }
}

/// Replaces every occurrence of each secret in `text` by [`MASK`] (values shorter than 4
/// bytes are left: they would mask ordinary words).
pub fn redact(text: &str, secrets: &[String]) -> String {
    let mut out = text.to_string();
    for s in secrets.iter().filter(|s| s.len() >= 4) {
        if out.contains(s.as_str()) {
            out = out.replace(s.as_str(), MASK);
        }
    }
    out
}

/// [`redact`] over a stream that arrives in pieces: a secret split between two pieces is still
/// masked. Holds back the last few bytes of each piece until the next one (or [`Self::finish`]).
pub struct Redactor {
    secrets: Vec<Vec<u8>>,
    carry: Vec<u8>,
    keep: usize,
}

impl Redactor {
    pub fn new(secrets: &[String]) -> Redactor {
        let secrets: Vec<Vec<u8>> = secrets
            .iter()
            .filter(|s| s.len() >= 4)
            .map(|s| s.as_bytes().to_vec())
            .collect();
        let keep = secrets.iter().map(Vec::len).max().unwrap_or(1) - 1;
        Redactor {
            secrets,
            carry: Vec::new(),
            keep,
        }
    }

    /// The bytes of `piece` (and of earlier ones held back) that are safe to show now.
    pub fn push(&mut self, piece: &[u8]) -> Vec<u8> {
        if self.secrets.is_empty() {
            return piece.to_vec();
        }
        self.carry.extend_from_slice(piece);
        let cut = self.carry.len().saturating_sub(self.keep);
        self.emit(cut)
    }

    /// Everything still held back.
    pub fn finish(&mut self) -> Vec<u8> {
        let all = self.carry.len();
        self.emit(all)
    }

    /// Masks and returns `carry[..cut]` (extended past `cut` when a secret straddles it).
    fn emit(&mut self, cut: usize) -> Vec<u8> {
        let buf = std::mem::take(&mut self.carry);
        let mut out = Vec::with_capacity(buf.len());
        let mut i = 0;
        while i < cut {
            match self.secrets.iter().find(|s| buf[i..].starts_with(s)) {
                Some(s) => {
                    out.extend_from_slice(MASK.as_bytes());
                    i += s.len();
                }
                None => {
                    out.push(buf[i]);
                    i += 1;
                }
            }
        }
        self.carry = buf[i.min(buf.len())..].to_vec();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn urls_lose_their_credentials() {
        for (url, shown) in [
            (
                "https://user:tok3n@git.example.com/shop.git",
                format!("https://user:{MASK}@git.example.com/shop.git"),
            ),
            (
                "https://ghp_abc123@github.com/o/r.git#v1",
                format!("https://{MASK}@github.com/o/r.git#v1"),
            ),
            ("ssh://git@host/x.git", "ssh://git@host/x.git".to_string()),
            (
                "git@github.com:o/r.git",
                "git@github.com:o/r.git".to_string(),
            ),
            (
                "https://git.example.com/a@b.git",
                "https://git.example.com/a@b.git".to_string(),
            ),
            ("file:///srv/x.git", "file:///srv/x.git".to_string()),
        ] {
            assert_eq!(mask_url(url), shown, "{url}");
        }
        assert_eq!(
            url_secret("https://user:tok3n@h/x").as_deref(),
            Some("tok3n")
        );
        assert_eq!(url_secret("https://ghp_x@h/x").as_deref(), Some("ghp_x"));
        assert_eq!(url_secret("ssh://git@h/x"), None);
        let cur = "https://u:p4ss@h/x.git";
        assert_eq!(unmask_url(&mask_url(cur), cur), cur);
        assert_eq!(unmask_url("https://h/y.git", cur), "https://h/y.git");
    }

    #[test]
    fn configs_and_diffs_mask_secret_values_only() {
        let mut c = ReleaseConfig {
            env: BTreeMap::from([
                ("DB_PASSWORD".into(), "hunter22".into()),
                ("PLAIN".into(), "visible".into()),
            ]),
            secret_keys: BTreeSet::from(["DB_PASSWORD".to_string()]),
            ..Default::default()
        };
        let raw = c.clone();
        mask_config(&mut c);
        assert_eq!(c.env["DB_PASSWORD"], MASK);
        assert_eq!(c.env["PLAIN"], "visible");
        let release = |config: ReleaseConfig| Release {
            id: 1,
            app: "a".into(),
            build_id: 1,
            version: "1".into(),
            commit: None,
            hash: "h".into(),
            config,
            ingredients: vec![],
            created_by: String::new(),
            created_at: 0,
        };
        let a = release(raw.clone());
        let mut changed = raw;
        changed
            .env
            .insert("DB_PASSWORD".into(), "correct horse".into());
        let b = release(changed);
        let mut d = crate::release::diff(&a, &b);
        mask_differences(&mut d, &a, &b);
        assert_eq!(d.len(), 1);
        assert!(d[0].secret);
        let shown = serde_json::to_string(&d).unwrap_or_default();
        assert!(
            !shown.contains("hunter22") && !shown.contains("correct horse"),
            "{shown}"
        );
    }

    #[test]
    fn key_lists_split_on_commas_and_spaces() {
        assert_eq!(parse_key_list(" B, A  C,,A "), ["A", "B", "C"]);
        assert!(parse_key_list("  ").is_empty());
    }

    #[test]
    fn redaction_replaces_every_occurrence() {
        let secrets = vec!["s3cr3t-value".to_string(), "ab".to_string()];
        assert_eq!(
            redact("got s3cr3t-value twice: s3cr3t-value; ab stays", &secrets),
            format!("got {MASK} twice: {MASK}; ab stays")
        );
    }

    proptest::proptest! {
        /// However a log is cut into pieces, the redacted stream is the whole log redacted.
        #[test]
        fn redaction_holds_across_pieces(
            words in proptest::collection::vec(proptest::sample::select(vec!["tok3n-abc", "x", "tok", "3n-abc", " ", "\n", "tok3n-abcd"]), 0..60),
            cuts in proptest::collection::vec(0usize..400, 0..10),
        ) {
            let text = words.concat();
            let secrets = vec!["tok3n-abc".to_string()];
            let mut r = Redactor::new(&secrets);
            let mut cuts = cuts;
            cuts.push(text.len());
            cuts.sort_unstable();
            let mut out = Vec::new();
            let mut at = 0;
            for c in cuts {
                let c = c.min(text.len());
                if c < at { continue; }
                out.extend(r.push(&text.as_bytes()[at..c]));
                at = c;
            }
            out.extend(r.finish());
            proptest::prop_assert_eq!(String::from_utf8_lossy(&out).into_owned(), redact(&text, &secrets));
        }
    }

    #[test]
    fn masked_env_is_yaml_again() {
        let env = BTreeMap::from([
            ("A".to_string(), "x: \"q\" \\ y".to_string()),
            ("B".to_string(), MASK.to_string()),
        ]);
        assert_eq!(
            env_yaml(&env),
            format!("A: \"x: \\\"q\\\" \\\\ y\"\nB: \"{MASK}\"\n")
        );
    }
}
