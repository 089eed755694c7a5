//! A raw signing client of the sync API for the server's tests: unlike
//! kiemtra-core's sync client (which devices and the load generator use), it
//! can send what no honest device sends — replayed nonces, forged
//! signatures, garbage bodies, keys of its choosing — to show the server
//! refuses them.

use ed25519_dalek::{Signer, SigningKey};
use kiemtra_core::codec::{from_cbor, to_cbor};
use kiemtra_core::ids::DeviceId;
use kiemtra_core::ops::Operation;
use kiemtra_core::sync::wire::{
    request_message, Challenge, ChallengeRequest, EnrolRequest, EnrolResponse, PullResponse, PushRequest,
    PushResponse, Session, SessionRequest, HEADER_NONCE, HEADER_SIGNATURE, SIGN_SESSION,
};
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("HTTP {status}: {body}")]
    Status { status: u16, body: String },
    #[error("transport: {0}")]
    Transport(String),
    #[error("decode: {0}")]
    Decode(String),
    #[error("not signed in")]
    NoSession,
}

/// A raw answer: status and body bytes.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub body: Vec<u8>,
}

impl Reply {
    /// The CBOR body of a 2xx answer, or the error.
    pub fn cbor<T: DeserializeOwned>(self) -> Result<T, ClientError> {
        if !(200..300).contains(&self.status) {
            return Err(ClientError::Status {
                status: self.status,
                body: String::from_utf8_lossy(&self.body).into_owned(),
            });
        }
        from_cbor("reply", &self.body).map_err(|e| ClientError::Decode(e.to_string()))
    }

    /// The `code` of a JSON error body.
    pub fn error_code(&self) -> String {
        serde_json::from_slice::<serde_json::Value>(&self.body)
            .ok()
            .and_then(|v| v["code"].as_str().map(str::to_string))
            .unwrap_or_default()
    }
}

pub struct DeviceClient {
    base: String,
    agent: ureq::Agent,
    key: SigningKey,
    pub device: DeviceId,
    pub token: Option<String>,
}

fn random_hex(n: usize) -> String {
    let mut b = vec![0u8; n];
    // The OS random source does not fail on the platforms we run on; zeros would only make a replay.
    let _ = getrandom::fill(&mut b);
    hex::encode(b)
}

impl DeviceClient {
    /// A client for `base` (e.g. `http://127.0.0.1:8080`) with a fresh key and device id.
    pub fn new(base: &str) -> Self {
        let mut secret = [0u8; 32];
        let _ = getrandom::fill(&mut secret);
        Self::with_key(base, SigningKey::from_bytes(&secret), DeviceId::new())
    }

