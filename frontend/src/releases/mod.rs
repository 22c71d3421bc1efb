//! Releases and ingredients as the UI shows them: the live lists a page keeps
//! ([`IngredientList`], [`ReleaseFeed`]), the release table, and how merged values and their
//! layers are written ([`values`]).

pub mod feed;
pub mod ingredients;
pub mod table;
pub mod values;

pub use feed::ReleaseFeed;
pub use ingredients::IngredientList;
pub use table::ReleaseTable;

use vr_app::fleet::path_segment;

/// A link to a release's page.
pub fn release_href(id: i64) -> String {
    format!("/releases/{id}")
}

/// A link to an ingredient's page.
pub fn ingredient_href(name: &str) -> String {
    format!("/ingredients/{}", path_segment(name))
}
