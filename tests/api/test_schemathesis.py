"""A bounded schemathesis run against the example shop's API: no server error, and no
response that contradicts the OpenAPI document (status codes, content types, bodies)."""

import subprocess
import sys

import hypothesis
import schemathesis
from hypothesis import HealthCheck

from hyperdjango.testing import TestClient
from orm.test_example_shop import SHOP, load_shop

#: Examples per operation: enough to try each parameter's edges, small enough for CI.
EXAMPLES = 25


def test_the_example_api_holds_to_its_document(tmp_path):
    url = f"sqlite:///{tmp_path}/shop.sqlite3"
    migrated = subprocess.run([sys.executable, "-m", "hyperdjango", "migrate", "examples.shop", "--database", url],
                              cwd=SHOP.parents[1], capture_output=True, text=True, timeout=60)
    assert migrated.returncode == 0, migrated.stderr
    app = load_shop(url)
    with TestClient(app) as client:
        schema = schemathesis.openapi.from_url(client.base_url + "/openapi.json").include(path_regex="^/api/")
        operations = [result.ok() for result in schema.get_all_operations()]
        assert {f"{o.method.upper()} {o.path}" for o in operations} == {
            "GET /api/products", "POST /api/products", "GET /api/products/{id}", "GET /api/catalogue",
            "GET /api/admin/whoami", "POST /api/products/{id}/restock",
        }
        calls = []
        for operation in operations:

            @hypothesis.given(case=operation.as_strategy())
            @hypothesis.settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                                 suppress_health_check=list(HealthCheck), phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate])
            def check(case):
                case.call_and_validate(base_url=client.base_url)
                calls.append(case.operation.path)

            check()
        assert len(calls) >= len(operations) * 5  # the run really exercised every operation
