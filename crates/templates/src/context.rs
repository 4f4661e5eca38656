//! The context of a render: the values the view gave, and values computed only when
//! a template reads them (a CSRF token, the request's headers): most pages never
//! do, and computing them costs more than drawing the page.

use std::fmt;
use std::sync::{Arc, OnceLock};

use minijinja::value::{Enumerator, Object, ObjectRepr, Value};

/// Computes a lazy value; called at most once per render.
pub type Compute = Box<dyn Fn() -> Value + Send + Sync>;

struct Lazy {
    name: String,
    compute: Compute,
    value: OnceLock<Value>,
}

/// The root of a render's context: a map whose lazy entries are computed on first read.
pub struct RenderContext {
    values: Value,
    lazy: Vec<Lazy>,
}

impl RenderContext {
    /// The context `values` (a map) with `lazy` entries added; a value in `values`
    /// wins over a lazy one of the same name. Without lazy entries, `values` itself.
    pub fn value(values: Value, lazy: Vec<(String, Compute)>) -> Value {
        if lazy.is_empty() {
            return values;
        }
        let lazy = lazy
            .into_iter()
            .map(|(name, compute)| Lazy {
                name,
                compute,
                value: OnceLock::new(),
            })
            .collect();
        Value::from_object(RenderContext { values, lazy })
    }
}

impl fmt::Debug for RenderContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let lazy: Vec<&str> = self.lazy.iter().map(|l| l.name.as_str()).collect();
        f.debug_struct("RenderContext")
            .field("values", &self.values)
            .field("lazy", &lazy)
            .finish()
    }
}

impl Object for RenderContext {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Map
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        self.get_value_by_str(key.as_str()?)
    }

    fn get_value_by_str(self: &Arc<Self>, key: &str) -> Option<Value> {
        if let Some(value) = self.values.get_attr(key).ok().filter(|v| !v.is_undefined()) {
            return Some(value);
        }
        let lazy = self.lazy.iter().find(|l| l.name == key)?;
        Some(lazy.value.get_or_init(|| (lazy.compute)()).clone())
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        let mut names: Vec<Value> = self.values.try_iter().into_iter().flatten().collect();
        for lazy in &self.lazy {
            let name = Value::from(lazy.name.as_str());
            if !names.contains(&name) {
                names.push(name);
            }
        }
        Enumerator::Values(names)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn counted(calls: &Arc<AtomicUsize>, text: &'static str) -> Compute {
        let calls = calls.clone();
        Box::new(move || {
            calls.fetch_add(1, Ordering::SeqCst);
            Value::from(text)
        })
    }

    fn render(source: &str, context: &Value) -> String {
        minijinja::Environment::new()
            .render_str(source, context)
            .unwrap()
    }

    #[test]
    fn a_lazy_value_is_computed_only_when_read_and_once() {
        let calls = Arc::new(AtomicUsize::new(0));
        let values = minijinja::context! { name => "tea" };
        let context = RenderContext::value(values, vec![("token".into(), counted(&calls, "t0k"))]);
        assert_eq!(render("{{ name }}", &context), "tea");
        assert_eq!(calls.load(Ordering::SeqCst), 0);
        assert_eq!(render("{{ token }}|{{ token|length }}", &context), "t0k|3");
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn the_view_s_value_wins_over_a_lazy_one_of_the_same_name() {
        let calls = Arc::new(AtomicUsize::new(0));
        let values = minijinja::context! { token => "mine" };
        let context = RenderContext::value(values, vec![("token".into(), counted(&calls, "lazy"))]);
        assert_eq!(render("{{ token }}", &context), "mine");
        assert_eq!(calls.load(Ordering::SeqCst), 0);
    }
}
