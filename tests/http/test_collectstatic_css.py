"""``collect`` (``hyper collectstatic``) rewrites url() and @import references inside CSS
to the hashed names, as Django's ManifestStaticFilesStorage, and the served page's
stylesheet then loads its images by their hashed, immutable URLs."""

from __future__ import annotations

import json
import re
import sys
import types

import pytest

from hyperdjango import HyperApp
from hyperdjango.cli import main
from hyperdjango.static_css import CSSReferenceError
from hyperdjango.staticfiles import collect
from hyperdjango.testing import TestClient


@pytest.fixture
def static(tmp_path):
    root = tmp_path / "static"
    for folder in ("css/parts", "img", "fonts"):
        (root / folder).mkdir(parents=True)
    (root / "img" / "logo.png").write_bytes(b"\x89PNG logo")
    (root / "img" / "bg.svg").write_text("<svg/>")
    (root / "fonts" / "icons.woff2").write_bytes(b"wOF2")
    (root / "css" / "parts" / "base.css").write_text("body { background: url(../../img/bg.svg) }")
    (root / "css" / "site.css").write_text(
        '@import "parts/base.css";\n'
        "@import url('parts/base.css');\n"
        ".logo { background: url( \"../img/logo.png\" ) }\n"
        "@font-face { src: url(../fonts/icons.woff2?v=3#iefix) format('woff2') }\n"
        ".inline { background: url(data:image/png;base64,iVBORw0KGgo=) }\n"
        ".cdn { background: url(https://cdn.example/x.png) } .proto { background: url(//cdn.example/y.png) }\n"
        ".abs { background: url(/media/z.png) } .filter { filter: url(#blur) }\n"
        "/* url(../img/missing.png) is only a comment */\n"
    )
    return root


def test_references_point_at_hashed_names_relative_to_the_stylesheet(static, tmp_path):
    manifest = collect([static], tmp_path / "out")
    css = (tmp_path / "out" / manifest["css/site.css"]).read_text()
    base = manifest["css/parts/base.css"].removeprefix("css/")
    assert f'@import "{base}";' in css
    assert f"@import url('{base}');" in css
    assert f'url( "../{manifest["img/logo.png"]}" )' in css  # spacing and quotes as written
    assert f"url(../{manifest['fonts/icons.woff2']}?v=3#iefix)" in css  # query and fragment kept
    nested = (tmp_path / "out" / manifest["css/parts/base.css"]).read_text()
    assert nested == f"body {{ background: url(../../{manifest['img/bg.svg']}) }}"


def test_data_uris_absolute_urls_fragments_and_comments_are_left_alone(static, tmp_path):
    manifest = collect([static], tmp_path / "out")
    css = (tmp_path / "out" / manifest["css/site.css"]).read_text()
    for kept in ("url(data:image/png;base64,iVBORw0KGgo=)", "url(https://cdn.example/x.png)", "url(//cdn.example/y.png)",
                 "url(/media/z.png)", "url(#blur)", "/* url(../img/missing.png) is only a comment */"):
        assert kept in css


def test_the_unhashed_copy_stays_as_written(static, tmp_path):
    collect([static], tmp_path / "out")
    assert (tmp_path / "out" / "css" / "site.css").read_text() == (static / "css" / "site.css").read_text()


def test_a_stylesheet_hash_changes_when_an_image_it_refers_to_changes(static, tmp_path):
    before = collect([static], tmp_path / "one")
    (static / "img" / "bg.svg").write_text("<svg><rect/></svg>")  # referred to from base.css, imported by site.css
    after = collect([static], tmp_path / "two")
    assert after["img/bg.svg"] != before["img/bg.svg"]
    assert after["css/parts/base.css"] != before["css/parts/base.css"]
    assert after["css/site.css"] != before["css/site.css"]
    assert after["img/logo.png"] == before["img/logo.png"]


def test_a_missing_referenced_file_is_an_error_naming_the_stylesheet_and_the_reference(static, tmp_path):
    (static / "css" / "broken.css").write_text(".x { background: url('../img/nope.png') }")
    with pytest.raises(CSSReferenceError, match=r"css/broken.css: the reference '../img/nope.png' names 'img/nope.png'"):
        collect([static], tmp_path / "out")


def test_a_reference_climbing_out_of_the_static_root_is_refused(static, tmp_path):
    (tmp_path / "secret.css").write_text("secret")
    (static / "css" / "escape.css").write_text("@import '../../secret.css';")
    with pytest.raises(CSSReferenceError, match=r"css/escape.css: the reference '../../secret.css' points outside the static files"):
        collect([static], tmp_path / "out")


