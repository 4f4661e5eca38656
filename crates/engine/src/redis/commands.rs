//! Pipelined commands on one Redis connection: [`RedisCommands`].
//!
//! A pipeline is one write and one read of the replies; concurrent pipelines
//! share the connection (the crate's multiplexing keeps their replies apart).
//! The connection is opened on first use and again after it broke (it speaks
//! RESP3 so that the crate tells us at once when the server closed it: an idle
//! connection to a restarted server is not used again), and every
//! Lua script registered with [`RedisCommands::load_script`] is loaded on each
//! new connection before its first pipeline, so callers send `EVALSHA` only
//! (the script's text crosses once per connection, not once per call). A
//! restarted server has forgotten its scripts, but the connection to it is new
//! too. Should the scripts be flushed on a live connection (`SCRIPT FLUSH`), the
//! call fails with `NOSCRIPT` and the next pipeline loads them again.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use redis::aio::MultiplexedConnection;
use redis::{AsyncConnectionConfig, ProtocolVersion, PushInfo, PushKind, Value};
use tokio::sync::Mutex as AsyncMutex;

use super::{client, open, RedisFailure};

/// One command: its name and arguments, as bytes.
pub type Command = Vec<Vec<u8>>;

pub struct RedisCommands {
    client: redis::Client,
    name: String,
    /// The connection in use, if one is open and has its scripts, and whether it still is.
    connection: Mutex<Option<(MultiplexedConnection, Arc<AtomicBool>)>>,
    /// Held while a connection is being opened, so that callers share one.
    opening: AsyncMutex<()>,
    /// Lua sources to load on every new connection.
    scripts: Mutex<Vec<Arc<str>>>,
}

impl std::fmt::Debug for RedisCommands {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisCommands")
            .field("name", &self.name)
            .finish()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl RedisCommands {
    /// Checks `url`; connects on first use, as `name` (`CLIENT SETNAME`).
    pub fn new(url: &str, name: &str) -> Result<Self, RedisFailure> {
        Ok(RedisCommands {
            client: client(url, ProtocolVersion::RESP3)?,
            name: name.to_string(),
            connection: Mutex::new(None),
            opening: AsyncMutex::new(()),
            scripts: Mutex::new(Vec::new()),
        })
    }

    /// Registers `source` to be loaded on every connection; returns its SHA1
    /// (for `EVALSHA`), as the server computes it.
    pub async fn load_script(&self, source: &str) -> Result<String, RedisFailure> {
        // Registered first: a connection opened from now on loads it too.
        lock(&self.scripts).push(source.into());
        let mut conn = self.connection().await?;
        script_load(&mut conn, source).await.inspect_err(|e| {
            if e.unreachable {
                lock(&self.connection).take();
            }
        })
    }

    /// Sends `commands` in one pipeline: one reply per command, a server error
    /// in its place as [`Value::ServerError`] (the others still ran). Fails
    /// whole only when the connection does.
    pub async fn pipeline(&self, commands: &[Command]) -> Result<Vec<Value>, RedisFailure> {
        if commands.is_empty() {
            return Ok(Vec::new());
        }
        let mut pipe = redis::pipe();
        pipe.ignore_errors();
        for command in commands {
            let mut parts = command.iter();
            let Some(name) = parts.next() else {
                return Err(RedisFailure {
                    unreachable: false,
                    message: "an empty Redis command".into(),
                });
            };
            let cmd = pipe.cmd(std::str::from_utf8(name).map_err(|_| RedisFailure {
                unreachable: false,
                message: "a Redis command name must be text".into(),
            })?);
            for part in parts {
                cmd.arg(part.as_slice());
            }
        }
        let mut conn = self.connection().await?;
        let replies: Vec<Value> = match pipe.query_async(&mut conn).await {
            Ok(replies) => replies,
            Err(e) => {
                let failure = RedisFailure::from_redis(&e);
                if failure.unreachable {
                    lock(&self.connection).take();
                }
                return Err(failure);
            }
        };
        if replies.iter().any(is_noscript) {
            // Flushed under a live connection: load them before the next pipeline.
            lock(&self.connection).take();
        }
        Ok(replies)
    }

    /// Drops the connection (a later call opens a new one).
    pub fn close(&self) {
        lock(&self.connection).take();
    }

    /// The open connection, or a new one with every script loaded.
    async fn connection(&self) -> Result<MultiplexedConnection, RedisFailure> {
        if let Some(conn) = self.open_connection() {
            return Ok(conn);
        }
        let _opening = self.opening.lock().await;
        if let Some(conn) = self.open_connection() {
            return Ok(conn); // opened by the caller we waited for
        }
        let alive = Arc::new(AtomicBool::new(true));
        let flag = alive.clone();
        let config = AsyncConnectionConfig::new().set_push_sender(move |info: PushInfo| {
            if info.kind == PushKind::Disconnection {
                flag.store(false, Ordering::Relaxed);
            }
            Ok::<(), std::convert::Infallible>(())
        });
        let mut conn = open(&self.client, &self.name, config).await?;
        let scripts: Vec<Arc<str>> = lock(&self.scripts).clone();
        for source in scripts {
            script_load(&mut conn, &source).await?;
        }
        *lock(&self.connection) = Some((conn.clone(), alive));
        Ok(conn)
    }

    /// The connection in use, unless the server has closed it.
    fn open_connection(&self) -> Option<MultiplexedConnection> {
        let mut slot = lock(&self.connection);
        match &*slot {
            Some((conn, alive)) if alive.load(Ordering::Relaxed) => Some(conn.clone()),
            _ => {
                slot.take();
                None
            }
        }
    }
}

async fn script_load(
    conn: &mut MultiplexedConnection,
    source: &str,
) -> Result<String, RedisFailure> {
    redis::cmd("SCRIPT")
        .arg("LOAD")
        .arg(source)
        .query_async(conn)
        .await
        .map_err(|e| RedisFailure::from_redis(&e))
}

fn is_noscript(reply: &Value) -> bool {
    matches!(reply, Value::ServerError(e) if e.code() == "NOSCRIPT")
}
