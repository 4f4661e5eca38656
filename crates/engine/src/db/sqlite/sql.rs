//! SQL text handling: `$n` → `?n` placeholder translation and read/write routing.
//!
//! Users write PostgreSQL-style `$1, $2, ...`. SQLite would parse `$1` as a
//! *named* parameter numbered by first appearance, so `SELECT $2, $1` would
//! bind the first value to `$2`. Translating to `?1, ?2` (numbered
//! parameters) keeps the PostgreSQL meaning. The lexer leaves string
//! literals (`'...'` with `''` escapes), quoted identifiers (`"..."`,
//! `` `...` ``, `[...]`), and comments (`-- ...`, `/* ... */`) untouched, and
//! a `$` inside an identifier (`a$1`) is not a placeholder.

use crate::db::{DbError, ErrorKind};

/// `sql` with `$n` placeholders rewritten to `?n`; borrowed when nothing changes.
pub fn translate_placeholders(sql: &str) -> Result<std::borrow::Cow<'_, str>, DbError> {
    let bytes = sql.as_bytes();
    if !bytes.contains(&b'$') {
        return Ok(std::borrow::Cow::Borrowed(sql));
    }
    let mut out = String::with_capacity(sql.len());
    let mut copied = 0; // bytes of `sql` already copied to `out`
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\'' | b'"' | b'`' => i = skip_quoted(bytes, i, bytes[i]),
            b'[' => i = skip_quoted(bytes, i, b']'),
            b'-' if bytes.get(i + 1) == Some(&b'-') => i = skip_line_comment(bytes, i),
            b'/' if bytes.get(i + 1) == Some(&b'*') => i = skip_block_comment(bytes, i),
            b'$' => {
                let start = i;
                let mut end = i + 1;
                while end < bytes.len() && bytes[end].is_ascii_digit() {
                    end += 1;
                }
                let in_identifier = start > 0 && is_ident_byte(bytes[start - 1]);
                if end > start + 1 && !in_identifier {
                    let digits = &sql[start + 1..end];
                    if bytes.get(end).is_some_and(|b| is_ident_byte(*b)) {
                        // SQLite would take `$1M` as a named parameter bound by position, i.e.
                        // silently to $1's value; PostgreSQL refuses it ("trailing junk").
                        return Err(DbError::new(
                            ErrorKind::Interface,
                            format!("invalid placeholder ${digits} followed by a name character; put a space or an operator after ${digits}"),
                        ));
                    }
                    if digits.trim_start_matches('0').is_empty() {
                        return Err(DbError::new(
                            ErrorKind::Interface,
                            format!(
                                "invalid placeholder ${digits}: parameters are numbered from $1"
                            ),
                        ));
                    }
                    out.push_str(&sql[copied..start]);
                    out.push('?');
                    out.push_str(digits);
                    copied = end;
                }
                i = end;
            }
            _ => i += 1,
        }
    }
    if copied == 0 {
        return Ok(std::borrow::Cow::Borrowed(sql));
    }
    out.push_str(&sql[copied..]);
    Ok(std::borrow::Cow::Owned(out))
}

fn is_ident_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'$' || b >= 0x80
}

/// Index just past the closing `close` of a quoted run starting at `start`
/// (a doubled closing quote is an escape); the end of input when unterminated.
fn skip_quoted(bytes: &[u8], start: usize, close: u8) -> usize {
    let mut i = start + 1;
    while i < bytes.len() {
        if bytes[i] == close {
            if close != b']' && bytes.get(i + 1) == Some(&close) {
                i += 2;
                continue;
            }
            return i + 1;
        }
        i += 1;
    }
    bytes.len()
}

fn skip_line_comment(bytes: &[u8], start: usize) -> usize {
    bytes[start..]
        .iter()
        .position(|b| *b == b'\n')
        .map_or(bytes.len(), |p| start + p + 1)
}

fn skip_block_comment(bytes: &[u8], start: usize) -> usize {
    let mut i = start + 2;
    while i + 1 < bytes.len() {
        if bytes[i] == b'*' && bytes[i + 1] == b'/' {
            return i + 2;
        }
        i += 1;
    }
    bytes.len()
}

/// The first keyword of `sql` (after whitespace, comments and opening
/// parentheses), upper-cased, and the text after it.
fn first_keyword(sql: &str) -> (String, &str) {
    let bytes = sql.as_bytes();
    let mut i = 0;
    loop {
        while i < bytes.len() && (bytes[i].is_ascii_whitespace() || bytes[i] == b'(') {
            i += 1;
        }
        if bytes[i..].starts_with(b"--") {
            i = skip_line_comment(bytes, i);
        } else if bytes[i..].starts_with(b"/*") {
            i = skip_block_comment(bytes, i);
        } else {
            break;
        }
    }
    let start = i;
    while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
        i += 1;
    }
    (sql[start..i].to_ascii_uppercase(), &sql[i..])
}