def test_stylesheets_importing_each_other_in_a_cycle_are_an_error(static, tmp_path):
    (static / "css" / "a.css").write_text("@import 'b.css';")
    (static / "css" / "b.css").write_text("@import url(a.css);")
    with pytest.raises(CSSReferenceError, match="cycle: css/a.css → css/b.css → css/a.css"):
        collect([static], tmp_path / "out")


def test_the_served_stylesheet_loads_its_image_by_the_hashed_immutable_url(static, tmp_path):
    collect([static], tmp_path / "out")
    app = HyperApp()
    app.static("/static", static, root=tmp_path / "out")
    with TestClient(app) as client:
        css = client.get(app.static_url("css/site.css"))
        image = re.search(r'url\( "(\.\./img/[^"]+)" \)', css.text).group(1)
        logo = client.get("/static/css/" + image)
        assert (logo.status_code, logo.content) == (200, b"\x89PNG logo")
        assert logo.headers["cache-control"] == "public, max-age=31536000, immutable"


def command_site(name, static, out, monkeypatch, prefix="/static"):
    """An importable module ``name`` whose app serves ``static`` at ``prefix``, for the command."""
    module = types.ModuleType(name)
    module.app = HyperApp()
    module.app.static(prefix, static, root=out)
    monkeypatch.setitem(sys.modules, name, module)


def test_the_command_reports_a_broken_reference_without_a_traceback(static, tmp_path, monkeypatch):
    (static / "css" / "broken.css").write_text(".x { background: url('../img/nope.png') }")
    command_site("broken_css_site", static, tmp_path / "out", monkeypatch)
    with pytest.raises(SystemExit, match="hyper collectstatic: css/broken.css: the reference '../img/nope.png'"):
        main(["collectstatic", "broken_css_site:app"])


def test_source_maps_of_stylesheets_and_scripts_point_at_hashed_maps(static, tmp_path):
    (static / "js").mkdir()
    (static / "css" / "min.css").write_text("a{color:red}\n/*# sourceMappingURL=min.css.map */\n")
    (static / "css" / "min.css.map").write_text('{"version": 3}')
    (static / "js" / "app.js").write_text("let x = 1;\n//# sourceMappingURL=app.js.map\n")
    (static / "js" / "app.js.map").write_text('{"version": 3}')
    manifest = collect([static], tmp_path / "out")
    css = (tmp_path / "out" / manifest["css/min.css"]).read_text()
    js = (tmp_path / "out" / manifest["js/app.js"]).read_text()
    assert css == f"a{{color:red}}\n/*# sourceMappingURL={manifest['css/min.css.map'].removeprefix('css/')} */\n"
    assert js == f"let x = 1;\n//# sourceMappingURL={manifest['js/app.js.map'].removeprefix('js/')}\n"


def test_a_missing_source_map_is_an_error_naming_the_script(static, tmp_path):
    (static / "app.js").write_text("let x = 1;\n//# sourceMappingURL=app.js.map\n")
    with pytest.raises(CSSReferenceError, match=r"app.js: the reference 'app.js.map' names 'app.js.map'"):
        collect([static], tmp_path / "out")


def test_absolute_references_under_the_static_url_are_hashed_others_left_alone(static, tmp_path):
    (static / "css" / "abs.css").write_text(".a { background: url('/static/img/logo.png#x') } .b { background: url(/media/img/logo.png) }")
    manifest = collect([static], tmp_path / "out", static_url="/static")
    css = (tmp_path / "out" / manifest["css/abs.css"]).read_text()
    assert css == f".a {{ background: url('/static/{manifest['img/logo.png']}#x') }} .b {{ background: url(/media/img/logo.png) }}"


def test_the_command_hashes_references_under_the_app_s_static_prefix(static, tmp_path, monkeypatch):
    (static / "css" / "abs.css").write_text(".a { background: url(/assets/img/logo.png) }")
    command_site("assets_css_site", static, tmp_path / "out", monkeypatch, prefix="/assets")
    main(["collectstatic", "assets_css_site:app"])
    manifest = json.loads((tmp_path / "out" / "staticfiles.json").read_text())["paths"]
    assert (tmp_path / "out" / manifest["css/abs.css"]).read_text() == f".a {{ background: url(/assets/{manifest['img/logo.png']}) }}"


def test_percent_encoded_references_and_folders(static, tmp_path):
    (static / "img" / "my logo.png").write_bytes(b"logo")
    (static / "css" / "enc.css").write_text(".a { background: url(../img/my%20logo.png) } @font-face { src: url(../fonts/) }")
    manifest = collect([static], tmp_path / "out")
    hashed = manifest["img/my logo.png"].removeprefix("img/").replace(" ", "%20")
    css = (tmp_path / "out" / manifest["css/enc.css"]).read_text()
    assert css == f".a {{ background: url(../img/{hashed}) }} @font-face {{ src: url(../fonts/) }}"
