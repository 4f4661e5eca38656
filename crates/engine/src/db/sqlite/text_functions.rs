//! Text functions PostgreSQL has and SQLite lacks, registered on every connection so the
//! ORM's `Reverse`, `Repeat`, `LPad`, `RPad`, `MD5` and `SHA*` read alike on both (Django's
//! SQLite backend adds the same ones in Python). Characters are Unicode scalar values, as
//! PostgreSQL's in UTF-8; a hash is the lowercase hex digest of the text's UTF-8 bytes.
//! A NULL argument gives NULL.

use md5::Md5;
use rusqlite::functions::{Context, FunctionFlags};
use rusqlite::types::ValueRef;
use rusqlite::{Connection, Error, Result};
use sha1::Sha1;
use sha2::{Digest, Sha224, Sha256, Sha384, Sha512};

/// The most characters a padded or repeated text may have: SQLite's own limit on a value
/// (SQLITE_MAX_LENGTH), checked before anything is allocated.
const MAX_CHARS: i64 = 1_000_000_000;

/// Adds the text functions to `conn`.
pub(crate) fn register(conn: &Connection, flags: FunctionFlags) -> Result<()> {
    conn.create_scalar_function("reverse", 1, flags, |ctx| {
        Ok(text(ctx, 0)?.map(|t| t.chars().rev().collect::<String>()))
    })?;
    conn.create_scalar_function("repeat", 2, flags, repeat)?;
    conn.create_scalar_function("lpad", 3, flags, |ctx| pad(ctx, true))?;
    conn.create_scalar_function("rpad", 3, flags, |ctx| pad(ctx, false))?;
    conn.create_scalar_function("md5", 1, flags, |ctx| {
        hex_digest(ctx, |b| hex(&Md5::digest(b)))
    })?;
    // sha1 0.10 implements digest 0.10's Digest trait, the sha2/md-5 versions digest 0.11's.
    conn.create_scalar_function("sha1", 1, flags, |ctx| {
        hex_digest(ctx, |b| hex(&<Sha1 as sha1::Digest>::digest(b)))
    })?;
    conn.create_scalar_function("sha224", 1, flags, |ctx| {
        hex_digest(ctx, |b| hex(&Sha224::digest(b)))
    })?;
    conn.create_scalar_function("sha256", 1, flags, |ctx| {
        hex_digest(ctx, |b| hex(&Sha256::digest(b)))
    })?;
    conn.create_scalar_function("sha384", 1, flags, |ctx| {
        hex_digest(ctx, |b| hex(&Sha384::digest(b)))
    })?;
    conn.create_scalar_function("sha512", 1, flags, |ctx| {
        hex_digest(ctx, |b| hex(&Sha512::digest(b)))
    })?;
    Ok(())
}

/// Argument `i` as text (numbers as SQLite prints them), None for NULL.
fn text(ctx: &Context<'_>, i: usize) -> Result<Option<String>> {
    Ok(match ctx.get_raw(i) {
        ValueRef::Null => None,
        ValueRef::Text(bytes) | ValueRef::Blob(bytes) => Some(
            std::str::from_utf8(bytes)
                .map_err(|e| Error::UserFunctionError(e.into()))?
                .to_owned(),
        ),
        ValueRef::Integer(n) => Some(n.to_string()),
        ValueRef::Real(f) => Some(f.to_string()),
    })
}

/// Argument `i` as a count (NULL: None); a negative count is 0, as PostgreSQL's.
fn count(ctx: &Context<'_>, i: usize) -> Result<Option<i64>> {
    Ok(ctx.get::<Option<i64>>(i)?.map(|n| n.max(0)))
}

fn too_long(what: &str) -> Error {
    Error::UserFunctionError(
        format!("{what}: the result would be longer than {MAX_CHARS} characters").into(),
    )
}

fn repeat(ctx: &Context<'_>) -> Result<Option<String>> {
    let (Some(t), Some(n)) = (text(ctx, 0)?, count(ctx, 1)?) else {
        return Ok(None);
    };
    let chars = i64::try_from(t.chars().count()).unwrap_or(i64::MAX);
    match chars.checked_mul(n) {
        Some(total) if total <= MAX_CHARS => Ok(Some(t.repeat(n as usize))),
        _ => Err(too_long("repeat")),
    }
}

