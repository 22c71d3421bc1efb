//! Server configuration, resolved once at start: flags > `VR_*` environment > TOML file > defaults.
//! The result is passed by value; there is no global configuration.

use clap::Args;
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub const DEFAULT_LISTEN: &str = "127.0.0.1:8000";

/// Flags of `vr serve`. Each also reads its `VR_*` variable (clap's `env`), so flags beat env.
#[derive(Debug, Clone, Default, Args)]
pub struct ServeArgs {
    /// Address to serve the UI and API on [default: 127.0.0.1:8000]
    #[arg(long, env = "VR_LISTEN")]
    pub listen: Option<SocketAddr>,
    /// Where the database, SSH key and artifacts live [default: the platform data dir]
    #[arg(long, env = "VR_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// TOML config file [default: vr.toml in the platform config dir, if present]
    #[arg(long, env = "VR_CONFIG")]
    pub config: Option<PathBuf>,
    /// Open the UI in a browser once started (default: only when started from a desktop)
    #[arg(long, conflicts_with = "no_browser")]
    pub open: bool,
    /// Never open a browser
    #[arg(long)]
    pub no_browser: bool,
    /// Mark cookies `Secure` (set when vr is served over HTTPS by a proxy)
    #[arg(long, env = "VR_COOKIE_SECURE")]
    pub cookie_secure: Option<bool>,
    /// Address of a reverse proxy in front of vr (repeat, or comma-separated): requests from it
    /// are counted by the client address it names in X-Forwarded-For
    #[arg(
        long = "trusted-proxy",
        env = "VR_TRUSTED_PROXIES",
        value_delimiter = ','
    )]
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// Milliseconds between two polls of each host [default: 1000]
    #[arg(long, env = "VR_POLL_INTERVAL_MS")]
    pub poll_interval_ms: Option<u64>,
    /// Deadline in milliseconds of every SSH step: connect, auth, each command [default: 5000]
    #[arg(long, env = "VR_SSH_TIMEOUT_MS")]
    pub ssh_timeout_ms: Option<u64>,
    /// Largest prebuilt build upload, in MiB [default: 1024]
    #[arg(long, env = "VR_MAX_UPLOAD_MB")]
    pub max_upload_mb: Option<u64>,
    /// Successful builds kept per app (builds a release uses are always kept) [default: 20]
    #[arg(long, env = "VR_KEEP_BUILDS")]
    pub keep_builds: Option<u32>,
    /// Longest a build may take, in seconds [default: 1800]
    #[arg(long, env = "VR_BUILD_TIMEOUT_SECS")]
    pub build_timeout_secs: Option<u64>,
    /// Most of a build's output kept in its log, in MiB; the rest is dropped [default: 64]
    #[arg(long, env = "VR_MAX_BUILD_LOG_MB")]
    pub max_build_log_mb: Option<u64>,
    /// Re-run the uptests of every deployed proc this often, in seconds [default: off]
    #[arg(long, env = "VR_UPTEST_INTERVAL_SECS")]
    pub uptest_interval_secs: Option<u64>,
    /// Days the activity log is kept; 0 = for ever [default: 365]
    #[arg(long, env = "VR_KEEP_EVENTS_DAYS")]
    pub keep_events_days: Option<u32>,
    /// Days procs' state history is kept; 0 = for ever [default: 30]
    #[arg(long, env = "VR_KEEP_HISTORY_DAYS")]
    pub keep_history_days: Option<u32>,
    /// Days finished deploys, dispatches and failed builds' logs are kept; 0 = for ever [default: 180]
    #[arg(long, env = "VR_KEEP_JOBS_DAYS")]
    pub keep_jobs_days: Option<u32>,
    /// How long a webhook receiver may take to answer, in ms [default: 10000]
    #[arg(long, env = "VR_WEBHOOK_TIMEOUT_MS")]
    pub webhook_timeout_ms: Option<u64>,
    /// First wait before a failed webhook delivery is tried again, in ms; ×4 each time, six
    /// attempts in all [default: 2000]
    #[arg(long, env = "VR_WEBHOOK_RETRY_MS")]
    pub webhook_retry_ms: Option<u64>,
}

