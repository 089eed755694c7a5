//! Key layouts of the store's trees. Big-endian numbers so that sled's byte
//! order is numeric order.

use crate::ids::{FacilityId, InspectionId, OpId};
use crate::inspection::Status;
use crate::template::TemplateRef;

pub(super) const META_FORMAT: &[u8] = b"format_version";
pub(super) const META_DEVICE: &[u8] = b"device_id";
pub(super) const META_IDENTITY: &[u8] = b"identity";
pub(super) const META_CURSOR: &[u8] = b"sync_cursor";
pub(super) const META_ENROLMENT: &[u8] = b"enrolment";
/// The agency's administrative units as last published (CBOR list).
pub(super) const META_AGENCY_UNITS: &[u8] = b"agency_units";

pub(super) struct Key;

impl Key {
    /// `status byte ++ inspection id`
    pub(super) fn status(status: Status, id: InspectionId) -> Vec<u8> {
        let mut k = Vec::with_capacity(17);
        k.push(status.code());
        k.extend_from_slice(id.as_bytes());
        k
    }

    /// `inspection id ++ op id`
    pub(super) fn op_of(inspection: InspectionId, op: OpId) -> Vec<u8> {
        let mut k = Vec::with_capacity(32);
        k.extend_from_slice(inspection.as_bytes());
        k.extend_from_slice(op.as_bytes());
        k
    }

    /// `facility id ++ inspection id`
    pub(super) fn facility(facility: FacilityId, id: InspectionId) -> Vec<u8> {
        let mut k = Vec::with_capacity(32);
        k.extend_from_slice(facility.as_bytes());
        k.extend_from_slice(id.as_bytes());
        k
    }
}

/// `id ++ 0x00 ++ version (u32 BE)`
pub(super) fn template(r: &TemplateRef) -> Vec<u8> {
    let mut k = r.id.as_bytes().to_vec();
    k.push(0);
    k.extend_from_slice(&r.version.to_be_bytes());
    k
}

pub(super) fn id_at(key: &[u8], offset: usize) -> Option<[u8; 16]> {
    key.get(offset..offset + 16)?.try_into().ok()
}

pub(super) fn u64_from(bytes: &[u8]) -> Option<u64> {
    Some(u64::from_be_bytes(bytes.try_into().ok()?))
}

pub(super) fn u32_from(bytes: &[u8]) -> Option<u32> {
    Some(u32::from_be_bytes(bytes.try_into().ok()?))
}