/// `lpad(text, length, fill)`/`rpad`: the text cut to `length` characters, or filled on the
/// left (right) with repetitions of `fill` up to it; an empty fill leaves it as it is.
fn pad(ctx: &Context<'_>, left: bool) -> Result<Option<String>> {
    let (Some(t), Some(length), Some(fill)) = (text(ctx, 0)?, count(ctx, 1)?, text(ctx, 2)?) else {
        return Ok(None);
    };
    if length > MAX_CHARS {
        return Err(too_long(if left { "lpad" } else { "rpad" }));
    }
    let length = length as usize;
    let have = t.chars().count();
    if have >= length {
        return Ok(Some(t.chars().take(length).collect()));
    }
    let filler: String = fill
        .chars()
        .cycle()
        .take(if fill.is_empty() { 0 } else { length - have })
        .collect();
    Ok(Some(if left { filler + &t } else { t + &filler }))
}

fn hex_digest(ctx: &Context<'_>, digest: impl Fn(&[u8]) -> String) -> Result<Option<String>> {
    Ok(match ctx.get_raw(0) {
        ValueRef::Null => None,
        ValueRef::Text(bytes) | ValueRef::Blob(bytes) => Some(digest(bytes)),
        _ => text(ctx, 0)?.map(|t| digest(t.as_bytes())),
    })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(sql: &str) -> Option<String> {
        let conn = Connection::open_in_memory().unwrap();
        register(
            &conn,
            FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
        )
        .unwrap();
        conn.query_row(sql, [], |r| r.get(0)).unwrap()
    }

    #[test]
    fn pads_cut_or_fill_like_postgres() {
        assert_eq!(
            one("SELECT lpad('Zoë', 6, 'ab')").as_deref(),
            Some("abaZoë")
        );
        assert_eq!(
            one("SELECT rpad('Zoë', 6, 'ab')").as_deref(),
            Some("Zoëaba")
        );
        assert_eq!(one("SELECT lpad('İpek', 2, '*')").as_deref(), Some("İp"));
        assert_eq!(one("SELECT lpad('hi', 5, '')").as_deref(), Some("hi"));
        assert_eq!(one("SELECT lpad('hi', -3, 'x')").as_deref(), Some(""));
        assert_eq!(one("SELECT rpad(NULL, 3, 'x')"), None);
        assert_eq!(one("SELECT rpad('a', NULL, 'x')"), None);
    }

    #[test]
    fn reverse_and_repeat_count_characters() {
        assert_eq!(one("SELECT reverse('Zoë')").as_deref(), Some("ëoZ"));
        assert_eq!(one("SELECT repeat('ab', 3)").as_deref(), Some("ababab"));
        assert_eq!(one("SELECT repeat('ab', -1)").as_deref(), Some(""));
        assert_eq!(one("SELECT repeat(NULL, 2)"), None);
        let conn = Connection::open_in_memory().unwrap();
        register(&conn, FunctionFlags::SQLITE_UTF8).unwrap();
        assert!(conn
            .query_row("SELECT repeat('ab', 9000000000000000000)", [], |r| r
                .get::<_, String>(0))
            .is_err());
    }

    #[test]
    fn hashes_are_hex_digests_of_utf8() {
        assert_eq!(
            one("SELECT md5('abc')").as_deref(),
            Some("900150983cd24fb0d6963f7d28e17f72")
        );
        assert_eq!(
            one("SELECT sha1('abc')").as_deref(),
            Some("a9993e364706816aba3e25717850c26c9cd0d89d")
        );
        assert_eq!(
            one("SELECT sha256('abc')").as_deref(),
            Some("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        );
        assert_eq!(one("SELECT length(sha224('')) || ' ' || length(sha384('')) || ' ' || length(sha512(''))").as_deref(), Some("56 96 128"));
        assert_eq!(one("SELECT md5(NULL)"), None);
    }
}
