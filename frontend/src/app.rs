//! The app root: shared contexts and the route table.
//!
//! `/login` and `/setup` stand alone; every other path renders inside the signed-in
//! [`Shell`], which sends visitors without a session to one of those two.

use leptos::prelude::*;
use leptos_router::components::{ParentRoute, Route, Router, Routes};
use leptos_router::path;

use crate::activity::ActivityPage;
use crate::apps::{AppPage, AppsPage};
use crate::auth::{LoginPage, SetupPage};
use crate::buildpacks::BuildpacksPage;
use crate::builds::{BuildPage, BuildsPage};
use crate::components::{ToastContainer, provide_toasts};
use crate::dashboard::DashboardPage;
use crate::deploys::{DeployPage, DeploysPage, NewDeployPage};
use crate::hosts::{HostPage, HostsPage, NewHostPage};
use crate::ingredients::{IngredientPage, IngredientsPage};
use crate::releases::{ReleasePage, ReleasesPage};
use crate::session::Session;
use crate::settings::SettingsPage;
use crate::shell::{NotBuilt, NotFound, Shell};
use crate::squads::{SquadPage, SquadsPage};
use crate::users::UsersPage;

#[component]
pub fn App() -> impl IntoView {
    let toasts = provide_toasts();
    Session::provide(toasts);
    view! {
        <Router>
            <Routes fallback=|| view! { <NotFound /> }>
                <Route path=path!("/login") view=LoginPage />
                <Route path=path!("/setup") view=SetupPage />
                <ParentRoute path=path!("") view=Shell>
                    <Route path=path!("") view=DashboardPage />
                    <Route
                        path=path!("/swarms")
                        view=|| view! { <NotBuilt title="Swarms" /> }
                    />
                    <Route path=path!("/apps") view=AppsPage />
                    <Route path=path!("/apps/:name") view=AppPage />
                    <Route path=path!("/buildpacks") view=BuildpacksPage />
                    <Route path=path!("/builds") view=BuildsPage />
                    <Route path=path!("/builds/:id") view=BuildPage />
                    <Route path=path!("/releases") view=ReleasesPage />
                    <Route path=path!("/releases/:id") view=ReleasePage />
                    <Route path=path!("/deploy") view=NewDeployPage />
                    <Route path=path!("/deploys") view=DeploysPage />
                    <Route path=path!("/deploys/:id") view=DeployPage />
                    <Route path=path!("/hosts") view=HostsPage />
                    <Route path=path!("/hosts/new") view=NewHostPage />
                    <Route path=path!("/hosts/:name") view=HostPage />
                    <Route path=path!("/squads") view=SquadsPage />
                    <Route path=path!("/squads/:name") view=SquadPage />
                    <Route path=path!("/ingredients") view=IngredientsPage />
                    <Route path=path!("/ingredients/:name") view=IngredientPage />
                    <Route path=path!("/activity") view=ActivityPage />
                    <Route path=path!("/settings") view=SettingsPage />
                    <Route path=path!("/users") view=UsersPage />
                    <Route path=path!("/*any") view=NotFound />
                </ParentRoute>
            </Routes>
        </Router>
        <ToastContainer />
    }
}
