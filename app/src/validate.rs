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

#[cfg(test)]
mod tests {
    use super::*;

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
}
