//! `NumberedPage`: the shell of a page about one numbered object (`/builds/:id`, `/deploys/:id`,
//! `/releases/:id`): its title, a link back to the list, and a new view per id (so followers
//! start over when the address changes), or a notice when the address holds no number.

use leptos::prelude::*;

use super::MissingNotice;
use crate::route::{id_param, title};

#[component]
pub fn NumberedPage(
    /// `Build`, `Deploy`, `Release`: the title is `Build #12`.
    kind: &'static str,
    /// The list page: path and label, e.g. `("/builds", "Builds")`.
    back: (&'static str, &'static str),
    /// `data-test` of the section; the notice is `{test}-missing`.
    test: &'static str,
    /// The view of object `id`.
    view: fn(i64) -> AnyView,
) -> impl IntoView {
    let id = id_param();
    title(move || match id.get() {
        Some(id) => format!("{kind} #{id}"),
        None => kind.to_string(),
    });
    let (href, label) = back;
    let missing = format!("{test}-missing");
    let not_a_number = format!("That is not a {} number.", kind.to_lowercase());
    view! {
        <section class="page" data-test=test>
            <p>
                <a href=href>{format!("← {label}")}</a>
            </p>
            {move || match id.get() {
                Some(id) => view(id),
                None => {
                    view! {
                        <h1>{kind}</h1>
                        <MissingNotice test=missing.clone() text=not_a_number.clone() />
                    }
                        .into_any()
                }
            }}
        </section>
    }
}
