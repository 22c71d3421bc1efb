//! Event handlers, boxed: `on:click=ev::click(move |_| …)`.
//!
//! Leptos compiles an event listener's attribute code (build, rebuild, its type-erased form)
//! once per handler type, and every closure is its own type. A handler passed through here is
//! a `Box<dyn FnMut(E)>`, one type per kind of event, so that code exists once per kind.

use leptos::ev::{KeyboardEvent, MouseEvent, SubmitEvent};
use web_sys::Event;

/// A boxed handler of events of type `E`.
pub type Handler<E> = Box<dyn FnMut(E)>;

pub fn click(f: impl FnMut(MouseEvent) + 'static) -> Handler<MouseEvent> {
    Box::new(f)
}

pub fn submit(f: impl FnMut(SubmitEvent) + 'static) -> Handler<SubmitEvent> {
    Box::new(f)
}

/// `change` and `input` events, which carry a plain `Event`.
pub fn change(f: impl FnMut(Event) + 'static) -> Handler<Event> {
    Box::new(f)
}

pub fn input(f: impl FnMut(Event) + 'static) -> Handler<Event> {
    Box::new(f)
}

pub fn keydown(f: impl FnMut(KeyboardEvent) + 'static) -> Handler<KeyboardEvent> {
    Box::new(f)
}
