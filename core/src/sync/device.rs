//! Putting a device on the server: enrolment, and a client built from what
//! enrolment stored.

use std::sync::Arc;

use super::client::SyncClient;
use super::transport::{HttpTransport, UreqTransport};
use super::SyncError;
use crate::identity::KeyStore;
use crate::store::{Enrolment, Store};

fn transport(ca_pem: Option<&str>) -> Result<Arc<dyn HttpTransport>, SyncError> {
    Ok(match ca_pem {
        Some(pem) => Arc::new(UreqTransport::with_ca_pem(pem.as_bytes())?),
        None => Arc::new(UreqTransport::new()),
    })
}

/// Enrols this device with a one-time code; the store keeps the certificate,
/// the server's key and the server address, and the enrolled inspector
/// becomes the device's identity.
pub fn enrol(
    store: &Store,
    key: Arc<dyn KeyStore>,
    server_url: &str,
    code: &str,
    device_name: &str,
    ca_pem: Option<&str>,
) -> Result<Enrolment, SyncError> {
    let client = SyncClient::new(server_url, transport(ca_pem)?, key, store.device_id());
    let response = client.enrol(code, device_name)?;
    let enrolment = Enrolment {
        inspector: response.inspector,
        certificate: response.certificate,
        server_public_key: response.server_public_key,
        server_url: client.base_url().to_string(),
        ca_pem: ca_pem.map(str::to_string),
    };
    store.save_enrolment(&enrolment)?;
    Ok(enrolment)
}

/// A client for the server this device enrolled with.
pub fn client(store: &Store, key: Arc<dyn KeyStore>) -> Result<SyncClient, SyncError> {
    let enrolment = store
        .enrolment()?
        .ok_or_else(|| SyncError::Config("this device is not enrolled".into()))?;
    Ok(SyncClient::new(
        &enrolment.server_url,
        transport(enrolment.ca_pem.as_deref())?,
        key,
        store.device_id(),
    ))
}

/// A client with a transport of the app's choosing (its own HTTP stack).
pub fn client_with_transport(
    store: &Store,
    key: Arc<dyn KeyStore>,
    transport: Arc<dyn HttpTransport>,
) -> Result<SyncClient, SyncError> {
    let enrolment = store
        .enrolment()?
        .ok_or_else(|| SyncError::Config("this device is not enrolled".into()))?;
    Ok(SyncClient::new(
        &enrolment.server_url,
        transport,
        key,
        store.device_id(),
    ))
}
