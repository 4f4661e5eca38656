//! SQL functions SQLite lacks, registered on every connection: `REGEXP`, and the
//! aggregates `STDDEV_POP`, `STDDEV_SAMP`, `VAR_POP`, `VAR_SAMP` (PostgreSQL's names,
//! so the ORM spells `StdDev`/`Variance` alike on both; window functions too, as on
//! PostgreSQL), the text functions of `text_functions.rs` and the time-zone ones of
//! `zone_functions.rs`.
//!
//! SQLite parses `x REGEXP p` as a call `regexp(p, x)` but ships no such
//! function. Ours uses the `regex` crate (linear time, so a pattern from a
//! request cannot backtrack forever); each statement compiles its pattern once
//! (SQLite's auxiliary data cache). A NULL on either side gives NULL, as the
//! comparison operators do; an invalid pattern fails the statement.

use std::sync::Arc;

use regex::Regex;
use rusqlite::functions::{Aggregate, Context, FunctionFlags, WindowAggregate};
use rusqlite::types::ValueRef;
use rusqlite::{Connection, Error, Result};

type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Adds `regexp(pattern, text)` and the spread aggregates to `conn`.
pub(crate) fn register(conn: &Connection) -> Result<()> {
    let flags = FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC;
    conn.create_scalar_function("regexp", 2, flags, regexp)?;
    for (name, spread) in [
        (
            "stddev_pop",
            Spread {
                sample: false,
                root: true,
            },
        ),
        (
            "stddev_samp",
            Spread {
                sample: true,
                root: true,
            },
        ),
        (
            "var_pop",
            Spread {
                sample: false,
                root: false,
            },
        ),
        (
            "var_samp",
            Spread {
                sample: true,
                root: false,
            },
        ),
    ] {
        conn.create_window_function(name, 1, flags, spread)?;
    }
    super::text_functions::register(conn, flags)?;
    super::zone_functions::register(conn, flags)
}

/// Variance or standard deviation, population or sample, of the non-NULL values
/// (Welford's running mean: one pass, no catastrophic cancellation). NULL when there
/// are too few values, as PostgreSQL answers.
struct Spread {
    sample: bool,
    root: bool,
}

/// Values seen, their running mean, and the sum of squared distances from it.
#[derive(Default)]
struct Moments {
    count: u64,
    mean: f64,
    squares: f64,
}

impl Aggregate<Moments, Option<f64>> for Spread {
    fn init(&self, _: &mut Context<'_>) -> Result<Moments> {
        Ok(Moments::default())
    }

    fn step(&self, ctx: &mut Context<'_>, acc: &mut Moments) -> Result<()> {
        if let Some(value) = number(ctx)? {
            acc.count += 1;
            let delta = value - acc.mean;
            acc.mean += delta / acc.count as f64;
            acc.squares += delta * (value - acc.mean);
        }
        Ok(())
    }

    fn finalize(&self, _: &mut Context<'_>, acc: Option<Moments>) -> Result<Option<f64>> {
        Ok(acc.and_then(|acc| self.of(&acc)))
    }
}

impl WindowAggregate<Moments, Option<f64>> for Spread {
    fn value(&self, acc: Option<&mut Moments>) -> Result<Option<f64>> {
        Ok(acc.and_then(|acc| self.of(acc)))
    }

    /// A row leaves the window frame: Welford's step undone.
    fn inverse(&self, ctx: &mut Context<'_>, acc: &mut Moments) -> Result<()> {
        if let Some(value) = number(ctx)? {
            acc.count = acc.count.saturating_sub(1);
            if acc.count == 0 {
                *acc = Moments::default();
                return Ok(());
            }
            let delta = value - acc.mean;
            acc.mean -= delta / acc.count as f64;
            acc.squares -= delta * (value - acc.mean);
        }
        Ok(())
    }
}

impl Spread {
    /// The variance or deviation of what `acc` has seen; None when too few values.
    fn of(&self, acc: &Moments) -> Option<f64> {
        let divisor = if self.sample {
            acc.count.saturating_sub(1)
        } else {
            acc.count
        };
        if divisor == 0 {
            return None;
        }
        // Rounding can leave a tiny negative sum after inverse steps; a variance is not negative.
        let variance = acc.squares.max(0.0) / divisor as f64;
        Some(if self.root { variance.sqrt() } else { variance })
    }
}

