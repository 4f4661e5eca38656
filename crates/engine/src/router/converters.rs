//! Path converters: which strings a typed parameter accepts and what it becomes.

use std::fmt;

/// The converter named in a pattern parameter (`{id:int}`); `str` when none is named.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Converter {
    /// Any non-empty segment without `/`.
    Str,
    /// Decimal digits that fit in an `i64`.
    Int,
    /// ASCII letters, digits, `-` and `_`.
    Slug,
    /// A hyphenated UUID, any case.
    Uuid,
    /// The rest of the path, slashes included; only at the end of a pattern.
    Path,
}

/// A parameter value after conversion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParamValue {
    Str(String),
    Int(i64),
    Uuid(uuid::Uuid),
}

impl Converter {
    /// Every converter name, for error messages.
    pub const NAMES: [&'static str; 5] = ["int", "str", "slug", "uuid", "path"];

    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "str" => Converter::Str,
            "int" => Converter::Int,
            "slug" => Converter::Slug,
            "uuid" => Converter::Uuid,
            "path" => Converter::Path,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Converter::Str => "str",
            Converter::Int => "int",
            Converter::Slug => "slug",
            Converter::Uuid => "uuid",
            Converter::Path => "path",
        }
    }

    /// Converts a decoded path segment; `None` means the route does not match.
    pub fn convert(self, raw: &str) -> Option<ParamValue> {
        match self {
            Converter::Str => {
                (!raw.is_empty() && !raw.contains('/')).then(|| ParamValue::Str(raw.to_string()))
            }
            Converter::Path => Some(ParamValue::Str(raw.to_string())),
            Converter::Int => {
                if raw.is_empty() || !raw.bytes().all(|b| b.is_ascii_digit()) {
                    return None;
                }
                raw.parse().ok().map(ParamValue::Int)
            }
            Converter::Slug => (!raw.is_empty()
                && raw
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
            .then(|| ParamValue::Str(raw.to_string())),
            Converter::Uuid => {
                if raw.len() != 36 {
                    return None;
                }
                uuid::Uuid::try_parse(raw).ok().map(ParamValue::Uuid)
            }
        }
    }
}

impl fmt::Display for Converter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn int_accepts_digits_only_and_rejects_overflow() {
        assert_eq!(Converter::Int.convert("42"), Some(ParamValue::Int(42)));
        assert_eq!(Converter::Int.convert("-1"), None);
        assert_eq!(Converter::Int.convert("4x"), None);
        assert_eq!(Converter::Int.convert("99999999999999999999"), None);
    }

    #[test]
    fn slug_and_uuid() {
        assert!(Converter::Slug.convert("hello-world_2").is_some());
        assert!(Converter::Slug.convert("héllo").is_none());
        let u = "6f1c2a4e-8b7d-4c1a-9e2f-0a1b2c3d4e5f";
        assert!(matches!(
            Converter::Uuid.convert(u),
            Some(ParamValue::Uuid(_))
        ));
        assert!(Converter::Uuid
            .convert("6f1c2a4e8b7d4c1a9e2f0a1b2c3d4e5f")
            .is_none());
    }
}
