//! Copying text to the clipboard, also on plain-HTTP origins where the Clipboard API is absent.

use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// Copies `text`. Uses `navigator.clipboard` in secure contexts, else the older
/// `document.execCommand("copy")` on a hidden text area.
pub async fn copy(text: &str) -> Result<(), String> {
    let window = web_sys::window().ok_or("no window")?;
    let navigator = window.navigator();
    let has_api = window.is_secure_context()
        && js_sys::Reflect::get(&navigator, &JsValue::from_str("clipboard"))
            .is_ok_and(|c| !c.is_undefined() && !c.is_null());
    if has_api {
        let promise = navigator.clipboard().write_text(text);
        if JsFuture::from(promise).await.is_ok() {
            return Ok(());
        }
    }
    copy_with_exec_command(&window, text)
}

fn copy_with_exec_command(window: &web_sys::Window, text: &str) -> Result<(), String> {
    let fail = |_| "copy is not available in this browser".to_string();
    let document = window.document().ok_or("no document")?;
    let body = document.body().ok_or("no body")?;
    let area: web_sys::HtmlTextAreaElement = document
        .create_element("textarea")
        .map_err(fail)?
        .dyn_into()
        .map_err(|_| "no textarea".to_string())?;
    area.set_value(text);
    let _ = area.set_attribute("readonly", "");
    let _ = area.set_attribute("style", "position:fixed;top:0;left:0;opacity:0;");
    body.append_child(&area).map_err(fail)?;
    area.select();
    let copied = document
        .dyn_into::<web_sys::HtmlDocument>()
        .map_err(|_| "no html document".to_string())
        .and_then(|d| d.exec_command("copy").map_err(fail));
    area.remove();
    match copied {
        Ok(true) => Ok(()),
        _ => Err("the browser refused to copy".to_string()),
    }
}
