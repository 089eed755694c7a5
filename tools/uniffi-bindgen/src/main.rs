//! The workspace's own `uniffi-bindgen`, so the generator always matches the
//! `uniffi` version the library was built with (a mismatch fails with an
//! unclear metadata error).
fn main() {
    uniffi::uniffi_bindgen_main()
}
