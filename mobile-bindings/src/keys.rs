//! The device key behind a foreign trait: Android Keystore or the iOS
//! Keychain implement `DeviceKeyStore` and the private key never reaches
//! Rust; without one, a file-backed key in the store's folder is used.

use std::sync::Arc;

use kiemtra_core::identity::{IdentityError, KeyStore, PUBLIC_KEY_LEN, SIGNATURE_LEN};

use crate::error::KiemtraError;

/// Holds the device's ed25519 private key and signs with it.
#[uniffi::export(with_foreign)]
pub trait DeviceKeyStore: Send + Sync {
    /// The 32-byte ed25519 public key.
    fn public_key(&self) -> Result<Vec<u8>, KiemtraError>;
    /// A 64-byte ed25519 signature (RFC 8032) of `message`, as given.
    fn sign(&self, message: Vec<u8>) -> Result<Vec<u8>, KiemtraError>;
}

/// Adapts the app's key store to the core's trait.
pub(crate) struct ForeignKeyStore(pub(crate) Arc<dyn DeviceKeyStore>);

impl KeyStore for ForeignKeyStore {
    fn public_key(&self) -> Result<[u8; PUBLIC_KEY_LEN], IdentityError> {
        let bytes = self
            .0
            .public_key()
            .map_err(|e| IdentityError::Backend(e.to_string()))?;
        let key: [u8; PUBLIC_KEY_LEN] = bytes
            .try_into()
            .map_err(|_| IdentityError::Backend("the public key is not 32 bytes".into()))?;
        // Refuse a weak or malformed key before anything is signed with it.
        kiemtra_core::identity::check_public_key(&key)?;
        Ok(key)
    }

    fn sign(&self, message: &[u8]) -> Result<[u8; SIGNATURE_LEN], IdentityError> {
        let bytes = self
            .0
            .sign(message.to_vec())
            .map_err(|e| IdentityError::Backend(e.to_string()))?;
        bytes
            .try_into()
            .map_err(|_| IdentityError::Backend("the signature is not 64 bytes".into()))
    }
}

/// An ed25519 key held in this process's memory, for desktop tools and for
/// platforms without an ed25519 library of their own (Swift on Linux has no
/// CryptoKit). An app keeps its key in the Keystore or the Keychain instead;
/// a `DeviceKeyStore` of the app's may still delegate the arithmetic here.
/// The secret never leaves Rust and is zeroised when the object is freed.
#[derive(Debug, uniffi::Object)]
pub struct SoftwareKey(kiemtra_core::identity::DeviceKey);

#[uniffi::export]
impl SoftwareKey {
    /// A fresh key from the operating system's random source.
    #[uniffi::constructor]
    pub fn generate() -> Result<Arc<Self>, KiemtraError> {
        Ok(Arc::new(Self(kiemtra_core::identity::DeviceKey::generate()?)))
    }

    /// The 32-byte ed25519 public key.
    pub fn public_key(&self) -> Vec<u8> {
        self.0.public_key_bytes().to_vec()
    }

    /// A 64-byte ed25519 signature of `message`.
    pub fn sign(&self, message: Vec<u8>) -> Result<Vec<u8>, KiemtraError> {
        Ok(KeyStore::sign(&self.0, &message)?.to_vec())
    }
}
