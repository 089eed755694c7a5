//! The default key store: the secret in a file only the app's user can read.
//!
//! File layout (40 bytes): the magic `KTKEY1\0\0`, then the 32-byte ed25519
//! secret. It is written once, atomically (temp file, fsync, rename, fsync of
//! the folder), so a crash leaves either no key or the whole key, never half.

use std::fs::{self, File, OpenOptions};
use std::io::{ErrorKind, Read, Write};
use std::path::{Path, PathBuf};

use super::{DeviceKey, IdentityError, KeyStore, PUBLIC_KEY_LEN, SIGNATURE_LEN};

const MAGIC: &[u8; 8] = b"KTKEY1\0\0";
const FILE_LEN: usize = MAGIC.len() + 32;

#[derive(Debug)]
pub struct FileKeyStore {
    path: PathBuf,
    key: DeviceKey,
}

fn io(action: &'static str) -> impl Fn(std::io::Error) -> IdentityError {
    move |e| IdentityError::Io {
        action,
        reason: e.kind().to_string(),
    }
}

impl FileKeyStore {
    /// Opens the key at `path`, creating a new random key there if there is none.
    pub fn open_or_create(path: impl AsRef<Path>) -> Result<Self, IdentityError> {
        let path = path.as_ref().to_path_buf();
        match File::open(&path) {
            Ok(file) => Self::read(path, file),
            Err(e) if e.kind() == ErrorKind::NotFound => {
                let key = DeviceKey::generate()?;
                write_atomically(&path, &key)?;
                Ok(Self { path, key })
            }
            Err(e) => Err(io("open")(e)),
        }
    }

    fn read(path: PathBuf, mut file: File) -> Result<Self, IdentityError> {
        let mut bytes = Vec::with_capacity(FILE_LEN);
        // Read one byte more than expected to detect a longer file.
        Read::by_ref(&mut file)
            .take(FILE_LEN as u64 + 1)
            .read_to_end(&mut bytes)
            .map_err(io("read"))?;
        if bytes.len() != FILE_LEN {
            return Err(IdentityError::CorruptKeyFile("wrong length"));
        }
        if &bytes[..MAGIC.len()] != MAGIC {
            return Err(IdentityError::CorruptKeyFile("wrong magic"));
        }
        let mut secret = [0u8; 32];
        secret.copy_from_slice(&bytes[MAGIC.len()..]);
        bytes.fill(0);
        let key = DeviceKey::from_secret_bytes(&secret);
        secret.fill(0);
        Ok(Self { path, key: key? })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn fingerprint(&self) -> String {
        self.key.fingerprint()
    }
}

impl KeyStore for FileKeyStore {
    fn public_key(&self) -> Result<[u8; PUBLIC_KEY_LEN], IdentityError> {
        self.key.public_key()
    }

    fn sign(&self, message: &[u8]) -> Result<[u8; SIGNATURE_LEN], IdentityError> {
        self.key.sign(message)
    }
}

fn write_atomically(path: &Path, key: &DeviceKey) -> Result<(), IdentityError> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    fs::create_dir_all(&dir).map_err(io("create folder"))?;
    let mut name = path.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(".tmp");
    let tmp = dir.join(name);
    // A leftover temp file is from a crash before the rename: it never became the key.
    let _ = fs::remove_file(&tmp);
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        // 0600 from the start, so the secret is never readable by others, even briefly.
        options.mode(0o600);
    }
    let mut file = options.open(&tmp).map_err(io("create"))?;
    let mut bytes = Vec::with_capacity(FILE_LEN);
    bytes.extend_from_slice(MAGIC);
    bytes.extend_from_slice(&key.secret_bytes());
    let written = file.write_all(&bytes).and_then(|()| file.sync_all());
    bytes.fill(0);
    written.map_err(io("write"))?;
    drop(file);
    fs::rename(&tmp, path).map_err(io("rename"))?;
    #[cfg(unix)]
    File::open(&dir)
        .and_then(|d| d.sync_all())
        .map_err(io("sync folder"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creates_then_reopens_the_same_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys").join("device.key");
        let a = FileKeyStore::open_or_create(&path).unwrap();
        let b = FileKeyStore::open_or_create(&path).unwrap();
        assert_eq!(a.public_key().unwrap(), b.public_key().unwrap());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert!(!path.with_file_name("device.key.tmp").exists());
    }

    #[test]
    fn a_damaged_file_is_an_error_not_a_new_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("device.key");
        fs::write(&path, b"garbage").unwrap();
        assert!(matches!(
            FileKeyStore::open_or_create(&path),
            Err(IdentityError::CorruptKeyFile(_))
        ));
    }
}
