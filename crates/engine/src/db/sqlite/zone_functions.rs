//! Time-zone conversion SQLite lacks, registered on every connection so the ORM's
//! `Extract`/`Trunc`/`dates()`/`datetimes()` see a datetime in a named zone with daylight
//! saving time (`Europe/Paris`) as PostgreSQL's `AT TIME ZONE` does; Django's SQLite
//! backend does the same in Python with `zoneinfo`. The rules are the IANA database that
//! `chrono-tz` builds in.
//!
//! - `hd_utc_to_zone(datetime, zone)`: a stored datetime (`YYYY-MM-DD HH:MM:SS[.ffffff]+00:00`)
//!   as the wall-clock time in `zone`, `YYYY-MM-DD HH:MM:SS` (whole seconds: SQLite's date
//!   functions round a fraction, which could move 23:59:59.9999 to the next day).
//! - `hd_zone_to_utc(local, zone)`: a wall-clock time in `zone` back to the stored form, in
//!   UTC. A time that happens twice (clocks go back) is its first occurrence and a time the
//!   clocks skip is read with the offset in force before the change: Python's `fold=0`, which
//!   Django's `make_aware` uses.
//!
//! A NULL argument gives NULL; an unknown zone or a text that is not a datetime fails the
//! statement with the reason.

use std::os::raw::c_int;
use std::sync::Arc;

use chrono::{DateTime, MappedLocalTime, NaiveDateTime, Offset, TimeDelta, TimeZone, Utc};
use chrono_tz::Tz;
use rusqlite::functions::{Context, FunctionFlags};
use rusqlite::types::ValueRef;
use rusqlite::{Connection, Error, Result};

type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Whole seconds, as `TRUNCATED` in the ORM's SQLite operations writes them.
const WALL_CLOCK: &str = "%Y-%m-%d %H:%M:%S";

/// Adds the time-zone functions to `conn`.
pub(crate) fn register(conn: &Connection, flags: FunctionFlags) -> Result<()> {
    conn.create_scalar_function("hd_utc_to_zone", 2, flags, |ctx| {
        let Some(text) = text(ctx, 0)? else {
            return Ok(None);
        };
        let zone = zone(ctx, 1)?;
        let instant = parse_stored(text)?;
        Ok(Some(
            instant.with_timezone(&*zone).format(WALL_CLOCK).to_string(),
        ))
    })?;
    conn.create_scalar_function("hd_zone_to_utc", 2, flags, |ctx| {
        let Some(text) = text(ctx, 0)? else {
            return Ok(None);
        };
        let zone = zone(ctx, 1)?;
        let local =
            NaiveDateTime::parse_from_str(text, WALL_CLOCK).map_err(|e| not_a_datetime(text, e))?;
        Ok(Some(
            first_instant(&zone, local)
                .format("%Y-%m-%d %H:%M:%S+00:00")
                .to_string(),
        ))
    })?;
    Ok(())
}

/// Argument `i` as UTF-8 text, None for NULL.
fn text<'a>(ctx: &'a Context<'_>, i: usize) -> Result<Option<&'a str>> {
    match ctx.get_raw(i) {
        ValueRef::Null => Ok(None),
        ValueRef::Text(bytes) => std::str::from_utf8(bytes)
            .map(Some)
            .map_err(|e| Error::UserFunctionError(e.into())),
        other => Err(Error::UserFunctionError(
            format!("a datetime must be text, not {:?}", other.data_type()).into(),
        )),
    }
}

/// Argument `i` as a zone, parsed once per statement (SQLite's auxiliary data cache).
fn zone(ctx: &Context<'_>, i: c_int) -> Result<Arc<Tz>> {
    ctx.get_or_create_aux(i, |value| -> Result<Tz, BoxError> {
        let name = value.as_str()?;
        name.parse::<Tz>().map_err(|_| {
            format!("unknown time zone {name:?} (an IANA name such as 'Europe/Paris')").into()
        })
    })
}

