//! Validation of user input, shared so the UI can check a form before sending it and the
//! server checks again. Each failure names the field at fault.

use thiserror::Error;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{field}: {message}")]
pub struct Invalid {
    pub field: &'static str,
    pub message: String,
}

impl Invalid {
    pub fn new(field: &'static str, message: impl Into<String>) -> Self {
        Invalid {
            field,
            message: message.into(),
        }
    }
}

pub const PASSWORD_MIN: usize = 10;
pub const PASSWORD_MAX: usize = 1024;

/// A username: 1–64 of lowercase letters, digits, `_`, `.`, `-`, starting with a letter or digit.
pub fn username(field: &'static str, s: &str) -> Result<(), Invalid> {
    if s.is_empty() || s.len() > 64 {
        return Err(Invalid::new(field, "must be 1 to 64 characters"));
    }
    let mut chars = s.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    let rest_ok = s
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '_' | '.' | '-'));
    if !first_ok || !rest_ok {
        return Err(Invalid::new(
            field,
            "use lowercase letters, digits, '_', '.' or '-', starting with a letter or digit",
        ));
    }
    Ok(())
}

pub fn password(field: &'static str, s: &str) -> Result<(), Invalid> {
    let n = s.chars().count();
    if n < PASSWORD_MIN {
        return Err(Invalid::new(
            field,
            format!("must be at least {PASSWORD_MIN} characters"),
        ));
    }
    if s.len() > PASSWORD_MAX {
        return Err(Invalid::new(
            field,
            format!("must be at most {PASSWORD_MAX} bytes"),
        ));
    }
    Ok(())
}

/// A short label such as a token name: 1–100 printable characters, no control characters.
pub fn label(field: &'static str, s: &str) -> Result<(), Invalid> {
    let t = s.trim();
    if t.is_empty() || t.chars().count() > 100 {
        return Err(Invalid::new(field, "must be 1 to 100 characters"));
    }
    if t.chars().any(char::is_control) {
        return Err(Invalid::new(field, "must not contain control characters"));
    }
    Ok(())
}

/// A squad name: 1–64 of letters, digits, `_`, `.`, `-`, starting with a letter or digit.
pub fn squad_name(field: &'static str, s: &str) -> Result<(), Invalid> {
    simple_name(field, s, 64)
}

/// A host name as `vr` shows it: 1–253 of letters, digits, `_`, `.`, `-`, starting with a
/// letter or digit.
pub fn host_name(field: &'static str, s: &str) -> Result<(), Invalid> {
    simple_name(field, s, 253)
}

pub fn simple_name(field: &'static str, s: &str, max: usize) -> Result<(), Invalid> {
    if s.is_empty() || s.len() > max {
        return Err(Invalid::new(
            field,
            format!("must be 1 to {max} characters"),
        ));
    }
    let first_ok = s.chars().next().is_some_and(|c| c.is_ascii_alphanumeric());
    let rest_ok = s
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    if !first_ok || !rest_ok {
        return Err(Invalid::new(
            field,
            "use letters, digits, '_', '.' or '-', starting with a letter or digit",
        ));
    }
    Ok(())
}

/// An SSH address: a DNS name, an IPv4 address or an IPv6 address (without brackets). The
/// port has a field of its own.
pub fn address(field: &'static str, s: &str) -> Result<(), Invalid> {
    if s.is_empty() || s.len() > 253 {
        return Err(Invalid::new(field, "must be 1 to 253 characters"));
    }
    if s.contains(':') {
        if s.parse::<core::net::Ipv6Addr>().is_ok() {
            return Ok(());
        }
        if let Some((host, port)) = s.rsplit_once(':')
            && !host.contains(':')
            && !port.is_empty()
            && port.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(Invalid::new(
                field,
                format!("{s:?} has a port in it: put {host} here and {port} in the port field"),
            ));
        }
        return Err(Invalid::new(field, format!("{s:?} is not an IPv6 address")));
    }
    if s.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return match s.parse::<core::net::Ipv4Addr>() {
            Ok(_) => Ok(()),
            Err(_) => Err(Invalid::new(field, format!("{s:?} is not an IPv4 address"))),
        };
    }
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    if !s.trim_end_matches('.').split('.').all(label_ok) {
        return Err(Invalid::new(
            field,
            format!(
                "{s:?} is not a host name or IP address (dot-separated labels of letters, digits and '-')"
            ),
        ));
    }
    Ok(())
}

