//! HTML escaping as Jinja2 (MarkupSafe) does it: `& < > " '` and nothing else, so
//! pages match what the same template gives under Jinja2 (minijinja's own escaper
//! also writes `/` as `&#x2f;`).

use minijinja::value::{Value, ValueKind};
use minijinja::{AutoEscape, Error, Output, State};

/// `text` with `& < > " '` replaced by entities.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&#34;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
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
        let text = match value.as_str() {
            Some(s) => escape_html(s),
            None => escape_html(&value.to_string()),
        };
        return out.write_str(&text).map_err(Error::from);
    }
    minijinja::escape_formatter(out, state, value)
}
