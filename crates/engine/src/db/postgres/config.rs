//! Connection URL and pool options.
//!
//! Accepted forms: `postgres://user:pass@host:port/db?opt=value&...` and
//! `postgresql://...`. Every part is optional (`postgres:///db` connects to
//! `localhost:5432`); user, password, host and database are percent-decoded.
//! A host that starts with `/` (for example `?host=/var/run/postgresql` or a
//! percent-encoded `%2Fvar%2Frun%2Fpostgresql`) is a Unix-socket directory.
//! `[::1]` is an IPv6 host.
//!
//! Query-string options:
//!
//! | option | meaning |
//! |---|---|
//! | `min_size` | connections opened by `connect` (default 1) |
//! | `max_size` | most connections (default 10) |
//! | `acquire_timeout` | seconds to wait for a connection (default 10; fractions allowed) |
//! | `max_lifetime` | seconds a connection lives before it is replaced (default 3600) |
//! | `statement_timeout` | milliseconds, applied per session (`0` or absent: none) |
//! | `max_in_flight` / `max_in_flight_per_connection` | requests pipelined on one shared connection (default 32) |
//! | `statement_cache_size` | prepared statements kept per connection (default 256; 0 disables) |
//! | `connect_timeout` | seconds for one connection attempt (default: the acquire timeout) |
//! | `application_name` | shown in `pg_stat_activity` |
//! | `options` | passed as the startup `options` (e.g. `-c search_path=app`) |
//! | `host`, `port`, `user`, `password`, `dbname` | override the URL parts (libpq style) |
//! | `sslmode` | `disable` (also `allow`/`prefer`, which fall back to plaintext); TLS is not supported |
//!
//! Unknown options are rejected so that typos do not pass silently.

use std::fmt;
use std::time::Duration;

use percent_encoding::percent_decode_str;

use crate::db::{DbError, ErrorKind};

/// Where and how to connect, plus the pool's options.
#[derive(Clone, PartialEq)]
pub struct PgConfig {
    /// A host name, an IP address, or a Unix-socket directory (starts with `/`).
    pub host: String,
    pub port: u16,
    pub user: String,
    pub password: Option<String>,
    pub dbname: String,
    pub application_name: Option<String>,
    /// Startup `options` (`-c name=value ...`).
    pub options: Option<String>,
    /// Connections opened by `connect` (default 1).
    pub min_size: usize,
    /// Most connections (default 10).
    pub max_size: usize,
    /// How long a caller waits for a connection before `PoolTimeout` (default 10 s).
    pub acquire_timeout: Duration,
    /// A connection older than this is closed once idle and replaced on demand (default 1 h).
    pub max_lifetime: Duration,
    /// `statement_timeout` set for every session (default none).
    pub statement_timeout: Option<Duration>,
    /// Requests pipelined at once on one shared connection (default 32).
    pub max_in_flight_per_connection: usize,
    /// Prepared statements kept per connection, least recently used evicted (default 256).
    pub statement_cache_size: usize,
    /// One connection attempt; `None` uses the acquire timeout.
    pub connect_timeout: Option<Duration>,
    /// A connection idle for longer than this is pinged before it is handed out (default 30 s).
    pub health_check_idle: Duration,
}

impl Default for PgConfig {
    fn default() -> Self {
        let user = std::env::var("USER")
            .ok()
            .filter(|u| !u.is_empty())
            .unwrap_or_else(|| "postgres".into());
        PgConfig {
            host: "localhost".into(),
            port: 5432,
            dbname: user.clone(),
            user,
            password: None,
            application_name: None,
            options: None,
            min_size: 1,
            max_size: 10,
            acquire_timeout: Duration::from_secs(10),
            max_lifetime: Duration::from_secs(3600),
            statement_timeout: None,
            max_in_flight_per_connection: 32,
            statement_cache_size: 256,
            connect_timeout: None,
            health_check_idle: Duration::from_secs(30),
        }
    }
}

impl fmt::Debug for PgConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .field("dbname", &self.dbname)
            .field("application_name", &self.application_name)
            .field("options", &self.options)
            .field("min_size", &self.min_size)
            .field("max_size", &self.max_size)
            .field("acquire_timeout", &self.acquire_timeout)
            .field("max_lifetime", &self.max_lifetime)
            .field("statement_timeout", &self.statement_timeout)
            .field(
                "max_in_flight_per_connection",
                &self.max_in_flight_per_connection,
            )
            .field("statement_cache_size", &self.statement_cache_size)
            .field("connect_timeout", &self.connect_timeout)
            .field("health_check_idle", &self.health_check_idle)
            .finish()
    }
}

fn bad(message: impl Into<String>) -> DbError {
    DbError::new(ErrorKind::Interface, message)
}

fn decode(part: &str, what: &str) -> Result<String, DbError> {
    percent_decode_str(part)
        .decode_utf8()
        .map(|s| s.into_owned())
        .map_err(|_| {
            bad(format!(
                "invalid percent-encoding in the {what} of the database URL"
            ))
        })
}

