//! Who is signed in: the app-wide authentication state, shared through context.
//!
//! At start-up the session asks the server `GET /api/auth/session`: who is signed in (it answers
//! 200 without a session too, so a cold load logs no error) and whether the first admin still has
//! to be created. The result decides whether
//! the shell shows, or the user goes to `/login` or `/setup`. Any later 401 signs the user out.

use crate::busy::spawn_local;
use leptos::prelude::*;
use vr_app::Role;
use vr_app::api::{AuthSession, Me};

use crate::api;
use crate::components::toast::Toasts;

/// Where the user stands with the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthState {
    /// The start-up check has not answered yet.
    Checking,
    /// Nobody is signed in; `setup_needed` is true while the server has no user at all.
    /// `keep_place` asks the sign-in page to return to the current page afterwards (true when
    /// the session expired or a deep link was opened, false after an explicit sign-out).
    SignedOut {
        setup_needed: bool,
        keep_place: bool,
    },
    SignedIn(Me),
}

/// Handle on the authentication state; cheap to copy.
#[derive(Debug, Clone, Copy)]
pub struct Session {
    state: RwSignal<AuthState>,
}

impl Session {
    /// Creates the session, provides it as context and starts the start-up check.
    pub fn provide(toasts: Toasts) -> Session {
        let session = Session {
            state: RwSignal::new(AuthState::Checking),
        };
        provide_context(session);
        api::set_unauthenticated_hook(move || {
            if session.me_untracked().is_some() {
                api::set_csrf_token(None);
                session.state.set(AuthState::SignedOut {
                    setup_needed: false,
                    keep_place: true,
                });
                toasts.error("Your session has ended. Please sign in again.");
            }
        });
        spawn_local(session.check());
        session
    }

    /// The current state (tracked).
    pub fn state(&self) -> AuthState {
        self.state.get()
    }

    /// The signed-in user and CSRF token (tracked).
    pub fn me(&self) -> Option<Me> {
        self.state.with(|s| match s {
            AuthState::SignedIn(me) => Some(me.clone()),
            _ => None,
        })
    }

    fn me_untracked(&self) -> Option<Me> {
        self.state.with_untracked(|s| match s {
            AuthState::SignedIn(me) => Some(me.clone()),
            _ => None,
        })
    }

    /// True while someone is signed in (tracked).
    pub fn signed_in(&self) -> bool {
        self.state.with(|s| matches!(s, AuthState::SignedIn(_)))
    }

    /// The signed-in user's username (tracked); empty when signed out.
    pub fn username(&self) -> String {
        self.state.with(|s| match s {
            AuthState::SignedIn(me) => me.user.username.clone(),
            _ => String::new(),
        })
    }

    /// The signed-in user's role (tracked).
    pub fn role(&self) -> Option<Role> {
        self.state.with(|s| match s {
            AuthState::SignedIn(me) => Some(me.user.role),
            _ => None,
        })
    }

    /// True when the signed-in user is an admin (tracked).
    pub fn is_admin(&self) -> bool {
        self.role() == Some(Role::Admin)
    }

    /// True when the signed-in user may change things: act on procs, edit hosts and squads
    /// (deployers and admins; tracked).
    pub fn can_deploy(&self) -> bool {
        self.role().is_some_and(|r| r.allows(Role::Deployer))
    }

    /// Records a successful sign-in (login, setup or the start-up check).
    pub fn sign_in(&self, me: Me) {
        api::set_csrf_token(me.csrf_token.clone());
        self.state.set(AuthState::SignedIn(me));
    }

    /// Forgets the signed-in user locally after `POST /api/auth/logout`; the shell then shows
    /// the sign-in page.
    pub fn sign_out(&self) {
        api::set_csrf_token(None);
        self.state.set(AuthState::SignedOut {
            setup_needed: false,
            keep_place: false,
        });
    }

    /// Asks the server who we are, and whether setup is needed when nobody is signed in.
    async fn check(self) {
        match api::auth_session().await {
            Ok(AuthSession { me: Some(me), .. }) => self.sign_in(me),
            Ok(AuthSession {
                me: None,
                setup_needed,
            }) => self.state.set(AuthState::SignedOut {
                setup_needed,
                keep_place: true,
            }),
            Err(_) => self.state.set(AuthState::SignedOut {
                setup_needed: false,
                keep_place: true,
            }),
        }
    }
}

/// The session provided by the app root.
pub fn use_session() -> Session {
    expect_context::<Session>()
}

/// True for a path worth returning to after signing in: a same-site absolute path other than
/// the dashboard, the sign-in page and the setup page.
pub fn is_return_path(path: &str) -> bool {
    path.starts_with('/')
        && !path.starts_with("//")
        && !path.starts_with("/\\")
        && path != "/"
        && !path.starts_with("/login")
        && !path.starts_with("/setup")
}

/// The page to go to after signing in, from the `next` query parameter.
pub fn safe_next(next: Option<String>) -> String {
    next.filter(|n| is_return_path(n))
        .unwrap_or_else(|| "/".to_string())
}
