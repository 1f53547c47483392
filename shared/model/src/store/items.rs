//! Entities as DynamoDB items: the serde_dynamo mapping plus the key attributes, and the size
//! check that keeps every item storable.

use aws_sdk_dynamodb::types::AttributeValue;

use super::{Item, MAX_ITEM_BYTES, s};
use crate::entities::Entity;
use crate::error::StoreError;
use crate::keys::{self, ItemKeys};

/// The item for an entity: its serde_dynamo mapping plus its key attributes.
pub fn to_item<T: Entity>(entity: &T) -> Result<Item, StoreError> {
    let mut item: Item =
        serde_dynamo::to_item(entity).map_err(|source| StoreError::Mapping { kind: T::KIND, source })?;
    let ItemKeys { pk, sk, gsi1, queue } = entity.keys();
    item.insert(keys::PK.into(), s(pk));
    item.insert(keys::SK.into(), s(sk));
    if let Some((pk, sk)) = gsi1 {
        item.insert(keys::GSI1PK.into(), s(pk));
        item.insert(keys::GSI1SK.into(), s(sk));
    }
    if let Some((pk, sk)) = queue {
        item.insert(keys::QPK.into(), s(pk));
        item.insert(keys::QSK.into(), s(sk));
    }
    let bytes = item_size(&item);
    if bytes > MAX_ITEM_BYTES {
        return Err(StoreError::ItemTooLarge { kind: T::KIND, bytes, limit: MAX_ITEM_BYTES });
    }
    Ok(item)
}

pub(crate) fn from_item<T: Entity>(item: Item) -> Result<T, StoreError> {
    serde_dynamo::from_item(item).map_err(|source| StoreError::Mapping { kind: T::KIND, source })
}

/// DynamoDB's size rule: attribute names plus values, UTF-8 bytes for strings, and a little
/// per-value overhead (we round up generously; the limit has a margin anyway).
pub fn item_size(item: &Item) -> usize {
    fn value_size(value: &AttributeValue) -> usize {
        match value {
            AttributeValue::S(text) => text.len(),
            AttributeValue::N(number) => number.len().div_ceil(2) + 1,
            AttributeValue::B(blob) => blob.as_ref().len(),
            AttributeValue::Bool(_) | AttributeValue::Null(_) => 1,
            AttributeValue::L(list) => 3 + list.iter().map(|v| 1 + value_size(v)).sum::<usize>(),
            AttributeValue::M(map) => 3 + map.iter().map(|(k, v)| 1 + k.len() + value_size(v)).sum::<usize>(),
            AttributeValue::Ss(set) => set.iter().map(String::len).sum(),
            AttributeValue::Ns(set) => set.iter().map(|n| n.len()).sum(),
            AttributeValue::Bs(set) => set.iter().map(|b| b.as_ref().len()).sum(),
            _ => 0,
        }
    }
    item.iter().map(|(name, value)| name.len() + value_size(value)).sum()
}
