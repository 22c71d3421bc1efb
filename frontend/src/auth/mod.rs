//! The pages outside the signed-in frame: sign-in (`/login`) and first-run setup (`/setup`),
//! drawn in one shared card ([`frame`]).

mod frame;
mod login;
mod setup;

pub use login::LoginPage;
pub use setup::SetupPage;
