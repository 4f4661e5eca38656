//! The template suite against the engine: inheritance, include, macros, autoescape,
//! reloading, errors and every Django-named filter.

use std::path::PathBuf;

use hyperdjango_templates::{Engine, EngineConfig, Moment, Value};

struct Folder(PathBuf);

impl Folder {
    fn new(files: &[(&str, &str)]) -> Folder {
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("hd-templates-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        for (name, source) in files {
            let path = dir.join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, source).unwrap();
        }
        Folder(dir)
    }

    fn engine(&self) -> Engine {
        Engine::new(EngineConfig {
            dirs: vec![self.0.clone()],
            ..Default::default()
        })
    }
}

impl Drop for Folder {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn ctx(pairs: &[(&str, Value)]) -> Value {
    Value::from_pairs(pairs.iter().map(|(k, v)| (k.to_string(), v.clone())))
}

fn render_one(source: &str, context: Value) -> String {
    let engine = Folder::new(&[]).engine();
    engine.render_str("t.html", source, &context).unwrap()
}

#[test]
fn inheritance_fills_blocks_and_super() {
    let f = Folder::new(&[
        ("base.html", "<title>{% block title %}Shop{% endblock %}</title>{% block body %}{% endblock %}"),
        ("page.html", "{% extends 'base.html' %}{% block title %}Tea · {{ super() }}{% endblock %}{% block body %}<p>{{ name }}</p>{% endblock %}"),
    ]);
    let out = f
        .engine()
        .render("page.html", &ctx(&[("name", "Green".into())]))
        .unwrap();
    assert_eq!(out, "<title>Tea · Shop</title><p>Green</p>");
}

#[test]
fn include_sees_the_context_and_macros_import() {
    let f = Folder::new(&[
        ("row.html", "<li>{{ item }}</li>"),
        ("forms.html", "{% macro field(name, value='') %}<input name=\"{{ name }}\" value=\"{{ value }}\">{% endmacro %}"),
        ("list.html", "{% import 'forms.html' as forms %}<ul>{% for item in items %}{% include 'row.html' %}{% endfor %}</ul>{{ forms.field('q', '<x>') }}"),
    ]);
    let items = Value::from(vec!["a", "b"]);
    let out = f
        .engine()
        .render("list.html", &ctx(&[("items", items)]))
        .unwrap();
    assert_eq!(
        out,
        "<ul><li>a</li><li>b</li></ul><input name=\"q\" value=\"&lt;x&gt;\">"
    );
}

#[test]
fn loops_set_and_whitespace_control() {
    let out = render_one(
        "{% set sep = ',' %}{% for x in xs -%}\n  {{ loop.index }}{{ x }}{% if not loop.last %}{{ sep }}{% endif %}\n{%- endfor %}",
        ctx(&[("xs", Value::from(vec!["a", "b", "c"]))]),
    );
    assert_eq!(out, "1a,2b,3c");
}

#[test]
fn autoescape_follows_the_extension_and_safe_opts_out() {
    let f = Folder::new(&[("a.html", "{{ x }}|{{ x|safe }}"), ("a.txt", "{{ x }}")]);
    let engine = f.engine();
    let c = ctx(&[("x", "<b>&</b>".into())]);
    assert_eq!(
        engine.render("a.html", &c).unwrap(),
        "&lt;b&gt;&amp;&lt;/b&gt;|<b>&</b>"
    );
    assert_eq!(engine.render("a.txt", &c).unwrap(), "<b>&</b>");
    let safe = ctx(&[("x", Value::from_safe_string("<i>ok</i>".into()))]);
    assert_eq!(
        engine.render("a.html", &safe).unwrap(),
        "<i>ok</i>|<i>ok</i>"
    );
}

#[test]
fn a_missing_template_and_a_climbing_name_are_not_found() {
    let f = Folder::new(&[("a.html", "x")]);
    let engine = f.engine();
    assert_eq!(
        engine
            .render("nope.html", &Value::UNDEFINED)
            .unwrap_err()
            .kind,
        "template not found"
    );
    assert_eq!(
        engine
            .render("../a.html", &Value::UNDEFINED)
            .unwrap_err()
            .kind,
        "template not found"
    );
}

#[test]
fn folders_are_searched_in_order() {
    let first = Folder::new(&[("a.html", "first")]);
    let second = Folder::new(&[("a.html", "second"), ("b.html", "only second")]);
    let engine = Engine::new(EngineConfig {
        dirs: vec![first.0.clone(), second.0.clone()],
        ..Default::default()
    });
    assert_eq!(engine.render("a.html", &Value::UNDEFINED).unwrap(), "first");
    assert_eq!(
        engine.render("b.html", &Value::UNDEFINED).unwrap(),
        "only second"
    );
}

#[test]
fn a_syntax_error_names_template_line_and_column_with_the_source() {
    let f = Folder::new(&[("bad.html", "line one\n<p>{{ name }</p>\nline three")]);
    let err = f
        .engine()
        .render("bad.html", &Value::UNDEFINED)
        .unwrap_err();
    assert_eq!(err.kind, "syntax error");
    assert_eq!(err.name.as_deref(), Some("bad.html"));
    assert_eq!(err.line, Some(2));
    assert!(err.column.is_some());
    assert_eq!(err.excerpt[1], (2, "<p>{{ name }</p>".to_owned()));
    assert!(err.to_string().contains("bad.html, line 2"), "{err}");
}

#[test]
fn an_error_in_an_included_template_names_that_template() {
    let f = Folder::new(&[
        ("outer.html", "a\n{% include 'inner.html' %}"),
        ("inner.html", "\n\n{{ 1 + }}"),
    ]);
    let err = f
        .engine()
        .render("outer.html", &Value::UNDEFINED)
        .unwrap_err();
    assert_eq!(err.name.as_deref(), Some("inner.html"));
    assert_eq!(err.line, Some(3));
}

#[test]
fn strict_undefined_raises_and_lenient_prints_nothing() {
    let f = Folder::new(&[("a.html", "[{{ missing }}]")]);
    assert_eq!(
        f.engine().render("a.html", &Value::UNDEFINED).unwrap(),
        "[]"
    );
    let strict = Engine::new(EngineConfig {
        dirs: vec![f.0.clone()],
        strict_undefined: true,
        ..Default::default()
    });
    let err = strict.render("a.html", &Value::UNDEFINED).unwrap_err();
    assert_eq!(err.kind, "undefined value");
    assert_eq!((err.line, err.column), (Some(1), Some(5)));
}

#[test]
fn a_changed_file_is_picked_up_only_with_reload() {
    let f = Folder::new(&[("a.html", "one")]);
    let cached = f.engine();
    let reloading = Engine::new(EngineConfig {
        dirs: vec![f.0.clone()],
        reload: true,
        ..Default::default()
    });
    assert_eq!(cached.render("a.html", &Value::UNDEFINED).unwrap(), "one");
    assert_eq!(
        reloading.render("a.html", &Value::UNDEFINED).unwrap(),
        "one"
    );
    let path = f.0.join("a.html");
    std::fs::write(&path, "two").unwrap();
    // Make the change visible even on a filesystem with coarse timestamps.
    let later = std::time::SystemTime::now() + std::time::Duration::from_secs(5);
    std::fs::File::options()
        .write(true)
        .open(&path)
        .unwrap()
        .set_modified(later)
        .unwrap();
    assert_eq!(cached.render("a.html", &Value::UNDEFINED).unwrap(), "one");
    assert_eq!(
        reloading.render("a.html", &Value::UNDEFINED).unwrap(),
        "two"
    );
}

#[test]
fn render_to_writes_the_same_text() {
    let f = Folder::new(&[("a.html", "{% for i in range(3) %}{{ i }}{% endfor %}")]);
    let mut out = Vec::new();
    f.engine()
        .render_to("a.html", &Value::UNDEFINED, &mut out)
        .unwrap();
    assert_eq!(out, b"012");
}

fn filter(expr: &str, value: Value) -> String {
    render_one(&format!("{{{{ v|{expr} }}}}"), ctx(&[("v", value)]))
}

fn moment(text: &str) -> Value {
    Moment::from_value(&Value::from(text)).unwrap().into_value()
}

#[test]
fn date_uses_django_format_codes() {
    let v = moment("2026-03-05 14:07:09");
    assert_eq!(filter("date", v.clone()), "March 5, 2026");
    assert_eq!(filter("date('D d M Y')", v.clone()), "Thu 05 Mar 2026");
    assert_eq!(
        filter("date('l jS F y, H:i:s')", v.clone()),
        "Thursday 5th March 26, 14:07:09"
    );
    assert_eq!(filter("date('g:i A, P')", v.clone()), "2:07 PM, 2:07 p.m.");
    assert_eq!(filter("date('\\\\Y\\\\m Y')", v.clone()), "Ym 2026");
    assert_eq!(
        filter("date('c O')", moment("2026-03-05T14:07:09+02:00")),
        "2026-03-05T14:07:09+02:00 +0200"
    );
    assert_eq!(filter("date('N j')", moment("2026-09-01")), "Sept. 1");
    assert_eq!(
        render_one("{{ v }}|{{ v.year }}", ctx(&[("v", v)])),
        "2026-03-05 14:07:09|2026"
    );
}

#[test]
fn the_other_django_filters() {
    assert_eq!(filter("default_if_none('-')", Value::from(())), "-");
    assert_eq!(filter("default_if_none('-')", Value::from("")), "");
    assert_eq!(filter("pluralize", Value::from(1)), "");
    assert_eq!(filter("pluralize", Value::from(2)), "s");
    assert_eq!(filter("pluralize('y,ies')", Value::from(2)), "ies");
    assert_eq!(filter("pluralize('y,ies')", Value::from(1)), "y");
    assert_eq!(filter("pluralize", Value::from(vec![1])), "");
    assert_eq!(
        filter("truncatewords(2)", Value::from("Joel is a slug")),
        "Joel is …"
    );
    assert_eq!(
        filter("truncatewords(9)", Value::from("Joel is a slug")),
        "Joel is a slug"
    );
    assert_eq!(
        filter("linebreaksbr", Value::from("a<b>\nc")),
        "a&lt;b&gt;<br>c"
    );
    assert_eq!(filter("intcomma", Value::from(45000)), "45,000");
    assert!(filter("naturaltime", moment("2000-01-01 00:00:00")).ends_with(" years ago"));
    assert_eq!(filter("urlencode", Value::from("a b&c")), "a%20b%26c");
    assert_eq!(
        filter("slugify", Value::from("Joel is a slug")),
        "joel-is-a-slug"
    );
    assert_eq!(
        filter(
            "json_script('data')",
            Value::from_pairs([("x", "</script>")])
        ),
        "<script id=\"data\" type=\"application/json\">{\"x\": \"\\u003c/script\\u003e\"}</script>"
    );
}

#[test]
fn jinja_builtin_filters_work() {
    assert_eq!(filter("upper", Value::from("a")), "A");
    assert_eq!(filter("join(',')", Value::from(vec![1, 2])), "1,2");
    assert_eq!(filter("length", Value::from(vec![1, 2])), "2");
    assert_eq!(filter("default('x')", Value::UNDEFINED), "x");
    assert_eq!(filter("title", Value::from("tea pot")), "Tea Pot");
    assert_eq!(filter("tojson", Value::from("<")), "\"\\u003c\"");
}
