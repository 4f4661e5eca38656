//! Reading the client's permessage-deflate offers and answering one.

/// An accepted permessage-deflate offer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeflateOffer {
    /// The client promised not to reuse its context between messages.
    pub client_no_context_takeover: bool,
}

impl DeflateOffer {
    /// The `Sec-WebSocket-Extensions` value of the 101 answer.
    pub fn response(&self) -> &'static str {
        "permessage-deflate; server_no_context_takeover"
    }
}

/// The first permessage-deflate offer in `headers` (the values of every
/// `Sec-WebSocket-Extensions` header, in order) that this server can accept.
///
/// An offer is declined when it has an unknown or repeated parameter or an
/// invalid value (RFC 7692 §5), or asks for `server_max_window_bits` below 15:
/// the compressor always uses a 32 KiB window. `client_max_window_bits` in any
/// form is fine, since a 32 KiB inflater reads every smaller window.
pub fn negotiate<'a>(headers: impl IntoIterator<Item = &'a str>) -> Option<DeflateOffer> {
    headers
        .into_iter()
        .flat_map(|value| value.split(','))
        .filter_map(|extension| {
            let mut parts = extension.split(';').map(str::trim);
            (parts.next()? == "permessage-deflate").then(|| accept(parts))?
        })
        .next()
}

fn accept<'a>(params: impl Iterator<Item = &'a str>) -> Option<DeflateOffer> {
    let mut seen: Vec<&str> = Vec::new();
    let mut offer = DeflateOffer {
        client_no_context_takeover: false,
    };
    for param in params.filter(|p| !p.is_empty()) {
        let (name, value) = match param.split_once('=') {
            Some((n, v)) => (n.trim(), Some(v.trim().trim_matches('"'))),
            None => (param, None),
        };
        if seen.contains(&name) {
            return None;
        }
        seen.push(name);
        match (name, value) {
            ("server_no_context_takeover", None) => {}
            ("client_no_context_takeover", None) => offer.client_no_context_takeover = true,
            ("server_max_window_bits", Some(bits)) if window_bits(bits)? == 15 => {}
            ("client_max_window_bits", None) => {}
            ("client_max_window_bits", Some(bits)) => {
                window_bits(bits)?;
            }
            _ => return None,
        }
    }
    Some(offer)
}

fn window_bits(value: &str) -> Option<u8> {
    let bits: u8 = value.parse().ok()?;
    (8..=15).contains(&bits).then_some(bits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plain_offer_is_accepted() {
        assert_eq!(
            negotiate(["permessage-deflate"]),
            Some(DeflateOffer {
                client_no_context_takeover: false
            })
        );
    }

    #[test]
    fn browser_and_python_offers_are_accepted() {
        let offer = negotiate(["permessage-deflate; client_max_window_bits"]).unwrap();
        assert!(!offer.client_no_context_takeover);
        let offer = negotiate(["permessage-deflate; server_max_window_bits=15; client_max_window_bits=\"12\"; client_no_context_takeover"]);
        assert_eq!(
            offer,
            Some(DeflateOffer {
                client_no_context_takeover: true
            })
        );
    }

    #[test]
    fn a_smaller_server_window_or_a_bad_offer_is_declined_for_the_next_one() {
        let headers = ["permessage-deflate; server_max_window_bits=10, permessage-deflate; client_no_context_takeover"];
        assert_eq!(
            negotiate(headers),
            Some(DeflateOffer {
                client_no_context_takeover: true
            })
        );
        assert_eq!(
            negotiate(["permessage-deflate; server_max_window_bits=10"]),
            None
        );
        assert_eq!(
            negotiate(["permessage-deflate; client_max_window_bits=16"]),
            None
        );
        assert_eq!(
            negotiate([
                "permessage-deflate; server_no_context_takeover; server_no_context_takeover"
            ]),
            None
        );
        assert_eq!(negotiate(["permessage-deflate; color=blue"]), None);
    }

    #[test]
    fn other_extensions_are_skipped() {
        assert!(negotiate(["x-webkit-deflate-frame", "foo, permessage-deflate"]).is_some());
        assert!(negotiate(["x-webkit-deflate-frame"]).is_none());
        assert!(negotiate([]).is_none());
    }
}