/// A stored datetime: with its offset (`+00:00` as the engine writes them), or without
/// one, then taken as UTC.
fn parse_stored(text: &str) -> Result<DateTime<Utc>> {
    let text = text.trim();
    if let Ok(aware) = DateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f%:z") {
        return Ok(aware.with_timezone(&Utc));
    }
    NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f")
        .map(|naive| naive.and_utc())
        .map_err(|e| not_a_datetime(text, e))
}

fn not_a_datetime(text: &str, e: chrono::ParseError) -> Error {
    Error::UserFunctionError(format!("{text:?} is not a datetime: {e}").into())
}

/// The instant a wall-clock time in `zone` names, as Python's `fold=0` reads it.
fn first_instant(zone: &Tz, local: NaiveDateTime) -> DateTime<Utc> {
    match zone.from_local_datetime(&local) {
        MappedLocalTime::Single(instant) | MappedLocalTime::Ambiguous(instant, _) => {
            instant.with_timezone(&Utc)
        }
        MappedLocalTime::None => {
            // Skipped by the clocks: the offset of a day before is the one in force before
            // the change (no zone changes its offset twice in a day).
            let before = zone
                .offset_from_utc_datetime(&(local - TimeDelta::days(1)))
                .fix();
            (local - TimeDelta::seconds(i64::from(before.local_minus_utc()))).and_utc()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn convert(function: &str, text: &str, zone: &str) -> Result<Option<String>> {
        let conn = Connection::open_in_memory().unwrap();
        register(&conn, FunctionFlags::SQLITE_UTF8).unwrap();
        conn.query_row(&format!("SELECT {function}(?1, ?2)"), [text, zone], |r| {
            r.get(0)
        })
    }

    #[test]
    fn a_utc_datetime_is_seen_in_the_zone_with_its_daylight_saving_time() {
        let paris = |t| convert("hd_utc_to_zone", t, "Europe/Paris").unwrap();
        assert_eq!(
            paris("2021-01-15 12:30:00.250000+00:00"),
            Some("2021-01-15 13:30:00".into())
        );
        assert_eq!(
            paris("2021-07-15 12:30:00+00:00"),
            Some("2021-07-15 14:30:00".into())
        );
        assert_eq!(
            paris("2021-03-28 23:30:00"),
            Some("2021-03-29 01:30:00".into())
        );
    }

    #[test]
    fn a_wall_clock_time_goes_back_to_utc_as_python_fold_0() {
        let new_york = |t| convert("hd_zone_to_utc", t, "America/New_York").unwrap();
        assert_eq!(
            new_york("2021-07-01 00:00:00"),
            Some("2021-07-01 04:00:00+00:00".into())
        );
        // 01:30 happens twice on 2021-11-07: the first time, in daylight saving time.
        assert_eq!(
            new_york("2021-11-07 01:30:00"),
            Some("2021-11-07 05:30:00+00:00".into())
        );
        // 02:30 never happens on 2021-03-14: read with the offset before the change (-5).
        assert_eq!(
            new_york("2021-03-14 02:30:00"),
            Some("2021-03-14 07:30:00+00:00".into())
        );
    }

    #[test]
    fn null_gives_null_and_nonsense_fails_with_its_reason() {
        let conn = Connection::open_in_memory().unwrap();
        register(&conn, FunctionFlags::SQLITE_UTF8).unwrap();
        let null: Option<String> = conn
            .query_row("SELECT hd_utc_to_zone(NULL, 'UTC')", [], |r| r.get(0))
            .unwrap();
        assert_eq!(null, None);
        let err = convert("hd_utc_to_zone", "2021-01-01 00:00:00", "Mars/Olympus")
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown time zone"), "{err}");
        let err = convert("hd_utc_to_zone", "yesterday", "UTC")
            .unwrap_err()
            .to_string();
        assert!(err.contains("is not a datetime"), "{err}");
    }
}
