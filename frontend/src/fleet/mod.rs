//! The fleet as the UI shows it: the shared snapshot ([`store`]), how procs are filtered and
//! grouped (`vr_app::fleet_view`) and drawn ([`table`], [`detail`] with [`facts`], [`log`],
//! [`history`]), actions on them
//! ([`actions`], [`proc_actions`], [`bulk`]), and [`view::FleetProcs`], which puts these together for every page
//! that lists procs.

pub mod actions;
pub mod bulk;
pub mod detail;
pub mod facts;
pub mod health;
pub mod history;
pub mod log;
pub mod proc_actions;
pub mod store;
pub mod table;
pub mod view;

pub use health::{HealthBadge, ShownBadge, StateBadge};
pub use store::{FleetStore, use_fleet};
pub use view::FleetProcs;
