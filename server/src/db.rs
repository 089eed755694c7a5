//! The server's sled database: reference data the inspectorate publishes.
//!
//! Writes are durable before they return (the same fsync discipline as the
//! device store, see `kiemtra_core::durable`).

use std::path::Path;
use std::sync::Mutex;

use kiemtra_core::codec::{from_cbor, to_cbor};
use kiemtra_core::durable::Durability;
use kiemtra_core::facility::Facility;
use kiemtra_core::people::{Delegation, Inspector};
use kiemtra_core::template::ChecklistTemplate;
use serde::{de::DeserializeOwned, Serialize};

use crate::error::ServerError;

/// Format of the server's data folder; migrations go in `open`.
pub const FORMAT_VERSION: u32 = 1;

pub struct ServerDb {
    db: sled::Db,
    durability: Mutex<Durability>,
    meta: sled::Tree,
    templates: sled::Tree,
    facilities: sled::Tree,
    inspectors: sled::Tree,
    delegations: sled::Tree,
}

impl ServerDb {
    pub fn open(dir: &Path, cache_bytes: u64) -> Result<Self, ServerError> {
        std::fs::create_dir_all(dir)?;
        let db = sled::Config::new().path(dir).cache_capacity(cache_bytes).open()?;
        let durability = Durability::open(dir)?;
        let meta = db.open_tree("meta")?;
        match meta.get("format_version")? {
            None => {
                meta.insert("format_version", &FORMAT_VERSION.to_be_bytes())?;
            }
            Some(v) => {
                let found = <[u8; 4]>::try_from(v.as_ref())
                    .map(u32::from_be_bytes)
                    .map_err(|_| ServerError::Storage("format version is unreadable".into()))?;
                if found > FORMAT_VERSION {
                    return Err(ServerError::Storage(format!(
                        "the data folder was written by a newer server (format {found}, this build reads {FORMAT_VERSION})"
                    )));
                }
            }
        }
        let s = Self {
            templates: db.open_tree("templates")?,
            facilities: db.open_tree("facilities")?,
            inspectors: db.open_tree("inspectors")?,
            delegations: db.open_tree("delegations")?,
            meta,
            durability: Mutex::new(durability),
            db,
        };
        s.commit()?;
        Ok(s)
    }

    fn commit(&self) -> Result<(), ServerError> {
        let mut d = self
            .durability
            .lock()
            .map_err(|_| ServerError::Storage("a writer panicked".into()))?;
        d.commit(&self.db)?;
        Ok(())
    }

    fn put<T: Serialize>(
        &self,
        tree: &sled::Tree,
        what: &'static str,
        key: &[u8],
        value: &T,
    ) -> Result<(), ServerError> {
        tree.insert(key, to_cbor(what, value)?)?;
        self.commit()
    }

    fn all<T: DeserializeOwned>(tree: &sled::Tree, what: &'static str) -> Result<Vec<T>, ServerError> {
        tree.iter().values().map(|v| Ok(from_cbor(what, &v?)?)).collect()
    }

    /// Publishes a template; the same id and version with other content is refused.
    pub fn publish_template(&self, t: &ChecklistTemplate) -> Result<(), ServerError> {
        let key = format!("{}\0{:010}", t.id, t.version);
        let bytes = to_cbor("template", t)?;
        match self.templates.get(&key)? {
            Some(existing) if existing.as_ref() == bytes.as_slice() => Ok(()),
            Some(_) => Err(ServerError::Conflict(format!(
                "template {} v{} is already published with other content",
                t.id, t.version
            ))),
            None => {
                self.templates.insert(key, bytes)?;
                self.commit()
            }
        }
    }

    pub fn templates(&self) -> Result<Vec<ChecklistTemplate>, ServerError> {
        Self::all(&self.templates, "template")
    }

    pub fn put_facility(&self, f: &Facility) -> Result<(), ServerError> {
        self.put(&self.facilities, "facility", f.id.as_bytes(), f)
    }

    pub fn facilities(&self) -> Result<Vec<Facility>, ServerError> {
        Self::all(&self.facilities, "facility")
    }

    pub fn put_inspector(&self, i: &Inspector) -> Result<(), ServerError> {
        self.put(&self.inspectors, "inspector", i.id.as_bytes(), i)
    }

    pub fn inspectors(&self) -> Result<Vec<Inspector>, ServerError> {
        Self::all(&self.inspectors, "inspector")
    }

    pub fn put_delegation(&self, d: &Delegation) -> Result<(), ServerError> {
        self.put(&self.delegations, "delegation", d.id.as_bytes(), d)
    }

    pub fn delegations(&self) -> Result<Vec<Delegation>, ServerError> {
        Self::all(&self.delegations, "delegation")
    }

    /// A marker in `meta`, for idempotent one-time set-up such as demo data.
    pub fn flag(&self, name: &str) -> Result<bool, ServerError> {
        Ok(self.meta.get(name)?.is_some())
    }

    pub fn set_flag(&self, name: &str) -> Result<(), ServerError> {
        self.meta.insert(name, &[1u8])?;
        self.commit()
    }
}
