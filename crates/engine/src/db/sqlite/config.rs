//! `sqlite://` URLs and connection settings.

use std::path::PathBuf;
use std::time::Duration;

use crate::db::{DbError, ErrorKind};

/// Where the database lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SqliteTarget {
    /// A private in-memory database, one per [`SqliteDatabase`](super::SqliteDatabase)
    /// (all its work runs on the single writer connection).
    Memory,
    /// A database file (created when missing).
    File(PathBuf),
}

/// Settings for [`SqliteDatabase::connect`](super::SqliteDatabase::connect).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqliteConfig {
    pub target: SqliteTarget,
    /// Reader connections next to the writer (default 4; always 0 in memory).
    pub readers: usize,
    /// How long a connection waits on a lock held by another process before
    /// failing with `SQLITE_BUSY` (default 5 s).
    pub busy_timeout: Duration,
}

/// Reader connections when the URL does not say.
pub const DEFAULT_READERS: usize = 4;
/// The most reader connections accepted.
pub const MAX_READERS: usize = 64;
/// `busy_timeout` when the URL does not say.
pub const DEFAULT_BUSY_TIMEOUT: Duration = Duration::from_millis(5000);

impl SqliteConfig {
    /// A private in-memory database.
    pub fn memory() -> SqliteConfig {
        SqliteConfig {
            target: SqliteTarget::Memory,
            readers: 0,
            busy_timeout: DEFAULT_BUSY_TIMEOUT,
        }
    }

    /// A database file with the default readers and busy timeout.
    pub fn file(path: impl Into<PathBuf>) -> SqliteConfig {
        SqliteConfig {
            target: SqliteTarget::File(path.into()),
            readers: DEFAULT_READERS,
            busy_timeout: DEFAULT_BUSY_TIMEOUT,
        }
    }

    /// Parses `sqlite:///relative/path.db` (the path after the third slash,
    /// as given), `sqlite:////absolute/path.db` (four slashes: absolute), and
    /// `sqlite://:memory:`, with optional `?readers=N&busy_timeout=MS`.
    /// The path is percent-decoded.
    pub fn from_url(url: &str) -> Result<SqliteConfig, DbError> {
        let bad = |why: &str| {
            DbError::new(
                ErrorKind::Interface,
                format!("invalid SQLite URL {url:?}: {why}"),
            )
        };
        let rest = url
            .strip_prefix("sqlite://")
            .ok_or_else(|| bad("expected sqlite:///path/to/file.db or sqlite://:memory:"))?;
        let (location, query) = match rest.split_once('?') {
            Some((l, q)) => (l, Some(q)),
            None => (rest, None),
        };
        let mut config = if location == ":memory:" || location == "/:memory:" {
            SqliteConfig::memory()
        } else if let Some(path) = location.strip_prefix('/') {
            if path.is_empty() {
                return Err(bad("no file path after sqlite:///"));
            }
            let decoded = percent_encoding::percent_decode_str(path)
                .decode_utf8()
                .map_err(|_| bad("the path is not valid UTF-8 after percent-decoding"))?;
            SqliteConfig::file(decoded.into_owned())
        } else {
            return Err(bad(
                "a file path needs three slashes (sqlite:///relative.db, sqlite:////absolute.db)",
            ));
        };
        for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            match key {
                "readers" => {
                    let n: usize = value
                        .parse()
                        .map_err(|_| bad("readers must be a whole number"))?;
                    if n > MAX_READERS {
                        return Err(bad(&format!("readers must be at most {MAX_READERS}")));
                    }
                    if config.target != SqliteTarget::Memory {
                        config.readers = n;
                    }
                }
                "busy_timeout" => {
                    let ms: u64 = value
                        .parse()
                        .map_err(|_| bad("busy_timeout must be milliseconds"))?;
                    config.busy_timeout = Duration::from_millis(ms);
                }
                other => {
                    return Err(bad(&format!(
                        "unknown option {other:?} (known: readers, busy_timeout)"
                    )))
                }
            }
        }
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let c = SqliteConfig::from_url("sqlite:///data/app.db").unwrap();
        assert_eq!(c.target, SqliteTarget::File("data/app.db".into()));
        assert_eq!(c.readers, DEFAULT_READERS);
        let c = SqliteConfig::from_url("sqlite:////var/app.db?readers=2&busy_timeout=250").unwrap();
        assert_eq!(c.target, SqliteTarget::File("/var/app.db".into()));
        assert_eq!(c.readers, 2);
        assert_eq!(c.busy_timeout, Duration::from_millis(250));
        let c = SqliteConfig::from_url("sqlite://:memory:?readers=3").unwrap();
        assert_eq!(c.target, SqliteTarget::Memory);
        assert_eq!(c.readers, 0);
        let c = SqliteConfig::from_url("sqlite:///my%20db.sqlite").unwrap();
        assert_eq!(c.target, SqliteTarget::File("my db.sqlite".into()));
        for bad in [
            "postgres://x",
            "sqlite://app.db",
            "sqlite:///",
            "sqlite:///a.db?x=1",
            "sqlite:///a.db?readers=x",
        ] {
            let err = SqliteConfig::from_url(bad).unwrap_err();
            assert_eq!(err.kind, ErrorKind::Interface, "{bad}");
        }
    }
}
