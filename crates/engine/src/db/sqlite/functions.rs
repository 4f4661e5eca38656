//! SQL functions SQLite lacks, registered on every connection: `REGEXP`.
//!
//! SQLite parses `x REGEXP p` as a call `regexp(p, x)` but ships no such
//! function. Ours uses the `regex` crate (linear time, so a pattern from a
//! request cannot backtrack forever); each statement compiles its pattern once
//! (SQLite's auxiliary data cache). A NULL on either side gives NULL, as the
//! comparison operators do; an invalid pattern fails the statement.

use std::sync::Arc;

use regex::Regex;
use rusqlite::functions::{Context, FunctionFlags};
use rusqlite::types::ValueRef;
use rusqlite::{Connection, Error, Result};

type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Adds `regexp(pattern, text)` to `conn`.
pub(crate) fn register(conn: &Connection) -> Result<()> {
    conn.create_scalar_function(
        "regexp",
        2,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
        regexp,
    )
}

fn regexp(ctx: &Context<'_>) -> Result<Option<bool>> {
    if matches!(ctx.get_raw(0), ValueRef::Null) {
        return Ok(None);
    }
    let pattern: Arc<Regex> = ctx.get_or_create_aux(0, |value| -> Result<Regex, BoxError> {
        let source = value.as_str()?;
        Regex::new(source).map_err(|e| format!("invalid regular expression {source:?}: {e}").into())
    })?;
    let matched = match ctx.get_raw(1) {
        ValueRef::Null => return Ok(None),
        ValueRef::Text(bytes) | ValueRef::Blob(bytes) => {
            let text = std::str::from_utf8(bytes).map_err(|e| Error::UserFunctionError(e.into()))?;
            pattern.is_match(text)
        }
        ValueRef::Integer(i) => pattern.is_match(&i.to_string()),
        ValueRef::Real(f) => pattern.is_match(&f.to_string()),
    };
    Ok(Some(matched))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matches(conn: &Connection, text: &str, pattern: &str) -> Result<Option<bool>> {
        conn.query_row("SELECT ?1 REGEXP ?2", [text, pattern], |r| r.get(0))
    }

    #[test]
    fn regexp_matches_like_postgres_tilde() {
        let conn = Connection::open_in_memory().unwrap();
        register(&conn).unwrap();
        assert_eq!(matches(&conn, "Darjeeling", "^[AD].*g$").unwrap(), Some(true));
        assert_eq!(matches(&conn, "Teapot", "^t").unwrap(), Some(false));
        assert_eq!(matches(&conn, "Teapot", "(?i)^t").unwrap(), Some(true));
    }

    #[test]
    fn regexp_of_null_is_null() {
        let conn = Connection::open_in_memory().unwrap();
        register(&conn).unwrap();
        let v: Option<bool> = conn.query_row("SELECT NULL REGEXP 'a'", [], |r| r.get(0)).unwrap();
        assert_eq!(v, None);
        let v: Option<bool> = conn.query_row("SELECT 'a' REGEXP NULL", [], |r| r.get(0)).unwrap();
        assert_eq!(v, None);
    }

    #[test]
    fn an_invalid_pattern_fails_the_statement_with_its_reason() {
        let conn = Connection::open_in_memory().unwrap();
        register(&conn).unwrap();
        let err = matches(&conn, "x", "(unclosed").unwrap_err().to_string();
        assert!(err.contains("invalid regular expression"), "{err}");
    }
}
