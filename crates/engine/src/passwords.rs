//! Password hashing: argon2id to hash, argon2 (any variant) and bcrypt to verify.
//!
//! Hashes are PHC strings (`$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`), the
//! format Django stores after its `argon2` prefix, so hashes move between the two
//! unchanged. Each call costs tens of milliseconds and `m` KiB of memory: callers
//! bound how many run at once and keep them off any event loop.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

/// What went wrong: a malformed stored hash or out-of-range parameters.
#[derive(Debug, PartialEq, Eq)]
pub struct PasswordError(pub String);

impl std::fmt::Display for PasswordError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for PasswordError {}

fn error(e: impl std::fmt::Display) -> PasswordError {
    PasswordError(e.to_string())
}

/// The argon2id PHC string of `password` with `salt` (at least 8 bytes),
/// `memory_kib` of memory, `iterations` passes and `parallelism` lanes.
pub fn argon2_hash(
    password: &[u8],
    salt: &[u8],
    memory_kib: u32,
    iterations: u32,
    parallelism: u32,
) -> Result<String, PasswordError> {
    let params = Params::new(memory_kib, iterations, parallelism, None).map_err(error)?;
    let salt = SaltString::encode_b64(salt).map_err(error)?;
    let hasher = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
    Ok(hasher
        .hash_password(password, &salt)
        .map_err(error)?
        .to_string())
}

/// Whether `password` matches the argon2 PHC string `encoded` (argon2i, argon2d
/// or argon2id, with the parameters the string carries). The comparison of the
/// digests is constant-time.
pub fn argon2_verify(password: &[u8], encoded: &str) -> Result<bool, PasswordError> {
    let parsed = PasswordHash::new(encoded).map_err(error)?;
    match Argon2::default().verify_password(password, &parsed) {
        Ok(()) => Ok(true),
        Err(argon2::password_hash::Error::Password) => Ok(false),
        Err(e) => Err(error(e)),
    }
}

/// Whether `password` matches the bcrypt hash `encoded` (`$2b$12$...`).
pub fn bcrypt_verify(password: &[u8], encoded: &str) -> Result<bool, PasswordError> {
    bcrypt::verify(password, encoded).map_err(error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argon2id_hash_verifies_its_password_only() {
        let encoded = argon2_hash(b"s3cret", b"saltsaltsalt", 1024, 1, 1).unwrap();
        assert!(encoded.starts_with("$argon2id$v=19$m=1024,t=1,p=1$"));
        assert!(argon2_verify(b"s3cret", &encoded).unwrap());
        assert!(!argon2_verify(b"s3cret!", &encoded).unwrap());
    }

    #[test]
    fn a_malformed_hash_is_an_error_not_a_panic() {
        assert!(argon2_verify(b"x", "not a hash").is_err());
        assert!(!matches!(
            argon2_verify(b"x", "$argon2id$v=19$m=oops"),
            Ok(true)
        ));
        assert!(bcrypt_verify(b"x", "$2b$nope").is_err());
    }

    #[test]
    fn out_of_range_parameters_are_an_error() {
        assert!(argon2_hash(b"x", b"saltsaltsalt", 1, 1, 1).is_err());
        assert!(argon2_hash(b"x", b"short", 1024, 1, 1).is_err());
    }

    #[test]
    fn bcrypt_verifies_a_known_hash() {
        let encoded = bcrypt::hash_with_salt(b"pw", 4, *b"0123456789abcdef")
            .unwrap()
            .format_for_version(bcrypt::Version::TwoB);
        assert!(bcrypt_verify(b"pw", &encoded).unwrap());
        assert!(!bcrypt_verify(b"pw2", &encoded).unwrap());
    }
}
