//! When cached prepared statements stop fitting the schema.
//!
//! A prepared statement keeps the parameter types the server inferred when it
//! was parsed: after `ALTER TABLE t ALTER c TYPE bigint`, the cached
//! `INSERT INTO t (c) VALUES ($1)` still binds `$1` as an `integer`. The pool
//! therefore keeps a schema epoch shared by all its connections; each
//! connection's statement cache remembers the epoch it was filled under and
//! empties itself at its next lookup when the epoch has moved on.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// The pool's schema epoch: bumped whenever the schema may have changed.
#[derive(Clone, Default)]
pub(crate) struct SchemaEpoch(Arc<AtomicU64>);

impl SchemaEpoch {
    /// The current epoch. Relaxed is enough: a statement that must see a bump
    /// was issued after the DDL's result reached its caller, and that hand-over
    /// (a channel, the pool's lock) orders the bump before this load.
    pub fn current(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }

    /// Makes every connection's cached statements stale.
    pub fn bump(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
}

/// Whether `sql` may change the parameter or result types of statements
/// prepared before it: its first keyword is ALTER (column types, renames),
/// DROP (a dropped column or table; a dropped table may unshadow another of
/// the same name further along `search_path`) or CREATE (a new table, view
/// or function can shadow the one a cached statement resolved; CREATE OR
/// REPLACE VIEW/FUNCTION changes result types). TRUNCATE, GRANT, COMMENT and
/// the like change data or privileges, never types, so they keep the cache.
/// DDL hidden in a function or a `DO` block is not seen: callers clear the
/// cache explicitly after it.
pub(crate) fn changes_schema(sql: &str) -> bool {
    let word = first_keyword(sql);
    ["ALTER", "CREATE", "DROP"]
        .iter()
        .any(|k| word.eq_ignore_ascii_case(k))
}

/// The first word of `sql`, after whitespace and comments.
fn first_keyword(sql: &str) -> &str {
    let mut rest = sql;
    loop {
        rest = rest.trim_start();
        if let Some(line) = rest.strip_prefix("--") {
            rest = line.split_once('\n').map_or("", |(_, after)| after);
        } else if let Some(block) = rest.strip_prefix("/*") {
            // PostgreSQL block comments nest.
            let mut depth = 1;
            let bytes = block.as_bytes();
            let mut i = 0;
            while depth > 0 && i < bytes.len() {
                if bytes[i..].starts_with(b"/*") {
                    depth += 1;
                    i += 2;
                } else if bytes[i..].starts_with(b"*/") {
                    depth -= 1;
                    i += 2;
                } else {
                    i += 1;
                }
            }
            rest = &block[i..];
        } else {
            break;
        }
    }
    let end = rest
        .find(|c: char| !c.is_ascii_alphabetic())
        .unwrap_or(rest.len());
    &rest[..end]
}

#[cfg(test)]
mod tests {
    use super::changes_schema;

    #[test]
    fn ddl_that_can_change_types_is_recognised() {
        assert!(changes_schema("ALTER TABLE t ALTER COLUMN c TYPE bigint"));
        assert!(changes_schema("  create table t (id int)"));
        assert!(changes_schema("Drop Table t"));
        assert!(changes_schema(
            "-- migration 0002\nALTER TABLE t ADD COLUMN d int"
        ));
        assert!(changes_schema(
            "/* outer /* inner */ still comment */ DROP VIEW v"
        ));
    }

    #[test]
    fn other_statements_keep_the_cache() {
        assert!(!changes_schema("SELECT * FROM alterations"));
        assert!(!changes_schema("INSERT INTO t (c) VALUES ($1)"));
        assert!(!changes_schema("TRUNCATE t"));
        assert!(!changes_schema("UPDATE t SET c = 'DROP'"));
        assert!(!changes_schema("ALTERED"));
        assert!(!changes_schema("-- ALTER TABLE t\nSELECT 1"));
        assert!(!changes_schema(""));
    }
}
