//! Text as the domain wants it: Unicode NFC, trimmed, bounded.
//!
//! Vietnamese can be typed precomposed (ệ as one code point) or decomposed
//! (e + two combining marks); phones produce both. Normalising to NFC at every
//! entry point makes names compare, index and sign identically.

use unicode_normalization::UnicodeNormalization;

use crate::error::ValidationError;

/// Normalises required text: NFC, trimmed, not empty, no control characters
/// (line breaks allowed), at most `max` characters.
pub fn required(field: &'static str, s: &str, max: usize) -> Result<String, ValidationError> {
    let value = normalise(s);
    if value.is_empty() {
        return Err(ValidationError::Empty { field });
    }
    check(field, value, max)
}

/// Like [`required`], but empty input gives `None`.
pub fn optional(field: &'static str, s: Option<&str>, max: usize) -> Result<Option<String>, ValidationError> {
    match s.map(normalise) {
        None => Ok(None),
        Some(v) if v.is_empty() => Ok(None),
        Some(v) => check(field, v, max).map(Some),
    }
}

/// NFC and trimmed, nothing else.
pub fn normalise(s: &str) -> String {
    s.trim().nfc().collect()
}

fn check(field: &'static str, value: String, max: usize) -> Result<String, ValidationError> {
    let len = value.chars().count();
    if len > max {
        return Err(ValidationError::TooLong { field, len, max });
    }
    if value.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return Err(ValidationError::Invalid {
            field,
            reason: "contains control characters".into(),
        });
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decomposed_vietnamese_becomes_nfc() {
        let decomposed = "Nguye\u{0302}\u{0303}n";
        assert_eq!(required("name", decomposed, 100).unwrap(), "Nguyễn");
    }

    #[test]
    fn blank_is_empty() {
        assert_eq!(
            required("name", "  \t ", 10),
            Err(ValidationError::Empty { field: "name" })
        );
        assert_eq!(optional("note", Some("   "), 10), Ok(None));
    }

    #[test]
    fn bounded_and_clean() {
        assert!(matches!(
            required("name", "abcdef", 3),
            Err(ValidationError::TooLong { .. })
        ));
        assert!(required("name", "a\u{0007}b", 10).is_err());
    }
}
