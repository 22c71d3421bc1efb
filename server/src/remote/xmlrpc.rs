//! The small part of XML-RPC that supervisord speaks: encode a call, decode a response or fault.
//!
//! Hand-written because the dialect is tiny (no attributes, namespaces, CDATA or comments) and
//! this keeps a full XML library, with its changing event API, out of the binary.

use std::fmt::Write as _;

/// Deepest nesting of arrays and structs accepted: supervisord's answers nest two deep; a hostile
/// socket must not make the recursive decoder overflow the stack.
const MAX_DEPTH: usize = 32;

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Int(i64),
    Bool(bool),
    Str(String),
    Double(f64),
    Array(Vec<Value>),
    Struct(Vec<(String, Value)>),
    Nil,
}

impl Value {
    pub fn member(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Struct(members) => members.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum XmlRpcError {
    #[error("supervisord answered fault {code}: {message}")]
    Fault { code: i64, message: String },
    #[error("unreadable XML-RPC answer: {0}")]
    Malformed(String),
}

/// The HTTP request carrying one call; HTTP/1.0 so the server closes when it has answered.
pub fn request(method: &str, params: &[Value]) -> Vec<u8> {
    let mut body = String::from("<?xml version=\"1.0\"?><methodCall><methodName>");
    body.push_str(&escape(method));
    body.push_str("</methodName><params>");
    for p in params {
        body.push_str("<param>");
        encode_value(p, &mut body);
        body.push_str("</param>");
    }
    body.push_str("</params></methodCall>");
    let mut out = format!(
        "POST /RPC2 HTTP/1.0\r\nHost: localhost\r\nContent-Type: text/xml\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    out.push_str(&body);
    out.into_bytes()
}

fn encode_value(v: &Value, out: &mut String) {
    out.push_str("<value>");
    match v {
        Value::Int(i) => {
            let _ = write!(out, "<int>{i}</int>");
        }
        Value::Bool(b) => {
            let _ = write!(out, "<boolean>{}</boolean>", u8::from(*b));
        }
        Value::Str(s) => {
            let _ = write!(out, "<string>{}</string>", escape(s));
        }
        Value::Double(d) => {
            let _ = write!(out, "<double>{d}</double>");
        }
        Value::Array(items) => {
            out.push_str("<array><data>");
            for item in items {
                encode_value(item, out);
            }
            out.push_str("</data></array>");
        }
        Value::Struct(members) => {
            out.push_str("<struct>");
            for (k, v) in members {
                let _ = write!(out, "<member><name>{}</name>", escape(k));
                encode_value(v, out);
                out.push_str("</member>");
            }
            out.push_str("</struct>");
        }
        Value::Nil => out.push_str("<nil/>"),
    }
    out.push_str("</value>");
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Decodes a whole HTTP response (status line, headers, body).
pub fn parse_http_response(raw: &[u8]) -> Result<Value, XmlRpcError> {
    let text = String::from_utf8_lossy(raw);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| XmlRpcError::Malformed("no HTTP header".into()))?;
    let status_line = head.lines().next().unwrap_or_default();
    if status_line.split_whitespace().nth(1) != Some("200") {
        return Err(XmlRpcError::Malformed(format!(
            "HTTP status {status_line:?}"
        )));
    }
    parse_response(body)
}

/// Decodes a `methodResponse` document: its value, or its fault as an error.
pub fn parse_response(xml: &str) -> Result<Value, XmlRpcError> {
    let tokens = tokenize(xml)?;
    let mut p = Parser {
        tokens,
        pos: 0,
        depth: 0,
    };
    p.open("methodResponse")?;
    if p.peek_open("fault") {
        p.open("fault")?;
        let v = p.value()?;
        let code = v.member("faultCode").and_then(Value::as_int).unwrap_or(0);
        let message = v
            .member("faultString")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        return Err(XmlRpcError::Fault { code, message });
    }
    p.open("params")?;
    p.open("param")?;
    let v = p.value()?;
    p.close("param")?;
    p.close("params")?;
    p.close("methodResponse")?;
    Ok(v)
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Open(String),
    Close(String),
    /// `<x/>`
    Empty(String),
    Text(String),
}

fn tokenize(xml: &str) -> Result<Vec<Tok>, XmlRpcError> {
    let bad = |m: &str| XmlRpcError::Malformed(m.to_string());
    let mut out = Vec::new();
    let mut rest = xml;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('<') {
            let end = after.find('>').ok_or_else(|| bad("unterminated tag"))?;
            let tag = &after[..end];
            rest = &after[end + 1..];
            if tag.starts_with('?') || tag.starts_with('!') {
                continue;
            }
            if let Some(name) = tag.strip_prefix('/') {
                out.push(Tok::Close(name.trim().to_string()));
            } else if let Some(name) = tag.strip_suffix('/') {
                out.push(Tok::Empty(name.trim().to_string()));
            } else {
                // No attributes in XML-RPC; keep only the name in case of stray ones.
                let name = tag.split_whitespace().next().unwrap_or_default();
                out.push(Tok::Open(name.to_string()));
            }
        } else {
            let end = rest.find('<').unwrap_or(rest.len());
            out.push(Tok::Text(unescape(&rest[..end])?));
            rest = &rest[end..];
        }
    }
    Ok(out)
}

fn unescape(s: &str) -> Result<String, XmlRpcError> {
    if !s.contains('&') {
        return Ok(s.to_string());
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let end = after
            .find(';')
            .ok_or_else(|| XmlRpcError::Malformed("unterminated entity".into()))?;
        let entity = &after[..end];
        let c = match entity {
            "lt" => Some('<'),
            "gt" => Some('>'),
            "amp" => Some('&'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ => entity
                .strip_prefix("#x")
                .map(|h| u32::from_str_radix(h, 16))
                .or_else(|| entity.strip_prefix('#').map(str::parse::<u32>))
                .and_then(Result::ok)
                .and_then(char::from_u32),
        };
        out.push(c.ok_or_else(|| XmlRpcError::Malformed(format!("entity &{entity};")))?);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

struct Parser {
    tokens: Vec<Tok>,
    pos: usize,
    /// Arrays and structs open around the current token.
    depth: usize,
}

impl Parser {
    fn bad(&self, what: &str) -> XmlRpcError {
        XmlRpcError::Malformed(format!("{what} at token {}", self.pos))
    }

    /// Skips whitespace-only text, which is layout between elements.
    fn skip_space(&mut self) {
        while let Some(Tok::Text(t)) = self.tokens.get(self.pos) {
            if !t.trim().is_empty() {
                break;
            }
            self.pos += 1;
        }
    }

    fn peek_open(&mut self, name: &str) -> bool {
        self.skip_space();
        matches!(self.tokens.get(self.pos), Some(Tok::Open(n)) if n == name)
    }

    fn open(&mut self, name: &str) -> Result<(), XmlRpcError> {
        if self.peek_open(name) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.bad(&format!("expected <{name}>")))
        }
    }

    fn close(&mut self, name: &str) -> Result<(), XmlRpcError> {
        self.skip_space();
        match self.tokens.get(self.pos) {
            Some(Tok::Close(n)) if n == name => {
                self.pos += 1;
                Ok(())
            }
            _ => Err(self.bad(&format!("expected </{name}>"))),
        }
    }

    /// Text up to the closing tag `name` (which it consumes); empty when there is none.
    fn text_until(&mut self, name: &str) -> Result<String, XmlRpcError> {
        let mut text = String::new();
        while let Some(Tok::Text(t)) = self.tokens.get(self.pos) {
            text.push_str(t);
            self.pos += 1;
        }
        match self.tokens.get(self.pos) {
            Some(Tok::Close(n)) if n == name => {
                self.pos += 1;
                Ok(text)
            }
            _ => Err(self.bad(&format!("expected </{name}>"))),
        }
    }

    fn value(&mut self) -> Result<Value, XmlRpcError> {
        self.skip_space();
        if matches!(self.tokens.get(self.pos), Some(Tok::Empty(n)) if n == "value") {
            self.pos += 1;
            return Ok(Value::Str(String::new()));
        }
        self.open("value")?;
        // A bare `<value>text</value>` is a string; whitespace in it is data.
        let start = self.pos;
        let mut bare = String::new();
        while let Some(Tok::Text(t)) = self.tokens.get(self.pos) {
            bare.push_str(t);
            self.pos += 1;
        }
        if matches!(self.tokens.get(self.pos), Some(Tok::Close(n)) if n == "value") {
            self.pos += 1;
            return Ok(Value::Str(bare));
        }
        self.pos = start;
        self.skip_space();
        let v = match self.tokens.get(self.pos).cloned() {
            Some(Tok::Empty(t)) => {
                self.pos += 1;
                match t.as_str() {
                    "string" => Value::Str(String::new()),
                    "nil" => Value::Nil,
                    "array" => Value::Array(Vec::new()),
                    "struct" => Value::Struct(Vec::new()),
                    other => return Err(self.bad(&format!("empty <{other}/>"))),
                }
            }
            Some(Tok::Open(t)) => {
                self.pos += 1;
                self.typed(&t)?
            }
            _ => return Err(self.bad("expected a value")),
        };
        self.close("value")?;
        Ok(v)
    }

    fn typed(&mut self, t: &str) -> Result<Value, XmlRpcError> {
        if matches!(t, "array" | "struct") {
            if self.depth >= MAX_DEPTH {
                return Err(self.bad(&format!("values nested deeper than {MAX_DEPTH}")));
            }
            self.depth += 1;
            let v = self.compound(t);
            self.depth -= 1;
            return v;
        }
        self.scalar(t)
    }

    fn scalar(&mut self, t: &str) -> Result<Value, XmlRpcError> {
        Ok(match t {
            "string" => Value::Str(self.text_until("string")?),
            "int" | "i4" | "i8" => {
                let s = self.text_until(t)?;
                Value::Int(s.trim().parse().map_err(|_| self.bad("bad int"))?)
            }
            "boolean" => Value::Bool(self.text_until("boolean")?.trim() == "1"),
            "double" => {
                let s = self.text_until("double")?;
                Value::Double(s.trim().parse().map_err(|_| self.bad("bad double"))?)
            }
            "dateTime.iso8601" | "base64" => Value::Str(self.text_until(t)?),
            "nil" => {
                self.close("nil")?;
                Value::Nil
            }
            other => return Err(self.bad(&format!("unknown type <{other}>"))),
        })
    }

    fn compound(&mut self, t: &str) -> Result<Value, XmlRpcError> {
        Ok(match t {
            "array" => {
                let mut items = Vec::new();
                self.skip_space();
                if matches!(self.tokens.get(self.pos), Some(Tok::Empty(n)) if n == "data") {
                    self.pos += 1;
                } else {
                    self.open("data")?;
                    loop {
                        self.skip_space();
                        if matches!(self.tokens.get(self.pos), Some(Tok::Close(n)) if n == "data") {
                            self.pos += 1;
                            break;
                        }
                        items.push(self.value()?);
                    }
                }
                self.close("array")?;
                Value::Array(items)
            }
            "struct" => {
                let mut members = Vec::new();
                loop {
                    self.skip_space();
                    if matches!(self.tokens.get(self.pos), Some(Tok::Close(n)) if n == "struct") {
                        self.pos += 1;
                        break;
                    }
                    self.open("member")?;
                    self.open("name")?;
                    let key = self.text_until("name")?;
                    let v = self.value()?;
                    self.close("member")?;
                    members.push((key, v));
                }
                Value::Struct(members)
            }
            other => return Err(self.bad(&format!("unknown type <{other}>"))),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Real answers of supervisord 4.2.5 over its unix socket, captured with the raw bytes.
    const ALL_PROCESS_INFO: &[u8] = include_bytes!("fixtures/get_all_process_info.http");
    const FAULT_BAD_NAME: &[u8] = include_bytes!("fixtures/fault_bad_name.http");
    const TAIL_STDOUT: &[u8] = include_bytes!("fixtures/tail_stdout.http");

    #[test]
    fn decodes_captured_process_info() {
        let v = parse_http_response(ALL_PROCESS_INFO).expect("parse");
        let Value::Array(items) = v else {
            panic!("not an array: {v:?}")
        };
        let names: Vec<_> = items
            .iter()
            .filter_map(|i| i.member("name").and_then(Value::as_str))
            .collect();
        assert_eq!(names, ["dies", "web_1"]);
        assert_eq!(items[0].member("state").and_then(Value::as_int), Some(200));
        assert_eq!(
            items[0].member("spawnerr").and_then(Value::as_str),
            Some("Exited too quickly (process log may have details)")
        );
        assert_eq!(
            items[1].member("statename").and_then(Value::as_str),
            Some("RUNNING")
        );
        assert!(items[1].member("pid").and_then(Value::as_int).unwrap_or(0) > 0);
    }

    #[test]
    fn decodes_captured_fault_and_tail() {
        assert_eq!(
            parse_http_response(FAULT_BAD_NAME),
            Err(XmlRpcError::Fault {
                code: 10,
                message: "BAD_NAME: nosuch".into()
            })
        );
        assert_eq!(
            parse_http_response(TAIL_STDOUT),
            Ok(Value::Array(vec![
                Value::Str("hello\nhello\n".into()),
                Value::Int(12),
                Value::Bool(false)
            ]))
        );
    }

    #[test]
    fn decodes_scalars_and_bare_strings() {
        let wrap = |v: &str| {
            format!("<methodResponse><params><param>{v}</param></params></methodResponse>")
        };
        assert_eq!(
            parse_response(&wrap("<value>4.2.5</value>")),
            Ok(Value::Str("4.2.5".into()))
        );
        assert_eq!(
            parse_response(&wrap("<value><boolean>1</boolean></value>")),
            Ok(Value::Bool(true))
        );
        assert_eq!(
            parse_response(&wrap(
                "<value><array><data><value><string>x</string></value><value><int>7</int></value><value><boolean>0</boolean></value></data></array></value>"
            )),
            Ok(Value::Array(vec![
                Value::Str("x".into()),
                Value::Int(7),
                Value::Bool(false)
            ]))
        );
        assert_eq!(
            parse_response(&wrap(
                "<value><string>  two  spaces &#233;&#x41;</string></value>"
            )),
            Ok(Value::Str("  two  spaces éA".into()))
        );
    }

    #[test]
    fn rejects_garbage() {
        for bad in [
            "",
            "<html>nope</html>",
            "<methodResponse><params><param><value><int>x</int></value></param></params></methodResponse>",
            "<methodResponse><params><param><value><string>unterminated",
            "<methodResponse><params><param><value>&bogus;</value></param></params></methodResponse>",
        ] {
            assert!(parse_response(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn requests_round_trip_through_the_decoder() {
        let raw = request(
            "supervisor.tailProcessStdoutLog",
            &[Value::Str("a<b>&c".into()), Value::Int(-1), Value::Int(100)],
        );
        let text = String::from_utf8(raw).expect("utf8");
        let (head, body) = text.split_once("\r\n\r\n").expect("header");
        assert!(head.starts_with("POST /RPC2 HTTP/1.0\r\n"));
        assert!(head.contains(&format!("Content-Length: {}", body.len())));
        // Reuse the response decoder on the params to prove the escaping is reversible.
        let params = body
            .split_once("<params>")
            .and_then(|(_, rest)| rest.split_once("</params>"))
            .map(|(p, _)| p)
            .expect("params");
        let first = params
            .split_once("<param>")
            .and_then(|(_, rest)| rest.split_once("</param>"))
            .map(|(p, _)| p)
            .expect("param");
        assert_eq!(
            parse_response(&format!(
                "<methodResponse><params><param>{first}</param></params></methodResponse>"
            )),
            Ok(Value::Str("a<b>&c".into()))
        );
    }

    #[test]
    fn deep_nesting_is_refused_without_recursing_into_it() {
        let wrap = |depth: usize| {
            let open = "<value><array><data>".repeat(depth);
            let close = "</data></array></value>".repeat(depth);
            format!(
                "<methodResponse><params><param>{open}{close}</param></params></methodResponse>"
            )
        };
        assert!(parse_response(&wrap(3)).is_ok());
        // A hundred thousand levels would overflow the stack of a decoder without a limit.
        let err = parse_response(&wrap(100_000)).expect_err("too deep");
        assert!(err.to_string().contains("nested deeper"), "{err}");
    }

    proptest::proptest! {
        /// Whatever a socket sends, the decoder returns (a value or an error), never panics.
        #[test]
        fn any_bytes_decode_or_fail_cleanly(raw in proptest::collection::vec(proptest::num::u8::ANY, 0..2000)) {
            let _ = parse_http_response(&raw);
        }

        /// Near-valid documents (tags from the dialect in any order) too.
        #[test]
        fn any_tag_soup_decodes_or_fails_cleanly(parts in proptest::collection::vec(
            proptest::sample::select(vec![
                "<value>", "</value>", "<array>", "</array>", "<data>", "</data>", "<struct>",
                "</struct>", "<member>", "</member>", "<name>", "</name>", "<int>", "</int>",
                "<string>", "</string>", "<nil/>", "<data/>", "x", "7", "&amp;", "&#99999999;",
                "<", ">", "&",
            ]),
            0..200,
        )) {
            let body = parts.concat();
            let _ = parse_response(&format!("<methodResponse><params><param>{body}</param></params></methodResponse>"));
        }
    }

    #[test]
    fn http_errors_are_reported() {
        assert!(parse_http_response(b"HTTP/1.0 401 Unauthorized\r\n\r\n").is_err());
        let ok = "HTTP/1.0 200 OK\r\nContent-Type: text/xml\r\n\r\n<methodResponse><params><param><value>4.2.5</value></param></params></methodResponse>";
        assert_eq!(
            parse_http_response(ok.as_bytes()),
            Ok(Value::Str("4.2.5".into()))
        );
    }
}
