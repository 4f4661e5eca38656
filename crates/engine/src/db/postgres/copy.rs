//! `COPY table (columns) FROM STDIN` in the binary format: the fastest way to
//! load many rows (one statement, no per-row parse/bind/execute).
//!
//! The column types come from preparing `SELECT columns FROM table` (cached
//! like any statement); each value is encoded for its column's type by the
//! same codec that binds parameters, so a value loads by COPY exactly when it
//! would bind as an INSERT parameter. Rows are sent in chunks of about
//! [`CHUNK_BYTES`], so memory stays bounded by the caller's rows, not by
//! their encoding.

#![allow(clippy::result_large_err)]

use std::sync::Arc;

use bytes::{BufMut, BytesMut};
use futures_util::SinkExt;
use tokio_postgres::types::{IsNull, Type};

use super::codec;
use super::pool::{map_error, Conn, ReqCtl};
use crate::db::{quote_identifier, DbError, ErrorKind, Value};

/// The binary COPY header: signature, flags (none), header extension length (0).
const HEADER: &[u8] = b"PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0";
/// The trailer: a field count of -1.
const TRAILER: [u8; 2] = (-1i16).to_be_bytes();
/// Encoded bytes sent to the server at a time.
const CHUNK_BYTES: usize = 1 << 20;

/// Loads `rows` (each one value per column, in `columns`' order) into `table`.
/// Returns the number of rows the server loaded. The caller provides the
/// transaction: a failed COPY loads nothing, but the rows of an earlier
/// chunk-sized send are only undone by the statement failing as a whole.
pub(crate) async fn copy_rows(
    conn: &Arc<Conn>,
    ctl: &ReqCtl,
    table: &str,
    columns: &[String],
    rows: &[Vec<Value>],
) -> Result<u64, DbError> {
    if columns.is_empty() {
        return Err(DbError::new(
            ErrorKind::Programming,
            "copy_in needs at least one column",
        ));
    }
    let field_count = i16::try_from(columns.len()).map_err(|_| {
        DbError::new(
            ErrorKind::Programming,
            format!("copy_in: {} columns, at most 32767", columns.len()),
        )
    })?;
    let table = quote_identifier(table);
    let column_list = columns
        .iter()
        .map(|c| quote_identifier(c))
        .collect::<Vec<_>>()
        .join(", ");
    let types_sql = format!("SELECT {column_list} FROM {table}");
    let prepared = conn.prepare(&types_sql).await?;
    let types: Vec<Type> = prepared
        .stmt
        .columns()
        .iter()
        .map(|c| c.type_().clone())
        .collect();
    // Encode everything first: a value that does not fit its column is an
    // error before anything is sent (the connection stays clean).
    let chunks = encode_rows(&types, field_count, columns, rows)?;
    let copy_sql = format!("COPY {table} ({column_list}) FROM STDIN (FORMAT binary)");
    let send = async {
        let sink = conn
            .client
            .copy_in::<_, bytes::Bytes>(copy_sql.as_str())
            .await
            .map_err(|e| map_error(e, Some(&copy_sql)))?;
        let mut sink = std::pin::pin!(sink);
        for chunk in chunks {
            sink.send(chunk.freeze())
                .await
                .map_err(|e| map_error(e, Some(&copy_sql)))?;
        }
        sink.as_mut()
            .finish()
            .await
            .map_err(|e| map_error(e, Some(&copy_sql)))
    };
    conn.tracked(Some(ctl), send).await
}

/// The COPY stream of `rows`, header to trailer, cut in chunks of about [`CHUNK_BYTES`].
fn encode_rows(
    types: &[Type],
    field_count: i16,
    columns: &[String],
    rows: &[Vec<Value>],
) -> Result<Vec<BytesMut>, DbError> {
    let mut chunks = Vec::new();
    let mut out = BytesMut::with_capacity(CHUNK_BYTES.min(64 + rows.len() * 64));
    out.put_slice(HEADER);
    for (n, row) in rows.iter().enumerate() {
        if row.len() != columns.len() {
            return Err(DbError::new(
                ErrorKind::Programming,
                format!(
                    "copy_in row {n}: {} values for {} columns",
                    row.len(),
                    columns.len()
                ),
            ));
        }
        out.put_i16(field_count);
        for ((value, ty), column) in row.iter().zip(types).zip(columns) {
            encode_field(value, ty, &mut out).map_err(|e| field_error(e, n, column, value, ty))?;
        }
        if out.len() >= CHUNK_BYTES {
            chunks.push(std::mem::replace(
                &mut out,
                BytesMut::with_capacity(CHUNK_BYTES),
            ));
        }
    }
    out.put_slice(&TRAILER);
    chunks.push(out);
    Ok(chunks)
}