/// The optional TOML file; every key is optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub listen: Option<SocketAddr>,
    pub data_dir: Option<PathBuf>,
    pub open_browser: Option<bool>,
    pub cookie_secure: Option<bool>,
    pub trusted_proxies: Option<Vec<std::net::IpAddr>>,
    pub session_hours: Option<u32>,
    pub poll_interval_ms: Option<u64>,
    pub ssh_timeout_ms: Option<u64>,
    pub max_upload_mb: Option<u64>,
    pub keep_builds: Option<u32>,
    pub build_timeout_secs: Option<u64>,
    pub max_build_log_mb: Option<u64>,
    pub uptest_interval_secs: Option<u64>,
    pub keep_events_days: Option<u32>,
    pub keep_history_days: Option<u32>,
    pub keep_jobs_days: Option<u32>,
    pub webhook_timeout_ms: Option<u64>,
    pub webhook_retry_ms: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenBrowser {
    /// Only when started from a desktop (no terminal, a display present).
    Auto,
    Always,
    Never,
}

#[derive(Debug, Clone)]
pub struct ServeConfig {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    pub open_browser: OpenBrowser,
    pub cookie_secure: bool,
    /// Reverse proxies whose X-Forwarded-For names the client.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    pub session_hours: u32,
    pub fleet: crate::fleet::FleetConfig,
    pub builds: crate::jobs::BuildConfig,
    /// Scheduled uptests of deployed procs; `None` = off.
    pub uptest_interval: Option<Duration>,
    pub retention: crate::retention::Retention,
    pub notify: crate::notify::NotifyConfig,
}

