//! The server's ed25519 signing key, which certifies device keys. Generated
//! on first open and written durably before it is ever used, so a
//! certificate is never signed by a key a crash could lose. With sled it is
//! kept in the data folder (`server.key`, 0600); on a database that several
//! instances share it is kept in the database (table `meta`), so that every
//! instance is the same server to the devices and a dump of the database
//! carries it.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::Path;

use ed25519_dalek::{Signer, SigningKey};
use kiemtra_core::durable::sync_dir;

use crate::error::ServerError;
use crate::storage::{Changeset, Storage, Table};

const FILE: &str = "server.key";
/// Where a shared store keeps the key (see [`ServerKey::in_storage`]).
const META_KEY: &[u8] = b"server_signing_key";

fn secret_of(bytes: &[u8], what: &str) -> Result<[u8; 32], ServerError> {
    <[u8; 32]>::try_from(bytes).map_err(|_| ServerError::Storage(format!("{what} is not a 32-byte key")))
}

fn fresh_secret() -> Result<[u8; 32], ServerError> {
    let mut secret = [0u8; 32];
    getrandom::fill(&mut secret)
        .map_err(|e| ServerError::Storage(format!("the random source failed: {e}")))?;
    Ok(secret)
}

pub struct ServerKey {
    signing: SigningKey,
}

impl std::fmt::Debug for ServerKey {
    // Never print the secret.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerKey")
            .field("public", &hex::encode(self.public_key()))
            .finish_non_exhaustive()
    }
}

impl ServerKey {
    /// Loads the key of the data folder `dir`, or creates it.
    pub fn open(dir: &Path) -> Result<Self, ServerError> {
        let path = dir.join(FILE);
        match std::fs::read(&path) {
            Ok(bytes) => {
                let secret = <[u8; 32]>::try_from(bytes.as_slice())
                    .map_err(|_| ServerError::Storage(format!("{} is not a 32-byte key", path.display())))?;
                Ok(Self {
                    signing: SigningKey::from_bytes(&secret),
                })
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut secret = [0u8; 32];
                getrandom::fill(&mut secret)
                    .map_err(|e| ServerError::Storage(format!("the random source failed: {e}")))?;
                let tmp = dir.join(format!("{FILE}.tmp"));
                let mut f = open_private(&tmp)?;
                f.write_all(&secret)?;
                f.sync_all()?;
                std::fs::rename(&tmp, &path)?;
                sync_dir(dir)?;
                let key = Self {
                    signing: SigningKey::from_bytes(&secret),
                };
                secret.fill(0);
                Ok(key)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// The key kept in `store`, made (or taken over from the file of the
    /// data folder `dir`, where an earlier version kept it) on first use.
    /// Inside a turn of the store, so two instances starting at once end
    /// with one key. A store and a folder holding two different keys are
    /// refused: one of them would disown every device the other certified.
    pub fn in_storage(store: &dyn Storage, dir: &Path) -> Result<Self, ServerError> {
        let turn = store.begin_turn()?;
        let stored = store.get(Table::Meta, META_KEY)?;
        let from_file = match std::fs::read(dir.join(FILE)) {
            Ok(bytes) => Some(secret_of(&bytes, &dir.join(FILE).display().to_string())?),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(e.into()),
        };
        let secret = match (stored, from_file) {
            (Some(bytes), file) => {
                let secret = secret_of(&bytes, "the stored server key")?;
                if file.is_some_and(|f| f != secret) {
                    return Err(ServerError::Storage(format!(
                        "{} holds another key than the database: keep the one the devices were enrolled with and remove the other",
                        dir.join(FILE).display()
                    )));
                }
                secret
            }
            (None, file) => {
                let secret = match file {
                    Some(s) => s,
                    None => fresh_secret()?,
                };
                let mut c = Changeset::new();
                c.put(Table::Meta, META_KEY.to_vec(), secret.to_vec());
                match turn {
                    Some(turn) => turn.commit(c)?,
                    None => store.commit(c)?,
                };
                secret
            }
        };
        Ok(Self {
            signing: SigningKey::from_bytes(&secret),
        })
    }

    /// A fresh key kept nowhere: for a server whose storage lives in memory (tests).
    pub fn generate() -> Result<Self, ServerError> {
        let mut secret = [0u8; 32];
        getrandom::fill(&mut secret)
            .map_err(|e| ServerError::Storage(format!("the random source failed: {e}")))?;
        let key = Self {
            signing: SigningKey::from_bytes(&secret),
        };
        secret.fill(0);
        Ok(key)
    }

    pub fn public_key(&self) -> [u8; 32] {
        self.signing.verifying_key().to_bytes()
    }

    /// Signs `prefix ++ message` (the prefix separates the purposes of signatures).
    pub fn sign(&self, prefix: &[u8], message: &[u8]) -> [u8; 64] {
        let mut m = Vec::with_capacity(prefix.len() + message.len());
        m.extend_from_slice(prefix);
        m.extend_from_slice(message);
        self.signing.sign(&m).to_bytes()
    }
}

#[cfg(unix)]
fn open_private(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
}

#[cfg(not(unix))]
fn open_private(path: &Path) -> std::io::Result<std::fs::File> {
    OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(path)
}
