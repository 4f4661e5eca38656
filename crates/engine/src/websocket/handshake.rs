//! Recognising an opening handshake and computing its answer.

use http::header::{CONNECTION, UPGRADE};
use http::{HeaderMap, Method};

/// Why an upgrade request cannot be accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HandshakeError {
    /// Not 13: answered 426 with `Sec-WebSocket-Version: 13`.
    UnsupportedVersion,
    /// No (or a malformed) `Sec-WebSocket-Key`: answered 400.
    BadKey,
}

fn has_token(headers: &HeaderMap, name: http::header::HeaderName, token: &str) -> bool {
    headers.get_all(name).iter().any(|v| {
        v.to_str()
            .map(|s| s.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
            .unwrap_or(false)
    })
}

/// `None` for a request that is not a WebSocket upgrade; otherwise the key and
/// the offered subprotocols, or why the handshake is invalid.
pub fn upgrade_of(
    method: &Method,
    headers: &HeaderMap,
) -> Option<Result<(String, Vec<String>), HandshakeError>> {
    if method != Method::GET
        || !has_token(headers, UPGRADE, "websocket")
        || !has_token(headers, CONNECTION, "upgrade")
    {
        return None;
    }
    if headers.get("sec-websocket-version").map(|v| v.as_bytes()) != Some(b"13") {
        return Some(Err(HandshakeError::UnsupportedVersion));
    }
    let key = match headers
        .get("sec-websocket-key")
        .and_then(|v| v.to_str().ok())
    {
        // 16 random bytes in base64.
        Some(k) if k.trim().len() == 24 => k.trim().to_string(),
        _ => return Some(Err(HandshakeError::BadKey)),
    };
    let protocols = headers
        .get_all("sec-websocket-protocol")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|s| s.split(','))
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    Some(Ok((key, protocols)))
}

/// The `Sec-WebSocket-Accept` value for a key.
pub fn accept_key(key: &str) -> String {
    tokio_tungstenite::tungstenite::handshake::derive_accept_key(key.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rfc_example_key() {
        assert_eq!(
            accept_key("dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
    }

    #[test]
    fn a_plain_get_is_not_an_upgrade() {
        assert!(upgrade_of(&Method::GET, &HeaderMap::new()).is_none());
    }

    #[test]
    fn offered_subprotocols_are_split() {
        let mut h = HeaderMap::new();
        h.insert("upgrade", "WebSocket".parse().unwrap());
        h.insert("connection", "keep-alive, Upgrade".parse().unwrap());
        h.insert("sec-websocket-version", "13".parse().unwrap());
        h.insert(
            "sec-websocket-key",
            "dGhlIHNhbXBsZSBub25jZQ==".parse().unwrap(),
        );
        h.insert("sec-websocket-protocol", "chat, superchat".parse().unwrap());
        let (_, protocols) = upgrade_of(&Method::GET, &h).unwrap().unwrap();
        assert_eq!(protocols, vec!["chat", "superchat"]);
        h.insert("sec-websocket-version", "8".parse().unwrap());
        assert_eq!(
            upgrade_of(&Method::GET, &h).unwrap(),
            Err(HandshakeError::UnsupportedVersion)
        );
    }
}
