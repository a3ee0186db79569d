"""Every answer the API tests get is checked against the farm's own OpenAPI document
(GET /api/v2/openapi.json): its status must be one the document lists for that route, and a JSON
body must match the schema listed for that status. So the document cannot drift from what the
gateway answers: a test run that meets an answer it does not describe fails there."""

import re
import urllib.parse

import jsonschema


def pattern_regex(pattern):
    """The route table's pattern ("/api/v2/jobs/{job_uid:3}/stop") as a regex of paths."""
    out = ""
    for seg in pattern.strip("/").split("/"):
        m = re.fullmatch(r"\{(\w+)(?::(\d+)|(\*))?\}", seg)
        if not m:
            out += "/" + re.escape(seg)
        elif m.group(2):
            out += "/[^/]+" * int(m.group(2))
        elif m.group(3):
            out += "(?:/[^/]+)+"
        else:
            out += "/[^/]+"
    return re.compile("^" + (out or "/") + "$")


class Checker:
    def __init__(self, doc):
        self.doc = doc
        self.routes = []
        for ops in doc["paths"].values():
            for method, op in ops.items():
                self.routes.append((method.upper(), pattern_regex(op["x-stbfarm-pattern"]), op))
        # the schemas refer to each other through #/components/schemas
        self.resolver = jsonschema.RefResolver.from_schema(doc)

    def operation(self, method, path):
        path = re.sub("/+", "/", urllib.parse.unquote(path))
        if len(path) > 1:
            path = path.rstrip("/")
        if method == "HEAD":
            method = "GET"
        for m, regex, op in self.routes:
            if m == method and regex.match(path):
                return op
        return None

    def check(self, method, url, response):
        op = self.operation(method, urllib.parse.urlsplit(url).path)
        if op is None:
            return  # no route: the gateway's 404 or 405, or a path refused before routing
        answer = op["responses"].get(str(response.status_code))
        where = "%s %s answered %d" % (method, url, response.status_code)
        assert answer is not None, "%s, which the OpenAPI document does not list (it lists %s)" % (
            where, ", ".join(sorted(op["responses"])))
        schema = answer.get("content", {}).get("application/json", {}).get("schema")
        if schema is None or method == "HEAD" or not response.content:
            return
        assert response.headers.get("Content-Type", "").startswith("application/json"), \
            "%s with %s, not JSON" % (where, response.headers.get("Content-Type"))
        try:
            jsonschema.validate(response.json(), schema, resolver=self.resolver,
                                cls=jsonschema.Draft202012Validator)
        except jsonschema.ValidationError as e:
            raise AssertionError("%s, not as the OpenAPI document says: %s" % (where, e.message))
