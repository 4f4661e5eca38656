//! The router: patterns with typed parameters, matched with matchit.
//!
//! Routes are added once at start-up; conflicts and bad patterns are errors
//! then, naming both routes, so a mistake never reaches a request.

mod converters;
mod decode;
mod pattern;

use std::collections::HashMap;
use std::fmt;

pub use converters::{Converter, ParamValue};
pub use decode::{decode_path, PathError};
pub use pattern::Pattern;

/// The method name under which WebSocket routes are registered.
pub const WEBSOCKET: &str = "WEBSOCKET";

/// A start-up error in the route table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RouterError {
    InvalidPattern {
        pattern: String,
        reason: String,
    },
    Conflict {
        new: String,
        existing: String,
        detail: String,
    },
    DuplicateName {
        name: String,
        first: String,
        second: String,
    },
    UnknownName {
        name: String,
    },
    MissingParam {
        pattern: String,
        param: String,
    },
    UnknownParam {
        pattern: String,
        param: String,
    },
    BadParam {
        pattern: String,
        param: String,
        value: String,
        converter: Converter,
    },
}

impl fmt::Display for RouterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RouterError::InvalidPattern { pattern, reason } => {
                write!(f, "invalid route pattern {pattern:?}: {reason}")
            }
            RouterError::Conflict { new, existing, detail } => write!(
                f,
                "route {new:?} conflicts with route {existing:?} ({detail}); make the patterns differ by a literal segment or merge them"
            ),
            RouterError::DuplicateName { name, first, second } => write!(
                f,
                "route name {name:?} is used by both {first:?} and {second:?}"
            ),
            RouterError::UnknownName { name } => write!(f, "no route is named {name:?}"),
            RouterError::MissingParam { pattern, param } => {
                write!(f, "route {pattern:?} needs parameter {param:?}")
            }
            RouterError::UnknownParam { pattern, param } => {
                write!(f, "route {pattern:?} has no parameter {param:?}")
            }
            RouterError::BadParam { pattern, param, value, converter } => write!(
                f,
                "value {value:?} for parameter {param:?} of route {pattern:?} is not a valid {converter}"
            ),
        }
    }
}

impl std::error::Error for RouterError {}

/// What the router says about a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RouteMatch {
    /// A route accepts the request; `params` are converted and in pattern order.
    Found {
        route_id: usize,
        params: Vec<(String, ParamValue)>,
    },
    /// No pattern matches the path.
    NotFound,
    /// A pattern matches but not for this method; `allow` lists the methods that would.
    MethodNotAllowed { allow: Vec<String> },
    /// The path matches with the trailing slash toggled.
    Redirect { location: String },
}

/// One registered route, as listed by `hyper routes`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteInfo {
    pub pattern: String,
    pub methods: Vec<String>,
    pub name: Option<String>,
}

struct Endpoint {
    pattern: Pattern,
    /// (method, route id); `GET` also answers `HEAD`.
    methods: Vec<(String, usize)>,
}

/// The route table.
#[derive(Default)]
pub struct Router {
    tree: matchit::Router<usize>,
    endpoints: Vec<Endpoint>,
    by_source: HashMap<String, usize>,
    by_matchit: HashMap<String, usize>,
    routes: Vec<(RouteInfo, usize)>,
    names: HashMap<String, usize>,
    redirect_slashes: bool,
}

impl Router {
    pub fn new(redirect_slashes: bool) -> Self {
        Router {
            redirect_slashes,
            ..Default::default()
        }
    }

