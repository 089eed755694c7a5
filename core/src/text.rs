//! Text as the domain wants it: Unicode NFC, trimmed, bounded.
//!
//! Vietnamese can be typed precomposed (ệ as one code point) or decomposed
//! (e + two combining marks); phones produce both. Normalising to NFC at every
//! entry point makes names compare, index and sign identically.

use unicode_normalization::UnicodeNormalization;

use crate::error::ValidationError;

/// The rule for one kind of text a device sends in an operation: its
/// field name (for messages), its length in characters (not bytes: a
/// Vietnamese letter is one character however it is typed), and whether a
/// line break means something there (a note has paragraphs; a caption or a
/// name does not).
///
/// The device normalises with [`TextRule::required`]/[`TextRule::optional`]
/// when the user types; every replica that receives the operation (the
/// server first) checks it with [`TextRule::check`]/[`TextRule::check_optional`]:
/// the text must be exactly what normalising would have made of it, so a
/// hostile or buggy client cannot store 1 MiB notes, decomposed Vietnamese
/// that sorts and compares differently, or control characters that spoof
/// what a printed report shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TextRule {
    pub field: &'static str,
    pub max: usize,
    pub multiline: bool,
}

/// A text answer to a checklist item.
pub const ANSWER_TEXT: TextRule = TextRule::lines("answer", 10_000);
/// The inspector's note on an answer.
pub const NOTE: TextRule = TextRule::lines("note", 5_000);
/// A violation's requirement, as the inspector words it.
pub const REQUIREMENT: TextRule = TextRule::lines("requirement", 2_000);
/// Why a proposed violation was dismissed.
pub const DISMISSAL_REASON: TextRule = TextRule::lines("dismissal reason", 2_000);
/// A photo's caption.
pub const CAPTION: TextRule = TextRule::line("caption", 500);
/// An inspector's note on reported remediation.
pub const REVIEW_NOTE: TextRule = TextRule::lines("review note", 2_000);
/// What the establishment says it fixed.
pub const REMEDIATION_TEXT: TextRule = TextRule::lines("remediation text", 4_000);
/// Who sent a remediation report (name, position).
pub const SENT_BY: TextRule = TextRule::line("sent by", 200);
/// A facility's name, its street address and its sector (`put_facility`).
pub const FACILITY_NAME: TextRule = TextRule::line("facility name", 300);
pub const STREET: TextRule = TextRule::line("street address", 300);
pub const SECTOR: TextRule = TextRule::line("sector", 200);
/// An inspector's name, title and agency (`put_inspector`, the enrolment answer).
pub const INSPECTOR_NAME: TextRule = TextRule::line("inspector name", 200);
pub const INSPECTOR_TITLE: TextRule = TextRule::line("inspector title", 200);
pub const AGENCY: TextRule = TextRule::line("agency", 300);
/// A delegation's name and the decision that set it up (`put_delegation`).
pub const DELEGATION_NAME: TextRule = TextRule::line("delegation name", 300);
pub const DECISION: TextRule = TextRule::line("decision", 300);
/// An administrative unit's name (`publish_admin_units`).
pub const UNIT_NAME: TextRule = TextRule::line("unit name", 200);
/// The name a device is enrolled under (the enrolment request).
pub const DEVICE_NAME: TextRule = TextRule::line("device name", 200);

/// Every rule above, for the limits table of `docs/api.md` and the schema's
/// `.size` bounds (both checked against these by tests).
pub const ALL: [TextRule; 18] = [
    ANSWER_TEXT,
    NOTE,
    REQUIREMENT,
    DISMISSAL_REASON,
    CAPTION,
    REVIEW_NOTE,
    REMEDIATION_TEXT,
    SENT_BY,
    FACILITY_NAME,
    STREET,
    SECTOR,
    INSPECTOR_NAME,
    INSPECTOR_TITLE,
    AGENCY,
    DELEGATION_NAME,
    DECISION,
    UNIT_NAME,
    DEVICE_NAME,
];

impl TextRule {
    /// One line: no line breaks, no tabs.
    pub const fn line(field: &'static str, max: usize) -> Self {
        Self {
            field,
            max,
            multiline: false,
        }
    }

    /// Paragraphs: line breaks (and tabs) are kept; `\r\n` and `\r` become `\n`.
    pub const fn lines(field: &'static str, max: usize) -> Self {
        Self {
            field,
            max,
            multiline: true,
        }
    }

