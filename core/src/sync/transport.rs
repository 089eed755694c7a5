//! HTTP behind a trait, so that an Android or iOS app can hand its own
//! network stack (proxies, pinning, background transfers) to the core, with a
//! pure-Rust default (ureq + rustls) for tests and desktop use.

use std::sync::Arc;
use std::time::Duration;

use super::SyncError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpRequest {
    pub method: &'static str,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    pub status: u16,
    pub body: Vec<u8>,
}

pub trait HttpTransport: Send + Sync {
    /// Sends one request. A response with any status is `Ok`; only a failure
    /// to get a response (no network, refused connection, TLS) is an error.
    fn send(&self, request: HttpRequest) -> Result<HttpResponse, SyncError>;
}

/// The default transport: ureq with rustls.
pub struct UreqTransport {
    agent: ureq::Agent,
    max_response_bytes: u64,
}

impl UreqTransport {
    /// Trusts the usual web roots.
    pub fn new() -> Self {
        Self::build(ureq::tls::TlsConfig::builder().build())
    }

    /// Trusts only the certificate authorities in `ca_pem` (an inspectorate's own CA, or a test CA).
    pub fn with_ca_pem(ca_pem: &[u8]) -> Result<Self, SyncError> {
        let certs: Vec<ureq::tls::Certificate<'static>> = ureq::tls::parse_pem(ca_pem)
            .filter_map(|item| match item {
                Ok(ureq::tls::PemItem::Certificate(c)) => Some(c),
                _ => None,
            })
            .collect();
        if certs.is_empty() {
            return Err(SyncError::Config("no certificate in the CA file".into()));
        }
        let tls = ureq::tls::TlsConfig::builder()
            .root_certs(ureq::tls::RootCerts::Specific(Arc::new(certs)))
            .build();
        Ok(Self::build(tls))
    }

    fn build(tls: ureq::tls::TlsConfig) -> Self {
        let config = ureq::Agent::config_builder()
            .tls_config(tls)
            .http_status_as_error(false)
            .timeout_connect(Some(Duration::from_secs(10)))
            .timeout_global(Some(Duration::from_secs(120)))
            .build();
        Self {
            agent: config.into(),
            max_response_bytes: 256 * 1024 * 1024,
        }
    }
}

impl Default for UreqTransport {
    fn default() -> Self {
        Self::new()
    }
}

impl HttpTransport for UreqTransport {
    fn send(&self, request: HttpRequest) -> Result<HttpResponse, SyncError> {
        let net = |e: ureq::Error| SyncError::Network(e.to_string());
        let mut builder = ureq::http::Request::builder()
            .method(request.method)
            .uri(&request.url);
        for (k, v) in &request.headers {
            builder = builder.header(k, v);
        }
        let http_request = builder
            .body(request.body)
            .map_err(|e| SyncError::Config(format!("bad request: {e}")))?;
        let mut response = self.agent.run(http_request).map_err(net)?;
        let status = response.status().as_u16();
        let body = response
            .body_mut()
            .with_config()
            .limit(self.max_response_bytes)
            .read_to_vec()
            .map_err(net)?;
        Ok(HttpResponse { status, body })
    }
}