/// PRAGMAs that only read and give the same answer on every connection.
const READ_PRAGMAS: &[&str] = &[
    "APPLICATION_ID",
    "COLLATION_LIST",
    "COMPILE_OPTIONS",
    "DATABASE_LIST",
    "ENCODING",
    "FOREIGN_KEY_CHECK",
    "FOREIGN_KEY_LIST",
    "FREELIST_COUNT",
    "FUNCTION_LIST",
    "INDEX_INFO",
    "INDEX_LIST",
    "INDEX_XINFO",
    "INTEGRITY_CHECK",
    "MODULE_LIST",
    "PAGE_COUNT",
    "PAGE_SIZE",
    "PRAGMA_LIST",
    "QUICK_CHECK",
    "SCHEMA_VERSION",
    "TABLE_INFO",
    "TABLE_LIST",
    "TABLE_XINFO",
    "USER_VERSION",
];

/// Whether a statement outside a transaction may go to a reader connection.
///
/// A cheap keyword check: `SELECT`, `WITH`, `VALUES`, `EXPLAIN`, and the
/// introspection PRAGMAs of [`READ_PRAGMAS`] without `=`. The reader then
/// prepares the statement and forwards it to the writer when SQLite says it
/// is not read-only (`sqlite3_stmt_readonly`, e.g. `WITH ... INSERT`); reader
/// connections also run with `PRAGMA query_only=ON` as a last guard.
pub(crate) fn is_read_statement(sql: &str) -> bool {
    let (keyword, rest) = first_keyword(sql);
    match keyword.as_str() {
        "SELECT" | "WITH" | "VALUES" | "EXPLAIN" => true,
        "PRAGMA" => {
            if rest.contains('=') {
                return false;
            }
            let (mut name, after) = first_keyword(rest);
            // `PRAGMA main.table_info(t)`: look past a schema prefix.
            if let Some(after_dot) = after.trim_start().strip_prefix('.') {
                name = first_keyword(after_dot).0;
            }
            READ_PRAGMAS.contains(&name.as_str())
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tr(sql: &str) -> String {
        translate_placeholders(sql).unwrap().into_owned()
    }

    #[test]
    fn placeholders_become_numbered_parameters() {
        assert_eq!(tr("SELECT $2, $1"), "SELECT ?2, ?1");
        assert_eq!(tr("SELECT $1 + $1"), "SELECT ?1 + ?1");
        assert_eq!(tr("SELECT '$1', $1"), "SELECT '$1', ?1");
        assert_eq!(tr("SELECT 'it''s $1', $2"), "SELECT 'it''s $1', ?2");
        assert_eq!(tr("SELECT \"a$1\", $1"), "SELECT \"a$1\", ?1");
        assert_eq!(tr("SELECT a$1 FROM t"), "SELECT a$1 FROM t");
        assert_eq!(tr("SELECT $1 -- $2\n, $3"), "SELECT ?1 -- $2\n, ?3");
        assert_eq!(tr("SELECT /* $2 */ $1"), "SELECT /* $2 */ ?1");
        assert_eq!(tr("SELECT [x$1], `y$2`, $10"), "SELECT [x$1], `y$2`, ?10");
        assert_eq!(tr("SELECT $name"), "SELECT $name");
        assert_eq!(tr("SELECT 1"), "SELECT 1");
        assert_eq!(tr("SELECT 'unterminated $1"), "SELECT 'unterminated $1");
        assert!(translate_placeholders("SELECT $0").is_err());
    }

    /// Found by the sqlite_placeholders fuzz target: `$1M` reached SQLite as a named
    /// parameter, which it numbers by position (so it was bound to $1's value).
    #[test]
    fn a_placeholder_running_into_a_name_is_an_error() {
        for sql in ["SELECT $1M + $1", "SELECT $1_", "SELECT $12é", "SELECT $1$"] {
            let err = translate_placeholders(sql).unwrap_err();
            assert!(
                err.message.contains("followed by a name character"),
                "{sql}: {}",
                err.message
            );
        }
        assert_eq!(tr("SELECT a$1M, $1"), "SELECT a$1M, ?1");
    }

    #[test]
    fn reads_are_recognised() {
        assert!(is_read_statement("select 1"));
        assert!(is_read_statement("  -- c\n /* x */ (SELECT 1)"));
        assert!(is_read_statement("WITH x AS (SELECT 1) SELECT * FROM x"));
        assert!(is_read_statement("PRAGMA table_info(t)"));
        assert!(is_read_statement("pragma main.table_info(t)"));
        assert!(!is_read_statement("PRAGMA user_version = 3"));
        assert!(!is_read_statement("PRAGMA journal_mode"));
        assert!(!is_read_statement("INSERT INTO t VALUES (1)"));
        assert!(!is_read_statement("BEGIN"));
        assert!(!is_read_statement(""));
    }
}
