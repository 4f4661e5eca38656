//! Route patterns: `/api/products/{id:int}` parsed into segments, turned into
//! matchit's syntax for matching and filled back in for `url_for`.

use std::fmt;

use percent_encoding::{utf8_percent_encode, AsciiSet, CONTROLS};

use super::converters::Converter;
use super::RouterError;

/// Characters escaped when a `{rest:path}` value is put back into a URL path
/// (its slashes stay).
const PATH: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'`')
    .add(b'{')
    .add(b'}');
/// Any other parameter value: a single segment, so `/` is escaped too.
const SEGMENT: &AsciiSet = &PATH.add(b'/');

#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Literal(String),
    Param { name: String, converter: Converter },
}

/// A parsed route pattern.
/// matchit renames a route's parameters `a` to `z` internally and panics past `z`
/// (found by the router fuzz target); a `{name:path}` tail is not renamed.
pub const MAX_PARAMS: usize = 25;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    source: String,
    pieces: Vec<Piece>,
}

impl Pattern {
    /// Parses `pattern`, which must start with `/`.
    pub fn parse(pattern: &str) -> Result<Self, RouterError> {
        let invalid = |why: &str| RouterError::InvalidPattern {
            pattern: pattern.to_string(),
            reason: why.to_string(),
        };
        if !pattern.starts_with('/') {
            return Err(invalid("a route pattern must start with '/'"));
        }
        let mut pieces = Vec::new();
        let mut rest = pattern;
        while let Some(open) = rest.find('{') {
            if open > 0 {
                pieces.push(Piece::Literal(rest[..open].to_string()));
            }
            let close = rest[open..]
                .find('}')
                .map(|c| c + open)
                .ok_or_else(|| invalid("unclosed '{'"))?;
            let inner = &rest[open + 1..close];
            let (name, conv) = match inner.split_once(':') {
                Some((n, c)) => (n, c),
                None => (inner, "str"),
            };
            if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Err(invalid(&format!("invalid parameter name {name:?}")));
            }
            let converter = Converter::from_name(conv).ok_or_else(|| {
                invalid(&format!(
                    "unknown converter {conv:?} (known: {})",
                    Converter::NAMES.join(", ")
                ))
            })?;
            if pieces
                .iter()
                .any(|p| matches!(p, Piece::Param { name: n, .. } if n == name))
            {
                return Err(invalid(&format!("parameter {name:?} appears twice")));
            }
            pieces.push(Piece::Param {
                name: name.to_string(),
                converter,
            });
            rest = &rest[close + 1..];
            if converter == Converter::Path && !rest.is_empty() {
                return Err(invalid("a {name:path} parameter must end the pattern"));
            }
        }
        if rest.contains('}') {
            return Err(invalid("unmatched '}'"));
        }
        let named = pieces
            .iter()
            .filter(
                |p| matches!(p, Piece::Param { converter, .. } if *converter != Converter::Path),
            )
            .count();
        if named > MAX_PARAMS {
            return Err(invalid(&format!(
                "a route takes at most {MAX_PARAMS} parameters (this one has {named})"
            )));
        }
        if !rest.is_empty() {
            pieces.push(Piece::Literal(rest.to_string()));
        }
        Ok(Pattern {
            source: pattern.to_string(),
            pieces,
        })
    }

    /// The pattern as the user wrote it.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The pattern in matchit's syntax: `{name}` and `{*name}`.
    pub(crate) fn matchit_path(&self) -> String {
        let mut out = String::new();
        for piece in &self.pieces {
            match piece {
                Piece::Literal(l) => out.push_str(l),
                Piece::Param {
                    name,
                    converter: Converter::Path,
                } => {
                    out.push_str("{*");
                    out.push_str(name);
                    out.push('}');
                }
                Piece::Param { name, .. } => {
                    out.push('{');
                    out.push_str(name);
                    out.push('}');
                }
            }
        }
        out
    }

    /// The parameters in order, with their converters.
    pub fn params(&self) -> impl Iterator<Item = (&str, Converter)> {
        self.pieces.iter().filter_map(|p| match p {
            Piece::Param { name, converter } => Some((name.as_str(), *converter)),
            Piece::Literal(_) => None,
        })
    }

    /// Builds a path from parameter values; each value must pass its converter.
    pub fn build(&self, values: &[(String, String)]) -> Result<String, RouterError> {
        let mut out = String::new();
        for piece in &self.pieces {
            match piece {
                Piece::Literal(l) => out.push_str(l),
                Piece::Param { name, converter } => {
                    let value = values
                        .iter()
                        .find(|(n, _)| n == name)
                        .map(|(_, v)| v)
                        .ok_or_else(|| RouterError::MissingParam {
                            pattern: self.source.clone(),
                            param: name.clone(),
                        })?;
                    if converter.convert(value).is_none() {
                        return Err(RouterError::BadParam {
                            pattern: self.source.clone(),
                            param: name.clone(),
                            value: value.clone(),
                            converter: *converter,
                        });
                    }
                    let set = if *converter == Converter::Path {
                        PATH
                    } else {
                        SEGMENT
                    };
                    out.extend(utf8_percent_encode(value, set));
                }
            }
        }
        if let Some((extra, _)) = values
            .iter()
            .find(|(n, _)| !self.params().any(|(p, _)| p == n))
        {
            return Err(RouterError::UnknownParam {
                pattern: self.source.clone(),
                param: extra.clone(),
            });
        }
        Ok(out)
    }
}

impl fmt::Display for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_params_become_matchit_params() {
        let p = Pattern::parse("/api/products/{id:int}/files/{rest:path}").unwrap();
        assert_eq!(p.matchit_path(), "/api/products/{id}/files/{*rest}");
        let params: Vec<_> = p.params().collect();
        assert_eq!(
            params,
            vec![("id", Converter::Int), ("rest", Converter::Path)]
        );
    }

    #[test]
    fn unknown_converter_is_rejected_with_the_known_names() {
        let err = Pattern::parse("/x/{id:integer}").unwrap_err().to_string();
        assert!(
            err.contains("integer") && err.contains("int, str, slug, uuid, path"),
            "{err}"
        );
    }

    #[test]
    fn path_param_must_be_last() {
        assert!(Pattern::parse("/x/{rest:path}/y").is_err());
    }

    #[test]
    fn build_checks_and_escapes_values() {
        let p = Pattern::parse("/u/{name}/{id:int}").unwrap();
        let url = p
            .build(&[("name".into(), "a b?".into()), ("id".into(), "7".into())])
            .unwrap();
        assert_eq!(url, "/u/a%20b%3F/7");
        assert!(p
            .build(&[("name".into(), "a/b".into()), ("id".into(), "7".into())])
            .is_err());
        assert!(p
            .build(&[("name".into(), "a".into()), ("id".into(), "x".into())])
            .is_err());
        assert!(p.build(&[("name".into(), "a".into())]).is_err());
    }
}
