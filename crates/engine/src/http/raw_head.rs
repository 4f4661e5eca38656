//! Checks of request heads as raw bytes, for what hyper accepts or hides and a
//! proxy in front may read differently (two parsers that split a request stream
//! differently are how requests are smuggled, RFC 9112 §11.2):
//!
//! - a bare LF as a line end: httparse takes it, as RFC 9112 §2.2 allows;
//! - both Transfer-Encoding and Content-Length: hyper goes by the first and
//!   drops the second header before the service could see it (§6.3 allows
//!   either; we refuse).
//!
//! [`HeadScanner`] watches the bytes of each head on their way to hyper and
//! reports the first offence, so the connection is refused with a 400.
//!
//! Bodies are skipped by their Content-Length. After a chunked body, or an
//! `Upgrade` (WebSocket frames are not text), it stops looking: hyper has
//! already checked the framing of those, and the rest of the connection is not
//! a request head.

/// Where the scanner is in the connection's byte stream.
#[derive(Debug, PartialEq)]
enum State {
    /// Inside a request head.
    Head,
    /// Inside a body of known length: this many bytes to skip.
    Body(u64),
    /// No more heads to check on this connection.
    Off,
}

/// The line-ending check of one connection.
///
/// Each line is looked at where it was read; only a line split between two
/// reads is copied (into `line`), so the head is not copied and scanned again.
#[derive(Debug)]
pub(crate) struct HeadScanner {
    state: State,
    /// The start of a line whose end has not been read yet.
    line: Vec<u8>,
    /// Bytes of the current head so far (the partial line included).
    head_len: usize,
    /// What the header lines of the current head said so far.
    framing: Framing,
    limit: usize,
}

/// The headers of one head that decide how its body is framed.
#[derive(Debug, Default)]
struct Framing {
    /// The request line was read: the lines that follow are header lines.
    request_line: bool,
    /// Content-Length: None when absent, Some(None) when not a number.
    length: Option<Option<u64>>,
    chunked: bool,
    upgrade: bool,
}

