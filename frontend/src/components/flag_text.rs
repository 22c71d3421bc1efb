//! `flag_text`: a text that follows a flag, like a button's "Saving…" / "Save".

use std::sync::Arc;

use leptos::prelude::*;

/// A reactive text behind one pointer type: every such text in the UI shares one compiled
/// reactive view, where a `move || if … { … } else { … }` compiled one each.
pub type FlagText = Arc<dyn Fn() -> &'static str + Send + Sync>;

/// `on` while `flag` is true, `off` otherwise.
pub fn flag_text(flag: impl Into<Signal<bool>>, on: &'static str, off: &'static str) -> FlagText {
    let flag = flag.into();
    Arc::new(move || if flag.get() { on } else { off })
}
