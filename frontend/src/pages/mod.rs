//! One module per screen.

pub mod activity;
pub mod apps;
pub mod auth_frame;
pub mod buildpacks;
pub mod builds;
pub mod dashboard;
pub mod hosts;
pub mod ingredients;
pub mod login;
pub mod not_built;
pub mod not_found;
pub mod releases;
pub mod settings;
pub mod setup;
pub mod squads;
pub mod users;
