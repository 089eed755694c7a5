//! The second factor of a staff account: a time-based one-time password
//! (RFC 6238) from an authenticator app, as every such app reads it:
//! HMAC-SHA-1, 6 digits, 30-second steps, one step of clock skew either
//! way. The arithmetic is `totp-rs`'s; this module holds what the server
//! adds: a random secret, the enrolment URI and its QR code, and the rule
//! that a code is accepted once only (RFC 6238 §5.2), by remembering the
//! last time step accepted for the account.

use serde::{Deserialize, Serialize};

/// 160 bits, the length RFC 4226 §4 recommends.
pub const SECRET_BYTES: usize = 20;
/// Seconds per step.
pub const STEP_SECS: u64 = 30;
/// Digits of a code.
pub const DIGITS: u8 = 6;
/// What the authenticator app shows above the code.
pub const ISSUER: &str = "Kiemtra";

/// Why the second factor could not be set up or shown.
#[derive(Debug, thiserror::Error)]
pub enum TotpError {
    #[error("the random source failed: {0}")]
    Random(String),
    /// The parameters or the account name were refused by `totp-rs`
    /// (a login never holds the `:` it refuses, so this is a defect).
    #[error("the one-time password could not be set up: {0}")]
    Setup(String),
    #[error("the QR code could not be drawn: {0}")]
    Qr(String),
}

/// Why a typed code was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// Not six digits: a typo, not a guess.
    #[error("a code is six digits")]
    Malformed,
    /// Not the code of this step or the ones beside it.
    #[error("the code is not right")]
    Wrong,
    /// Right, but its step (or a later one) was already accepted: a code
    /// read over a shoulder or replayed from a log opens nothing.
    #[error("the code was already used")]
    Replayed,
}

impl Refusal {
    /// The word the audit log records.
    pub fn as_str(self) -> &'static str {
        match self {
            Refusal::Malformed => "malformed",
            Refusal::Wrong => "wrong",
            Refusal::Replayed => "replayed",
        }
    }
}

/// An account's second factor as stored with the account. Every field
/// defaults, so accounts stored before second factors existed decode as
/// "off".
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecondFactor {
    /// The secret of the confirmed authenticator; `None`: the second factor is off.
    #[serde(default, with = "serde_bytes")]
    pub secret: Option<Vec<u8>>,
    /// A secret shown for setting up, not yet confirmed by a code; it
    /// signs nobody in.
    #[serde(default, with = "serde_bytes")]
    pub pending: Option<Vec<u8>>,
    /// The last time step whose code was accepted (set-up, sign-in or
    /// turning off alike); a code of that step or an earlier one is refused.
    #[serde(default)]
    pub last_step: u64,
}

// By hand: the derived `Debug` would print the secrets into any log that
// prints an account.
impl std::fmt::Debug for SecondFactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecondFactor")
            .field("on", &self.is_on())
            .field("setting_up", &self.pending.is_some())
            .field("last_step", &self.last_step)
            .finish()
    }
}

impl SecondFactor {
    pub fn is_on(&self) -> bool {
        self.secret.is_some()
    }

    /// Accepts `typed` as the code of the confirmed secret at `now` (Unix
    /// seconds), remembering its step; refuses it otherwise (nothing changes).
    pub fn accept(&mut self, typed: &str, now: u64) -> Result<(), Refusal> {
        let secret = self.secret.as_deref().ok_or(Refusal::Wrong)?;
        self.last_step = check(secret, typed, now, self.last_step)?;
        Ok(())
    }

    /// Confirms the pending secret with its code: the second factor is on
    /// from now, with that secret.
    pub fn confirm(&mut self, typed: &str, now: u64) -> Result<(), Refusal> {
        let secret = self.pending.as_deref().ok_or(Refusal::Wrong)?;
        self.last_step = check(secret, typed, now, self.last_step)?;
        self.secret = self.pending.take();
        Ok(())
    }
}

/// A new random secret.
pub fn new_secret() -> Result<Vec<u8>, TotpError> {
    let mut s = vec![0u8; SECRET_BYTES];
    getrandom::fill(&mut s).map_err(|e| TotpError::Random(e.to_string()))?;
    Ok(s)
}

fn totp(secret: &[u8], login: &str) -> Result<totp_rs::Totp, TotpError> {
    totp_rs::Builder::new()
        .with_algorithm(totp_rs::Algorithm::SHA1)
        .with_digits(DIGITS)
        .with_skew(1)
        .with_step_duration(STEP_SECS)
        .with_secret(secret.to_vec())
        .with_issuer(Some(ISSUER))
        .with_account_name(login)
        .build()
        .map_err(|e| TotpError::Setup(e.to_string()))
}

/// The step of `typed` if it is the code of `secret` at `now` (one step of
/// skew either way) and of a step after `last_step`.
fn check(secret: &[u8], typed: &str, now: u64, last_step: u64) -> Result<u64, Refusal> {
    // Apps show "123 456"; people type it so.
    let code: String = typed.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != usize::from(DIGITS) || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Refusal::Malformed);
    }
    // The secret was checked when it was made; a stored one that no longer
    // builds opens nothing rather than failing the request. The account
    // name only labels the URI, so any valid one does for checking.
    let t = totp(secret, "x").map_err(|_| Refusal::Wrong)?;
    let step = t.check(&code, now).ok_or(Refusal::Wrong)?;
    if step <= last_step {
        return Err(Refusal::Replayed);
    }
    Ok(step)
}

