//! `kiemtra-server`: the inspectorate's central server.
//!
//! - `app`: HTTP routes, shared state and the launch function.
//! - `db`: the sled database and its durability.
//! - `demo`: demo data for `serve --demo`.
//! - `error`: the one error type and its HTTP answer.

pub mod app;
pub mod db;
pub mod demo;
pub mod error;
