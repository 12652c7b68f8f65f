"""Oracle for tests/oracle_sphinx.rs: runs `sphinx-build -b doctest` on Sphinx projects and
records the verdict of every example Sphinx's doctest builder runs.

Input (stdin, JSON): {"projects": [source directory, ...]}.
Output (stdout, JSON): {"sphinx": version, "records": [{"project", "doc", "group", "role",
"source", "verdict"}]}, records in the order the builder ran the examples; "verdict" is
"pass" or "fail" ("fail" also for an unexpected exception). An example the builder does not
run (skipped, in a group whose setup failed) has no record. Sphinx's own output goes to
stderr.

The verdicts are taken where doctest reports them (DocTestRunner.report_success,
report_failure, report_unexpected_exception on Sphinx's SphinxDocTestRunner), so the fixture
pages must not use REPORT_ONLY_FIRST_FAILURE (which silences those reports).
"""

import contextlib
import json
import sys
import tempfile

import sphinx
from sphinx.cmd.build import build_main
from sphinx.ext import doctest as sphinx_doctest

RECORDS = []
CURRENT = {"project": None, "doc": None}


def role_and_group(test_name):
    for suffix, role in ((" (setup code)", "setup"), (" (cleanup code)", "cleanup")):
        if test_name.endswith(suffix):
            return role, test_name[: -len(suffix)]
    return "test", test_name


def recorder(verdict):
    def record(self, out, test, example, *rest):
        role, group = role_and_group(test.name)
        RECORDS.append(
            {
                "project": CURRENT["project"],
                "doc": CURRENT["doc"],
                "group": group,
                "role": role,
                "source": example.source,
                "verdict": verdict,
            }
        )

    return record


original_test_doc = sphinx_doctest.DocTestBuilder.test_doc


def test_doc(self, docname, doctree):
    CURRENT["doc"] = docname
    return original_test_doc(self, docname, doctree)


sphinx_doctest.DocTestBuilder.test_doc = test_doc
sphinx_doctest.SphinxDocTestRunner.report_success = recorder("pass")
sphinx_doctest.SphinxDocTestRunner.report_failure = recorder("fail")
sphinx_doctest.SphinxDocTestRunner.report_unexpected_exception = recorder("fail")


def main():
    request = json.load(sys.stdin)
    statuses = []
    for project in request["projects"]:
        CURRENT["project"] = project
        with tempfile.TemporaryDirectory() as out:
            with contextlib.redirect_stdout(sys.stderr):
                status = build_main(
                    ["-b", "doctest", "-E", "-q", "-d", out + "/doctrees", project, out]
                )
        statuses.append(status)
    json.dump(
        {"sphinx": sphinx.__version__, "statuses": statuses, "records": RECORDS},
        sys.stdout,
    )


main()
