//! rusqlite errors → [`DbError`].
//!
//! SQLite has no SQLSTATE: `sqlstate` stays `None` and the message ends with
//! the extended result code, e.g. `UNIQUE constraint failed: t.email
//! [SQLITE_CONSTRAINT_UNIQUE 2067]`.

use rusqlite::ffi;
use rusqlite::ErrorCode;

use crate::db::{DbError, ErrorKind};

/// Maps a rusqlite error (with the statement that failed, when known).
pub(crate) fn map_error(err: rusqlite::Error, sql: Option<&str>) -> DbError {
    let mapped = match err {
        rusqlite::Error::SqliteFailure(code, message) => {
            let message =
                message.unwrap_or_else(|| ffi::code_to_str(code.extended_code).to_string());
            let kind = kind_of(code.code, &message);
            let mut e = DbError::new(
                kind,
                format!(
                    "{message} [{} {}]",
                    code_name(code.extended_code),
                    code.extended_code
                ),
            );
            if code.code == ErrorCode::ConstraintViolation {
                e.constraint = constraint_of(&message);
            }
            e
        }
        rusqlite::Error::MultipleStatement => DbError::new(
            ErrorKind::Programming,
            "several statements in one call: send one statement at a time",
        ),
        rusqlite::Error::InvalidParameterCount(given, expected) => {
            DbError::parameter_count(expected, given)
        }
        rusqlite::Error::NulError(_) => DbError::new(
            ErrorKind::Interface,
            "the SQL text contains a NUL character",
        ),
        rusqlite::Error::SqlInputError {
            error, msg, offset, ..
        } => {
            let kind = kind_of(error.code, &msg);
            DbError::new(
                kind,
                format!(
                    "{msg} (at offset {offset}) [{} {}]",
                    code_name(error.extended_code),
                    error.extended_code
                ),
            )
        }
        other => DbError::new(ErrorKind::Interface, other.to_string()),
    };
    match sql {
        Some(sql) => mapped.with_sql(sql),
        None => mapped,
    }
}

fn kind_of(code: ErrorCode, message: &str) -> ErrorKind {
    match code {
        ErrorCode::ConstraintViolation => ErrorKind::Integrity,
        ErrorCode::TypeMismatch | ErrorCode::TooBig | ErrorCode::ParameterOutOfRange => {
            ErrorKind::Data
        }
        ErrorCode::DatabaseBusy
        | ErrorCode::DatabaseLocked
        | ErrorCode::SystemIoFailure
        | ErrorCode::DiskFull
        | ErrorCode::CannotOpen
        | ErrorCode::ReadOnly
        | ErrorCode::PermissionDenied
        | ErrorCode::DatabaseCorrupt
        | ErrorCode::NotADatabase
        | ErrorCode::FileLockingProtocolFailed
        | ErrorCode::NoLargeFileSupport
        | ErrorCode::OutOfMemory
        | ErrorCode::SchemaChanged
        | ErrorCode::OperationAborted
        | ErrorCode::NotFound => ErrorKind::Operational,
        ErrorCode::OperationInterrupted => ErrorKind::Cancelled,
        ErrorCode::AuthorizationForStatementDenied => ErrorKind::Programming,
        ErrorCode::ApiMisuse => ErrorKind::Interface,
        ErrorCode::Unknown => kind_of_generic_error(message),
        _ => ErrorKind::Database,
    }
}

/// `SQLITE_ERROR` covers both bad SQL and some data problems: tell them apart by the message.
fn kind_of_generic_error(message: &str) -> ErrorKind {
    const PROGRAMMING: &[&str] = &[
        "syntax error",
        "no such ",
        "already exists",
        "incomplete input",
        "unrecognized token",
        "ambiguous column",
        "has no column named",
        "values were supplied",
        "wrong number of arguments",
        "misuse of",
        "no tables specified",
        "not authorized",
        "cannot start a transaction",
        "cannot commit",
        "cannot rollback",
        "no transaction is active",
        "may not be used",
        "not allowed",
        "is not a function",
        "too many",
    ];
    const DATA: &[&str] = &[
        "integer overflow",
        "too big",
        "out of range",
        "malformed JSON",
        "datatype mismatch",
    ];
    if DATA.iter().any(|p| message.contains(p)) {
        ErrorKind::Data
    } else if PROGRAMMING.iter().any(|p| message.contains(p)) {
        ErrorKind::Programming
    } else {
        ErrorKind::Database
    }
}

