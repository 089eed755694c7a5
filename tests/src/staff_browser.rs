//! A staff member's browser on the staff pages, for the end-to-end tests:
//! signed in, it gets pages and posts forms with its cookies and form token.

use crate::{csrf_field, set_cookie_pair, staff_sign_in, Server};

/// A staff member's browser, signed in: its session and form-token
/// cookies, and the form token to send with its forms.
pub struct Browser<'a> {
    pub server: &'a Server,
    pub agent: ureq::Agent,
    pub cookies: String,
    pub csrf: String,
}

/// An agent that returns every status and follows no redirect.
pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .into()
}

impl<'a> Browser<'a> {
    /// Signs `login` in with `password` on the staff pages.
    pub fn sign_in(server: &'a Server, login: &str, password: &str) -> Self {
        let agent = agent();
        let (status, session) =
            staff_sign_in(&agent, server, &[("login", login), ("password", password)], None);
        assert_eq!(status, 303, "{login} signs in");
        let session = session.unwrap().split(';').next().unwrap().to_string();
        // A form token of this browser's own, from any page with a form.
        let mut page = agent.get(&server.url("/admin/login")).call().unwrap();
        let csrf_cookie = set_cookie_pair(&page, "kiemtra_csrf").unwrap();
        let csrf = csrf_field(&page.body_mut().read_to_string().unwrap());
        Self {
            server,
            agent,
            cookies: format!("{session}; {csrf_cookie}"),
            csrf,
        }
    }

    pub fn get(&self, path: &str) -> (u16, String) {
        let mut res = self
            .agent
            .get(&self.server.url(path))
            .header("Cookie", &self.cookies)
            .header("Accept", "text/html")
            .call()
            .unwrap();
        (res.status().as_u16(), res.body_mut().read_to_string().unwrap())
    }

    /// Posts a form; `token` is the form token to send (`None`: none at all).
    pub fn post(
        &self,
        path: &str,
        fields: &[(&str, &str)],
        token: Option<&str>,
    ) -> (u16, String, Option<String>) {
        let mut form: Vec<(&str, &str)> = fields.to_vec();
        if let Some(t) = token {
            form.push(("csrf", t));
        }
        let mut res = self
            .agent
            .post(&self.server.url(path))
            .header("Cookie", &self.cookies)
            .header("Accept", "text/html")
            .send_form(form)
            .unwrap();
        let location = res
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        (
            res.status().as_u16(),
            res.body_mut().read_to_string().unwrap(),
            location,
        )
    }

    /// Posts a multipart form with one file.
    pub fn upload(
        &self,
        path: &str,
        fields: &[(&str, &str)],
        file: (&str, &str),
        token: Option<&str>,
    ) -> (u16, String, Option<String>) {
        let boundary = "kiemtra-test-boundary-8d1f";
        let mut body = String::new();
        let mut all: Vec<(&str, &str)> = fields.to_vec();
        if let Some(t) = token {
            all.push(("csrf", t));
        }
        for (name, value) in all {
            body.push_str(&format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            ));
        }
        body.push_str(&format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{}\"\r\nContent-Type: application/octet-stream\r\n\r\n{}\r\n--{boundary}--\r\n",
            file.0, file.1
        ));
        let mut res = self
            .agent
            .post(&self.server.url(path))
            .header("Cookie", &self.cookies)
            .header("Accept", "text/html")
            .header(
                "Content-Type",
                &format!("multipart/form-data; boundary={boundary}"),
            )
            .send(body.as_bytes())
            .unwrap();
        let location = res
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        (
            res.status().as_u16(),
            res.body_mut().read_to_string().unwrap(),
            location,
        )
    }
}
