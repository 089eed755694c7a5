#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| kiemtra_fuzz::admin_units(data));
