//! The database classes of `hyperdjango._core`.

mod database;
mod errors;
mod row;
mod values;

pub(crate) use database::{Cursor, Database, Transaction};
pub(crate) use row::Row;
