//! `kiemtra-server`: the inspectorate's central server.
//!
//! - `app`: HTTP routes, shared state, limits and the launch functions (HTTP, HTTPS).
//! - `api`: the sync API's handlers.
//! - `auth`: challenges, sessions and the signed-request extractor.
//! - `commit`: group commit, the thread that owns the writer.
//! - `writer`: the single writer: push checks, enrolment, reference data.
//! - `db`: the typed view of the storage: what each table holds, typed reads and writes.
//! - `storage`: the crate `kiemtra-storage`, re-exported: the `Storage` interface (one atomic changeset per commit), its engines (sled, memory) and their conformance suite; the `BlobStore` trait and `DATA/blob-store/`.
//! - `replay`: the check that the records are the merge of the log, and the rebuild.
//! - `server_key`: the server's certificate-signing key.
//! - `cbor`: CBOR bodies in and out.
//! - `admin`, `csv_import`, `accident_import`: the admin CLI.
//! - `blob_copy`: `blobs copy`, every blob of one store into another (backups, restores).
//! - `demo`: demo data for `serve --demo`.
//! - `portal`: the establishments' portal (access code, violations, remediation, accident declaration).
//! - `overview`: the inspectorate's overview, targets, exports and accident register.
//! - `charts`: server-rendered SVG charts.
//! - `html`: the pages' shared layout.
//! - `forwarded`: the client's address and scheme, behind trusted reverse proxies.
//! - `error`: the one error type and its HTTP answer.

pub mod accident_import;
pub mod accounts;
pub mod admin;
pub mod administration;
pub mod api;
pub mod app;
pub mod audit;
pub mod auth;
pub mod blob_copy;
pub mod cbor;
pub mod charts;
pub mod commit;
pub mod csrf;
pub mod csv_import;
pub mod db;
pub mod demo;
pub mod error;
pub mod figures;
pub mod forwarded;
pub mod generate;
pub mod html;
pub mod overview;
pub mod planning;
pub mod portal;
pub mod query;
pub mod replay;
pub mod sanctions;
pub mod security_headers;
pub mod server_key;
pub mod staff;
/// The storage interface lives in its own crate so that the engines of
/// other crates (PostgreSQL) implement it; every `crate::storage::…` path
/// of the server goes on naming it.
pub use kiemtra_storage as storage;
pub mod writer;