/// The aggregate's argument as a number, None for NULL.
fn number(ctx: &Context<'_>) -> Result<Option<f64>> {
    Ok(Some(match ctx.get_raw(0) {
        ValueRef::Null => return Ok(None),
        ValueRef::Integer(i) => i as f64,
        ValueRef::Real(f) => f,
        // Decimals stored as text (DECIMAL_TEXT columns).
        ValueRef::Text(bytes) | ValueRef::Blob(bytes) => std::str::from_utf8(bytes)
            .ok()
            .and_then(|text| text.trim().parse::<f64>().ok())
            .ok_or_else(|| {
                Error::UserFunctionError(
                    "a standard deviation or variance of a value that is not a number".into(),
                )
            })?,
    }))
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
            let text =
                std::str::from_utf8(bytes).map_err(|e| Error::UserFunctionError(e.into()))?;
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
    fn spread_aggregates_answer_as_postgres() {
        let conn = Connection::open_in_memory().unwrap();
        register(&conn).unwrap();
        let row = |sql: &str| -> (Option<f64>, Option<f64>, Option<f64>, Option<f64>) {
            conn.query_row(sql, [], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })
            .unwrap()
        };
        let of = "SELECT var_pop(x), var_samp(x), stddev_pop(x), stddev_samp(x) FROM";
        let (vp, vs, sp, ss) = row(&format!(
            "{of} (SELECT 2 AS x UNION ALL SELECT 4 UNION ALL SELECT '6' UNION ALL SELECT NULL)"
        ));
        assert_eq!((vp, vs), (Some(8.0 / 3.0), Some(4.0)));
        assert_eq!((sp, ss), (Some((8.0f64 / 3.0).sqrt()), Some(2.0)));
        assert_eq!(
            row(&format!("{of} (SELECT 1.5 AS x)")),
            (Some(0.0), None, Some(0.0), None)
        );
        assert_eq!(
            row(&format!("{of} (SELECT NULL AS x)")),
            (None, None, None, None)
        );
        assert!(conn
            .query_row(&format!("{of} (SELECT 'x' AS x)"), [], |r| r
                .get::<_, Option<f64>>(0))
            .is_err());
    }

    #[test]
    fn spread_aggregates_are_window_functions_too() {
        let conn = Connection::open_in_memory().unwrap();
        register(&conn).unwrap();
        let mut statement = conn
            .prepare(
                "SELECT var_samp(x) OVER (ORDER BY i ROWS BETWEEN 1 PRECEDING AND CURRENT ROW), \
                 stddev_pop(x) OVER (ORDER BY i ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) \
                 FROM (SELECT 1 AS i, 2 AS x UNION ALL SELECT 2, 4 UNION ALL SELECT 3, NULL \
                 UNION ALL SELECT 4, 10 UNION ALL SELECT 5, 14) ORDER BY i",
            )
            .unwrap();
        let rows: Vec<(Option<f64>, Option<f64>)> = statement
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .map(|row| row.unwrap())
            .collect();
        assert_eq!(
            rows,
            vec![
                (None, Some(0.0)),
                (Some(2.0), Some(1.0)),
                (None, Some(0.0)),
                (None, Some(0.0)),
                (Some(8.0), Some(2.0)),
            ]
        );
    }

    #[test]
    fn math_functions_are_built_in() {
        // The engine links the system SQLite (one copy per process, docs/architecture.md);
        // the ORM's functions need it built with SQLITE_ENABLE_MATH_FUNCTIONS, as Debian's is.
        let conn = Connection::open_in_memory().unwrap();
        let v: f64 = conn
            .query_row(
                "SELECT ceil(1.2) + floor(1.8) + mod(7, 4) + power(2, 3) + sqrt(16)",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(v, 2.0 + 1.0 + 3.0 + 8.0 + 4.0);
    }

    #[test]
    fn regexp_matches_like_postgres_tilde() {
        let conn = Connection::open_in_memory().unwrap();
        register(&conn).unwrap();
        assert_eq!(
            matches(&conn, "Darjeeling", "^[AD].*g$").unwrap(),
            Some(true)
        );
        assert_eq!(matches(&conn, "Teapot", "^t").unwrap(), Some(false));
        assert_eq!(matches(&conn, "Teapot", "(?i)^t").unwrap(), Some(true));
    }

    #[test]
    fn regexp_of_null_is_null() {
        let conn = Connection::open_in_memory().unwrap();
        register(&conn).unwrap();
        let v: Option<bool> = conn
            .query_row("SELECT NULL REGEXP 'a'", [], |r| r.get(0))
            .unwrap();
        assert_eq!(v, None);
        let v: Option<bool> = conn
            .query_row("SELECT 'a' REGEXP NULL", [], |r| r.get(0))
            .unwrap();
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
