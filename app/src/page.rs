//! The UI's pages and which one a path names: the route table, pure so it is tested natively
//! and one list tells every page apart.

use crate::query::decode_component;

/// A page of the UI. Pages of one record (an app, a build…) take the record from [`Matched::param`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Page {
    Login,
    Setup,
    Dashboard,
    Swarms,
    NewSwarm,
    Swarm,
    Dispatch,
    Apps,
    App,
    Buildpacks,
    Stacks,
    Builds,
    Build,
    Releases,
    Release,
    NewDeploy,
    Deploys,
    Deploy,
    Hosts,
    NewHost,
    Host,
    Balancers,
    Orphans,
    Logs,
    Webhooks,
    Squads,
    Squad,
    Ingredients,
    Ingredient,
    Activity,
    Settings,
    Users,
    NotFound,
}

/// Fixed paths, then `prefix/:param` paths. `/hosts/new` is listed before `/hosts/:name`.
const FIXED: [(&str, Page); 23] = [
    ("/", Page::Dashboard),
    ("/login", Page::Login),
    ("/setup", Page::Setup),
    ("/swarms", Page::Swarms),
    ("/swarms/new", Page::NewSwarm),
    ("/apps", Page::Apps),
    ("/buildpacks", Page::Buildpacks),
    ("/stacks", Page::Stacks),
    ("/builds", Page::Builds),
    ("/releases", Page::Releases),
    ("/deploy", Page::NewDeploy),
    ("/deploys", Page::Deploys),
    ("/hosts", Page::Hosts),
    ("/hosts/new", Page::NewHost),
    ("/balancers", Page::Balancers),
    ("/orphans", Page::Orphans),
    ("/logs", Page::Logs),
    ("/webhooks", Page::Webhooks),
    ("/squads", Page::Squads),
    ("/ingredients", Page::Ingredients),
    ("/activity", Page::Activity),
    ("/settings", Page::Settings),
    ("/users", Page::Users),
];

const WITH_PARAM: [(&str, Page); 9] = [
    ("/swarms/", Page::Swarm),
    ("/dispatches/", Page::Dispatch),
    ("/apps/", Page::App),
    ("/builds/", Page::Build),
    ("/releases/", Page::Release),
    ("/deploys/", Page::Deploy),
    ("/hosts/", Page::Host),
    ("/squads/", Page::Squad),
    ("/ingredients/", Page::Ingredient),
];

impl Page {
    /// Whether the page stands alone, outside the signed-in frame.
    pub fn stands_alone(self) -> bool {
        matches!(self, Page::Login | Page::Setup)
    }
}

/// A path's page and its one parameter (decoded), if the page has one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Matched {
    pub page: Page,
    pub param: Option<String>,
}

/// The page `path` names (a trailing `/` is ignored); [`Page::NotFound`] for any other path.
pub fn match_path(path: &str) -> Matched {
    let trimmed = path.trim_end_matches('/');
    let path = if trimmed.is_empty() { "/" } else { trimmed };
    if let Some((_, page)) = FIXED.iter().find(|(p, _)| *p == path) {
        return Matched {
            page: *page,
            param: None,
        };
    }
    for (prefix, page) in WITH_PARAM {
        if let Some(rest) = path.strip_prefix(prefix)
            && !rest.is_empty()
            && !rest.contains('/')
        {
            return Matched {
                page,
                param: Some(decode_component(rest, false)),
            };
        }
    }
    Matched {
        page: Page::NotFound,
        param: None,
    }
}

/// Whether a link's `href` is a page of this UI, followed without loading a page: a path on
/// this origin (`/apps`), not another site (`//host`, `https:`), a fragment (`#main`) or a
/// server endpoint (`/api/…`, e.g. a download).
pub fn is_ui_href(href: &str) -> bool {
    href.starts_with('/') && !href.starts_with("//") && href != "/api" && !href.starts_with("/api/")
}

/// Whether a navigation link to `link` marks the page at `path` as current: the dashboard
/// only on itself, every other area on itself and the pages below it.
pub fn link_is_current(link: &str, path: &str) -> bool {
    if link == "/" {
        return path == "/";
    }
    path == link
        || path
            .strip_prefix(link)
            .is_some_and(|rest| rest.starts_with('/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(path: &str) -> (Page, Option<String>) {
        let m = match_path(path);
        (m.page, m.param)
    }

    #[test]
    fn paths_name_their_pages_and_params() {
        assert_eq!(page("/"), (Page::Dashboard, None));
        assert_eq!(page(""), (Page::Dashboard, None));
        assert_eq!(page("/apps"), (Page::Apps, None));
        assert_eq!(page("/apps/"), (Page::Apps, None));
        assert_eq!(page("/apps/shop"), (Page::App, Some("shop".into())));
        assert_eq!(page("/builds/12"), (Page::Build, Some("12".into())));
        assert_eq!(page("/hosts/new"), (Page::NewHost, None));
        assert_eq!(page("/hosts/web%201"), (Page::Host, Some("web 1".into())));
        assert_eq!(page("/deploy"), (Page::NewDeploy, None));
        assert_eq!(page("/deploys/3"), (Page::Deploy, Some("3".into())));
        assert_eq!(page("/login"), (Page::Login, None));
        assert!(Page::Login.stands_alone() && !Page::Apps.stands_alone());
    }

    #[test]
    fn unknown_paths_are_not_found() {
        for path in ["/nope", "/apps/a/b", "/appsx", "/users/1", "//apps"] {
            assert_eq!(page(path).0, Page::NotFound, "{path}");
        }
    }

    #[test]
    fn only_paths_of_the_ui_are_followed_in_the_page() {
        for href in ["/", "/apps/shop", "/activity?actor=root", "/apish"] {
            assert!(is_ui_href(href), "{href}");
        }
        for href in [
            "//evil.example/x",
            "https://x",
            "#main",
            "?q=1",
            "/api/builds/1/artifact",
            "/api",
            "",
        ] {
            assert!(!is_ui_href(href), "{href}");
        }
    }

    #[test]
    fn navigation_marks_areas_not_prefixes() {
        assert!(link_is_current("/", "/"));
        assert!(!link_is_current("/", "/apps"));
        assert!(link_is_current("/apps", "/apps"));
        assert!(link_is_current("/apps", "/apps/shop"));
        assert!(!link_is_current("/deploy", "/deploys"));
        assert!(!link_is_current("/builds", "/buildpacks"));
    }
}
