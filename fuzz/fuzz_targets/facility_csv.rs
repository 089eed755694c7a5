#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| kiemtra_fuzz::facility_csv(data));
