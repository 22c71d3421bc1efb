//! Rebuild the binary when the embedded UI or the migrations change: rust-embed only sees
//! files that existed when the crate was last compiled.
fn main() {
    println!("cargo:rerun-if-changed=../frontend/dist");
    println!("cargo:rerun-if-changed=../migrations");
}
