//! The DynamoDB model of autolearn: entity types, every key format ([`keys`]), the table
//! definition read from the SAM template ([`table`]) and the store ([`store`]), the only code
//! that talks to DynamoDB.

pub mod counters;
pub mod entities;
pub mod error;
pub mod keys;
pub mod store;
pub mod table;

pub use counters::{Counter, DailyCounters};
pub use entities::*;
pub use error::{Cancellation, StoreError};
pub use store::{ConfigItem, Page, Store, Transaction, Usage};
pub use table::TableDefinition;
