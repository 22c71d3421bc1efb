//! Page state kept in the URL's query (filters, the open proc, a compared release), so a view
//! can be linked to and survives a reload and Back. Pure: the UI reads the decoded pairs the
//! router gives it and writes back what [`with_param`] builds.

use crate::fleet::{ProcRef, path_segment};

/// `?a=1&b=x%20y` from decoded pairs, in order, skipping empty values; empty when none remain.
pub fn query_string<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let parts: Vec<String> = pairs
        .into_iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{}={}", path_segment(k), path_segment(v)))
        .collect();
    if parts.is_empty() {
        String::new()
    } else {
        format!("?{}", parts.join("&"))
    }
}

/// The query of `pairs` with `key` set to `value` (or removed when `None` or empty); the
/// other keys keep their order, a new key goes last.
pub fn with_param(pairs: &[(String, String)], key: &str, value: Option<&str>) -> String {
    let value = value.unwrap_or_default();
    let mut out: Vec<(&str, &str)> = Vec::with_capacity(pairs.len() + 1);
    let mut placed = false;
    for (k, v) in pairs {
        if k == key {
            if !placed {
                out.push((key, value));
                placed = true;
            }
        } else {
            out.push((k, v));
        }
    }
    if !placed {
        out.push((key, value));
    }
    query_string(out)
}

/// Percent-decodes one URL component (`+` is a space in a query); a broken escape or bytes
/// that are not UTF-8 are kept as they are rather than dropped.
pub fn decode_component(s: &str, plus_is_space: bool) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let hex = |at: usize| bytes.get(at).and_then(|c| (*c as char).to_digit(16));
        match (b, hex(i + 1), hex(i + 2)) {
            (b'%', Some(hi), Some(lo)) => {
                // Two hex digits are below 256.
                out.push(u8::try_from(hi * 16 + lo).unwrap_or(b'?'));
                i += 3;
            }
            (b'+', _, _) if plus_is_space => {
                out.push(b' ');
                i += 1;
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).unwrap_or_else(|_| s.to_string())
}

/// The decoded pairs of a URL's query (`?a=1&b=x%20y`, the `?` optional), in order; a key
/// without `=` has an empty value.
pub fn parse_query(search: &str) -> Vec<(String, String)> {
    search
        .trim_start_matches('?')
        .split('&')
        .filter(|part| !part.is_empty())
        .map(|part| {
            let (k, v) = part.split_once('=').unwrap_or((part, ""));
            (decode_component(k, true), decode_component(v, true))
        })
        .collect()
}

/// A proc as one query value: `host/name` (host names never hold `/`).
pub fn proc_param(p: &ProcRef) -> String {
    format!("{}/{}", p.host, p.name)
}

/// The proc a `?proc=host/name` value names, if it is one.
pub fn parse_proc_param(value: &str) -> Option<ProcRef> {
    let (host, name) = value.split_once('/')?;
    (!host.is_empty() && !name.is_empty()).then(|| ProcRef {
        host: host.to_string(),
        name: name.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn setting_a_param_keeps_the_others_in_order_and_encodes() {
        let q = pairs(&[("q", "web"), ("state", "RUNNING")]);
        assert_eq!(
            with_param(&q, "q", Some("a b&c")),
            "?q=a%20b%26c&state=RUNNING"
        );
        assert_eq!(with_param(&q, "state", None), "?q=web");
        assert_eq!(
            with_param(&q, "proc", Some("h1/grp:web")),
            "?q=web&state=RUNNING&proc=h1%2Fgrp%3Aweb"
        );
        assert_eq!(with_param(&pairs(&[("q", "x")]), "q", Some("")), "");
        assert_eq!(with_param(&[], "q", None), "");
        // A key given twice ends as one.
        let twice = pairs(&[("q", "a"), ("x", "1"), ("q", "b")]);
        assert_eq!(with_param(&twice, "q", Some("c")), "?q=c&x=1");
    }

    #[test]
    fn queries_decode_what_query_string_encodes() {
        let q = query_string([("q", "a b&c=d/é"), ("state", "RUNNING"), ("x", "")]);
        assert_eq!(
            parse_query(&q),
            pairs(&[("q", "a b&c=d/é"), ("state", "RUNNING")])
        );
        assert_eq!(
            parse_query("?a=1+2&flag&=v"),
            pairs(&[("a", "1 2"), ("flag", ""), ("", "v")])
        );
        assert_eq!(parse_query(""), pairs(&[]));
        // Broken escapes and non-UTF-8 bytes are kept, not dropped.
        assert_eq!(decode_component("100%", false), "100%");
        assert_eq!(decode_component("%zz", false), "%zz");
        assert_eq!(decode_component("%ff", false), "%ff");
        assert_eq!(decode_component("a+b", false), "a+b");
    }

    #[test]
    fn procs_round_trip_through_one_value() {
        let p = ProcRef {
            host: "web1".into(),
            name: "grp:shop-prod-web-5001".into(),
        };
        assert_eq!(parse_proc_param(&proc_param(&p)), Some(p));
        assert_eq!(parse_proc_param("no-slash"), None);
        assert_eq!(parse_proc_param("/x"), None);
        assert_eq!(parse_proc_param("h/"), None);
        // Only the first slash splits.
        assert_eq!(
            parse_proc_param("h/a/b").map(|p| p.name),
            Some("a/b".into())
        );
    }
}
