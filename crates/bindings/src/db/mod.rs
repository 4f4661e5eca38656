//! The database classes of `hyperdjango._core`.

mod database;
pub(crate) mod errors;
mod instances;
mod listener;
mod row;
mod values;

pub(crate) use database::{Cursor, Database, PlannedRead, Transaction};
pub(crate) use instances::InstanceReader;
pub(crate) use listener::Listener;
pub(crate) use row::{instances_from_rows, Row};
