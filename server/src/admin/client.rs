//! `kiemtra-server admin --server URL …`: the administration commands as a
//! client of the running server's JSON API (`api/admin.rs`), so that none
//! of them needs the server stopped. The token comes from the environment
//! (`KIEMTRA_TOKEN`), never from the command line, where every user of the
//! machine could read it in the process list.

use serde::de::DeserializeOwned;
use serde::Serialize;

use super::AdminError;

/// The environment variable holding the API token.
pub const TOKEN_VAR: &str = "KIEMTRA_TOKEN";

pub struct Client {
    base: String,
    token: String,
    agent: ureq::Agent,
}

impl Client {
    pub fn new(server: &str, token: Option<String>) -> Result<Self, AdminError> {
        let token = token
            .or_else(|| std::env::var(TOKEN_VAR).ok())
            .filter(|t| !t.trim().is_empty())
            .ok_or(AdminError::NoToken)?;
        let agent = ureq::Agent::config_builder()
            // Refusals are read as the API's JSON errors, not as transport failures.
            .http_status_as_error(false)
            .timeout_global(Some(std::time::Duration::from_secs(600)))
            .build()
            .into();
        Ok(Self {
            base: server.trim_end_matches('/').to_string(),
            token: token.trim().to_string(),
            agent,
        })
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn bearer(&self) -> String {
        format!("Bearer {}", self.token)
    }

    pub fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, AdminError> {
        let res = self
            .agent
            .get(&self.url(path))
            .header("Authorization", &self.bearer())
            .call()
            .map_err(|e| AdminError::Connect(format!("{}: {e}", self.base)))?;
        answer(res)
    }

    pub fn post_json<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T, AdminError> {
        let bytes = serde_json::to_vec(body).map_err(|e| AdminError::Connect(e.to_string()))?;
        self.post(path, "application/json", bytes)
    }

    /// A file as the body (CSV, a template, a units list).
    pub fn post<T: DeserializeOwned>(
        &self,
        path: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> Result<T, AdminError> {
        let res = self
            .agent
            .post(&self.url(path))
            .header("Authorization", &self.bearer())
            .header("Content-Type", content_type)
            .send(&body[..])
            .map_err(|e| AdminError::Connect(format!("{}: {e}", self.base)))?;
        answer(res)
    }
}

/// A success as `T`; a refusal as the API's `{"error", "code"}`.
fn answer<T: DeserializeOwned>(mut res: ureq::http::Response<ureq::Body>) -> Result<T, AdminError> {
    let status = res.status().as_u16();
    let text = res
        .body_mut()
        .read_to_string()
        .map_err(|e| AdminError::Connect(format!("reading the answer: {e}")))?;
    if (200..300).contains(&status) {
        return serde_json::from_str(&text)
            .map_err(|e| AdminError::Connect(format!("the server's answer is not the expected JSON: {e}")));
    }
    #[derive(serde::Deserialize)]
    struct Refusal {
        error: String,
        #[serde(default)]
        code: String,
    }
    Err(match serde_json::from_str::<Refusal>(&text) {
        Ok(r) => AdminError::Refused {
            status,
            code: r.code,
            message: r.error,
        },
        Err(_) => AdminError::Refused {
            status,
            code: String::new(),
            message: text.chars().take(300).collect(),
        },
    })
}
