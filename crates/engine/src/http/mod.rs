//! The HTTP/1.1 server: listener, connections, limits and graceful shutdown.

mod body;
mod config;
mod connection;
mod exchange;
pub mod files;
mod hosts;
mod memory_release;
mod raw_head;
mod server;
mod service;
mod stats;
mod woken;

pub use body::{BodyError, RequestBody};
pub use config::ServerConfig;
pub use exchange::{Handler, HttpRequest, Reply, ReplyBody};
pub use hosts::host_allowed;
pub use server::Server;
pub(crate) use service::PermitSlot;
pub use service::ResponseBody;
pub use stats::ServerStats;
