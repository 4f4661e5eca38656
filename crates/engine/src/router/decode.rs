//! From the path a client sent to the path the router matches.

/// Why a request path cannot be routed; the server answers 400 with [`PathError::detail`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathError {
    /// `%00`: no file, route or database text may hold U+0000 (PostgreSQL refuses
    /// it, C strings end at it), so it is refused here rather than a 500 deeper down.
    Nul,
    /// The percent-decoded bytes are not UTF-8.
    NotUtf8,
}

impl PathError {
    pub fn detail(self) -> &'static str {
        match self {
            PathError::Nul => "the path contains a NUL character (%00)",
            PathError::NotUtf8 => "the path is not valid UTF-8",
        }
    }
}

/// Percent-decodes a request path (`/a%20b` → `/a b`).
pub fn decode_path(raw: &str) -> Result<String, PathError> {
    // Most paths have no escape and no NUL: they are their own decoding.
    if memchr::memchr2(b'%', b'\0', raw.as_bytes()).is_none() {
        return Ok(raw.to_owned());
    }
    match percent_encoding::percent_decode_str(raw).decode_utf8() {
        Ok(p) if p.contains('\0') => Err(PathError::Nul),
        Ok(p) => Ok(p.into_owned()),
        Err(_) => Err(PathError::NotUtf8),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_escapes_and_refuses_nul_and_bad_utf8() {
        assert_eq!(decode_path("/a%20b/%C3%A9"), Ok("/a b/é".to_string()));
        assert_eq!(decode_path("/a%00b"), Err(PathError::Nul));
        assert_eq!(decode_path("/%FF"), Err(PathError::NotUtf8));
        // A lone `%` is not an escape and stays as it is.
        assert_eq!(decode_path("/100%"), Ok("/100%".to_string()));
    }
}
