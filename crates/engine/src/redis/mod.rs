//! Redis for the channel layer: a pub/sub [`RedisSubscriber`] and a pipelined
//! command connection, [`RedisCommands`].
//!
//! Both ride on the `redis` crate's tokio `MultiplexedConnection` (its RESP
//! parser, handshake, AUTH/SELECT from the URL); what is here is what the crate
//! leaves to its user: the connection's name (`CLIENT SETNAME`, so that
//! `CLIENT LIST` tells whose connection it is), reconnecting with the gap
//! reported, bounded delivery, and Lua scripts loaded on every new connection.
//! URLs: `redis://[user:password@]host[:port][/db]`, `rediss://` (TLS through
//! rustls, the server's certificate checked against the system's roots or
//! `$SSL_CERT_FILE`) and `unix://` paths.

mod commands;
mod subscriber;

pub use ::redis::Value as RedisValue;
pub use commands::RedisCommands;
pub use subscriber::{RedisSubscriber, SubscriberEvent, SubscriberStats};

use std::time::Duration;

/// How long opening a connection (TCP, handshake, `CLIENT SETNAME`) may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a reply may take before its command fails. The crate's default
/// (500 ms) fails pipelines on a merely busy machine.
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(10);

/// Why a Redis operation failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedisFailure {
    /// The server could not be reached (or the connection broke): retry later.
    pub unreachable: bool,
    pub message: String,
}

impl RedisFailure {
    fn unreachable(message: impl Into<String>) -> Self {
        RedisFailure {
            unreachable: true,
            message: message.into(),
        }
    }

    fn from_redis(err: &redis::RedisError) -> Self {
        RedisFailure {
            unreachable: err.is_io_error()
                || err.is_connection_dropped()
                || err.is_connection_refusal()
                || err.is_timeout()
                || err.is_unrecoverable_error(),
            message: err.to_string(),
        }
    }
}

impl std::fmt::Display for RedisFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for RedisFailure {}

/// Parses `url` into the crate's client; an invalid URL is not "unreachable".
fn client(url: &str, protocol: redis::ProtocolVersion) -> Result<redis::Client, RedisFailure> {
    // rustls is built without a default cryptography provider; the crate asks for the
    // process default when it opens a TLS connection. Installing fails only when one is
    // already installed, which serves as well. ring is deprecated by rustls for lacking
    // post-quantum key exchange; aws-lc-rs, which has it, is a long C build (see Cargo.toml).
    #[allow(deprecated)]
    let _ = rustls::crypto::ring::default_provider().install_default();
    let info = redis::IntoConnectionInfo::into_connection_info(url).map_err(|e| RedisFailure {
        unreachable: false,
        message: format!("invalid Redis URL: {e}"),
    })?;
    let settings = info.redis_settings().clone().set_protocol(protocol);
    redis::Client::open(info.set_redis_settings(settings)).map_err(|e| RedisFailure {
        unreachable: false,
        message: format!("invalid Redis URL: {e}"),
    })
}

/// Opens a connection named `name`, with our timeouts and an optional push sender.
async fn open(
    client: &redis::Client,
    name: &str,
    config: redis::AsyncConnectionConfig,
) -> Result<redis::aio::MultiplexedConnection, RedisFailure> {
    let config = config
        .set_connection_timeout(Some(CONNECT_TIMEOUT))
        .set_response_timeout(Some(RESPONSE_TIMEOUT));
    let opening = async {
        let mut conn = client
            .get_multiplexed_async_connection_with_config(&config)
            .await?;
        redis::cmd("CLIENT")
            .arg("SETNAME")
            .arg(name)
            .exec_async(&mut conn)
            .await?;
        Ok::<_, redis::RedisError>(conn)
    };
    match tokio::time::timeout(CONNECT_TIMEOUT, opening).await {
        Ok(Ok(conn)) => Ok(conn),
        Ok(Err(e)) => Err(RedisFailure::from_redis(&e)),
        Err(_) => Err(RedisFailure::unreachable(format!(
            "timed out connecting to Redis after {CONNECT_TIMEOUT:?}"
        ))),
    }
}
