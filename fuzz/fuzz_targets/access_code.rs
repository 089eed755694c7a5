#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| kiemtra_fuzz::access_code(data));
