//! Checklist templates: sections and items that cite the law.
//!
//! - `model`: the validated template the core works with.
//! - `file`: the JSON file format agencies write, and its validation.
//! - `builtin`: the templates shipped in the crate.

mod builtin;
mod file;
mod model;

pub use builtin::{builtin_templates, osh_accident_investigation, osh_general};
pub use file::{parse, FORMAT};
pub use model::*;
