//! A staff form that uploads one text file (CSV, a template, a units list),
//! read from its multipart body: the form token, the button pressed, the
//! file's name and its text.

use axum::extract::Multipart;

use crate::error::ServerError;

pub struct Upload {
    pub csrf: String,
    /// The button pressed, where a form has several (`check`, `publish`).
    pub action: String,
    pub name: String,
    pub text: String,
}

impl Upload {
    /// Reads the form; a missing or empty file, or one that is not UTF-8,
    /// is refused. `unnamed` names a file the browser sent without a name.
    pub async fn read(mut form: Multipart, unnamed: &str) -> Result<Self, ServerError> {
        let bad = |e: axum::extract::multipart::MultipartError| ServerError::Invalid(e.body_text());
        let mut up = Upload {
            csrf: String::new(),
            action: String::new(),
            name: String::new(),
            text: String::new(),
        };
        while let Some(field) = form.next_field().await.map_err(bad)? {
            match field.name().unwrap_or_default() {
                "csrf" => up.csrf = field.text().await.map_err(bad)?,
                "action" => up.action = field.text().await.map_err(bad)?,
                "file" => {
                    up.name = field.file_name().unwrap_or(unnamed).to_string();
                    let bytes = field.bytes().await.map_err(bad)?;
                    up.text = String::from_utf8(bytes.to_vec()).map_err(|_| {
                        ServerError::Invalid(
                            "tệp không phải văn bản UTF-8 / the file is not UTF-8 text".into(),
                        )
                    })?;
                }
                _ => {}
            }
        }
        if up.text.is_empty() {
            return Err(ServerError::Invalid("chưa chọn tệp / no file chosen".into()));
        }
        Ok(up)
    }
}
