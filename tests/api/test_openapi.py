"""GET /api/v2/openapi.json: an OpenAPI 3.1 document of every route the gateway serves, built
from its route table. Every route in gateway/gw_routes.c is in it and nothing else is; it lints
clean with Redocly; and every answer of the whole API suite is checked against it
(tests/api/openapi.py, through farm.Session)."""

import json
import os
import re
import subprocess

import pytest

from farm import REPO, Farm
from openapi import pattern_regex

LINTER = os.path.join(REPO, "tests", "openapi", "node_modules", ".bin", "redocly")


@pytest.fixture(scope="module")
def doc():
    f = Farm().start()
    try:
        r = f.session("alice").get("/api/v2/openapi.json")
        assert r.status_code == 200 and r.headers["Content-Type"] == "application/json"
        yield r.json()
    finally:
        f.stop()


def route_table():
    with open(os.path.join(REPO, "gateway", "gw_routes.c")) as f:
        text = f.read()
    return sorted(set(re.findall(r'\{"(GET|POST|PUT|DELETE)",\s*"([^"]+)"', text)))


def test_every_route_of_the_table_is_in_the_document_and_nothing_else(doc):
    documented = sorted(set((m.upper(), op["x-stbfarm-pattern"])
                            for ops in doc["paths"].values() for m, op in ops.items()))
    assert documented == route_table()


def test_the_document_says_what_each_route_answers(doc):
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            assert op["summary"] and op["responses"], (method, path)
            ok = [s for s in op["responses"] if s[0] in "23"]  # "/" redirects: 302
            assert ok, (method, path)
            if not op.get("security") == []:  # every route but /healthz takes a token
                assert {"403", "429", "503"} <= set(op["responses"]), (method, path)


def test_paths_parameters_and_bodies_follow_the_route_table(doc):
    ops = doc["paths"]["/api/v2/jobs{job_uid}/await_completion"]["get"]
    (uid,) = [p for p in ops["parameters"] if p["in"] == "path"]
    assert uid["name"] == "job_uid" and "3 path segments" in uid["description"]
    assert pattern_regex(ops["x-stbfarm-pattern"]).match("/api/v2/jobs/stb-tester-1/0a23/9/"
                                                         "await_completion")
    run = doc["paths"]["/api/v2/run_tests"]["post"]
    body = run["requestBody"]["content"]["application/json"]["schema"]
    assert "test_pack_revision" in body["required"]
    assert {"required": ["node_id"]} in body["oneOf"]
    assert body["properties"]["test_cases"]["type"] == "array"
    results = doc["paths"]["/api/v2/results"]["get"]
    assert {"filter", "sort", "tz"} <= {p["name"] for p in results["parameters"]}
    node = doc["components"]["schemas"]["Node"]
    assert node["additionalProperties"] is False and "not_available_reason" in node["required"]


def test_the_document_lints_clean_with_redocly(doc, tmp_path):
    path = tmp_path / "openapi.json"
    path.write_text(json.dumps(doc))
    config = tmp_path / "redocly.yaml"
    # the recommended rules; stbfarm's operations have no tags descriptions or examples
    config.write_text("extends:\n  - recommended\nrules:\n  operation-4xx-response: error\n"
                      "  no-server-example.com: off\n"
                      "  tag-description: off\n")
    r = subprocess.run([LINTER, "lint", "--config", str(config), str(path)], capture_output=True,
                       text=True, timeout=300, env=dict(os.environ, REDOCLY_TELEMETRY="off",
                                                        REDOCLY_SUPPRESS_UPDATE_NOTICE="true"))
    assert r.returncode == 0, r.stdout + r.stderr
