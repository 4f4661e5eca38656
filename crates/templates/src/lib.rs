//! hyperdjango's template engine, without Python: [`Engine`] wraps a minijinja
//! environment with template folders searched in order, compiled templates cached
//! (and reloaded when their file changes, if asked), autoescape chosen by file
//! extension, Django's most used filters under their Django names, and errors that
//! name the template, line and column with the source around them.
//!
//! The Python binding (crates/bindings/src/templates.rs) converts a context into
//! [`Value`]s once and renders without the GIL.

mod context;
mod engine;
mod error;
mod escape;
pub mod filters;
mod moment;
mod record;

pub use context::{Compute, RenderContext};
pub use engine::{Engine, EngineConfig};
pub use error::TemplateError;
pub use minijinja::value::{Kwargs, Object, ObjectRepr, Rest, Value, ValueKind};
pub use minijinja::{Error, ErrorKind, State};
pub use moment::Moment;
pub use record::Record;
