//! `hyperdjango._core.argon2_hash` / `argon2_verify` / `bcrypt_verify`: the
//! engine's password hashing, run with the GIL released so the event loop and
//! other threads go on while a hash is computed.

use hyperdjango_engine::passwords;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

fn value_error(e: passwords::PasswordError) -> PyErr {
    PyValueError::new_err(e.0)
}

/// The argon2id PHC string of `password`; ValueError for out-of-range parameters.
#[pyfunction]
pub fn argon2_hash(
    py: Python<'_>,
    password: Vec<u8>,
    salt: Vec<u8>,
    memory_kib: u32,
    iterations: u32,
    parallelism: u32,
) -> PyResult<String> {
    py.detach(|| passwords::argon2_hash(&password, &salt, memory_kib, iterations, parallelism))
        .map_err(value_error)
}

/// Whether `password` matches the argon2 PHC string; ValueError for a malformed one.
#[pyfunction]
pub fn argon2_verify(py: Python<'_>, password: Vec<u8>, encoded: String) -> PyResult<bool> {
    py.detach(|| passwords::argon2_verify(&password, &encoded))
        .map_err(value_error)
}

/// Whether `password` matches the bcrypt hash; ValueError for a malformed one.
#[pyfunction]
pub fn bcrypt_verify(py: Python<'_>, password: Vec<u8>, encoded: String) -> PyResult<bool> {
    py.detach(|| passwords::bcrypt_verify(&password, &encoded))
        .map_err(value_error)
}
