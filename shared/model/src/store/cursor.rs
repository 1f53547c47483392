//! Opaque pagination cursors: a query's last evaluated key, hex-encoded JSON of its string
//! attributes. A cursor naming any other attribute is refused.

use std::collections::HashMap;

use super::{Item, s};
use crate::error::StoreError;
use crate::keys;

pub(super) fn encode_cursor(key: &Item) -> Result<String, StoreError> {
    let strings: std::collections::BTreeMap<&str, &str> = key
        .iter()
        .map(|(name, value)| value.as_s().map(|v| (name.as_str(), v.as_str())))
        .collect::<Result<_, _>>()
        .map_err(|_| StoreError::InvalidCursor)?;
    Ok(hex::encode(serde_json::to_vec(&strings).map_err(|_| StoreError::InvalidCursor)?))
}

pub(super) fn decode_cursor(cursor: &str) -> Result<Item, StoreError> {
    let bytes = hex::decode(cursor).map_err(|_| StoreError::InvalidCursor)?;
    let strings: HashMap<String, String> =
        serde_json::from_slice(&bytes).map_err(|_| StoreError::InvalidCursor)?;
    let allowed =
        [keys::PK, keys::SK, keys::GSI1PK, keys::GSI1SK, keys::QPK, keys::QSK, keys::CPK, keys::CSK];
    if strings.is_empty() || strings.keys().any(|name| !allowed.contains(&name.as_str())) {
        return Err(StoreError::InvalidCursor);
    }
    Ok(strings.into_iter().map(|(name, value)| (name, s(value))).collect())
}
