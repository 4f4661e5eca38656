//! `_core.find_file` and `_core.file_answer`: static files looked up and answered in
//! Rust (crates/engine/src/http/files.rs); the server then sends the bytes itself.

use std::path::PathBuf;

use hyperdjango_engine::http::files::{self, FileRequest};
use pyo3::exceptions::{PyFileNotFoundError, PyOSError};
use pyo3::prelude::*;

/// The real path of `relative` below the first of `roots` holding it; None for a
/// missing file or one that would leave its root (`..`, symlinks out, NUL, `\`).
#[pyfunction]
pub(crate) fn find_file(py: Python<'_>, roots: Vec<PathBuf>, relative: &str) -> Option<PathBuf> {
    py.detach(|| files::find(&roots, relative))
}

type Answer = (
    u16,
    Vec<(&'static str, String)>,
    Option<(PathBuf, u64, u64)>,
);

/// `(status, headers, (path, offset, length) or None)` for sending the file at `path`:
/// 304 for a matching If-None-Match/If-Modified-Since, 206 for one byte range, 416 for an
/// unsatisfiable one, else 200; with `precompressed`, a `.br`/`.gz` sibling when accepted.
#[pyfunction]
#[pyo3(signature = (path, method, if_none_match=None, if_modified_since=None, if_range=None, range=None, accept_encoding=None, precompressed=false))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn file_answer(
    py: Python<'_>,
    path: PathBuf,
    method: &str,
    if_none_match: Option<&str>,
    if_modified_since: Option<&str>,
    if_range: Option<&str>,
    range: Option<&str>,
    accept_encoding: Option<&str>,
    precompressed: bool,
) -> PyResult<Answer> {
    let request = FileRequest {
        method,
        if_none_match,
        if_modified_since,
        if_range,
        range,
        accept_encoding,
        precompressed,
    };
    match py.detach(|| files::answer(&path, &request)) {
        Ok(answer) => Ok((answer.status, answer.headers, answer.body)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            Err(PyFileNotFoundError::new_err(path.display().to_string()))
        }
        Err(e) => Err(PyOSError::new_err(format!("{}: {e}", path.display()))),
    }
}
