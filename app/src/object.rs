//! What an activity event's `object` names (`app:shop`, `build:shop#12`, `proc:web1/shop-web`…),
//! so the UI can link it to its page. Objects of kinds without a page stay plain text.

use crate::fleet::ProcRef;

/// An object that has a page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ObjectRef {
    App(String),
    Build(i64),
    Release(i64),
    Host(String),
    Squad(String),
    Ingredient(String),
    Proc(ProcRef),
    User(String),
}

/// `APP#ID` → ID.
fn numbered(rest: &str) -> Option<i64> {
    rest.rsplit_once('#')?.1.parse().ok()
}

/// The object `text` names, when it has a page.
pub fn parse_object(text: &str) -> Option<ObjectRef> {
    let (kind, rest) = text.split_once(':')?;
    if rest.is_empty() {
        return None;
    }
    Some(match kind {
        "app" => ObjectRef::App(rest.to_string()),
        "build" => ObjectRef::Build(numbered(rest)?),
        "release" => ObjectRef::Release(numbered(rest)?),
        "host" => ObjectRef::Host(rest.to_string()),
        "squad" => ObjectRef::Squad(rest.to_string()),
        "ingredient" => ObjectRef::Ingredient(rest.to_string()),
        "proc" => ObjectRef::Proc(crate::query::parse_proc_param(rest)?),
        "user" => ObjectRef::User(rest.to_string()),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objects_with_a_page_are_recognised() {
        assert_eq!(
            parse_object("app:shop"),
            Some(ObjectRef::App("shop".into()))
        );
        assert_eq!(parse_object("build:shop#12"), Some(ObjectRef::Build(12)));
        assert_eq!(parse_object("release:a#b#7"), Some(ObjectRef::Release(7)));
        assert_eq!(
            parse_object("proc:web1/grp:web"),
            Some(ObjectRef::Proc(ProcRef {
                host: "web1".into(),
                name: "grp:web".into()
            }))
        );
        assert_eq!(
            parse_object("host:web1"),
            Some(ObjectRef::Host("web1".into()))
        );
        assert_eq!(parse_object("token:3"), None);
        assert_eq!(parse_object("build:shop"), None);
        assert_eq!(parse_object("app:"), None);
        assert_eq!(parse_object("plain"), None);
    }
}
