//! The internal parsers and codecs that the fuzz targets in `fuzz/` drive,
//! re-exported unchanged. Only with the `fuzzing` feature, which nothing but
//! the fuzz crate turns on.

pub use crate::db::postgres::codec::{decode as pg_decode, encode as pg_encode};
pub use crate::db::sqlite::codec::{
    bind_params as sqlite_bind_params, read_value as sqlite_read_value,
    ColumnType as SqliteColumnType,
};
pub use crate::db::sqlite::sql::translate_placeholders;
pub use crate::websocket::deflate::{compress, InflatingStream};
pub use crate::websocket::Shared;

/// The bytes `message` goes on the wire as.
pub fn wire_frame(message: &Shared) -> &[u8] {
    message.frame()
}
