//! permessage-deflate (RFC 7692), which tungstenite does not implement.
//!
//! - [`negotiate`] picks the first acceptable offer of the client's
//!   `Sec-WebSocket-Extensions` and words the answer. The server always
//!   answers `server_no_context_takeover`: every outgoing message is
//!   compressed on its own, so one compressor per tokio thread serves every
//!   connection and a connection holds no compressor state.
//! - [`InflatingStream`] sits between the socket and tungstenite: it parses
//!   the incoming frames, inflates compressed messages (the client may keep its
//!   context, so the inflater is per connection) and hands tungstenite plain
//!   frames. A message that inflates past `max_message_size` reaches tungstenite
//!   as an oversized frame header, so it closes with 1009 as for a plain one,
//!   without inflating further.
//! - [`compress`] turns an outgoing message into a compressed frame (or
//!   leaves it alone when it is small or does not shrink).

mod compress;
mod inflating_stream;
mod negotiate;

pub use compress::compress;
pub use inflating_stream::InflatingStream;
pub use negotiate::{negotiate, DeflateOffer};
