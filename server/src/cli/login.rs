//! `vr login`, `vr logout`, `vr whoami`.

use super::ClientArgs;
use super::client::Client;
use super::credentials::{self, Saved};
use anyhow::{Context, anyhow};
use std::io::{BufRead, IsTerminal, Write};
use vr_app::api::{CreatedToken, Me, TokenLoginRequest, paths};

pub async fn login(
    args: ClientArgs,
    user: Option<String>,
    password_stdin: bool,
    name: Option<String>,
    expires_days: Option<u32>,
) -> anyhow::Result<()> {
    let url = args
        .url
        .clone()
        .or_else(|| credentials::load().ok().flatten().map(|s| s.url))
        .unwrap_or_else(|| super::client::DEFAULT_URL.to_string());
    let client = Client::with_timeout(&url, None, args.timeout_duration())?;
    let username = match user {
        Some(u) => u,
        None => prompt("Username: ")?,
    };
    let password = if password_stdin {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .context("reading the password from standard input")?;
        line.trim_end_matches(['\r', '\n']).to_string()
    } else if std::io::stdin().is_terminal() {
        rpassword::prompt_password("Password: ").context("reading the password")?
    } else {
        return Err(anyhow!(
            "no terminal to ask for a password: use --password-stdin"
        ));
    };
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "unknown".into());
    let created: CreatedToken = client
        .post(
            paths::TOKEN_LOGIN,
            &TokenLoginRequest {
                username,
                password,
                name: name.unwrap_or_else(|| format!("cli@{host}")),
                expires_in_days: expires_days,
            },
        )
        .await?;
    let path = credentials::save(&Saved {
        url: client.url.clone(),
        token: created.secret,
    })?;
    if args.json {
        println!("{}", serde_json::to_string(&created.token)?);
    } else {
        println!(
            "signed in to {} as {}; token {:?} saved in {}{}",
            client.url,
            created.token.username,
            created.token.name,
            path.display(),
            created
                .token
                .expires_at
                .map(|t| format!("; it expires {}", vr_app::time::format_utc(t)))
                .unwrap_or_default()
        );
    }
    Ok(())
}

fn prompt(label: &str) -> anyhow::Result<String> {
    print!("{label}");
    std::io::stdout().flush()?;
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(line.trim().to_string())
}

/// Revokes the saved token on the server it came from (when it still answers) and forgets it.
pub async fn logout(_args: ClientArgs) -> anyhow::Result<()> {
    let Some(saved) = credentials::load()? else {
        println!("not signed in");
        return Ok(());
    };
    let client = Client::new(&saved.url, Some(saved.token.clone()))?;
    let revoked = client.delete(paths::TOKEN_CURRENT).await;
    credentials::forget()?;
    match revoked {
        Ok(()) => println!("signed out; token revoked"),
        Err(e) => println!("signed out locally; could not revoke the token on the server: {e:#}"),
    }
    Ok(())
}

pub async fn whoami(args: ClientArgs) -> anyhow::Result<()> {
    let client = Client::from_args(&args)?;
    client.require_token()?;
    let me: Me = client.get(paths::ME).await?;
    if args.json {
        println!("{}", serde_json::to_string(&me.user)?);
    } else {
        println!("{} ({}) on {}", me.user.username, me.user.role, client.url);
    }
    Ok(())
}
