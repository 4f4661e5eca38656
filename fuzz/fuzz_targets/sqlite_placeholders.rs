//! The `$n` → `?n` rewriter that lets SQLite run PostgreSQL-style SQL.
//!
//! The rewrite only ever turns `$digits` into `?digits`; and when the
//! rewritten SQL is a statement SQLite accepts, SQLite sees no `$<digit>...`
//! parameter left (one the lexer missed would be bound by position, to the
//! wrong value).

#![no_main]

use std::cell::RefCell;

use hyperdjango_engine::fuzzing::translate_placeholders;
use libfuzzer_sys::fuzz_target;

thread_local! {
    static CONN: RefCell<rusqlite::Connection> = RefCell::new({
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE t (a, b, \"$1\", [c$2])").unwrap();
        conn
    });
}

fuzz_target!(|data: &[u8]| {
    let Ok(sql) = std::str::from_utf8(data) else { return };
    let Ok(rewritten) = translate_placeholders(sql) else { return };
    assert_eq!(
        rewritten.replace('?', "$"),
        sql.replace('?', "$"),
        "the rewrite changed more than placeholders"
    );
    CONN.with(|conn| {
        let conn = conn.borrow();
        let Ok(stmt) = conn.prepare(&rewritten) else { return };
        for i in 1..=stmt.parameter_count() {
            // `$name` passes through on purpose (SQLite's named parameters); `$<digit>...` must not.
            if let Some(name) = stmt.parameter_name(i) {
                assert!(
                    !name.starts_with('$') || !name[1..].starts_with(|c: char| c.is_ascii_digit()),
                    "{sql:?} → {rewritten:?} leaves the parameter {name:?} to SQLite"
                );
            }
        }
    });
});
