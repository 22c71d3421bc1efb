//! The apps and buildpacks a page shows: fetched when the page opens, fetched again when the
//! live channel says they changed (`Apps`) or reconnects, and patched at once with the server's
//! answer after a change made on this page.

use leptos::prelude::*;
use vr_app::api::LiveMessage;
use vr_app::build::{App, Buildpack};
use vr_app::live::Merge;

use crate::api;
use crate::live::LiveData;

/// Both lists, as one fetch answers them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CatalogData {
    /// By name.
    pub apps: Vec<App>,
    /// In detection order.
    pub buildpacks: Vec<Buildpack>,
}

async fn fetch() -> Result<CatalogData, api::ApiError> {
    // Two small reads, one after the other: there is no join combinator in this crate.
    let mut apps = api::build::apps().await?;
    let mut buildpacks = api::build::buildpacks().await?;
    vr_app::order::sort_by(&mut apps, |a, b| a.name.cmp(&b.name));
    sort_buildpacks(&mut buildpacks);
    Ok(CatalogData { apps, buildpacks })
}

fn merge(_: &mut CatalogData, message: &LiveMessage) -> Merge {
    match message {
        LiveMessage::Apps => Merge::Refetch,
        _ => Merge::Ignored,
    }
}

/// Handle on one page's lists; cheap to copy.
#[derive(Clone, Copy)]
pub struct Catalog {
    data: LiveData<CatalogData>,
    /// By name (tracked).
    pub apps: Memo<Vec<App>>,
    /// In detection order (tracked).
    pub buildpacks: Memo<Vec<Buildpack>>,
}

impl Catalog {
    /// Loads both lists and follows the live channel for as long as the calling component lives.
    pub fn follow() -> Catalog {
        let data = LiveData::follow(CatalogData::default(), fetch, merge);
        Catalog {
            data,
            apps: Memo::new(move |_| data.with(|d| d.apps.clone())),
            buildpacks: Memo::new(move |_| data.with(|d| d.buildpacks.clone())),
        }
    }

    /// Fetches both lists again.
    pub fn reload(&self) {
        self.data.reload();
    }

    /// True once both lists arrived (tracked).
    pub fn loaded(&self) -> bool {
        self.data.loaded()
    }

    /// Why the last reload failed, if it did (tracked).
    pub fn error(&self) -> Option<String> {
        self.data.error_text()
    }

    /// The app named `name` (tracked).
    pub fn app(&self, name: &str) -> Option<App> {
        self.apps
            .with(|apps| apps.iter().find(|a| a.name == name).cloned())
    }

    /// Records an app the server just answered with (after a create or change).
    pub fn put_app(&self, app: App) {
        self.data.update(|CatalogData { apps, .. }| {
            match apps.iter_mut().find(|a| a.id == app.id) {
                Some(slot) => *slot = app,
                None => apps.push(app),
            }
            vr_app::order::sort_by(apps, |a, b| a.name.cmp(&b.name));
        });
    }

    /// Forgets an app the server just deleted.
    pub fn remove_app(&self, name: &str) {
        self.data.update(|d| d.apps.retain(|a| a.name != name));
    }

    /// Records a buildpack the server just answered with.
    pub fn put_buildpack(&self, buildpack: Buildpack) {
        self.data.update(
            |CatalogData {
                 buildpacks: list, ..
             }| {
                match list.iter_mut().find(|b| b.id == buildpack.id) {
                    Some(slot) => *slot = buildpack,
                    None => list.push(buildpack),
                }
                sort_buildpacks(list);
            },
        );
    }

    /// Forgets a buildpack the server just deleted.
    pub fn remove_buildpack(&self, id: i64) {
        self.data.update(|d| d.buildpacks.retain(|b| b.id != id));
    }
}

/// Detection order; the id breaks ties so equal orders still list stably.
fn sort_buildpacks(list: &mut Vec<Buildpack>) {
    vr_app::order::sort_by_key(list, |b| (b.order, b.id));
}