/// The secret as people type it into an app: base32, in groups of four.
pub fn secret_text(secret: &[u8]) -> String {
    let b32 = totp_rs::Secret::from(secret.to_vec()).to_base32();
    b32.as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The `otpauth://totp/Kiemtra:LOGIN?secret=…&issuer=Kiemtra…` URI that
/// an authenticator app reads from the QR code.
pub fn uri(secret: &[u8], login: &str) -> Result<String, TotpError> {
    totp(secret, login)?
        .to_url()
        .map_err(|e| TotpError::Setup(e.to_string()))
}

/// The QR code of `uri` as a `data:image/svg+xml;base64,…` URL, for an
/// `<img>` (the pages' policy allows `data:` images and nothing external).
pub fn qr_data_url(uri: &str) -> Result<String, TotpError> {
    use base64::Engine;
    let qr = qrcode::QrCode::new(uri.as_bytes()).map_err(|e| TotpError::Qr(e.to_string()))?;
    let svg = qr
        .render::<qrcode::render::svg::Color>()
        .min_dimensions(200, 200)
        .build();
    Ok(format!(
        "data:image/svg+xml;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(svg)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 Appendix B's SHA-1 secret.
    const RFC_SECRET: &[u8] = b"12345678901234567890";

    fn code(secret: &[u8], at: u64) -> String {
        totp(secret, "x").unwrap().generate(at).to_string()
    }

    #[test]
    fn codes_are_rfc_6238s() {
        // Appendix B's 8-digit values, of which a 6-digit code is the tail.
        for (at, eight) in [
            (59, "94287082"),
            (1111111109, "07081804"),
            (1234567890, "89005924"),
            (2000000000, "69279037"),
        ] {
            assert_eq!(code(RFC_SECRET, at), eight[2..], "at {at}");
        }
    }

    #[test]
    fn a_code_is_accepted_within_one_step_and_once() {
        let now = 1_700_000_000;
        let step = now / STEP_SECS;
        let mut f = SecondFactor {
            secret: Some(RFC_SECRET.to_vec()),
            ..Default::default()
        };
        assert_eq!(f.accept(&code(RFC_SECRET, now - 60), now), Err(Refusal::Wrong));
        assert_eq!(f.accept(&code(RFC_SECRET, now + 60), now), Err(Refusal::Wrong));
        f.accept(&code(RFC_SECRET, now - 30), now).unwrap();
        assert_eq!(f.last_step, step - 1);
        // The same code again, and an older step's, are replays.
        assert_eq!(f.accept(&code(RFC_SECRET, now - 30), now), Err(Refusal::Replayed));
        let mut g = f.clone();
        g.accept(&code(RFC_SECRET, now + 30), now).unwrap();
        assert_eq!(g.accept(&code(RFC_SECRET, now), now), Err(Refusal::Replayed));
        // Spaces as apps show them are fine; anything else is malformed.
        let spaced = code(RFC_SECRET, now);
        let spaced = format!("{} {}", &spaced[..3], &spaced[3..]);
        f.accept(&spaced, now).unwrap();
        assert_eq!(f.last_step, step);
        for bad in ["", "12345", "1234567", "12345a", "+12345", "１２３４５６"] {
            assert_eq!(f.accept(bad, now), Err(Refusal::Malformed), "{bad:?}");
        }
    }

    #[test]
    fn off_accepts_nothing_and_setting_up_needs_the_pending_secrets_code() {
        let now = 1_700_000_000;
        let mut f = SecondFactor::default();
        assert!(!f.is_on());
        assert_eq!(f.accept(&code(RFC_SECRET, now), now), Err(Refusal::Wrong));
        let new = new_secret().unwrap();
        assert_eq!(new.len(), SECRET_BYTES);
        assert_ne!(new, new_secret().unwrap());
        f.pending = Some(new.clone());
        // Still off while only pending.
        assert_eq!(f.accept(&code(&new, now), now), Err(Refusal::Wrong));
        assert_eq!(f.confirm(&code(RFC_SECRET, now), now), Err(Refusal::Wrong));
        assert!(!f.is_on());
        f.confirm(&code(&new, now), now).unwrap();
        assert!(f.is_on() && f.pending.is_none());
        assert_eq!(f.secret.as_deref(), Some(&new[..]));
        // The confirming code was used up.
        assert_eq!(f.accept(&code(&new, now), now), Err(Refusal::Replayed));
    }

    #[test]
    fn the_uri_and_the_text_carry_the_secret_an_app_needs() {
        let uri = uri(RFC_SECRET, "nguyen.van-an").unwrap();
        assert!(uri.starts_with("otpauth://totp/Kiemtra:nguyen.van-an?"), "{uri}");
        assert!(uri.contains("secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"), "{uri}");
        assert!(uri.contains("issuer=Kiemtra"), "{uri}");
        // What a second app reads back from it gives the same codes.
        let read = totp_rs::Totp::from_url(&uri).unwrap();
        assert_eq!(read.generate(59).to_string(), code(RFC_SECRET, 59));
        assert_eq!(secret_text(RFC_SECRET), "GEZD GNBV GY3T QOJQ GEZD GNBV GY3T QOJQ");
        let qr = qr_data_url(&uri).unwrap();
        assert!(qr.starts_with("data:image/svg+xml;base64,"));
    }

    #[test]
    fn the_secret_is_not_in_debug_output() {
        let f = SecondFactor {
            secret: Some(RFC_SECRET.to_vec()),
            pending: Some(RFC_SECRET.to_vec()),
            last_step: 7,
        };
        let shown = format!("{f:?}");
        assert!(!shown.contains("49, 50") && !shown.contains("1234"), "{shown}");
    }
}
