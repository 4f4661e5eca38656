//! Render and syntax errors with their place in the template.

use std::fmt;

/// What went wrong, in which template, where, and the lines around it.
#[derive(Clone, Debug)]
pub struct TemplateError {
    /// minijinja's kind, e.g. "syntax error", "undefined value", "template not found".
    pub kind: String,
    /// The message without the place.
    pub message: String,
    pub name: Option<String>,
    /// 1-based line and column of the failing expression, when known.
    pub line: Option<usize>,
    pub column: Option<usize>,
    /// Up to three lines either side of `line`, each `(number, text)`.
    pub excerpt: Vec<(usize, String)>,
}

impl TemplateError {
    /// Builds the error from minijinja's, reading a template's source with `read`
    /// (by name) to find the column and the excerpt.
    pub fn new(error: &minijinja::Error, read: impl Fn(&str) -> Option<String>) -> TemplateError {
        // An error inside an included or extended template comes back wrapped; the
        // innermost one with a place is where the author has to look.
        let mut place = error;
        let mut current: &dyn std::error::Error = error;
        while let Some(next) = current.source() {
            if let Some(inner) = next.downcast_ref::<minijinja::Error>() {
                if inner.name().is_some() && inner.line().is_some() {
                    place = inner;
                }
            }
            current = next;
        }
        let name = place.name().map(str::to_owned);
        let line = place.line();
        let source = name.as_deref().and_then(&read);
        let column = match (&source, place.range()) {
            (Some(source), Some(range))
                if range.start <= source.len() && source.is_char_boundary(range.start) =>
            {
                let before = &source[..range.start];
                Some(before.chars().rev().take_while(|c| *c != '\n').count() + 1)
            }
            _ => None,
        };
        let excerpt = match (&source, line) {
            (Some(source), Some(line)) => source
                .lines()
                .enumerate()
                .map(|(i, text)| (i + 1, text.to_owned()))
                .filter(|(number, _)| number + 3 >= line && *number <= line + 3)
                .collect(),
            _ => Vec::new(),
        };
        let mut message = place
            .detail()
            .map(str::to_owned)
            .unwrap_or_else(|| place.kind().to_string());
        if !std::ptr::eq(place, error) {
            if let Some(outer) = error.name() {
                message = format!("{message} (rendering {outer})");
            }
        }
        TemplateError {
            kind: place.kind().to_string(),
            message,
            name,
            line,
            column,
            excerpt,
        }
    }
}

impl TemplateError {
    /// An error that is not the template's fault (a panic in the engine).
    pub fn internal(name: &str, message: &str) -> TemplateError {
        TemplateError {
            kind: "internal error".to_owned(),
            message: message.to_owned(),
            name: Some(name.to_owned()),
            line: None,
            column: None,
            excerpt: Vec::new(),
        }
    }
}

impl fmt::Display for TemplateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.message == self.kind {
            write!(f, "{}", self.kind)?;
        } else {
            write!(f, "{}: {}", self.kind, self.message)?;
        }
        if let Some(name) = &self.name {
            write!(f, " ({name}")?;
            if let Some(line) = self.line {
                write!(f, ", line {line}")?;
                if let Some(column) = self.column {
                    write!(f, ", column {column}")?;
                }
            }
            write!(f, ")")?;
        }
        Ok(())
    }
}

impl std::error::Error for TemplateError {}