    /// Adds a route and returns its id (ids count up from 0 in insertion order).
    pub fn add(
        &mut self,
        pattern: &str,
        methods: &[&str],
        name: Option<&str>,
    ) -> Result<usize, RouterError> {
        let parsed = Pattern::parse(pattern)?;
        let route_id = self.routes.len();
        let methods: Vec<String> = methods.iter().map(|m| m.to_ascii_uppercase()).collect();
        if let Some(name) = name {
            if let Some(&other) = self.names.get(name) {
                return Err(RouterError::DuplicateName {
                    name: name.to_string(),
                    first: self.routes[other].0.pattern.clone(),
                    second: pattern.to_string(),
                });
            }
        }
        let endpoint_id = match self.by_source.get(pattern) {
            Some(&id) => {
                let endpoint = &self.endpoints[id];
                if let Some(m) = methods
                    .iter()
                    .find(|m| endpoint.methods.iter().any(|(em, _)| em == *m))
                {
                    return Err(RouterError::Conflict {
                        new: pattern.to_string(),
                        existing: pattern.to_string(),
                        detail: format!("method {m} is registered twice"),
                    });
                }
                id
            }
            None => {
                let path = parsed.matchit_path();
                let id = self.endpoints.len();
                if let Some(&other) = self.by_matchit.get(&path) {
                    return Err(RouterError::Conflict {
                        new: pattern.to_string(),
                        existing: self.endpoints[other].pattern.source().to_string(),
                        detail: "they match the same paths".to_string(),
                    });
                }
                self.tree.insert(path.clone(), id).map_err(|e| match e {
                    matchit::InsertError::Conflict { with } => RouterError::Conflict {
                        new: pattern.to_string(),
                        existing: self
                            .by_matchit
                            .get(&with)
                            .map(|&i| self.endpoints[i].pattern.source().to_string())
                            .unwrap_or(with),
                        detail: "their parameters overlap at the same position".to_string(),
                    },
                    other => RouterError::InvalidPattern {
                        pattern: pattern.to_string(),
                        reason: other.to_string(),
                    },
                })?;
                self.by_matchit.insert(path, id);
                self.by_source.insert(pattern.to_string(), id);
                self.endpoints.push(Endpoint {
                    pattern: parsed,
                    methods: Vec::new(),
                });
                id
            }
        };
        let endpoint = &mut self.endpoints[endpoint_id];
        endpoint
            .methods
            .extend(methods.iter().map(|m| (m.clone(), route_id)));
        if let Some(name) = name {
            self.names.insert(name.to_string(), route_id);
        }
        self.routes.push((
            RouteInfo {
                pattern: pattern.to_string(),
                methods,
                name: name.map(str::to_string),
            },
            endpoint_id,
        ));
        Ok(route_id)
    }

    /// Every route in insertion order.
    pub fn routes(&self) -> impl Iterator<Item = &RouteInfo> {
        self.routes.iter().map(|(info, _)| info)
    }

    /// Matches a decoded path for a method. `query` is appended to redirect locations.
    pub fn lookup(&self, method: &str, path: &str, query: Option<&str>) -> RouteMatch {
        match self.match_path(method, path) {
            RouteMatch::NotFound if self.redirect_slashes && path != "/" => {
                let toggled = match path.strip_suffix('/') {
                    Some(stripped) => stripped.to_string(),
                    None => format!("{path}/"),
                };
                match self.match_path(method, &toggled) {
                    RouteMatch::Found { .. } => {
                        let encoded: String =
                            percent_encoding::utf8_percent_encode(&toggled, ENCODE_PATH).collect();
                        RouteMatch::Redirect {
                            location: match query {
                                Some(q) if !q.is_empty() => format!("{encoded}?{q}"),
                                _ => encoded,
                            },
                        }
                    }
                    _ => RouteMatch::NotFound,
                }
            }
            other => other,
        }
    }

    fn match_path(&self, method: &str, path: &str) -> RouteMatch {
        let Ok(found) = self.tree.at(path) else {
            return RouteMatch::NotFound;
        };
        let endpoint = &self.endpoints[*found.value];
        let mut params = Vec::with_capacity(found.params.len());
        for (name, converter) in endpoint.pattern.params() {
            let raw = found.params.get(name).unwrap_or("");
            match converter.convert(raw) {
                Some(value) => params.push((name.to_string(), value)),
                None => return RouteMatch::NotFound,
            }
        }
        let wanted = if method == "HEAD" { "GET" } else { method };
        let exact = endpoint.methods.iter().find(|(m, _)| m == method);
        match exact.or_else(|| endpoint.methods.iter().find(|(m, _)| m == wanted)) {
            Some(&(_, route_id)) => RouteMatch::Found { route_id, params },
            None => {
                let mut allow: Vec<String> = endpoint
                    .methods
                    .iter()
                    .map(|(m, _)| m.clone())
                    .filter(|m| m != WEBSOCKET)
                    .collect();
                if allow.iter().any(|m| m == "GET") && !allow.iter().any(|m| m == "HEAD") {
                    allow.push("HEAD".to_string());
                }
                if allow.is_empty() {
                    return RouteMatch::NotFound;
                }
                RouteMatch::MethodNotAllowed { allow }
            }
        }
    }