/// True for a name the shell takes as a variable: `[A-Za-z_][A-Za-z0-9_]*`.
pub fn is_env_name(s: &str) -> bool {
    let mut bytes = s.bytes();
    bytes
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
        && s.len() <= 256
}

/// An environment variable name; it becomes shell syntax in the proc's env file.
pub fn env_name(field: &'static str, s: &str) -> Result<(), Invalid> {
    if is_env_name(s) {
        Ok(())
    } else {
        Err(Invalid::new(
            field,
            format!(
                "{s:?} is not an environment variable name: use letters, digits and '_', not starting with a digit"
            ),
        ))
    }
}

/// A Unix login name.
pub fn unix_user(field: &'static str, s: &str) -> Result<(), Invalid> {
    let first_ok = s
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_');
    let rest_ok = s
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '_' | '-'));
    if s.is_empty() || s.len() > 32 || !first_ok || !rest_ok {
        return Err(Invalid::new(
            field,
            "must be a Unix user name: lowercase letters, digits, '_' or '-', at most 32",
        ));
    }
    Ok(())
}

/// An absolute path on a host. Quoting makes any byte safe in a command line; this rejects
/// what no sane layout has (relative paths, `..`, control characters).
pub fn remote_path(field: &'static str, s: &str) -> Result<(), Invalid> {
    if !s.starts_with('/') || s.len() > 1024 {
        return Err(Invalid::new(
            field,
            "must be an absolute path (at most 1024 bytes)",
        ));
    }
    if s.chars().any(char::is_control) {
        return Err(Invalid::new(field, "must not contain control characters"));
    }
    if s.split('/').any(|part| part == "..") {
        return Err(Invalid::new(field, "must not contain '..'"));
    }
    Ok(())
}

/// A command given as words (e.g. `supervisorctl -c /etc/x.conf`). Each word is quoted on its
/// own when run, so it can never become more than one argument.
pub fn command_words(field: &'static str, s: &str) -> Result<(), Invalid> {
    if s.split_whitespace().next().is_none() || s.len() > 1024 {
        return Err(Invalid::new(field, "must be a command of 1 to 1024 bytes"));
    }
    if s.chars().any(|c| c.is_control() && c != ' ') {
        return Err(Invalid::new(field, "must not contain control characters"));
    }
    Ok(())
}

/// A port range for procs: both ends 1–65535, low ≤ high.
pub fn port_range(field: &'static str, low: u16, high: u16) -> Result<(), Invalid> {
    if low == 0 || high == 0 || low > high {
        return Err(Invalid::new(
            field,
            format!("{low}–{high} is not a port range (1–65535, low to high)"),
        ));
    }
    Ok(())
}

/// An app name (SPEC §1): 1–50 of lowercase letters, digits and `_`.
pub fn app_name(field: &'static str, s: &str) -> Result<(), Invalid> {
    if s.is_empty()
        || s.len() > 50
        || !s
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    {
        return Err(Invalid::new(
            field,
            "use 1 to 50 lowercase letters, digits or '_' (no dashes, no spaces)",
        ));
    }
    Ok(())
}

/// A git URL: `https://`, `http://`, `ssh://`, `git://` or `file://`, or scp-like
/// `user@host:path`; an optional `#ref` fragment. Never starting with `-` (git would read an
/// option), no whitespace or control characters.
pub fn git_url(field: &'static str, s: &str) -> Result<(), Invalid> {
    let (url, fragment) = s.split_once('#').unwrap_or((s, ""));
    let schemes = ["https://", "http://", "ssh://", "git://", "file://"];
    let scp_like = url
        .split_once(':')
        .is_some_and(|(host, path)| host.contains('@') && !host.contains('/') && !path.is_empty());
    let ok = !url.is_empty()
        && url.len() <= 1000
        && !url.starts_with('-')
        && !s.chars().any(|c| c.is_whitespace() || c.is_control())
        && (schemes
            .iter()
            .any(|p| url.starts_with(p) && url.len() > p.len())
            || scp_like);
    if !ok {
        return Err(Invalid::new(
            field,
            "must be a git URL (https://, ssh://, git://, file:// or user@host:path), without spaces",
        ));
    }
    if !fragment.is_empty() {
        git_ref("ref", fragment)
            .map_err(|e| Invalid::new(field, format!("#ref: {}", e.message)))?;
    }
    Ok(())
}

