//! An object seen from a template: named values (`obj.name`), printed as a text
//! that is either plain (escaped like any string) or safe HTML (a form, a widget).

use std::fmt;
use std::sync::Arc;

use minijinja::value::{Enumerator, Object, ObjectRepr, Value};

#[derive(Debug)]
pub struct Record {
    entries: Vec<(String, Value)>,
    text: String,
    /// The text is HTML to print as is.
    pub safe: bool,
}

impl Record {
    /// The template value of a record.
    pub fn value(entries: Vec<(String, Value)>, text: String, safe: bool) -> Value {
        Value::from_object(Record {
            entries,
            text,
            safe,
        })
    }
}

impl Object for Record {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Plain
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let key = key.as_str()?;
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
        f.write_str(&self.text)
    }
}
