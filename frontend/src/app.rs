//! The app root: shared contexts and the route table.
//!
//! `/login` and `/setup` stand alone; every other path renders inside the signed-in
//! [`Shell`], which sends visitors without a session to one of those two.

use leptos::prelude::*;
use leptos_router::components::{ParentRoute, Route, Router, Routes};
use leptos_router::path;

use crate::components::{ToastContainer, provide_toasts};
use crate::pages::activity::ActivityPage;
use crate::pages::apps::{AppPage, AppsPage};
use crate::pages::buildpacks::BuildpacksPage;
use crate::pages::builds::{BuildPage, BuildsPage};
use crate::pages::dashboard::DashboardPage;
use crate::pages::deploys::{DeployPage, DeploysPage, NewDeployPage};
use crate::pages::hosts::{HostPage, HostsPage, NewHostPage};
use crate::pages::ingredients::{IngredientPage, IngredientsPage};
use crate::pages::login::LoginPage;
use crate::pages::not_built::NotBuilt;
use crate::pages::not_found::NotFound;
use crate::pages::releases::{ReleasePage, ReleasesPage};
use crate::pages::settings::SettingsPage;
use crate::pages::setup::SetupPage;
use crate::pages::squads::{SquadPage, SquadsPage};
use crate::pages::users::UsersPage;
use crate::session::Session;
use crate::shell::Shell;

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
