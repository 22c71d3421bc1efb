//! Apps, buildpacks and builds as the UI shows them: the apps and buildpacks lists of a page
//! ([`catalog`]), a live list of builds ([`feed`]), how builds are drawn ([`table`]) and a
//! build's followed log ([`log`]).

pub mod app_filter;
pub mod catalog;
pub mod feed;
pub mod log;
pub mod table;

pub use app_filter::{AppFilter, app_from_query};
pub use catalog::Catalog;
pub use feed::BuildFeed;
pub use log::BuildLogView;
pub use table::{BuildStatusBadge, BuildTable, build_href, buildpack_name, short_commit};
