//! An object seen from a template: named values (`obj.name`), printed as a text
//! that is either plain (escaped like any string) or safe HTML (a form, a widget).

use std::fmt;
use std::sync::{Arc, OnceLock};

use minijinja::value::{Enumerator, Object, ObjectRepr, Value};

/// How a record prints: a text known now, or one asked for the first time it prints
/// (a model's `str()` is Python code, and most templates print fields, not rows).
enum Text {
    Known(String),
    Later(Box<dyn Fn() -> String + Send + Sync>, OnceLock<String>),
}

pub struct Record {
    entries: Vec<(String, Value)>,
    text: Text,
    /// The text is HTML to print as is.
    pub safe: bool,
}

impl Record {
    /// The template value of a record.
    pub fn value(entries: Vec<(String, Value)>, text: String, safe: bool) -> Value {
        Value::from_object(Record {
            entries,
            text: Text::Known(text),
            safe,
        })
    }

    /// The template value of a record whose (plain) text is `text()`, called once,
    /// the first time the record prints.
    pub fn printed_later(
        entries: Vec<(String, Value)>,
        text: impl Fn() -> String + Send + Sync + 'static,
    ) -> Value {
        Value::from_object(Record {
            entries,
            text: Text::Later(Box::new(text), OnceLock::new()),
            safe: false,
        })
    }

    fn text(&self) -> &str {
        match &self.text {
            Text::Known(text) => text,
            Text::Later(compute, text) => text.get_or_init(compute),
        }
    }
}

impl fmt::Debug for Record {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Record")
            .field("entries", &self.entries)
            .field("safe", &self.safe)
            .finish()
    }
}

impl Object for Record {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Plain
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        self.get_value_by_str(key.as_str()?)
    }

    fn get_value_by_str(self: &Arc<Self>, key: &str) -> Option<Value> {
        self.entries
            .iter()
            .find(|(name, _)| name == key)
            .map(|(_, v)| v.clone())
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Values(
            self.entries
                .iter()
                .map(|(k, _)| Value::from(k.as_str()))
                .collect(),
        )
    }

    fn render(self: &Arc<Self>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.text())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn a_text_printed_later_is_asked_for_once_and_only_when_printed() {
        let calls = Arc::new(AtomicUsize::new(0));
        let counter = calls.clone();
        let record = Record::printed_later(vec![("id".into(), Value::from(7))], move || {
            counter.fetch_add(1, Ordering::SeqCst);
            "<Fortune: 7>".into()
        });
        let env = minijinja::Environment::new();
        let context = minijinja::context! { row => record };
        assert_eq!(env.render_str("{{ row.id }}", &context).unwrap(), "7");
        assert_eq!(calls.load(Ordering::SeqCst), 0);
        assert_eq!(
            env.render_str("{{ row }}{{ row }}", &context).unwrap(),
            "<Fortune: 7><Fortune: 7>"
        );
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }
}
