//! POSIX shell quoting. Every value that reaches a remote command line goes through [`quote`].

/// Quotes `s` as one shell word: bare when it is made only of characters no shell treats
/// specially (not `=`: zsh expands a leading one), else single-quoted with each `'` written as
/// `'\''`. A NUL byte cannot be passed in any command line; callers validate values first.
pub fn quote(s: &str) -> String {
    let plain = !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./:@,+%".contains(&b));
    if plain {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// Joins already-typed words into a command line, quoting each.
pub fn command<I, S>(words: I) -> String
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    words
        .into_iter()
        .map(|w| quote(w.as_ref()))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::process::Command;

    fn via_sh(line: &str) -> Vec<String> {
        // printf prints each argument NUL-terminated, so any byte but NUL survives intact.
        let out = Command::new("/bin/sh")
            .arg("-c")
            .arg(format!("printf '%s\\0' {line}"))
            .output()
            .expect("run sh");
        assert!(out.status.success(), "sh failed for {line:?}");
        String::from_utf8(out.stdout)
            .expect("utf8")
            .split_terminator('\0')
            .map(str::to_string)
            .collect()
    }

    #[test]
    fn nasty_cases() {
        for s in [
            "",
            "plain",
            "a b",
            "it's",
            "$(rm -rf /)",
            "`id`",
            "a;b|c&d",
            "\\",
            "'",
            "''",
            "\n",
            "*",
            "~root",
            "-n",
            "é ✓",
            "=ls",
            "a=b",
        ] {
            assert_eq!(via_sh(&quote(s)), vec![s.to_string()], "input {s:?}");
        }
        assert_eq!(quote("supervisorctl"), "supervisorctl");
        assert_eq!(command(["echo", "a b"]), "echo 'a b'");
    }

    proptest! {
        // No input escapes its word: the shell hands back exactly what went in.
        #[test]
        fn round_trips_any_string(words in proptest::collection::vec("[^\u{0}]{0,12}", 1..4)) {
            prop_assert_eq!(via_sh(&command(&words)), words);
        }
    }
}