/// Why a head is refused (the `detail` of the 400).
#[derive(Debug, PartialEq)]
pub(crate) struct Refused(pub &'static str);

const BARE_LF: Refused = Refused("a line of the request head ends in LF without CR");
const BOTH_LENGTHS: Refused =
    Refused("a request may not have both Transfer-Encoding and Content-Length");

impl HeadScanner {
    /// `limit`: the largest head hyper accepts (it answers 431 beyond; the scanner stops).
    pub(crate) fn new(limit: usize) -> Self {
        HeadScanner {
            state: State::Head,
            line: Vec::new(),
            head_len: 0,
            framing: Framing::default(),
            limit,
        }
    }

    /// Looks at the next bytes read from the client.
    pub(crate) fn scan(&mut self, mut bytes: &[u8]) -> Result<(), Refused> {
        while !bytes.is_empty() {
            match self.state {
                State::Off => return Ok(()),
                State::Body(remaining) => {
                    let skip = remaining.min(bytes.len() as u64);
                    bytes = &bytes[skip as usize..];
                    self.state = if remaining == skip {
                        State::Head
                    } else {
                        State::Body(remaining - skip)
                    };
                }
                State::Head => {
                    // A line at a time: the bytes up to the next LF, which must follow a CR.
                    let Some(at) = memchr::memchr(b'\n', bytes) else {
                        self.line.extend_from_slice(bytes);
                        self.head_len += bytes.len();
                        if self.head_len > self.limit {
                            self.state = State::Off;
                        }
                        return Ok(());
                    };
                    let before = if at > 0 {
                        Some(&bytes[at - 1])
                    } else {
                        self.line.last()
                    };
                    if before != Some(&b'\r') {
                        return Err(BARE_LF);
                    }
                    self.head_len += at + 1;
                    if self.line.is_empty() {
                        self.end_of_line(&bytes[..=at])?;
                    } else {
                        let mut line = std::mem::take(&mut self.line);
                        line.extend_from_slice(&bytes[..=at]);
                        let seen = self.end_of_line(&line);
                        line.clear();
                        line.shrink_to(1024); // a long line split between reads leaves no big buffer
                        self.line = line;
                        seen?;
                    }
                    bytes = &bytes[at + 1..];
                }
            }
        }
        Ok(())
    }

    /// One whole line of a head, CRLF included.
    fn end_of_line(&mut self, line: &[u8]) -> Result<(), Refused> {
        if line == b"\r\n" {
            if self.framing.request_line {
                self.state = std::mem::take(&mut self.framing).after_head()?;
            }
            // Else an empty line before a request line, which is allowed.
            self.head_len = 0;
        } else if self.head_len > self.limit {
            self.state = State::Off;
        } else if !self.framing.request_line {
            self.framing.request_line = true;
        } else {
            self.framing.header_line(line);
        }
        Ok(())
    }

    /// Frees the buffer of a line being read (a connection parks between requests, when
    /// it is empty): an idle connection keeps no allocation for it.
    pub(crate) fn release_memory(&mut self) {
        self.line = Vec::new();
    }

    /// Whether every byte seen so far belongs to a complete request (nothing
    /// of the next one yet), so that hyper holds no partial request either.
    pub(crate) fn between_requests(&self) -> bool {
        self.state == State::Head && self.head_len == 0
    }
}

impl Framing {
    fn header_line(&mut self, line: &[u8]) {
        let Some(colon) = memchr::memchr(b':', line) else {
            return;
        };
        let (name, value) = (line[..colon].trim_ascii(), &line[colon + 1..]);
        if name.eq_ignore_ascii_case(b"transfer-encoding") {
            self.chunked = true;
        } else if name.eq_ignore_ascii_case(b"upgrade") {
            self.upgrade = true;
        } else if name.eq_ignore_ascii_case(b"content-length") {
            // hyper refuses a malformed one, and the connection closes.
            self.length = Some(
                std::str::from_utf8(value.trim_ascii())
                    .ok()
                    .and_then(|v| v.parse::<u64>().ok()),
            );
        }
    }

    /// What follows the head just read.
    fn after_head(self) -> Result<State, Refused> {
        if self.chunked && self.length.is_some() {
            return Err(BOTH_LENGTHS);
        }
        Ok(match self.length {
            _ if self.chunked || self.upgrade => State::Off,
            Some(None) => State::Off,
            Some(Some(n)) if n > 0 => State::Body(n),
            _ => State::Head,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan_all(parts: &[&[u8]]) -> Result<(), Refused> {
        let mut scanner = HeadScanner::new(8192);
        parts.iter().try_for_each(|p| scanner.scan(p))
    }

    #[test]
    fn crlf_heads_pass_even_split_between_reads() {
        assert_eq!(
            scan_all(&[b"GET / HTTP/1.1\r", b"\nHost: x\r\n\r", b"\n"]),
            Ok(())
        );
    }

    #[test]
    fn a_bare_lf_anywhere_in_a_head_is_found() {
        assert_eq!(
            scan_all(&[b"GET / HTTP/1.1\nHost: x\r\n\r\n"]),
            Err(BARE_LF)
        );
        assert_eq!(
            scan_all(&[b"GET / HTTP/1.1\r\nHost: x\n\r\n"]),
            Err(BARE_LF)
        );
        assert_eq!(
            scan_all(&[b"GET / HTTP/1.1\r\nHost: x\r\n\n"]),
            Err(BARE_LF)
        );
        assert_eq!(
            scan_all(&[b"GET / HTTP/1.1", b"\nHost: x\r\n\r\n"]),
            Err(BARE_LF)
        );
    }

    #[test]
    fn a_body_of_known_length_is_skipped_and_the_next_head_checked() {
        let body = b"POST / HTTP/1.1\r\nContent-Length: 3\r\n\r\na\nb";
        assert_eq!(scan_all(&[body, b"GET / HTTP/1.1\r\n\r\n"]), Ok(()));
        assert_eq!(scan_all(&[body, b"GET / HTTP/1.1\n\n"]), Err(BARE_LF));
    }

    #[test]
    fn both_transfer_encoding_and_content_length_are_refused_in_either_order() {
        assert_eq!(
            scan_all(&[
                b"POST / HTTP/1.1\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n"
            ]),
            Err(BOTH_LENGTHS)
        );
        assert_eq!(
            scan_all(&[
                b"POST / HTTP/1.1\r\ntransfer-encoding: chunked\r\ncontent-length: 4\r\n\r\n"
            ]),
            Err(BOTH_LENGTHS)
        );
    }

    #[test]
    fn a_head_split_anywhere_between_reads_is_read_as_in_one() {
        let head: &[u8] =
            b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nabGET / HTTP/1.1\r\n\r\n";
        for at in 0..head.len() {
            let mut scanner = HeadScanner::new(8192);
            assert_eq!(scanner.scan(&head[..at]), Ok(()));
            assert_eq!(scanner.scan(&head[at..]), Ok(()));
            assert!(scanner.between_requests(), "split at {at}");
        }
        let both: &[u8] =
            b"POST / HTTP/1.1\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n";
        for at in 0..both.len() {
            let mut scanner = HeadScanner::new(8192);
            let first = scanner.scan(&both[..at]);
            assert_eq!(
                first.and_then(|()| scanner.scan(&both[at..])),
                Err(BOTH_LENGTHS)
            );
        }
    }

    #[test]
    fn a_head_over_the_limit_is_left_to_hyper() {
        let mut scanner = HeadScanner::new(16);
        assert_eq!(
            scanner.scan(b"GET / HTTP/1.1\r\nX-Long: 0123456789\r\n"),
            Ok(())
        );
        assert_eq!(scanner.state, State::Off);
        let mut scanner = HeadScanner::new(16);
        assert_eq!(scanner.scan(b"GET / HTTP/1.1\r\nX-Long: 0123"), Ok(()));
        assert_eq!(scanner.state, State::Off);
    }

    #[test]
    fn empty_lines_before_a_request_line_are_allowed() {
        assert_eq!(scan_all(&[b"\r\n\r\nGET / HTTP/1.1\r\n\r\n"]), Ok(()));
    }

    #[test]
    fn nothing_is_checked_after_an_upgrade_or_a_chunked_body() {
        assert_eq!(
            scan_all(&[b"GET / HTTP/1.1\r\nUpgrade: websocket\r\n\r\n\n\n"]),
            Ok(())
        );
        assert_eq!(
            scan_all(&[b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\r\n\n\r\n"]),
            Ok(())
        );
    }
}
