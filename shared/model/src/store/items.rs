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
    let ItemKeys { pk, sk, gsi1, queue, contact } = entity.keys();
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
    if let Some((pk, sk)) = contact {
        item.insert(keys::CPK.into(), s(pk));
        item.insert(keys::CSK.into(), s(sk));
    }
    let bytes = item_size(&item);
    if bytes > MAX_ITEM_BYTES {
        return Err(StoreError::ItemTooLarge { kind: T::KIND, bytes, limit: MAX_ITEM_BYTES });
    }
    Ok(item)
}

/// True unless the item carries the TTL attribute with a moment at or before `now` (epoch
/// seconds): DynamoDB deletes expired items lazily, days later, so every reader of the store
/// skips them itself. The one rule of expiry, for idempotency records and customer text alike.
pub fn is_live(item: &Item, now: i64) -> bool {
    match item.get(keys::TTL_ATTRIBUTE).and_then(|value| value.as_n().ok()) {
        Some(expires_at) => expires_at.parse::<i64>().map_or(true, |expires_at| expires_at > now),
        None => true,
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_item_is_live_until_its_expiry() {
        let with = |expires_at: &str| {
            Item::from([(keys::TTL_ATTRIBUTE.to_owned(), AttributeValue::N(expires_at.into()))])
        };
        assert!(is_live(&Item::new(), 1_000), "no expiry: never expires");
        assert!(is_live(&with("1001"), 1_000));
        assert!(!is_live(&with("1000"), 1_000), "expired at its second");
        assert!(!is_live(&with("999"), 1_000));
    }
}
