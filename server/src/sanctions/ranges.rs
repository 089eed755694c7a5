//! The fine range the decree sets for each act, as dated agency data: a
//! decree amended from a day on gets a new entry from that day, the old one
//! still judging decisions signed before it. The table the server ships
//! (`server/data/fine-ranges.json`) is trial data, all of it unverified.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

pub const FORMAT: &str = "kiemtra-fine-ranges/1";

const SHIPPED: &str = include_str!("../../data/fine-ranges.json");

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FineRange {
    pub instrument: String,
    pub article: String,
    /// The act the range is for, as the decree names it.
    pub act_vi: String,
    /// For an individual, in đồng; an organisation's is twice (Art. 6).
    pub min_vnd: u64,
    pub max_vnd: u64,
    pub valid_from: NaiveDate,
    /// Checked by the agency against the consolidated text.
    pub verified: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum RangesError {
    #[error("the fine ranges are not valid JSON of {FORMAT}: {0}")]
    Json(String),
    #[error("the table's format is {0:?}, not {FORMAT}")]
    Format(String),
    #[error("{article} {instrument}: the range {min}–{max} đồng is empty or reversed")]
    Reversed {
        instrument: String,
        article: String,
        min: u64,
        max: u64,
    },
}

#[derive(Debug, Clone, Deserialize)]
struct Document {
    format: String,
    #[serde(default)]
    note_vi: String,
    ranges: Vec<FineRange>,
}

#[derive(Debug, Clone)]
pub struct FineRanges {
    ranges: Vec<FineRange>,
    pub note_vi: String,
}

impl FineRanges {
    pub fn shipped() -> Result<Self, RangesError> {
        Self::from_json(SHIPPED)
    }

    pub fn from_json(json: &str) -> Result<Self, RangesError> {
        let doc: Document = serde_json::from_str(json).map_err(|e| RangesError::Json(e.to_string()))?;
        if doc.format != FORMAT {
            return Err(RangesError::Format(doc.format));
        }
        if let Some(r) = doc
            .ranges
            .iter()
            .find(|r| r.min_vnd == 0 || r.min_vnd > r.max_vnd)
        {
            return Err(RangesError::Reversed {
                instrument: r.instrument.clone(),
                article: r.article.clone(),
                min: r.min_vnd,
                max: r.max_vnd,
            });
        }
        let mut ranges = doc.ranges;
        ranges.sort_by(|a, b| {
            (&a.instrument, &a.article, a.valid_from).cmp(&(&b.instrument, &b.article, b.valid_from))
        });
        Ok(Self {
            ranges,
            note_vi: doc.note_vi,
        })
    }

    /// The range in force for the act of `article` of `instrument` on `day`.
    pub fn on(&self, instrument: &str, article: &str, day: NaiveDate) -> Option<&FineRange> {
        self.ranges
            .iter()
            .rfind(|r| r.instrument == instrument && r.article == article && r.valid_from <= day)
    }
}
