//! Request paths through percent-decoding and the router with every
//! converter, and route patterns through the pattern parser.
//!
//! A path that matches a route must build back (`url_for`) into a path that
//! matches the same route with the same parameters; a trailing-slash redirect
//! must lead to a path that matches.

#![no_main]

use std::sync::OnceLock;

use hyperdjango_engine::router::{decode_path, ParamValue, RouteMatch, Router};
use libfuzzer_sys::fuzz_target;

const ROUTES: &[(&str, &[&str], &str)] = &[
    ("/", &["GET"], "home"),
    ("/items/{id:int}", &["GET", "PUT"], "item"),
    ("/items/{id:int}/notes/{note}", &["GET"], "note"),
    ("/u/{key:uuid}/", &["GET"], "user"),
    ("/blog/{slug:slug}/", &["GET", "POST"], "post"),
    ("/files/{rest:path}", &["GET"], "file"),
    ("/a b/é/{name}", &["GET"], "odd"),
];

fn router() -> &'static Router {
    static ROUTER: OnceLock<Router> = OnceLock::new();
    ROUTER.get_or_init(|| {
        let mut router = Router::new(true);
        for (pattern, methods, name) in ROUTES {
            router.add(pattern, methods, Some(name)).unwrap();
        }
        router
    })
}

fn as_text(value: &ParamValue) -> String {
    match value {
        ParamValue::Str(s) => s.clone(),
        ParamValue::Int(i) => i.to_string(),
        ParamValue::Uuid(u) => u.hyphenated().to_string(),
    }
}

fn check_path(method: &str, raw: &str) {
    let (raw_path, query) = match raw.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (raw, None),
    };
    let Ok(path) = decode_path(raw_path) else { return };
    let router = router();
    match router.lookup(method, &path, query) {
        RouteMatch::Found { route_id, params } => {
            let name = ROUTES[route_id].2;
            let values: Vec<(String, String)> = params.iter().map(|(n, v)| (n.clone(), as_text(v))).collect();
            let built = router.url_for(name, &values).unwrap_or_else(|e| panic!("{path:?} matched {name} but does not build: {e}"));
            let rebuilt = decode_path(&built).unwrap_or_else(|e| panic!("url_for gave an undecodable {built:?}: {e:?}"));
            match router.lookup(method, &rebuilt, None) {
                RouteMatch::Found { route_id: again, params: again_params } => {
                    assert_eq!(again, route_id, "{path:?} → {built:?} matches another route");
                    assert_eq!(again_params, params, "{path:?} → {built:?} gives other parameters");
                }
                other => panic!("{path:?} matched {name}; its url_for {built:?} gives {other:?}"),
            }
        }
        RouteMatch::Redirect { location } => {
            let target = location.split_once('?').map_or(location.as_str(), |(p, _)| p);
            let decoded = decode_path(target).unwrap_or_else(|e| panic!("redirect to an undecodable {location:?}: {e:?}"));
            assert!(
                matches!(router.lookup(method, &decoded, None), RouteMatch::Found { .. }),
                "{path:?} redirects to {location:?}, which does not match"
            );
        }
        RouteMatch::MethodNotAllowed { allow } => assert!(!allow.is_empty()),
        RouteMatch::NotFound => {}
    }
}

fn check_pattern(pattern: &str, probe: &str) {
    let mut router = Router::new(true);
    if router.add(pattern, &["GET"], Some("r")).is_ok() {
        let _ = router.lookup("GET", probe, None);
        let _ = router.url_for("r", &[("id".into(), probe.into())]);
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else { return };
    let Ok(text) = std::str::from_utf8(rest) else { return };
    match mode % 4 {
        0 => check_path("GET", text),
        1 => check_path("HEAD", text),
        2 => check_path("POST", text),
        _ => {
            let (pattern, probe) = text.split_once('\n').unwrap_or((text, "/"));
            check_pattern(pattern, probe);
        }
    }
});
