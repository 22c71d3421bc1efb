//! YAML from operators and buildpacks, parsed with limits: size, nesting depth and the number of
//! values after aliases are expanded are checked on the parser's event stream first, which stops
//! at the first limit crossed, so a document built to be expensive (100 000 levels deep, one
//! anchor behind thousands of aliases) costs microseconds instead of seconds of CPU and a
//! gigabyte of memory. Only a document within the limits is then handed to serde.

use saphyr_parser::{Event, Parser};
use std::collections::HashMap;

/// Largest YAML document accepted.
pub const MAX_BYTES: usize = 1024 * 1024;
/// Deepest nesting of mappings and sequences.
pub const MAX_DEPTH: usize = 64;
/// Most values (scalars, mappings, sequences) a document may stand for, aliases expanded.
pub const MAX_NODES: u64 = 100_000;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum YamlError {
    #[error("is larger than {} KiB", MAX_BYTES / 1024)]
    TooLarge,
    #[error("nests deeper than {MAX_DEPTH} levels (line {line})")]
    TooDeep { line: usize },
    #[error("stands for more than {MAX_NODES} values once its aliases are expanded (line {line})")]
    TooManyValues { line: usize },
    #[error("not valid YAML: line {line}, column {column}: {message}")]
    Syntax {
        line: usize,
        column: usize,
        message: String,
    },
}

/// Parses `text` into a YAML value within the limits above.
pub fn parse(text: &str) -> Result<serde_yaml_ng::Value, YamlError> {
    check(text)?;
    serde_yaml_ng::from_str(text).map_err(|e| {
        let (line, column) = e.location().map_or((0, 0), |l| (l.line(), l.column()));
        YamlError::Syntax {
            line,
            column,
            message: e.to_string(),
        }
    })
}

/// Walks the events of `text`, failing at the first limit crossed.
pub fn check(text: &str) -> Result<(), YamlError> {
    if text.len() > MAX_BYTES {
        return Err(YamlError::TooLarge);
    }
    // Per open collection: its anchor and the node count when it opened.
    let mut open: Vec<(usize, u64)> = Vec::new();
    // Per anchor: how many nodes it stands for.
    let mut sizes: HashMap<usize, u64> = HashMap::new();
    let mut nodes: u64 = 0;
    let mut parser = Parser::new_from_str(text);
    while let Some(next) = parser.next_event() {
        let (event, span) = next.map_err(|e| {
            if e.info().contains("recursion limit") {
                // The parser's own guard against deep nesting: same meaning as ours.
                YamlError::TooDeep {
                    line: e.marker().line(),
                }
            } else {
                YamlError::Syntax {
                    line: e.marker().line(),
                    column: e.marker().col() + 1,
                    message: e.info().to_string(),
                }
            }
        })?;
        let line = span.start.line();
        let add = |nodes: &mut u64, n: u64| {
            *nodes = nodes.saturating_add(n);
            if *nodes > MAX_NODES {
                Err(YamlError::TooManyValues { line })
            } else {
                Ok(())
            }
        };
        match event {
            Event::MappingStart(anchor, _) | Event::SequenceStart(anchor, _) => {
                add(&mut nodes, 1)?;
                if open.len() >= MAX_DEPTH {
                    return Err(YamlError::TooDeep { line });
                }
                open.push((anchor, nodes - 1));
            }
            Event::MappingEnd | Event::SequenceEnd => {
                if let Some((anchor, start)) = open.pop()
                    && anchor != 0
                {
                    sizes.insert(anchor, nodes - start);
                }
            }
            Event::Scalar(_, _, anchor, _) => {
                add(&mut nodes, 1)?;
                if anchor != 0 {
                    sizes.insert(anchor, 1);
                }
            }
            Event::Alias(anchor) => {
                add(&mut nodes, sizes.get(&anchor).copied().unwrap_or(1))?;
            }
            Event::StreamEnd => break,
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_documents_pass() {
        let v = parse("db:\n  host: x\n  ports: [1, 2]\nbase: &b {a: 1}\nother: *b\n").expect("ok");
        assert_eq!(v["db"]["ports"][1], serde_yaml_ng::Value::from(2));
        assert!(parse("").is_ok());
    }

    #[test]
    fn deep_nesting_is_refused_at_once() {
        let flow = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        assert!(matches!(check(&flow), Err(YamlError::TooDeep { .. })));
        let block: String = (0..70)
            .map(|i| format!("{}k{i}:\n", "  ".repeat(i)))
            .collect();
        assert!(
            matches!(check(&block), Err(YamlError::TooDeep { .. })),
            "{:?}",
            check(&block)
        );
        let fine: String = (0..20)
            .map(|i| format!("{}k{i}:\n", "  ".repeat(i)))
            .collect();
        assert!(check(&fine).is_ok());
    }

    #[test]
    fn alias_bombs_are_refused() {
        // One anchor of 1000 values behind 1000 aliases: 5 KB standing for a million values.
        let items = vec!["x"; 1000].join(",");
        let aliases = vec!["*a"; 1000].join(",");
        let bomb = format!("a: &a [{items}]\nb: [{aliases}]\n");
        assert!(bomb.len() < 10_000);
        assert!(matches!(check(&bomb), Err(YamlError::TooManyValues { .. })));
        // The billion laughs: each level doubles the last.
        let mut laughs = String::from("l0: &l0 [ha, ha]\n");
        for i in 1..40 {
            laughs.push_str(&format!("l{i}: &l{i} [*l{}, *l{}]\n", i - 1, i - 1));
        }
        assert!(matches!(
            check(&laughs),
            Err(YamlError::TooManyValues { .. })
        ));
    }

    #[test]
    fn size_and_syntax_errors_say_where() {
        assert_eq!(check(&"a".repeat(MAX_BYTES + 1)), Err(YamlError::TooLarge));
        let err = parse("a: 1\nb: [unclosed\n").expect_err("bad");
        assert!(
            matches!(
                err,
                YamlError::Syntax { line: 3, .. } | YamlError::Syntax { line: 2, .. }
            ),
            "{err:?}"
        );
    }

    proptest::proptest! {
        /// Any text gets an answer, never a panic; a document it accepts is within the limits.
        #[test]
        fn any_text_is_checked(text in "(?s).{0,2000}") {
            let _ = parse(&text);
        }

        /// YAML-ish soup with anchors and aliases too.
        #[test]
        fn any_yaml_soup_is_checked(parts in proptest::collection::vec(
            proptest::sample::select(vec![
                "a: ", "- ", "[", "]", "{", "}", ", ", "\n", "  ", "&x ", "*x", "&y ", "*y",
                "'q'", "\"d\"", "|\n  t\n", "!tag ", "? ", "x", "1", "~", "#c\n", "---\n",
            ]),
            0..300,
        )) {
            let _ = parse(&parts.concat());
        }
    }
}