    fn normalise(&self, s: &str) -> String {
        let nfc = normalise(s);
        if self.multiline && nfc.contains('\r') {
            nfc.replace("\r\n", "\n").replace('\r', "\n")
        } else {
            nfc
        }
    }

    /// Normalises required text as typed: NFC, trimmed, line breaks as `\n`.
    pub fn required(&self, s: &str) -> Result<String, ValidationError> {
        let value = self.normalise(s);
        if value.is_empty() {
            return Err(ValidationError::Empty { field: self.field });
        }
        self.bounded(value)
    }

    /// Like [`TextRule::required`], but empty input gives `None`.
    pub fn optional(&self, s: Option<&str>) -> Result<Option<String>, ValidationError> {
        match s.map(|s| self.normalise(s)) {
            None => Ok(None),
            Some(v) if v.is_empty() => Ok(None),
            Some(v) => self.bounded(v).map(Some),
        }
    }

    /// Checks a received text: within the rule and already in normal form.
    pub fn check(&self, s: &str) -> Result<(), ValidationError> {
        // Bounded before normalising: a megabyte of text is refused without
        // being copied.
        let len = s.chars().count();
        if len > self.max {
            return Err(ValidationError::TooLong {
                field: self.field,
                len,
                max: self.max,
            });
        }
        if self.required(s)? != s {
            return Err(ValidationError::NotNormal { field: self.field });
        }
        Ok(())
    }

    /// Checks a received optional text: absent, or present, not blank and normal.
    pub fn check_optional(&self, s: Option<&str>) -> Result<(), ValidationError> {
        s.map_or(Ok(()), |s| self.check(s))
    }

    fn bounded(&self, value: String) -> Result<String, ValidationError> {
        let len = value.chars().count();
        if len > self.max {
            return Err(ValidationError::TooLong {
                field: self.field,
                len,
                max: self.max,
            });
        }
        if let Some(c) = value.chars().find(|&c| !allowed(c, self.multiline)) {
            return Err(ValidationError::Invalid {
                field: self.field,
                reason: format!(
                    "contains the control or text-direction character U+{:04X}",
                    u32::from(c)
                ),
            });
        }
        Ok(value)
    }
}

/// Control characters (C0, DEL, C1) are refused, and so are the bidirectional
/// overrides and isolates, which make a printed report show text in another
/// order than it is stored; line breaks and tabs only where lines mean something.
fn allowed(c: char, multiline: bool) -> bool {
    if c == '\n' || c == '\t' {
        return multiline;
    }
    !(c.is_control() || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'))
}

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
    fn received_text_must_be_normal_bounded_and_clean() {
        let decomposed = "Nguye\u{0302}\u{0303}n";
        assert_eq!(
            NOTE.check(decomposed),
            Err(ValidationError::NotNormal { field: "note" })
        );
        assert_eq!(
            NOTE.check(" Nguyễn"),
            Err(ValidationError::NotNormal { field: "note" })
        );
        assert!(NOTE.check("Dòng một\nDòng hai\tcột").is_ok());
        assert_eq!(
            NOTE.check("Dòng một\r\nDòng hai"),
            Err(ValidationError::NotNormal { field: "note" })
        );
        assert_eq!(
            NOTE.required("Dòng một\r\nDòng hai\rba").unwrap(),
            "Dòng một\nDòng hai\nba"
        );
        // Characters, not bytes: 5 000 Vietnamese letters are within the note's limit.
        assert!(NOTE.check(&"ệ".repeat(5_000)).is_ok());
        assert!(matches!(
            NOTE.check(&"ệ".repeat(5_001)),
            Err(ValidationError::TooLong {
                len: 5_001,
                max: 5_000,
                ..
            })
        ));
        // A caption is one line.
        assert!(matches!(
            CAPTION.check("a\nb"),
            Err(ValidationError::Invalid { .. })
        ));
        for bad in [
            "a\u{0}b",
            "a\u{1b}[31mb",
            "a\u{7f}b",
            "a\u{85}b",
            "abc\u{202E}fed",
        ] {
            assert!(
                matches!(NOTE.check(bad), Err(ValidationError::Invalid { .. })),
                "{bad:?}"
            );
        }
        assert_eq!(NOTE.check("   "), Err(ValidationError::Empty { field: "note" }));
        assert!(NOTE.check_optional(None).is_ok());
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