    /// Builds the path of the route called `name`.
    pub fn url_for(&self, name: &str, params: &[(String, String)]) -> Result<String, RouterError> {
        let &route_id = self
            .names
            .get(name)
            .ok_or_else(|| RouterError::UnknownName {
                name: name.to_string(),
            })?;
        let endpoint = &self.endpoints[self.routes[route_id].1];
        endpoint.pattern.build(params)
    }
}

const ENCODE_PATH: &percent_encoding::AsciiSet = &percent_encoding::CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'`')
    .add(b'%');

#[cfg(test)]
mod tests {
    use super::*;

    fn router() -> Router {
        let mut r = Router::new(true);
        r.add("/api/products", &["GET", "POST"], Some("products"))
            .unwrap();
        r.add("/api/products/{id:int}", &["GET"], Some("product"))
            .unwrap();
        r.add("/api/products/{id:int}", &["DELETE"], None).unwrap();
        r.add("/files/{rest:path}", &["GET"], None).unwrap();
        r.add("/ws/chat/{room}", &[WEBSOCKET], None).unwrap();
        r
    }

    #[test]
    fn a_route_with_more_parameters_than_matchit_names_is_refused_not_a_panic() {
        let route = |n: usize| {
            let segments: Vec<String> = (0..n).map(|i| format!("{{p{i}}}")).collect();
            format!("/{}/{{rest:path}}", segments.join("/"))
        };
        let mut r = Router::new(true);
        assert!(r.add(&route(pattern::MAX_PARAMS), &["GET"], None).is_ok());
        match r.add(
            &format!("/x{}", route(pattern::MAX_PARAMS + 1)),
            &["GET"],
            None,
        ) {
            Err(RouterError::InvalidPattern { reason, .. }) => {
                assert!(reason.contains("at most 25 parameters"), "{reason}")
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn typed_params_are_converted() {
        match router().lookup("GET", "/api/products/42", None) {
            RouteMatch::Found { route_id, params } => {
                assert_eq!(route_id, 1);
                assert_eq!(params, vec![("id".to_string(), ParamValue::Int(42))]);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_value_the_converter_refuses_is_not_found() {
        assert_eq!(
            router().lookup("GET", "/api/products/abc", None),
            RouteMatch::NotFound
        );
    }

    #[test]
    fn wrong_method_lists_allowed_methods() {
        assert_eq!(
            router().lookup("PUT", "/api/products/1", None),
            RouteMatch::MethodNotAllowed {
                allow: vec!["GET".into(), "DELETE".into(), "HEAD".into()]
            }
        );
    }

    #[test]
    fn head_is_answered_by_get_routes() {
        assert!(matches!(
            router().lookup("HEAD", "/api/products", None),
            RouteMatch::Found { route_id: 0, .. }
        ));
    }

    #[test]
    fn websocket_routes_do_not_answer_plain_http() {
        assert_eq!(
            router().lookup("GET", "/ws/chat/lobby", None),
            RouteMatch::NotFound
        );
        assert!(matches!(
            router().lookup(WEBSOCKET, "/ws/chat/lobby", None),
            RouteMatch::Found { .. }
        ));
    }

    #[test]
    fn trailing_slash_redirect_keeps_the_query() {
        assert_eq!(
            router().lookup("GET", "/api/products/", Some("a=1")),
            RouteMatch::Redirect {
                location: "/api/products?a=1".into()
            }
        );
        assert_eq!(
            Router::new(false).lookup("GET", "/x/", None),
            RouteMatch::NotFound
        );
    }

    #[test]
    fn path_converter_keeps_slashes() {
        match router().lookup("GET", "/files/a/b/c.txt", None) {
            RouteMatch::Found { params, .. } => {
                assert_eq!(params[0].1, ParamValue::Str("a/b/c.txt".into()))
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn conflicts_name_both_routes() {
        let mut r = router();
        let err = r
            .add("/api/products/{pid:slug}", &["GET"], None)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("/api/products/{pid:slug}") && err.contains("/api/products/{id:int}"),
            "{err}"
        );
        let err = r
            .add("/api/products", &["get"], None)
            .unwrap_err()
            .to_string();
        assert!(err.contains("GET is registered twice"), "{err}");
        let err = r
            .add("/other", &["GET"], Some("product"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("\"product\"") && err.contains("/other"),
            "{err}"
        );
    }

    #[test]
    fn url_for_fills_parameters() {
        let r = router();
        assert_eq!(
            r.url_for("product", &[("id".into(), "5".into())]).unwrap(),
            "/api/products/5"
        );
        assert!(r.url_for("nope", &[]).is_err());
    }
}
