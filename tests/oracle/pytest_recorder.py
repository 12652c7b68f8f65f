"""A pytest plugin (`-p pytest_recorder`) that records what pytest's doctest runner decided
for every example of every text file it collects, for tests/oracle_pytest_runner.rs.

It wraps each doctest item's runner (pytest's own `PytestDoctestRunner`, or
pytest-doctestplus's) so that `report_success`, `report_failure` and
`report_unexpected_exception` note the example's verdict before pytest's code runs, and
writes one JSON line per example to the file named by `$PYTEST_RECORDER_OUT`:
`{"file", "line", "outcome", "reason"}` with `outcome` one of `passed`, `failed`, `skipped`
(a SKIP option, or `pytest.skip()` raised by this or an earlier example) and `not-run`
(after the first failure when pytest stops there). `line` is 1-based, the `>>>` line.
"""

import json
import os

import pytest


def _outcome_exception():
    from _pytest.outcomes import OutcomeException

    return OutcomeException


class _Recording:
    def __init__(self, runner):
        self.verdicts = {}
        self.skip_reason = None
        self._wrap(runner)

    def _wrap(self, runner):
        recording = self
        success = runner.report_success
        failure = runner.report_failure
        unexpected = runner.report_unexpected_exception

        def report_success(out, test, example, got):
            recording.verdicts[id(example)] = ("passed", None)
            return success(out, test, example, got)

        def report_failure(out, test, example, got):
            recording.verdicts[id(example)] = ("failed", None)
            return failure(out, test, example, got)

        def report_unexpected_exception(out, test, example, exc_info):
            if isinstance(exc_info[1], _outcome_exception()) and type(
                exc_info[1]
            ).__name__ == "Skipped":
                recording.verdicts[id(example)] = ("skipped", str(exc_info[1].msg))
                recording.skip_reason = str(exc_info[1].msg)
            else:
                recording.verdicts[id(example)] = ("failed", None)
            return unexpected(out, test, example, exc_info)

        runner.report_success = report_success
        runner.report_failure = report_failure
        runner.report_unexpected_exception = report_unexpected_exception


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    runner = getattr(item, "runner", None)
    dtest = getattr(item, "dtest", None)
    recording = _Recording(runner) if runner is not None and dtest is not None else None
    yield
    if recording is None:
        return
    import doctest

    lines = []
    skipping = None
    for example in dtest.examples:
        verdict = recording.verdicts.get(id(example))
        if verdict is not None:
            outcome, reason = verdict
            if outcome == "skipped":
                skipping = reason
        elif skipping is not None:
            outcome, reason = "skipped", skipping
        elif example.options.get(doctest.SKIP, False):
            outcome, reason = "skipped", None
        else:
            outcome, reason = "not-run", None
        lines.append(
            {
                "file": os.path.relpath(dtest.filename, str(item.config.rootpath)),
                "line": (dtest.lineno or 0) + example.lineno + 1,
                "outcome": outcome,
                "reason": reason,
            }
        )
    with open(os.environ["PYTEST_RECORDER_OUT"], "a", encoding="utf-8") as out:
        for line in lines:
            out.write(json.dumps(line) + "\n")