fn parse_secs(name: &str, value: &str) -> Result<Duration, DbError> {
    let secs: f64 = value.trim().parse().map_err(|_| {
        bad(format!(
            "database URL option {name}={value:?} is not a number of seconds"
        ))
    })?;
    if !secs.is_finite() || !(0.0..=1e9).contains(&secs) {
        return Err(bad(format!(
            "database URL option {name}={value:?} is out of range"
        )));
    }
    Ok(Duration::from_secs_f64(secs))
}

fn parse_count(name: &str, value: &str) -> Result<usize, DbError> {
    value.trim().parse().map_err(|_| {
        bad(format!(
            "database URL option {name}={value:?} is not a non-negative integer"
        ))
    })
}

impl PgConfig {
    /// Parses a `postgres://` or `postgresql://` URL with pool options in its query string.
    pub fn from_url(url: &str) -> Result<PgConfig, DbError> {
        let rest = url
            .strip_prefix("postgresql://")
            .or_else(|| url.strip_prefix("postgres://"))
            .ok_or_else(|| bad("a PostgreSQL URL starts with postgres:// or postgresql://"))?;
        let mut config = PgConfig::default();
        let mut user_given = false;
        let mut db_given = false;

        let (rest, query) = match rest.split_once('?') {
            Some((r, q)) => (r, Some(q)),
            None => (rest, None),
        };
        let rest = rest.split('#').next().unwrap_or("");
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], Some(&rest[i + 1..])),
            None => (rest, None),
        };
        let (userinfo, hostport) = match authority.rfind('@') {
            Some(i) => (Some(&authority[..i]), &authority[i + 1..]),
            None => (None, authority),
        };
        if let Some(userinfo) = userinfo {
            let (user, password) = match userinfo.split_once(':') {
                Some((u, p)) => (u, Some(p)),
                None => (userinfo, None),
            };
            if !user.is_empty() {
                config.user = decode(user, "user")?;
                user_given = true;
            }
            if let Some(p) = password {
                config.password = Some(decode(p, "password")?);
            }
        }
        if !hostport.is_empty() {
            let (host, port) = if let Some(stripped) = hostport.strip_prefix('[') {
                let end = stripped
                    .find(']')
                    .ok_or_else(|| bad("unclosed [ in the database URL host"))?;
                let host = &stripped[..end];
                let after = &stripped[end + 1..];
                let port = match after.strip_prefix(':') {
                    Some(p) => Some(p),
                    None if after.is_empty() => None,
                    None => {
                        return Err(bad(
                            "unexpected text after the IPv6 host in the database URL",
                        ))
                    }
                };
                (host.to_string(), port)
            } else {
                match hostport.rsplit_once(':') {
                    Some((h, p)) => (decode(h, "host")?, Some(p)),
                    None => (decode(hostport, "host")?, None),
                }
            };
            if host.contains(',') {
                return Err(bad("several hosts in one database URL are not supported"));
            }
            if !host.is_empty() {
                config.host = host;
            }
            if let Some(port) = port.filter(|p| !p.is_empty()) {
                config.port = port
                    .parse()
                    .map_err(|_| bad(format!("invalid port {port:?} in the database URL")))?;
            }
        }
        if let Some(path) = path {
            if !path.is_empty() {
                config.dbname = decode(path, "database name")?;
                db_given = true;
            }
        }

        if let Some(query) = query {
            for pair in query.split('&').filter(|p| !p.is_empty()) {
                let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
                let key = decode(key, "options")?;
                let value = decode(&value.replace('+', " "), "options")?;
                match key.as_str() {
                    "min_size" => config.min_size = parse_count(&key, &value)?,
                    "max_size" => config.max_size = parse_count(&key, &value)?,
                    "acquire_timeout" => config.acquire_timeout = parse_secs(&key, &value)?,
                    "max_lifetime" => config.max_lifetime = parse_secs(&key, &value)?,
                    "connect_timeout" => {
                        let t = parse_secs(&key, &value)?;
                        config.connect_timeout = if t.is_zero() { None } else { Some(t) };
                    }
                    "statement_timeout" => {
                        let ms = parse_count(&key, &value)?;
                        config.statement_timeout = if ms == 0 { None } else { Some(Duration::from_millis(ms as u64)) };
                    }
                    "max_in_flight" | "max_in_flight_per_connection" => {
                        config.max_in_flight_per_connection = parse_count(&key, &value)?
                    }
                    "statement_cache_size" => config.statement_cache_size = parse_count(&key, &value)?,
                    "health_check_idle" => config.health_check_idle = parse_secs(&key, &value)?,
                    "application_name" => config.application_name = Some(value),
                    "options" => config.options = Some(value),
                    "host" => config.host = value,
                    "port" => {
                        config.port =
                            value.parse().map_err(|_| bad(format!("invalid port {value:?} in the database URL")))?
                    }
                    "user" => {
                        config.user = value;
                        user_given = true;
                    }
                    "password" => config.password = Some(value),
                    "dbname" => {
                        config.dbname = value;
                        db_given = true;
                    }
                    "sslmode" => match value.as_str() {
                        "disable" | "allow" | "prefer" => {}
                        other => return Err(bad(format!(
                            "sslmode={other} is not supported: this driver connects without TLS (use sslmode=disable)"
                        ))),
                    },
                    other => return Err(bad(format!("unknown option {other:?} in the database URL"))),
                }
            }
        }
        if user_given && !db_given {
            config.dbname = config.user.clone();
        }
        config.validate()?;
        Ok(config)
    }

    /// Checks the pool options for consistency.
    pub fn validate(&self) -> Result<(), DbError> {
        if self.max_size == 0 {
            return Err(bad("max_size must be at least 1"));
        }
        if self.min_size > self.max_size {
            return Err(bad(format!(
                "min_size ({}) is larger than max_size ({})",
                self.min_size, self.max_size
            )));
        }
        if self.max_in_flight_per_connection == 0 {
            return Err(bad("max_in_flight_per_connection must be at least 1"));
        }
        if self.host.is_empty() {
            return Err(bad("the database host is empty"));
        }
        Ok(())
    }

    /// The tokio-postgres configuration for one connection.
    pub(crate) fn to_tokio(&self) -> tokio_postgres::Config {
        let mut c = tokio_postgres::Config::new();
        if self.host.starts_with('/') {
            c.host_path(&self.host);
        } else {
            c.host(&self.host);
        }
        c.port(self.port);
        c.user(&self.user);
        if let Some(p) = &self.password {
            c.password(p.as_bytes());
        }
        c.dbname(&self.dbname);
        if let Some(a) = &self.application_name {
            c.application_name(a);
        }
        let mut options = self.options.clone().unwrap_or_default();
        if let Some(t) = self.statement_timeout {
            if !options.is_empty() {
                options.push(' ');
            }
            options.push_str(&format!("-c statement_timeout={}", t.as_millis().max(1)));
        }
        if !options.is_empty() {
            c.options(options);
        }
        c.ssl_mode(tokio_postgres::config::SslMode::Disable);
        c.connect_timeout(
            self.connect_timeout
                .unwrap_or(self.acquire_timeout)
                .max(Duration::from_millis(100)),
        );
        c.keepalives(true);
        c.keepalives_idle(Duration::from_secs(60));
        c
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_url() {
        let c = PgConfig::from_url(
            "postgresql://al%40ice:p%3Ass@db.example:6543/my%20db?min_size=2&max_size=5&acquire_timeout=1.5&statement_timeout=250&application_name=web&sslmode=disable",
        )
        .unwrap();
        assert_eq!(c.user, "al@ice");
        assert_eq!(c.password.as_deref(), Some("p:ss"));
        assert_eq!(c.host, "db.example");
        assert_eq!(c.port, 6543);
        assert_eq!(c.dbname, "my db");
        assert_eq!(c.min_size, 2);
        assert_eq!(c.max_size, 5);
        assert_eq!(c.acquire_timeout, Duration::from_millis(1500));
        assert_eq!(c.statement_timeout, Some(Duration::from_millis(250)));
        assert_eq!(c.application_name.as_deref(), Some("web"));
        assert!(!format!("{c:?}").contains("p:ss"));
    }

    #[test]
    fn defaults_and_short_forms() {
        let c = PgConfig::from_url("postgres://bob@/").unwrap();
        assert_eq!(c.host, "localhost");
        assert_eq!(c.port, 5432);
        assert_eq!(c.dbname, "bob");
        assert_eq!(c.min_size, 1);
        assert_eq!(c.max_size, 10);
        assert_eq!(c.acquire_timeout, Duration::from_secs(10));
        assert_eq!(c.max_lifetime, Duration::from_secs(3600));
        assert_eq!(c.max_in_flight_per_connection, 32);
        assert_eq!(c.statement_cache_size, 256);
        assert_eq!(c.statement_timeout, None);
        let c = PgConfig::from_url("postgres://[::1]:5433/x").unwrap();
        assert_eq!(
            (c.host.as_str(), c.port, c.dbname.as_str()),
            ("::1", 5433, "x")
        );
        let c = PgConfig::from_url("postgres://u@%2Fvar%2Frun%2Fpostgresql/x").unwrap();
        assert_eq!(c.host, "/var/run/postgresql");
        let c = PgConfig::from_url("postgres:///x?host=/tmp&port=5444").unwrap();
        assert_eq!((c.host.as_str(), c.port), ("/tmp", 5444));
    }

    #[test]
    fn rejects_bad_input() {
        for url in [
            "mysql://x/y",
            "postgres://h/db?sslmode=require",
            "postgres://h/db?bogus=1",
            "postgres://h:notaport/db",
            "postgres://h/db?min_size=3&max_size=2",
            "postgres://h/db?max_size=0",
            "postgres://h/db?acquire_timeout=-1",
            "postgres://h/db?max_size=x",
            "postgres://[::1/db",
        ] {
            let err = PgConfig::from_url(url).unwrap_err();
            assert_eq!(err.kind, ErrorKind::Interface, "{url}");
        }
    }
}
