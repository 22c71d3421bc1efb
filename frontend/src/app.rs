//! The app root: shared contexts and the route table.
//!
//! `/login` and `/setup` stand alone; every other path renders inside the signed-in
//! [`Shell`], which sends visitors without a session to one of those two. Which page a path
//! names is `vr_app::page`.

use leptos::prelude::*;
use vr_app::page::Page;

use crate::activity::ActivityPage;
use crate::apps::{AppPage, AppsPage};
use crate::auth::{LoginPage, SetupPage};
use crate::balancers::BalancersPage;
use crate::buildpacks::BuildpacksPage;
use crate::builds::{BuildPage, BuildsPage};
use crate::components::{ToastContainer, provide_toasts};
use crate::dashboard::DashboardPage;
use crate::deploys::{DeployPage, DeploysPage, NewDeployPage};
use crate::hosts::{HostPage, HostsPage, NewHostPage};
use crate::ingredients::{IngredientPage, IngredientsPage};
use crate::logs::LogsPage;
use crate::orphans::OrphansPage;
use crate::releases::{ReleasePage, ReleasesPage};
use crate::router;
use crate::session::Session;
use crate::settings::SettingsPage;
use crate::shell::{NotFound, Shell};
use crate::squads::{SquadPage, SquadsPage};
use crate::swarms::{DispatchPage, NewSwarmPage, SwarmPage, SwarmsPage};
use crate::users::UsersPage;
use crate::webhooks::WebhooksPage;

#[component]
pub fn App() -> impl IntoView {
    let toasts = provide_toasts();
    Session::provide(toasts);
    let page = router::start().page;
    // Re-rendered only when moving between the sign-in page, the setup page and the frame.
    let alone = Memo::new(move |_| Some(page.get()).filter(|p| p.stands_alone()));
    view! {
        {move || match alone.get() {
            Some(Page::Login) => view! { <LoginPage /> }.into_any(),
            Some(Page::Setup) => view! { <SetupPage /> }.into_any(),
            _ => view! { <Shell /> }.into_any(),
        }}
        <ToastContainer />
    }
}

/// The signed-in frame's page for the current path.
#[component]
pub fn CurrentPage() -> impl IntoView {
    let page = router::use_route().page;
    move || match page.get() {
        Page::Dashboard => view! { <DashboardPage /> }.into_any(),
        Page::Swarms => view! { <SwarmsPage /> }.into_any(),
        Page::NewSwarm => view! { <NewSwarmPage /> }.into_any(),
        Page::Swarm => view! { <SwarmPage /> }.into_any(),
        Page::Dispatch => view! { <DispatchPage /> }.into_any(),
        Page::Apps => view! { <AppsPage /> }.into_any(),
        Page::App => view! { <AppPage /> }.into_any(),
        Page::Buildpacks => view! { <BuildpacksPage /> }.into_any(),
        Page::Stacks => view! { <crate::stacks::StacksPage /> }.into_any(),
        Page::Builds => view! { <BuildsPage /> }.into_any(),
        Page::Build => view! { <BuildPage /> }.into_any(),
        Page::Releases => view! { <ReleasesPage /> }.into_any(),
        Page::Release => view! { <ReleasePage /> }.into_any(),
        Page::NewDeploy => view! { <NewDeployPage /> }.into_any(),
        Page::Deploys => view! { <DeploysPage /> }.into_any(),
        Page::Deploy => view! { <DeployPage /> }.into_any(),
        Page::Hosts => view! { <HostsPage /> }.into_any(),
        Page::NewHost => view! { <NewHostPage /> }.into_any(),
        Page::Host => view! { <HostPage /> }.into_any(),
        Page::Balancers => view! { <BalancersPage /> }.into_any(),
        Page::Orphans => view! { <OrphansPage /> }.into_any(),
        Page::Logs => view! { <LogsPage /> }.into_any(),
        Page::Webhooks => view! { <WebhooksPage /> }.into_any(),
        Page::Squads => view! { <SquadsPage /> }.into_any(),
        Page::Squad => view! { <SquadPage /> }.into_any(),
        Page::Ingredients => view! { <IngredientsPage /> }.into_any(),
        Page::Ingredient => view! { <IngredientPage /> }.into_any(),
        Page::Activity => view! { <ActivityPage /> }.into_any(),
        Page::Settings => view! { <SettingsPage /> }.into_any(),
        Page::Users => view! { <UsersPage /> }.into_any(),
        // The frame never shows these two; the root renders them alone.
        Page::Login | Page::Setup | Page::NotFound => view! { <NotFound /> }.into_any(),
    }
}
