//! The environment: where templates come from, how they are cached and escaped.

use std::path::{Component, Path, PathBuf};
use std::time::SystemTime;

use minijinja::{AutoEscape, Environment, TemplateSource, UndefinedBehavior, Value};

use crate::error::TemplateError;
use crate::filters;

/// How an [`Engine`] finds and treats templates.
#[derive(Clone, Debug, Default)]
pub struct EngineConfig {
    /// Folders searched in order; the first holding the name wins.
    pub dirs: Vec<PathBuf>,
    /// Re-read a template whose file changed since it was compiled (debug, --reload).
    pub reload: bool,
    /// An undefined variable is an error instead of an empty string.
    pub strict_undefined: bool,
}

/// A template environment. Rendering takes `&self` and holds no lock while it runs;
/// configuration (`add_filter`, ...) takes `&mut self`.
pub struct Engine {
    env: Environment<'static>,
    dirs: Vec<PathBuf>,
}

impl Engine {
    /// An environment over `config.dirs` with hyperdjango's filters and escaping.
    pub fn new(config: EngineConfig) -> Engine {
        let mut env = Environment::new();
        env.set_auto_escape_callback(auto_escape_for);
        env.set_formatter(crate::escape::format_value);
        env.set_undefined_behavior(if config.strict_undefined {
            UndefinedBehavior::Strict
        } else {
            UndefinedBehavior::Lenient
        });
        env.set_auto_reload(config.reload);
        // Errors carry no source snapshot (costly on every error); `error` reads it back.
        env.set_debug(false);
        let reload = config.reload;
        let dirs = config.dirs.clone();
        env.set_loader(move |name| load(&dirs, name, reload));
        filters::register(&mut env);
        Engine {
            env,
            dirs: config.dirs,
        }
    }

    /// The minijinja environment, for registering filters, tests and globals.
    pub fn env_mut(&mut self) -> &mut Environment<'static> {
        &mut self.env
    }

    /// Renders the template called `name` (a path below one of the folders).
    pub fn render(&self, name: &str, context: &Value) -> Result<String, Box<TemplateError>> {
        let template = self
            .env
            .get_template(name)
            .map_err(|e| self.error(e, None))?;
        template.render(context).map_err(|e| self.error(e, None))
    }

    /// Renders `name` into `out` as it goes (the stream form of [`Engine::render`]).
    pub fn render_to<W: std::io::Write>(
        &self,
        name: &str,
        context: &Value,
        out: W,
    ) -> Result<(), Box<TemplateError>> {
        let template = self
            .env
            .get_template(name)
            .map_err(|e| self.error(e, None))?;
        template
            .render_captured_to(context, out)
            .map(|_| ())
            .map_err(|e| self.error(e, None))
    }

    /// Renders a template given as text; `name` decides autoescape and appears in errors.
    pub fn render_str(
        &self,
        name: &str,
        source: &str,
        context: &Value,
    ) -> Result<String, Box<TemplateError>> {
        self.env
            .render_named_str(name, source, context)
            .map_err(|e| self.error(e, Some((name, source))))
    }

    /// A render error with its place: the innermost template named in the error chain,
    /// and the source around the line (read back from the folders, or `inline`).
    fn error(&self, error: minijinja::Error, inline: Option<(&str, &str)>) -> Box<TemplateError> {
        let read = |name: &str| -> Option<String> {
            if let Some((inline_name, source)) = inline {
                if inline_name == name {
                    return Some(source.to_owned());
                }
            }
            let relative = relative(name)?;
            self.dirs
                .iter()
                .find_map(|dir| std::fs::read_to_string(dir.join(&relative)).ok())
        };
        Box::new(TemplateError::new(&error, read))
    }

    /// Forgets every compiled template (the next render reads the files again).
    pub fn clear_cache(&mut self) {
        self.env.clear_templates();
    }
}

/// HTML escaping for .html, .htm, .xml and .svg (also under a trailing .j2/.jinja).
fn auto_escape_for(name: &str) -> AutoEscape {
    let name = name
        .strip_suffix(".j2")
        .or_else(|| name.strip_suffix(".jinja"))
        .unwrap_or(name);
    match name
        .rsplit_once('.')
        .map(|(_, ext)| ext.to_ascii_lowercase())
    {
        Some(ext) if matches!(ext.as_str(), "html" | "htm" | "xml" | "svg") => AutoEscape::Html,
        _ => AutoEscape::None,
    }
}

/// A template name as a relative path with no `..`, root or prefix: names never leave their folder.
fn relative(name: &str) -> Option<PathBuf> {
    let path = Path::new(name);
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::Normal(part) => out.push(part),
            Component::CurDir => {}
            _ => return None,
        }
    }
    (!out.as_os_str().is_empty()).then_some(out)
}

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

fn load(
    dirs: &[PathBuf],
    name: &str,
    reload: bool,
) -> Result<Option<TemplateSource>, minijinja::Error> {
    let Some(relative) = relative(name) else {
        return Ok(None);
    };
    for dir in dirs {
        let path = dir.join(&relative);
        let source = match std::fs::read_to_string(&path) {
            Ok(source) => source,
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::NotFound | std::io::ErrorKind::IsADirectory
                ) =>
            {
                continue
            }
            Err(e) => {
                return Err(minijinja::Error::new(
                    minijinja::ErrorKind::InvalidOperation,
                    format!("could not read template {}", path.display()),
                )
                .with_source(e))
            }
        };
        let mut template = TemplateSource::new(source);
        if reload {
            let seen = modified(&path);
            template = template.with_uptodate_check(move || modified(&path) == seen);
        }
        return Ok(Some(template));
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_climb_out_are_not_templates() {
        assert!(relative("../etc/passwd").is_none());
        assert!(relative("/etc/passwd").is_none());
        assert!(relative("shop/../../x").is_none());
        assert_eq!(
            relative("./shop/list.html"),
            Some(PathBuf::from("shop/list.html"))
        );
    }

    #[test]
    fn autoescape_follows_the_extension() {
        assert!(matches!(auto_escape_for("a.html"), AutoEscape::Html));
        assert!(matches!(auto_escape_for("a.svg.j2"), AutoEscape::Html));
        assert!(matches!(auto_escape_for("a.txt"), AutoEscape::None));
    }
}
