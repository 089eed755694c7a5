//! Short-lived entries that every server instance must see alike: device
//! challenges, sessions and request nonces, guessing limits, sign-ins
//! waiting for their second factor, import progress. None of them is a
//! record (they go through no changeset and no log); each lives for a
//! time-to-live and is then as good as gone.
//!
//! Expiry is decided by one clock for all the instances that share a store:
//! the implementation's, never the caller's (PostgreSQL's `now()`; the
//! process's monotonic clock for the in-memory store, which only one
//! instance uses). So no method takes a time, and times come back as
//! durations from that clock's now.
//!
//! Every failure is a [`StorageError`] to retry, never a verdict: a caller
//! must not turn a failed lookup into "unauthorized".

use std::time::Duration;

use crate::StorageError;

/// What an entry is: each kind is its own key space.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// A device's single-use challenge, by its bytes: the device's id.
    Challenge,
    /// A device session, by the SHA-256 of its token: device and inspector.
    DeviceSession,
    /// A request nonce seen in a session (token hash ++ nonce): nothing.
    Nonce,
    /// The number of requests a session has made (a counter).
    SessionRequests,
    /// When a device last made an authenticated request, by device id.
    LastSeen,
    /// Wrong portal access codes, per client address (a counter).
    PortalGuesses,
    /// Wrong staff passwords, admin tokens and codes, per client address (a counter).
    StaffGuesses,
    /// A sign-in whose password was right and whose code is awaited, by the
    /// SHA-256 of its cookie's token: the login.
    PendingSignIn,
    /// The wrong codes of a pending sign-in (a counter).
    PendingSignInWrong,
    /// An establishment import's progress, by its number.
    Import,
}

impl Kind {
    pub const ALL: [Kind; 10] = [
        Kind::Challenge,
        Kind::DeviceSession,
        Kind::Nonce,
        Kind::SessionRequests,
        Kind::LastSeen,
        Kind::PortalGuesses,
        Kind::StaffGuesses,
        Kind::PendingSignIn,
        Kind::PendingSignInWrong,
        Kind::Import,
    ];

    /// The kind's name in a store (PostgreSQL's `expiring.kind`): never
    /// change one, or live entries of that kind are lost at an upgrade.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Challenge => "challenge",
            Kind::DeviceSession => "device_session",
            Kind::Nonce => "nonce",
            Kind::SessionRequests => "session_requests",
            Kind::LastSeen => "last_seen",
            Kind::PortalGuesses => "portal_guesses",
            Kind::StaffGuesses => "staff_guesses",
            Kind::PendingSignIn => "pending_sign_in",
            Kind::PendingSignInWrong => "pending_sign_in_wrong",
            Kind::Import => "import",
        }
    }

    pub fn index(self) -> usize {
        self as usize
    }
}

/// A counter in its window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// Counted so far in this window (at least 1).
    pub count: u64,
    /// Until the window ends, by the store's clock.
    pub ends_in: Duration,
}

/// Short-lived entries shared by every server instance on one store. An
/// expired entry is absent for every method, whether or not it has been
/// purged yet.
pub trait Expiring: Send + Sync + 'static {
    /// Stores `value` under `key` for `ttl`, replacing any entry (and
    /// restarting its life).
    fn put(&self, kind: Kind, key: &[u8], value: &[u8], ttl: Duration) -> Result<(), StorageError>;

    /// Stores `value` for `ttl` unless a live entry holds `key`; returns
    /// whether it was stored. Of several callers racing on one key, on any
    /// instances, exactly one gets `true`.
    fn insert_new(&self, kind: Kind, key: &[u8], value: &[u8], ttl: Duration) -> Result<bool, StorageError>;

    /// Removes the entry and returns its value if it was live: of several
    /// callers racing on one key, on any instances, at most one gets it.
    fn take(&self, kind: Kind, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError>;

    /// The live value of `key`.
    fn get(&self, kind: Kind, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError>;

    /// Removes `key`'s entry, live or not (nothing if there is none).
    fn delete(&self, kind: Kind, key: &[u8]) -> Result<(), StorageError>;

    /// Adds one to `key`'s counter and returns it. A counter that did not
    /// exist or whose window ended starts again at 1 with a new window of
    /// `window`; a live one keeps its window. Counts made through every
    /// instance add up, none lost.
    fn count(&self, kind: Kind, key: &[u8], window: Duration) -> Result<Window, StorageError>;

    /// `key`'s counter, without counting; `None` when it has no live window.
    fn counted(&self, kind: Kind, key: &[u8]) -> Result<Option<Window>, StorageError>;
}