/// A field that could not be encoded, named by its row and column. A value the
/// column's type does not take gets COPY's own message: a statement's advice to
/// cast the parameter does not apply (COPY has no SQL to cast in).
fn field_error(mut e: DbError, n: usize, column: &str, value: &Value, ty: &Type) -> DbError {
    if codec::is_type_mismatch(&e) {
        e.message = format!(
            "column {column:?} is of type {}, which cannot take {}",
            ty.name(),
            codec::kind_name(value)
        );
        e.hint = Some(format!(
            "pass a value of the column's type ({}) or None",
            ty.name()
        ));
    } else {
        e.message = format!("column {column:?}: {}", e.message);
    }
    e.message = format!("copy_in row {n}, {}", e.message);
    e
}

/// One field: its length (-1 for NULL) then its binary value.
fn encode_field(value: &Value, ty: &Type, out: &mut BytesMut) -> Result<(), DbError> {
    let at = out.len();
    out.put_i32(0);
    match codec::encode(value, ty, out)? {
        IsNull::Yes => {
            out.truncate(at);
            out.put_i32(-1);
        }
        IsNull::No => {
            let len = i32::try_from(out.len() - at - 4).map_err(|_| {
                DbError::new(ErrorKind::Data, "a value longer than 2 GiB cannot be sent")
            })?;
            out[at..at + 4].copy_from_slice(&len.to_be_bytes());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stream(types: &[Type], rows: &[Vec<Value>]) -> Vec<u8> {
        let columns: Vec<String> = (0..types.len()).map(|i| format!("c{i}")).collect();
        let chunks = encode_rows(types, types.len() as i16, &columns, rows).unwrap();
        chunks.iter().flat_map(|c| c.iter().copied()).collect()
    }

    #[test]
    fn a_row_is_its_field_count_then_length_prefixed_values() {
        let bytes = stream(
            &[Type::INT4, Type::TEXT],
            &[vec![Value::Int(7), Value::Text("ab".into())]],
        );
        let mut expected = HEADER.to_vec();
        expected.extend_from_slice(&2i16.to_be_bytes());
        expected.extend_from_slice(&4i32.to_be_bytes());
        expected.extend_from_slice(&7i32.to_be_bytes());
        expected.extend_from_slice(&2i32.to_be_bytes());
        expected.extend_from_slice(b"ab");
        expected.extend_from_slice(&TRAILER);
        assert_eq!(bytes, expected);
    }

    #[test]
    fn null_is_a_length_of_minus_one() {
        let bytes = stream(&[Type::INT8], &[vec![Value::Null]]);
        assert_eq!(
            &bytes[HEADER.len() + 2..HEADER.len() + 6],
            &(-1i32).to_be_bytes()
        );
    }

    #[test]
    fn a_row_of_the_wrong_width_is_an_error() {
        let columns = vec!["a".to_string(), "b".to_string()];
        let err = encode_rows(
            &[Type::INT4, Type::INT4],
            2,
            &columns,
            &[vec![Value::Int(1)]],
        )
        .unwrap_err();
        assert!(
            err.message.contains("1 values for 2 columns"),
            "{}",
            err.message
        );
    }

    #[test]
    fn a_value_that_does_not_fit_names_its_row_and_column() {
        let columns = vec!["n".to_string()];
        let err =
            encode_rows(&[Type::INT4], 1, &columns, &[vec![Value::Text("x".into())]]).unwrap_err();
        assert_eq!(
            err.message,
            "copy_in row 0, column \"n\" is of type int4, which cannot take a str"
        );
        assert!(!err.to_string().contains("cast the parameter"), "{err}");
    }
}
