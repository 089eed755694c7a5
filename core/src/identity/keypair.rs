//! An ed25519 key pair held in memory, and the checks on public keys.

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};

use super::{fingerprint, IdentityError, KeyStore, PUBLIC_KEY_LEN, SIGNATURE_LEN};

/// A device key pair. The secret is zeroised on drop (dalek's `zeroize` feature).
pub struct DeviceKey {
    signing: SigningKey,
}

impl std::fmt::Debug for DeviceKey {
    // Never print the secret, even in a debug log.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeviceKey")
            .field("fingerprint", &self.fingerprint())
            .finish_non_exhaustive()
    }
}

impl DeviceKey {
    /// A fresh key from the operating system's random source.
    pub fn generate() -> Result<Self, IdentityError> {
        let mut secret = [0u8; 32];
        getrandom::fill(&mut secret).map_err(|e| IdentityError::Random(e.to_string()))?;
        let key = Self::from_secret_bytes(&secret);
        secret.fill(0);
        key
    }

    /// The key pair of a 32-byte secret (RFC 8032 private key). Refuses a
    /// secret whose public key is weak, which random secrets never give but a
    /// corrupted file might.
    pub fn from_secret_bytes(secret: &[u8; 32]) -> Result<Self, IdentityError> {
        let signing = SigningKey::from_bytes(secret);
        if signing.verifying_key().is_weak() {
            return Err(IdentityError::WeakKey);
        }
        Ok(Self { signing })
    }

    pub(super) fn secret_bytes(&self) -> [u8; 32] {
        self.signing.to_bytes()
    }

    pub fn public_key_bytes(&self) -> [u8; PUBLIC_KEY_LEN] {
        self.signing.verifying_key().to_bytes()
    }

    pub fn fingerprint(&self) -> String {
        fingerprint(&self.public_key_bytes())
    }
}

impl KeyStore for DeviceKey {
    fn public_key(&self) -> Result<[u8; PUBLIC_KEY_LEN], IdentityError> {
        Ok(self.public_key_bytes())
    }

    fn sign(&self, message: &[u8]) -> Result<[u8; SIGNATURE_LEN], IdentityError> {
        Ok(self.signing.sign(message).to_bytes())
    }
}

/// Parses a public key and refuses invalid and weak (small-order) ones:
/// a weak key can "sign" many messages at once.
pub fn check_public_key(bytes: &[u8; PUBLIC_KEY_LEN]) -> Result<VerifyingKey, IdentityError> {
    let key = VerifyingKey::from_bytes(bytes).map_err(|_| IdentityError::InvalidPublicKey)?;
    if key.is_weak() {
        return Err(IdentityError::WeakKey);
    }
    Ok(key)
}

/// Strict ed25519 verification (no malleable or small-order signatures, no weak keys).
pub fn verify_strict(
    public_key: &[u8; PUBLIC_KEY_LEN],
    message: &[u8],
    signature: &[u8; SIGNATURE_LEN],
) -> Result<(), IdentityError> {
    let key = check_public_key(public_key)?;
    let sig = Signature::from_bytes(signature);
    key.verify_strict(message, &sig)
        .map_err(|_| IdentityError::BadSignature)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_sign_and_verify() {
        let k = DeviceKey::generate().unwrap();
        let sig = k.sign(b"abc").unwrap();
        assert!(verify_strict(&k.public_key_bytes(), b"abc", &sig).is_ok());
        assert!(verify_strict(&k.public_key_bytes(), b"abd", &sig).is_err());
        assert!(!format!("{k:?}").contains(&hex::encode(k.secret_bytes())));
    }

    #[test]
    fn weak_keys_are_refused() {
        // The identity point (y = 1) is of small order.
        let mut identity = [0u8; 32];
        identity[0] = 1;
        assert!(matches!(check_public_key(&identity), Err(IdentityError::WeakKey)));
    }
}
