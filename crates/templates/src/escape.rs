//! HTML escaping as Jinja2 (MarkupSafe) does it: `& < > " '` and nothing else, so
//! pages match what the same template gives under Jinja2 (minijinja's own escaper
//! also writes `/` as `&#x2f;`).

use std::fmt;

use minijinja::value::{Value, ValueKind};
use minijinja::{AutoEscape, Error, Output, State};

/// `text` with `& < > " '` replaced by entities.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    // Writing into a String cannot fail.
    let _ = write_escaped(&mut out, text);
    out
}

/// Writes `text` escaped into `out`, the runs between special characters whole
/// (no intermediate String: the formatter writes every printed value this way).
pub fn write_escaped<W: fmt::Write + ?Sized>(out: &mut W, text: &str) -> fmt::Result {
    let mut start = 0;
    for (i, byte) in text.bytes().enumerate() {
        let entity = match byte {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'"' => "&#34;",
            b'\'' => "&#39;",
            _ => continue,
        };
        out.write_str(&text[start..i])?;
        out.write_str(entity)?;
        start = i + 1;
    }
    out.write_str(&text[start..])
}

/// The environment's formatter: escapes unsafe text under HTML autoescape, and
/// leaves everything else (numbers, none, undefined, safe strings) to minijinja.
pub fn format_value(
    out: &mut Output<'_>,
    state: &mut State<'_, '_>,
    value: &Value,
) -> Result<(), Error> {
    let plain = matches!(
        value.kind(),
        ValueKind::Undefined | ValueKind::None | ValueKind::Number | ValueKind::Bool
    );
    if value
        .downcast_object_ref::<crate::Record>()
        .is_some_and(|r| r.safe)
    {
        return out.write_str(&value.to_string()).map_err(Error::from);
    }
    if matches!(state.auto_escape(), AutoEscape::Html) && !value.is_safe() && !plain {
        return match value.as_str() {
            Some(s) => write_escaped(out, s),
            None => write_escaped(out, &value.to_string()),
        }
        .map_err(Error::from);
    }
    minijinja::escape_formatter(out, state, value)
}
