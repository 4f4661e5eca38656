"""The conversion of context values, which decides what each Python type is once per
render: values of different types in one list keep their own kinds, and a proxy that
answers through __getattr__ is still asked."""

from __future__ import annotations

import dataclasses

from markupsafe import Markup

from hyperdjango.templates import Templates


@dataclasses.dataclass
class Tea:
    name: str


class Proxy:
    """Answers every attribute through __getattr__, as lazy-object proxies do."""

    def __init__(self, target):
        self._target = target

    def __getattr__(self, name):
        return getattr(self._target, name)


def test_values_of_several_types_in_one_list_keep_their_kinds():
    items = [Tea("sencha"), Markup("<b>bold</b>"), {"name": "dict"}, "<i>", 3, Tea("<oolong>")]
    page = Templates(None).from_string("{% for i in items %}[{{ i.name if i.name is defined else i }}]{% endfor %}", {"items": items})
    assert page == "[sencha][<b>bold</b>][dict][&lt;i&gt;][3][&lt;oolong&gt;]"


def test_a_proxy_s_html_is_found_through_its_getattr():
    page = Templates(None).from_string("{{ p }}", {"p": Proxy(Markup("<em>safe</em>"))})
    assert page == "<em>safe</em>"