/// `"UNIQUE constraint failed: t.a, t.b"` → `"t.a, t.b"`; `"CHECK constraint failed: positive"` → `"positive"`.
fn constraint_of(message: &str) -> Option<String> {
    let (_, rest) = message.split_once("constraint failed: ")?;
    let rest = rest.trim();
    (!rest.is_empty()).then(|| rest.to_string())
}

/// The C name of a (possibly extended) SQLite result code.
pub(crate) fn code_name(code: i32) -> String {
    let name = match code {
        ffi::SQLITE_CONSTRAINT_UNIQUE => "SQLITE_CONSTRAINT_UNIQUE",
        ffi::SQLITE_CONSTRAINT_PRIMARYKEY => "SQLITE_CONSTRAINT_PRIMARYKEY",
        ffi::SQLITE_CONSTRAINT_FOREIGNKEY => "SQLITE_CONSTRAINT_FOREIGNKEY",
        ffi::SQLITE_CONSTRAINT_NOTNULL => "SQLITE_CONSTRAINT_NOTNULL",
        ffi::SQLITE_CONSTRAINT_CHECK => "SQLITE_CONSTRAINT_CHECK",
        ffi::SQLITE_CONSTRAINT_TRIGGER => "SQLITE_CONSTRAINT_TRIGGER",
        ffi::SQLITE_CONSTRAINT_ROWID => "SQLITE_CONSTRAINT_ROWID",
        ffi::SQLITE_CONSTRAINT_DATATYPE => "SQLITE_CONSTRAINT_DATATYPE",
        ffi::SQLITE_BUSY_SNAPSHOT => "SQLITE_BUSY_SNAPSHOT",
        ffi::SQLITE_BUSY_RECOVERY => "SQLITE_BUSY_RECOVERY",
        ffi::SQLITE_BUSY_TIMEOUT => "SQLITE_BUSY_TIMEOUT",
        ffi::SQLITE_READONLY_DBMOVED => "SQLITE_READONLY_DBMOVED",
        ffi::SQLITE_ERROR => "SQLITE_ERROR",
        ffi::SQLITE_INTERNAL => "SQLITE_INTERNAL",
        ffi::SQLITE_PERM => "SQLITE_PERM",
        ffi::SQLITE_ABORT => "SQLITE_ABORT",
        ffi::SQLITE_BUSY => "SQLITE_BUSY",
        ffi::SQLITE_LOCKED => "SQLITE_LOCKED",
        ffi::SQLITE_NOMEM => "SQLITE_NOMEM",
        ffi::SQLITE_READONLY => "SQLITE_READONLY",
        ffi::SQLITE_INTERRUPT => "SQLITE_INTERRUPT",
        ffi::SQLITE_IOERR => "SQLITE_IOERR",
        ffi::SQLITE_CORRUPT => "SQLITE_CORRUPT",
        ffi::SQLITE_FULL => "SQLITE_FULL",
        ffi::SQLITE_CANTOPEN => "SQLITE_CANTOPEN",
        ffi::SQLITE_PROTOCOL => "SQLITE_PROTOCOL",
        ffi::SQLITE_SCHEMA => "SQLITE_SCHEMA",
        ffi::SQLITE_TOOBIG => "SQLITE_TOOBIG",
        ffi::SQLITE_CONSTRAINT => "SQLITE_CONSTRAINT",
        ffi::SQLITE_MISMATCH => "SQLITE_MISMATCH",
        ffi::SQLITE_MISUSE => "SQLITE_MISUSE",
        ffi::SQLITE_AUTH => "SQLITE_AUTH",
        ffi::SQLITE_RANGE => "SQLITE_RANGE",
        ffi::SQLITE_NOTADB => "SQLITE_NOTADB",
        _ => {
            let primary = code & 0xff;
            return if primary != code {
                format!("{} (extended)", code_name(primary))
            } else {
                "SQLITE".to_string()
            };
        }
    };
    name.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constraint_names_are_extracted() {
        assert_eq!(
            constraint_of("UNIQUE constraint failed: t.a, t.b").as_deref(),
            Some("t.a, t.b")
        );
        assert_eq!(constraint_of("FOREIGN KEY constraint failed"), None);
        assert_eq!(code_name(2067), "SQLITE_CONSTRAINT_UNIQUE");
        assert_eq!(
            kind_of_generic_error("near \"SELEC\": syntax error"),
            ErrorKind::Programming
        );
        assert_eq!(
            kind_of_generic_error("no such table: x"),
            ErrorKind::Programming
        );
        assert_eq!(kind_of_generic_error("integer overflow"), ErrorKind::Data);
    }
}
