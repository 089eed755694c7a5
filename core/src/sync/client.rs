//! The device's HTTP client for the sync protocol: enrolment, sessions and
//! signed requests (see `wire`).

use std::sync::{Arc, Mutex};

use serde::{de::DeserializeOwned, Serialize};
use sha2::{Digest, Sha256};

use super::transport::{HttpRequest, HttpResponse, HttpTransport};
use super::wire::*;
use super::SyncError;
use crate::codec::{from_cbor, to_cbor};
use crate::identity::KeyStore;
use crate::ids::DeviceId;

const CBOR: &str = "application/cbor";

pub struct SyncClient {
    base_url: String,
    transport: Arc<dyn HttpTransport>,
    key: Arc<dyn KeyStore>,
    device: DeviceId,
    session: Mutex<Option<Session>>,
}

impl SyncClient {
    pub fn new(
        base_url: &str,
        transport: Arc<dyn HttpTransport>,
        key: Arc<dyn KeyStore>,
        device: DeviceId,
    ) -> Self {
        Self {
            base_url: base_url.trim_end_matches('/').to_string(),
            transport,
            key,
            device,
            session: Mutex::new(None),
        }
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    fn url(&self, path: &str) -> String {
        format!("{}{}", self.base_url, path)
    }

    fn unsigned<Req: Serialize, Resp: DeserializeOwned>(
        &self,
        path: &str,
        body: &Req,
    ) -> Result<Resp, SyncError> {
        let response = self.transport.send(HttpRequest {
            method: "POST",
            url: self.url(path),
            headers: vec![("content-type".into(), CBOR.into())],
            body: to_cbor("request", body)?,
        })?;
        decode(check(response)?)
    }

    pub fn capabilities(&self) -> Result<Capabilities, SyncError> {
        let response = self.transport.send(HttpRequest {
            method: "GET",
            url: self.url("/api/v1/capabilities"),
            headers: vec![("accept".into(), CBOR.into())],
            body: Vec::new(),
        })?;
        decode(check(response)?)
    }

    /// Presents a one-time code and this device's public key; checks the
    /// certificate the server returns against that key and the server's key.
    pub fn enrol(&self, code: &str, device_name: &str) -> Result<EnrolResponse, SyncError> {
        let public_key = self.key.public_key()?;
        let response: EnrolResponse = self.unsigned(
            "/api/v1/enrol",
            &EnrolRequest {
                code: code.trim().to_string(),
                device: self.device,
                public_key: public_key.to_vec(),
                device_name: device_name.to_string(),
            },
        )?;
        let body = verify_certificate(&response.certificate, &response.server_public_key)?;
        if body.public_key != public_key
            || body.device != self.device
            || body.inspector != response.inspector.id
        {
            return Err(SyncError::Protocol(
                "the certificate is not for this device's key".into(),
            ));
        }
        Ok(response)
    }

    /// Challenge–response for a fresh session token.
    fn authenticate(&self) -> Result<Session, SyncError> {
        let challenge: Challenge = self.unsigned(
            "/api/v1/auth/challenge",
            &ChallengeRequest { device: self.device },
        )?;
        let mut message = SIGN_SESSION.to_vec();
        message.extend_from_slice(&challenge.challenge);
        message.extend_from_slice(self.device.as_bytes());
        let signature = self.key.sign(&message)?;
        let session: Session = self.unsigned(
            "/api/v1/auth/session",
            &SessionRequest {
                device: self.device,
                challenge: challenge.challenge,
                signature: signature.to_vec(),
            },
        )?;
        Ok(session)
    }

    fn session_token(&self, renew: bool) -> Result<String, SyncError> {
        let mut guard = self
            .session
            .lock()
            .map_err(|_| SyncError::Config("session lock poisoned".into()))?;
        if renew || guard.is_none() {
            *guard = Some(self.authenticate()?);
        }
        guard
            .as_ref()
            .map(|s| s.token.clone())
            .ok_or_else(|| SyncError::Auth("no session".into()))
    }

    /// Sends a signed request; on 401 (expired session, server restarted) it
    /// authenticates again once and retries with a new nonce.
    pub fn signed(
        &self,
        method: &'static str,
        path_and_query: &str,
        body: Vec<u8>,
        content_type: &str,
    ) -> Result<HttpResponse, SyncError> {
        self.signed_with(method, path_and_query, body, content_type, &[])
    }

    /// [`Self::signed`] with more headers, outside what the signature covers
    /// (a download's `Range`).
    fn signed_with(
        &self,
        method: &'static str,
        path_and_query: &str,
        body: Vec<u8>,
        content_type: &str,
        extra: &[(&str, String)],
    ) -> Result<HttpResponse, SyncError> {
        let body_hash: [u8; 32] = Sha256::digest(&body).into();
        let mut renew = false;
        loop {
            let token = self.session_token(renew)?;
            let mut nonce = [0u8; 16];
            getrandom::fill(&mut nonce).map_err(|e| SyncError::Config(format!("random source: {e}")))?;
            let nonce = hex::encode(nonce);
            let signature = self.key.sign(&request_message(
                &token,
                &nonce,
                method,
                path_and_query,
                &body_hash,
            ))?;
            let response = self.transport.send(HttpRequest {
                method,
                url: self.url(path_and_query),
                headers: [
                    ("authorization".into(), format!("Bearer {token}")),
                    (HEADER_NONCE.into(), nonce),
                    (HEADER_SIGNATURE.into(), hex::encode(signature)),
                    ("content-type".into(), content_type.into()),
                ]
                .into_iter()
                .chain(extra.iter().map(|(k, v)| (k.to_string(), v.clone())))
                .collect(),
                body: body.clone(),
            })?;
            if response.status == 401 && !renew {
                renew = true;
                continue;
            }
            return check(response);
        }
    }

    /// Pushes `ops` with the clear access codes of the minutes among them.
    pub fn push(
        &self,
        ops: &[crate::ops::Operation],
        access_codes: &[crate::access_code::AccessCode],
    ) -> Result<PushResponse, SyncError> {
        let body = to_cbor(
            "push",
            &PushRequest {
                ops: ops.to_vec(),
                access_codes: access_codes.to_vec(),
            },
        )?;
        decode(self.signed("POST", "/api/v1/ops", body, CBOR)?)
    }

    pub fn pull(&self, since: u64, limit: u32) -> Result<PullResponse, SyncError> {
        decode(self.signed(
            "GET",
            &format!("/api/v1/ops?since={since}&limit={limit}"),
            Vec::new(),
            CBOR,
        )?)
    }

    pub fn upload_status(&self, sha256_hex: &str) -> Result<UploadStatus, SyncError> {
        decode(self.signed(
            "GET",
            &format!("/api/v1/blobs/{sha256_hex}/status"),
            Vec::new(),
            CBOR,
        )?)
    }

    pub fn upload_chunk(
        &self,
        sha256_hex: &str,
        offset: u64,
        total: u64,
        chunk: Vec<u8>,
    ) -> Result<UploadStatus, SyncError> {
        let path = format!("/api/v1/blobs/{sha256_hex}?offset={offset}&total={total}");
        decode(self.signed("PUT", &path, chunk, "application/octet-stream")?)
    }

    pub fn download(&self, sha256_hex: &str) -> Result<Vec<u8>, SyncError> {
        Ok(self
            .signed("GET", &format!("/api/v1/blobs/{sha256_hex}"), Vec::new(), CBOR)?
            .body)
    }

    /// The bytes of a blob from `offset` on (`Range: bytes=OFFSET-`): how a
    /// download cut short resumes without fetching again what it holds.
    pub fn download_from(&self, sha256_hex: &str, offset: u64) -> Result<Vec<u8>, SyncError> {
        let response = self.signed_with(
            "GET",
            &format!("/api/v1/blobs/{sha256_hex}"),
            Vec::new(),
            CBOR,
            &[("range", format!("bytes={offset}-"))],
        )?;
        // 200 is a server that sends the whole blob whatever the range.
        match response.status {
            206 => Ok(response.body),
            _ => Ok(response
                .body
                .get(usize::try_from(offset).unwrap_or(usize::MAX)..)
                .unwrap_or_default()
                .to_vec()),
        }
    }
}

/// Checks a server certificate's signature and returns its body.
pub fn verify_certificate(
    cert: &Certificate,
    server_public_key: &[u8],
) -> Result<CertificateBody, SyncError> {
    let key: [u8; 32] = server_public_key
        .try_into()
        .map_err(|_| SyncError::Protocol("the server key is not 32 bytes".into()))?;
    let signature: [u8; 64] = cert
        .signature
        .as_slice()
        .try_into()
        .map_err(|_| SyncError::Protocol("the certificate signature is not 64 bytes".into()))?;
    let mut message = SIGN_CERTIFICATE.to_vec();
    message.extend_from_slice(&cert.body);
    crate::identity::verify_strict(&key, &message, &signature)
        .map_err(|_| SyncError::Protocol("the certificate's signature does not verify".into()))?;
    Ok(from_cbor("certificate", &cert.body)?)
}

fn check(response: HttpResponse) -> Result<HttpResponse, SyncError> {
    let json = || serde_json::from_slice::<serde_json::Value>(&response.body).ok();
    if response.status == 409 {
        if let Some(v) = json().filter(|v| v["code"] == "blob_missing") {
            let missing = v["missing"]
                .as_array()
                .map(|a| a.iter().filter_map(|h| h.as_str().map(str::to_string)).collect())
                .unwrap_or_default();
            return Err(SyncError::BlobsMissing(missing));
        }
    }
    let message = || {
        json()
            .and_then(|v| v.get("error").and_then(|e| e.as_str()).map(str::to_string))
            .unwrap_or_else(|| {
                String::from_utf8_lossy(&response.body)
                    .chars()
                    .take(300)
                    .collect()
            })
    };
    match response.status {
        200..=299 => Ok(response),
        401 | 403 => Err(SyncError::Auth(message())),
        400..=499 => Err(SyncError::Refused(format!("{} {}", response.status, message()))),
        _ => Err(SyncError::Server(format!("{} {}", response.status, message()))),
    }
}

fn decode<T: DeserializeOwned>(response: HttpResponse) -> Result<T, SyncError> {
    Ok(from_cbor("response", &response.body)?)
}
