//! Files from disk as HTTP answers: a safe lookup below root folders, ETag and
//! Last-Modified validators answered 304, single byte ranges answered 206 (416 when
//! unsatisfiable), and precompressed `.br`/`.gz` siblings chosen by Accept-Encoding.
//! The body is then sent by the server from the file (`ReplyBody::File`).

use std::fs::Metadata;
use std::io;
use std::path::{Component, Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

/// The file at `relative` below the first of `roots` that has it, or None.
///
/// `relative` is a decoded URL path. A `..`, a root or drive, a backslash or a NUL
/// byte make it no file at all, and a file whose real path (symlinks resolved)
/// lies outside its root is not served.
pub fn find(roots: &[PathBuf], relative: &str) -> Option<PathBuf> {
    if relative.contains(['\\', '\0']) {
        return None;
    }
    let mut clean = PathBuf::new();
    for component in Path::new(relative).components() {
        match component {
            Component::Normal(part) => clean.push(part),
            Component::CurDir => {}
            Component::ParentDir | Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    if clean.as_os_str().is_empty() {
        return None;
    }
    roots
        .iter()
        .find_map(|root| inside(root, &root.join(&clean)))
}

/// `path` with its symlinks resolved, if it is a regular file below `root`'s real path.
fn inside(root: &Path, path: &Path) -> Option<PathBuf> {
    let root = root.canonicalize().ok()?;
    let real = path.canonicalize().ok()?;
    (real.starts_with(&root) && real.is_file()).then_some(real)
}

/// The request headers a file answer depends on.
#[derive(Debug, Default)]
pub struct FileRequest<'a> {
    /// HEAD or GET answer 304 for a matching validator; other methods never do.
    pub method: &'a str,
    pub if_none_match: Option<&'a str>,
    pub if_modified_since: Option<&'a str>,
    pub if_range: Option<&'a str>,
    pub range: Option<&'a str>,
    pub accept_encoding: Option<&'a str>,
    /// Look for `<file>.br` / `<file>.gz` next to the file.
    pub precompressed: bool,
}

/// What to send: a status, headers, and (unless 304/416) which bytes of which file.
#[derive(Debug, PartialEq)]
pub struct FileAnswer {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    /// The file to send from, the offset and the length; None for a bodiless answer.
    pub body: Option<(PathBuf, u64, u64)>,
}

fn etag_of(meta: &Metadata, variant: &str) -> String {
    let modified = meta
        .modified()
        .ok()
        .and_then(|m| m.duration_since(UNIX_EPOCH).ok())
        .unwrap_or_default();
    format!("\"{:x}-{:x}{variant}\"", modified.as_nanos(), meta.len())
}

/// Whether `token` is accepted (a q of 0 refuses it) by an Accept-Encoding value.
fn accepts(accept_encoding: &str, token: &str) -> bool {
    accept_encoding.split(',').any(|item| {
        let mut parts = item.split(';').map(str::trim);
        let name = parts.next().unwrap_or_default();
        let refused = parts.any(|p| {
            p.strip_prefix("q=")
                .is_some_and(|q| q.trim().parse::<f32>().is_ok_and(|q| q <= 0.0))
        });
        name.eq_ignore_ascii_case(token) && !refused
    })
}

/// Whether an If-None-Match value matches `etag` (weak comparison, as for GET).
fn matches(if_none_match: &str, etag: &str) -> bool {
    if_none_match
        .split(',')
        .map(str::trim)
        .any(|tag| tag == "*" || tag.trim_start_matches("W/") == etag)
}

/// The one range of a `Range: bytes=...` value within `len`: Ok(None) when there is
/// no range to honour (absent, several, or not bytes), Err(()) when unsatisfiable.
fn byte_range(range: &str, len: u64) -> Result<Option<(u64, u64)>, ()> {
    let Some(spec) = range.trim().strip_prefix("bytes=") else {
        return Ok(None);
    };
    if spec.contains(',') {
        return Ok(None); // several ranges: the whole file is a valid answer
    }
    let Some((start, end)) = spec.trim().split_once('-') else {
        return Ok(None);
    };
    let (start, end) = (start.trim(), end.trim());
    let parse = |s: &str| s.parse::<u64>().map_err(|_| ());
    let (first, last) = if start.is_empty() {
        let suffix = parse(end)?;
        if suffix == 0 || len == 0 {
            return Err(());
        }
        (len.saturating_sub(suffix), len - 1)
    } else {
        let first = parse(start)?;
        let last = if end.is_empty() {
            len.saturating_sub(1)
        } else {
            parse(end)?.min(len.saturating_sub(1))
        };
        if first >= len || last < first {
            return Err(());
        }
        (first, last)
    };
    Ok(Some((first, last - first + 1)))
}

/// The answer for the file at `path` (found with [`find`] or trusted by the caller).
pub fn answer(path: &Path, request: &FileRequest<'_>) -> io::Result<FileAnswer> {
    let meta = std::fs::metadata(path)?;
    if !meta.is_file() {
        return Err(io::Error::new(io::ErrorKind::NotFound, "not a file"));
    }
    let mut headers = Vec::with_capacity(6);
    let mut file = path.to_path_buf();
    let mut chosen = meta;
    let mut variant = "";
    if request.precompressed {
        headers.push(("vary", "Accept-Encoding".to_owned()));
        // A range refers to the identity bytes; compressed siblings only for whole files.
        if let (Some(accept), None) = (request.accept_encoding, request.range) {
            for (token, suffix) in [("br", "br"), ("gzip", "gz")] {
                if !accepts(accept, token) {
                    continue;
                }
                let mut name = path.as_os_str().to_owned();
                name.push(".");
                name.push(suffix);
                let sibling = PathBuf::from(name);
                if let Ok(meta) = std::fs::metadata(&sibling) {
                    if meta.is_file() {
                        headers.push(("content-encoding", token.to_owned()));
                        file = sibling;
                        chosen = meta;
                        variant = if token == "br" { "-br" } else { "-gz" };
                        break;
                    }
                }
            }
        }
    }
    let etag = etag_of(&chosen, variant);
    let modified = chosen.modified().unwrap_or(UNIX_EPOCH);
    headers.push(("etag", etag.clone()));
    headers.push(("last-modified", httpdate::fmt_http_date(modified)));
    headers.push(("accept-ranges", "bytes".to_owned()));
    let len = chosen.len();
    if matches!(request.method, "GET" | "HEAD") {
        let not_modified = match (request.if_none_match, request.if_modified_since) {
            (Some(tags), _) => matches(tags, &etag),
            (None, Some(since)) => httpdate::parse_http_date(since).is_ok_and(|since| {
                // HTTP dates have whole seconds.
                let seconds = |t: SystemTime| {
                    t.duration_since(UNIX_EPOCH)
                        .map(|d| d.as_secs())
                        .unwrap_or(0)
                };
                seconds(modified) <= seconds(since)
            }),
            (None, None) => false,
        };
        if not_modified {
            return Ok(FileAnswer {
                status: 304,
                headers,
                body: None,
            });
        }
    }
    let range_applies = match (request.range, request.if_range) {
        (Some(_), Some(if_range)) => if_range.trim() == etag,
        (Some(_), None) => true,
        _ => false,
    };
    if range_applies && request.method == "GET" {
        match byte_range(request.range.unwrap_or_default(), len) {
            Ok(Some((offset, length))) => {
                headers.push((
                    "content-range",
                    format!("bytes {}-{}/{len}", offset, offset + length - 1),
                ));
                return Ok(FileAnswer {
                    status: 206,
                    headers,
                    body: Some((file, offset, length)),
                });
            }
            Ok(None) => {}
            Err(()) => {
                headers.push(("content-range", format!("bytes */{len}")));
                return Ok(FileAnswer {
                    status: 416,
                    headers,
                    body: None,
                });
            }
        }
    }
    Ok(FileAnswer {
        status: 200,
        headers,
        body: Some((file, 0, len)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert_eq!(byte_range("bytes=0-9", 100), Ok(Some((0, 10))));
        assert_eq!(byte_range("bytes=90-", 100), Ok(Some((90, 10))));
        assert_eq!(byte_range("bytes=-5", 100), Ok(Some((95, 5))));
        assert_eq!(byte_range("bytes=50-999", 100), Ok(Some((50, 50))));
        assert_eq!(byte_range("bytes=100-", 100), Err(()));
        assert_eq!(byte_range("bytes=9-3", 100), Err(()));
        assert_eq!(byte_range("bytes=-0", 100), Err(()));
        assert_eq!(byte_range("bytes=18446744073709551615-", 100), Err(()));
        assert_eq!(byte_range("bytes=99999999999999999999-", 100), Err(()));
        assert_eq!(byte_range("bytes=0-1,5-6", 100), Ok(None));
        assert_eq!(byte_range("items=0-1", 100), Ok(None));
    }

    #[test]
    fn accept_encoding_with_q() {
        assert!(accepts("gzip, br", "br"));
        assert!(!accepts("gzip, br;q=0", "br"));
        assert!(accepts("gzip;q=0.5", "gzip"));
        assert!(!accepts("identity", "gzip"));
    }

    #[test]
    fn climbing_paths_are_not_found() {
        let root = std::env::temp_dir().join(format!("hd-files-{}", std::process::id()));
        std::fs::create_dir_all(root.join("css")).unwrap();
        std::fs::write(root.join("css/app.css"), "x").unwrap();
        let roots = [root.clone()];
        assert!(find(&roots, "css/app.css").is_some());
        for hostile in [
            "../etc/passwd",
            "css/../../etc/passwd",
            "/etc/passwd",
            "css\\..\\x",
            "a\0b",
            "",
            "css",
        ] {
            assert_eq!(find(&roots, hostile), None, "{hostile:?}");
        }
        std::fs::remove_dir_all(root).unwrap();
    }
}