    pub fn with_key(base: &str, key: SigningKey, device: DeviceId) -> Self {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(std::time::Duration::from_secs(60)))
            .build()
            .new_agent();
        Self {
            base: base.trim_end_matches('/').to_string(),
            agent,
            key,
            device,
            token: None,
        }
    }

    pub fn public_key(&self) -> [u8; 32] {
        self.key.verifying_key().to_bytes()
    }

    fn finish(res: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> Result<Reply, ClientError> {
        let mut res = res.map_err(|e| ClientError::Transport(e.to_string()))?;
        let status = res.status().as_u16();
        let body = res
            .body_mut()
            .with_config()
            .limit(64 * 1024 * 1024)
            .read_to_vec()
            .map_err(|e| ClientError::Transport(e.to_string()))?;
        Ok(Reply { status, body })
    }

    /// An unsigned POST of raw bytes.
    pub fn post_raw(&self, path: &str, body: &[u8]) -> Result<Reply, ClientError> {
        Self::finish(
            self.agent
                .post(format!("{}{path}", self.base))
                .header("content-type", "application/cbor")
                .send(body),
        )
    }

    pub fn enrol(&self, code: &str, name: &str) -> Result<EnrolResponse, ClientError> {
        self.enrol_with_key(code, name, self.public_key().to_vec())?
            .cbor()
    }

    pub fn enrol_with_key(&self, code: &str, name: &str, public_key: Vec<u8>) -> Result<Reply, ClientError> {
        let req = EnrolRequest {
            code: code.to_string(),
            device: self.device,
            public_key,
            device_name: name.to_string(),
        };
        let body = to_cbor("enrol", &req).map_err(|e| ClientError::Decode(e.to_string()))?;
        self.post_raw("/api/v1/enrol", &body)
    }

    /// Challenge and session; keeps the token.
    pub fn login(&mut self) -> Result<Session, ClientError> {
        let body = to_cbor("challenge", &ChallengeRequest { device: self.device })
            .map_err(|e| ClientError::Decode(e.to_string()))?;
        let ch: Challenge = self.post_raw("/api/v1/auth/challenge", &body)?.cbor()?;
        let mut m = SIGN_SESSION.to_vec();
        m.extend_from_slice(&ch.challenge);
        m.extend_from_slice(self.device.as_bytes());
        let req = SessionRequest {
            device: self.device,
            challenge: ch.challenge,
            signature: self.key.sign(&m).to_bytes().to_vec(),
        };
        let body = to_cbor("session", &req).map_err(|e| ClientError::Decode(e.to_string()))?;
        let s: Session = self.post_raw("/api/v1/auth/session", &body)?.cbor()?;
        self.token = Some(s.token.clone());
        Ok(s)
    }

    /// The headers of a signed request: (nonce, signature), with a fresh nonce.
    pub fn sign(
        &self,
        method: &str,
        path_and_query: &str,
        body: &[u8],
    ) -> Result<(String, String), ClientError> {
        let token = self.token.as_deref().ok_or(ClientError::NoSession)?;
        let nonce = random_hex(16);
        let digest: [u8; 32] = Sha256::digest(body).into();
        let m = request_message(token, &nonce, method, path_and_query, &digest);
        Ok((nonce, hex::encode(self.key.sign(&m).to_bytes())))
    }

    /// Sends a request with the given nonce and signature (tests replay them).
    pub fn send_signed(
        &self,
        method: &str,
        path_and_query: &str,
        body: &[u8],
        nonce: &str,
        signature: &str,
    ) -> Result<Reply, ClientError> {
        let token = self.token.as_deref().ok_or(ClientError::NoSession)?;
        let url = format!("{}{path_and_query}", self.base);
        let auth = format!("Bearer {token}");
        match method {
            "GET" => Self::finish(
                self.agent
                    .get(url)
                    .header("authorization", &auth)
                    .header(HEADER_NONCE, nonce)
                    .header(HEADER_SIGNATURE, signature)
                    .call(),
            ),
            "PUT" => Self::finish(
                self.agent
                    .put(url)
                    .header("authorization", &auth)
                    .header(HEADER_NONCE, nonce)
                    .header(HEADER_SIGNATURE, signature)
                    .send(body),
            ),
            _ => Self::finish(
                self.agent
                    .post(url)
                    .header("authorization", &auth)
                    .header(HEADER_NONCE, nonce)
                    .header(HEADER_SIGNATURE, signature)
                    .header("content-type", "application/cbor")
                    .send(body),
            ),
        }
    }

    /// A signed request with a fresh nonce.
    pub fn signed(&self, method: &str, path_and_query: &str, body: &[u8]) -> Result<Reply, ClientError> {
        let (nonce, sig) = self.sign(method, path_and_query, body)?;
        self.send_signed(method, path_and_query, body, &nonce, &sig)
    }

    pub fn push(&self, ops: Vec<Operation>) -> Result<PushResponse, ClientError> {
        let body = to_cbor(
            "push",
            &PushRequest {
                ops,
                access_codes: vec![],
            },
        )
        .map_err(|e| ClientError::Decode(e.to_string()))?;
        self.signed("POST", "/api/v1/ops", &body)?.cbor()
    }

    pub fn pull(&self, since: u64, limit: u32) -> Result<PullResponse, ClientError> {
        self.signed("GET", &format!("/api/v1/ops?since={since}&limit={limit}"), &[])?
            .cbor()
    }
}
