"""A pytest plugin (`-p doctestplus_recorder`) recording pytest-doctestplus's verdict on
each example it runs, for tests/oracle_doctestplus_pages.rs.

It wraps the runner's report_success, report_failure and report_unexpected_exception and
appends one JSON line per call to the file named by $DOCTESTPLUS_RECORD:
  {"file": basename, "line": 1-based line of the ">>>", "outcome": "passed" | "failed"}
Skipped examples are not reported by doctest, so they are not recorded; nor are the
examples doctestplus inserts itself (its warnings contexts).
"""

import json
import os

import pytest_doctestplus.plugin as doctestplus


def record(test, example, outcome):
    if example.source.startswith("class _doctestplus_"):
        # The warnings context doctestplus inserts as the file's first example.
        return
    line = (test.lineno or 0) + example.lineno + 1
    entry = {"file": os.path.basename(test.filename), "line": line, "outcome": outcome}
    with open(os.environ["DOCTESTPLUS_RECORD"], "a", encoding="utf-8") as out:
        out.write(json.dumps(entry) + "\n")


def wrap(method, outcome):
    def recording(self, out, test, example, *rest):
        record(test, example, outcome)
        return method(self, out, test, example, *rest)

    return recording


Runner = doctestplus.DebugRunnerPlus
Runner.report_success = wrap(Runner.report_success, "passed")
Runner.report_failure = wrap(Runner.report_failure, "failed")
Runner.report_unexpected_exception = wrap(Runner.report_unexpected_exception, "failed")
