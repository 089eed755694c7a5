//! The device's signing identity: an ed25519 key pair that never leaves the device.
//!
//! - `keypair`: [`DeviceKey`], an in-memory key pair, and the checks every public key passes.
//! - `file`: [`FileKeyStore`], the default [`KeyStore`] that keeps the secret in a 0600 file.
//!
//! Signing goes through the [`KeyStore`] trait so that Android Keystore or the
//! iOS Keychain can hold the secret and sign inside secure hardware; the core
//! only ever sees public keys and signatures.

mod file;
mod keypair;

use sha2::{Digest, Sha256};
use thiserror::Error;

pub use file::FileKeyStore;
pub use keypair::{check_public_key, verify_strict, DeviceKey};

/// Length of an ed25519 public key.
pub const PUBLIC_KEY_LEN: usize = 32;
/// Length of an ed25519 signature.
pub const SIGNATURE_LEN: usize = 64;

#[derive(Debug, Error)]
pub enum IdentityError {
    #[error("the operating system's random source failed: {0}")]
    Random(String),
    #[error("key file {action} failed: {reason}")]
    Io { action: &'static str, reason: String },
    #[error("the key file is not a Kiemtra device key ({0})")]
    CorruptKeyFile(&'static str),
    #[error("the public key is not a valid ed25519 point")]
    InvalidPublicKey,
    #[error("the public key is weak (small order) and is refused")]
    WeakKey,
    #[error("the signature does not verify")]
    BadSignature,
    #[error("the key store could not sign: {0}")]
    Backend(String),
}

/// Where the device's private key lives. `sign` signs `message` as is (plain
/// ed25519, RFC 8032); domain separation is the caller's job.
pub trait KeyStore: Send + Sync {
    fn public_key(&self) -> Result<[u8; PUBLIC_KEY_LEN], IdentityError>;
    fn sign(&self, message: &[u8]) -> Result<[u8; SIGNATURE_LEN], IdentityError>;
}

/// A key's short name, printed in the minutes and shown in the app: the first
/// 16 hex digits (64 bits) of SHA-256 of the 32 public-key bytes. Enough for a
/// person to compare two keys; verification always uses the whole key.
pub fn fingerprint(public_key: &[u8; PUBLIC_KEY_LEN]) -> String {
    let digest = Sha256::digest(public_key);
    hex::encode(&digest[..8])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_is_16_hex_digits() {
        let f = fingerprint(&[7u8; 32]);
        assert_eq!(f.len(), 16);
        assert!(f.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_ne!(f, fingerprint(&[8u8; 32]));
    }
}
