//! Entry point of the WASM bundle: mounts the app on `<body>`.
#![forbid(unsafe_code)]

fn main() {
    vr_frontend::run();
}