impl ServeConfig {
    pub fn db_path(&self) -> PathBuf {
        self.data_dir.join("vr.db")
    }
    pub fn ssh_dir(&self) -> PathBuf {
        self.data_dir.join("ssh")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("reading config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config file {path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("no data directory: set --data-dir or VR_DATA_DIR (no home directory found)")]
    NoDataDir,
}

fn project_dirs() -> Option<directories::ProjectDirs> {
    directories::ProjectDirs::from("", "", "vr")
}

pub fn default_data_dir() -> Option<PathBuf> {
    project_dirs().map(|d| d.data_dir().to_path_buf())
}

/// `vr.toml` in the platform config dir, used when no file is named.
fn default_config_file() -> Option<PathBuf> {
    project_dirs()
        .map(|d| d.config_dir().join("vr.toml"))
        .filter(|p| p.exists())
}

pub fn read_file_config(path: &Path) -> Result<FileConfig, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    toml::from_str(&text).map_err(|e| ConfigError::Parse {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}

/// Merges flags/env (already merged by clap), the file and the defaults.
pub fn resolve(args: &ServeArgs) -> Result<ServeConfig, ConfigError> {
    let file = match args.config.clone().or_else(default_config_file) {
        Some(path) => read_file_config(&path)?,
        None => FileConfig::default(),
    };
    merge(args, file, default_data_dir())
}

fn merge(
    args: &ServeArgs,
    file: FileConfig,
    default_data: Option<PathBuf>,
) -> Result<ServeConfig, ConfigError> {
    let default_listen: SocketAddr = DEFAULT_LISTEN
        .parse()
        .unwrap_or(SocketAddr::from(([127, 0, 0, 1], 8000)));
    let open_browser = if args.open {
        OpenBrowser::Always
    } else if args.no_browser {
        OpenBrowser::Never
    } else {
        match file.open_browser {
            Some(true) => OpenBrowser::Always,
            Some(false) => OpenBrowser::Never,
            None => OpenBrowser::Auto,
        }
    };
    Ok(ServeConfig {
        listen: args.listen.or(file.listen).unwrap_or(default_listen),
        data_dir: args
            .data_dir
            .clone()
            .or(file.data_dir)
            .or(default_data)
            .ok_or(ConfigError::NoDataDir)?,
        open_browser,
        cookie_secure: args.cookie_secure.or(file.cookie_secure).unwrap_or(false),
        trusted_proxies: if args.trusted_proxies.is_empty() {
            file.trusted_proxies.unwrap_or_default()
        } else {
            args.trusted_proxies.clone()
        },
        session_hours: file.session_hours.unwrap_or(24 * 7).max(1),
        fleet: {
            let d = crate::fleet::FleetConfig::default();
            let ms = |flag: Option<u64>, file: Option<u64>, default: Duration, min: u64| {
                flag.or(file)
                    .map_or(default, |v| Duration::from_millis(v.max(min)))
            };
            crate::fleet::FleetConfig {
                poll_interval: ms(
                    args.poll_interval_ms,
                    file.poll_interval_ms,
                    d.poll_interval,
                    100,
                ),
                ssh_deadline: ms(
                    args.ssh_timeout_ms,
                    file.ssh_timeout_ms,
                    d.ssh_deadline,
                    100,
                ),
            }
        },
        builds: {
            let d = crate::jobs::BuildConfig::default();
            crate::jobs::BuildConfig {
                timeout: args
                    .build_timeout_secs
                    .or(file.build_timeout_secs)
                    .map_or(d.timeout, |s| Duration::from_secs(s.max(1))),
                keep_per_app: args
                    .keep_builds
                    .or(file.keep_builds)
                    .unwrap_or(d.keep_per_app),
                max_upload_bytes: args
                    .max_upload_mb
                    .or(file.max_upload_mb)
                    .map_or(d.max_upload_bytes, |m| m.saturating_mul(1024 * 1024)),
                max_log_bytes: args
                    .max_build_log_mb
                    .or(file.max_build_log_mb)
                    .map_or(d.max_log_bytes, |m| m.max(1).saturating_mul(1024 * 1024)),
            }
        },
        uptest_interval: args
            .uptest_interval_secs
            .or(file.uptest_interval_secs)
            .filter(|s| *s > 0)
            .map(Duration::from_secs),
        retention: {
            let d = crate::retention::Retention::default();
            crate::retention::Retention {
                events_days: args
                    .keep_events_days
                    .or(file.keep_events_days)
                    .unwrap_or(d.events_days),
                history_days: args
                    .keep_history_days
                    .or(file.keep_history_days)
                    .unwrap_or(d.history_days),
                jobs_days: args
                    .keep_jobs_days
                    .or(file.keep_jobs_days)
                    .unwrap_or(d.jobs_days),
            }
        },
        notify: {
            let d = crate::notify::NotifyConfig::default();
            crate::notify::NotifyConfig {
                timeout: args
                    .webhook_timeout_ms
                    .or(file.webhook_timeout_ms)
                    .map_or(d.timeout, |ms| Duration::from_millis(ms.max(100))),
                retry_base_ms: args
                    .webhook_retry_ms
                    .or(file.webhook_retry_ms)
                    .map_or(d.retry_base_ms, |ms| ms.max(10)),
            }
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_beat_file_beats_defaults() {
        let file: FileConfig = toml::from_str(
            "listen = \"127.0.0.1:9000\"\ndata_dir = \"/file\"\nopen_browser = false\nsession_hours = 2",
        )
        .expect("parse");
        let args = ServeArgs {
            listen: Some("127.0.0.1:7000".parse().expect("addr")),
            ..Default::default()
        };
        let c = merge(&args, file, Some("/default".into())).expect("merge");
        assert_eq!(c.listen.port(), 7000);
        assert_eq!(c.data_dir, PathBuf::from("/file"));
        assert_eq!(c.open_browser, OpenBrowser::Never);
        assert_eq!(c.session_hours, 2);
        assert_eq!(c.fleet.poll_interval, Duration::from_secs(1));
        let fast = ServeArgs {
            poll_interval_ms: Some(250),
            ssh_timeout_ms: Some(1),
            ..Default::default()
        };
        let c = merge(&fast, FileConfig::default(), Some("/d".into())).expect("merge");
        assert_eq!(c.fleet.poll_interval, Duration::from_millis(250));
        assert_eq!(c.fleet.ssh_deadline, Duration::from_millis(100));

        let c = merge(
            &ServeArgs::default(),
            FileConfig::default(),
            Some("/d".into()),
        )
        .expect("defaults");
        assert_eq!(c.listen.to_string(), DEFAULT_LISTEN);
        assert_eq!(c.data_dir, PathBuf::from("/d"));
        assert_eq!(c.open_browser, OpenBrowser::Auto);
        assert!(merge(&ServeArgs::default(), FileConfig::default(), None).is_err());
    }

    #[test]
    fn unknown_keys_in_the_file_are_errors() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("vr.toml");
        std::fs::write(&p, "listn = \"x\"").expect("write");
        let err = read_file_config(&p).expect_err("must fail");
        assert!(err.to_string().contains("listn"), "{err}");
    }
}