/// A version to build: a branch, tag or commit as git accepts them, never an option.
pub fn git_ref(field: &'static str, s: &str) -> Result<(), Invalid> {
    let ok = !s.is_empty()
        && s.len() <= 200
        && !s.starts_with('-')
        && !s.starts_with('/')
        && !s.ends_with('/')
        && !s.ends_with(".lock")
        && !s.contains("..")
        && !s.contains("@{")
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._/-+".contains(&b));
    if !ok {
        return Err(Invalid::new(
            field,
            "must be a branch, tag or commit: letters, digits, '.', '_', '/', '-', '+' (not starting with '-')",
        ));
    }
    Ok(())
}

/// Checks every field of a host's settings.
pub fn host_settings(h: &crate::fleet::HostSettings) -> Result<(), Invalid> {
    // The address first: the name defaults to it, and a bad address must be called that.
    address("address", &h.address)?;
    host_name("name", &h.name)?;
    if h.port == 0 {
        return Err(Invalid::new("port", "must be 1 to 65535"));
    }
    unix_user("user", &h.user)?;
    if let Some(s) = &h.squad {
        squad_name("squad", s)?;
    }
    if let Some(c) = &h.supervisorctl {
        command_words("supervisorctl", c)?;
    }
    for (field, value) in [
        ("supervisor_socket", &h.supervisor_socket),
        ("include_dir", &h.include_dir),
        ("apps_root", &h.apps_root),
    ] {
        if let Some(p) = value {
            remote_path(field, p)?;
        }
    }
    let (low, high) = h.port_range();
    port_range("port_min", low, high)?;
    if h.notes.len() > 10_000 {
        return Err(Invalid::new("notes", "must be at most 10000 bytes"));
    }
    Ok(())
}

/// Free text such as a description: may be empty; at most 500 characters, no control characters.
pub fn label_or_empty(field: &'static str, s: &str) -> Result<(), Invalid> {
    if s.trim().is_empty() {
        return Ok(());
    }
    if s.chars().count() > 500 || s.chars().any(char::is_control) {
        return Err(Invalid::new(
            field,
            "must be at most 500 characters, without control characters",
        ));
    }
    Ok(())
}

