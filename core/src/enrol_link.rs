//! The enrolment link: the server's address and a one-time enrolment code
//! in one text, `kiemtra://enrol?server=<address>&code=<code>`. The staff
//! page shows it as a QR code, so that a new phone scans once instead of
//! someone typing a 44-character code and an address on a phone keyboard.
//!
//! The link carries no more than the code alone: the code is single-use and
//! expires, and the app still checks the server's TLS certificate.

use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, CONTROLS};

/// What starts every link.
pub const PREFIX: &str = "kiemtra://enrol?";

/// Characters escaped in a query value: everything but the unreserved ones.
const VALUE: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'&')
    .add(b'+')
    .add(b'/')
    .add(b':')
    .add(b'<')
    .add(b'=')
    .add(b'>')
    .add(b'?')
    .add(b'@')
    .add(b'[')
    .add(b'\\')
    .add(b']')
    .add(b'^')
    .add(b'`')
    .add(b'{')
    .add(b'|')
    .add(b'}');

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnrolLink {
    /// The server's address, `https://…` (or `http://` on a test network).
    pub server: String,
    /// The one-time code, as the staff page also shows it.
    pub code: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnrolLinkError {
    #[error("this is not a Kiemtra enrolment link (it starts with {PREFIX})")]
    NotALink,
    #[error("the enrolment link has no {0}")]
    Missing(&'static str),
    #[error("the enrolment link's {0} is not valid")]
    Invalid(&'static str),
}

impl EnrolLink {
    pub fn to_uri(&self) -> String {
        format!(
            "{PREFIX}server={}&code={}",
            utf8_percent_encode(&self.server, VALUE),
            utf8_percent_encode(&self.code, VALUE)
        )
    }

    /// Reads a scanned text; surrounding spaces are ignored.
    pub fn parse(text: &str) -> Result<Self, EnrolLinkError> {
        let query = text.trim().strip_prefix(PREFIX).ok_or(EnrolLinkError::NotALink)?;
        let (mut server, mut code) = (None, None);
        for pair in query.split('&') {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let value = percent_decode_str(value)
                .decode_utf8()
                .map_err(|_| EnrolLinkError::Invalid(if key == "code" { "code" } else { "server" }))?
                .into_owned();
            match key {
                "server" => server = Some(value),
                "code" => code = Some(value),
                // Later versions may add fields; this one ignores them.
                _ => {}
            }
        }
        let server = server
            .filter(|s| !s.is_empty())
            .ok_or(EnrolLinkError::Missing("server"))?;
        let code = code
            .filter(|c| !c.is_empty())
            .ok_or(EnrolLinkError::Missing("code"))?;
        let host = server
            .strip_prefix("https://")
            .or_else(|| server.strip_prefix("http://"))
            .ok_or(EnrolLinkError::Invalid("server"))?;
        if host.is_empty() || host.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(EnrolLinkError::Invalid("server"));
        }
        if code.len() > 128 || !code.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            return Err(EnrolLinkError::Invalid("code"));
        }
        Ok(Self { server, code })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_link_reads_back_as_written() {
        let link = EnrolLink {
            server: "https://kiemtra.haiphong.gov.vn:8443/base".into(),
            code: "1f0c2a3b-4c5d6e7f-8091a2b3-c4d5e6f7-08192a3b".into(),
        };
        let uri = link.to_uri();
        assert!(
            uri.starts_with("kiemtra://enrol?server=https%3A%2F%2Fkiemtra"),
            "{uri}"
        );
        assert_eq!(EnrolLink::parse(&format!(" {uri}\n")).unwrap(), link);
    }

    #[test]
    fn other_texts_are_refused_with_the_reason() {
        use EnrolLinkError::*;
        for (text, want) in [
            ("https://example.com", NotALink),
            ("kiemtra://enrol?code=abc", Missing("server")),
            ("kiemtra://enrol?server=https%3A%2F%2Fa", Missing("code")),
            ("kiemtra://enrol?server=ftp%3A%2F%2Fa&code=abc", Invalid("server")),
            (
                "kiemtra://enrol?server=https%3A%2F%2F&code=abc",
                Invalid("server"),
            ),
            (
                "kiemtra://enrol?server=https%3A%2F%2Fa&code=a%20b",
                Invalid("code"),
            ),
            ("kiemtra://enrol?server=https%3A%2F%2Fa&code=%FF", Invalid("code")),
        ] {
            assert_eq!(EnrolLink::parse(text), Err(want), "{text}");
        }
    }
}