/// A whole number typed by a person, from `min` to `max`: digits only, so `5e3`, `-5`, `1.5` or
/// `0x10` are refused with a message saying why instead of being read as something else.
pub fn whole_number(field: &'static str, s: &str, min: u64, max: u64) -> Result<u64, Invalid> {
    let t = s.trim();
    let range = || format!("must be a whole number from {min} to {max}");
    if t.is_empty() {
        return Err(Invalid::new(field, range()));
    }
    if t.starts_with('-') {
        return Err(Invalid::new(
            field,
            format!("{}; negative numbers are not allowed", range()),
        ));
    }
    if !t.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Invalid::new(
            field,
            format!("{}, digits only ({t:?} is not one)", range()),
        ));
    }
    match t.parse::<u64>() {
        Ok(n) if (min..=max).contains(&n) => Ok(n),
        _ => Err(Invalid::new(
            field,
            format!("{} ({t} is out of range)", range()),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_numbers_are_digits_only_and_never_reinterpreted() {
        assert_eq!(whole_number("port", " 5001 ", 0, 65535), Ok(5001));
        assert_eq!(whole_number("port", "0", 0, 65535), Ok(0));
        for bad in ["5e3", "-5", "1.5", "0x10", "+7", "", "5 000", "٣"] {
            let e = whole_number("port", bad, 0, 65535).expect_err(bad);
            assert_eq!(e.field, "port");
        }
        assert!(
            whole_number("port", "-5", 0, 65535)
                .expect_err("refused")
                .message
                .contains("negative")
        );
        assert!(
            whole_number("port", "5e3", 0, 65535)
                .expect_err("refused")
                .message
                .contains("digits only")
        );
        assert!(
            whole_number("port", "70000", 0, 65535)
                .expect_err("refused")
                .message
                .contains("out of range")
        );
        assert!(whole_number("port", "99999999999999999999999", 0, 65535).is_err());
    }

    fn check(f: fn(&'static str, &str) -> Result<(), Invalid>, cases: &[(&str, bool)]) {
        for (input, ok) in cases {
            assert_eq!(f("x", input).is_ok(), *ok, "input {input:?}");
        }
    }

    #[test]
    fn usernames() {
        check(
            username,
            &[
                ("admin", true),
                ("a", true),
                ("ops.team-1_x", true),
                ("", false),
                ("Admin", false),
                ("-lead", false),
                ("a b", false),
                ("a;rm -rf /", false),
                ("é", false),
                (&"a".repeat(64), true),
                (&"a".repeat(65), false),
            ],
        );
    }

    #[test]
    fn passwords() {
        check(
            password,
            &[
                ("short", false),
                ("0123456789", true),
                ("ééééééééé", false),
                ("éééééééééé", true),
                (&"p".repeat(1025), false),
            ],
        );
    }

    #[test]
    fn labels() {
        check(
            label,
            &[
                ("laptop", true),
                ("  ", false),
                ("a\nb", false),
                (&"x".repeat(101), false),
            ],
        );
    }

    #[test]
    fn apps_urls_and_refs() {
        check(
            app_name,
            &[
                ("shop", true),
                ("shop_2", true),
                ("Shop", false),
                ("shop-web", false),
                ("", false),
                (&"a".repeat(51), false),
            ],
        );
        check(
            git_url,
            &[
                ("https://github.com/x/y.git", true),
                ("git@github.com:x/y.git", true),
                ("file:///srv/git/app.git", true),
                ("https://h/bp.git#v1.2", true),
                ("https://h/bp.git#-x", false),
                ("-uhttps://x", false),
                ("--upload-pack=touch /tmp/p", false),
                ("https://h/a b", false),
                ("/srv/git/app", false),
                ("https://", false),
            ],
        );
        check(
            git_ref,
            &[
                ("v1.2.0", true),
                ("main", true),
                ("feature/x", true),
                ("0a1b2c3d", true),
                ("-h", false),
                ("a..b", false),
                ("a b", false),
                ("x;rm", false),
                ("$(id)", false),
                ("HEAD@{1}", false),
            ],
        );
    }

    #[test]
    fn fleet_names() {
        check(
            squad_name,
            &[
                ("web", true),
                ("prod-east_2", true),
                ("", false),
                ("a b", false),
                ("x;y", false),
                ("-x", false),
            ],
        );
        check(
            host_name,
            &[
                ("host1.example.com", true),
                ("10.0.0.1", true),
                ("$(id)", false),
            ],
        );
        check(
            address,
            &[
                ("10.0.0.1", true),
                ("::1", true),
                ("fe80::1", true),
                ("db-1.internal", true),
                ("a b", false),
                ("`id`", false),
                ("", false),
                ("-oProxyCommand=x", false),
                (":::::", false),
                ("a..b", false),
                ("1.1.1.1.1.1", false),
                ("1.2.3.4:22", false),
                ("300.1.1.1", false),
                ("host-.example", false),
                ("web1.example.com.", true),
                ("2001:db8::8a2e:370:7334", true),
            ],
        );
        let e = address("address", "1.2.3.4:22").expect_err("port");
        assert!(e.message.contains("port field"), "{}", e.message);
        check(
            env_name,
            &[
                ("PATH", true),
                ("_x1", true),
                ("A;curl x|sh;B", false),
                ("1A", false),
                ("A-B", false),
                ("", false),
                ("A B", false),
            ],
        );
        check(
            unix_user,
            &[
                ("root", true),
                ("deploy", true),
                ("Root", false),
                ("a;b", false),
                ("", false),
            ],
        );
        check(
            remote_path,
            &[
                ("/apps", true),
                ("/my apps/x", true),
                ("apps", false),
                ("/a/../b", false),
                ("/a\nb", false),
                ("/a\u{0}b", false),
            ],
        );
        check(
            command_words,
            &[
                ("supervisorctl -c /x.conf", true),
                ("  ", false),
                ("a\nb", false),
            ],
        );
        assert!(port_range("p", 5000, 5999).is_ok());
        assert!(port_range("p", 6000, 5999).is_err());
        assert!(port_range("p", 0, 10).is_err());
    }
}
