"""Records the verdict a doctest-based runner gives each example it runs.

Works for any runner built on `doctest.DocTestRunner`: CPython's DocFileSuite, pytest's
`PytestDoctestRunner` (and pytest-doctestplus's), Sphinx's `SphinxDocTestRunner`. `install()`
wraps `DocTestRunner.run`: for the length of each run, the runner instance's own (possibly
overridden) `report_success`, `report_failure` and `report_unexpected_exception` are shadowed
by wrappers that append one JSON line to the file named by `$OBJGRAPH_DOCTEST_VERDICTS`, then
call through. Recording comes first because pytest raises from `report_failure` when it stops
at a page's first failure.

Each line is `{"file", "line", "source", "outcome", "name", "runner"}`:

- `file` is `DocTest.filename` as the runner gave it (Sphinx gives it relative to its source
  directory; the reader resolves it);
- `line` is 1-based: `DocTest.lineno + Example.lineno + 1` for tests parsed from text (both
  0-based; a text file's DocTest starts at 0), and `Example.lineno + 1` for DocTests built by
  hand (`docstring is None`: Sphinx's testcode, setup and cleanup code, whose example carries
  the directive's own line); `null` when the runner does not know it;
- `outcome` is `passed`, `failed`, or `skipped` when the example raised pytest's `Skipped`
  (pytest then skips the rest of the page).

Examples a runner never starts (SKIP, doctestplus's skips, after pytest stops at a failure)
write nothing. Under REPORT_ONLY_FIRST_FAILURE doctest reports nothing after the first
failure, so those examples are missing too; no project here uses it.
"""

import doctest
import json
import os

VERDICTS_VARIABLE = "OBJGRAPH_DOCTEST_VERDICTS"
REPORTERS = ("report_success", "report_failure", "report_unexpected_exception")


def page_line(test, example):
    """The 1-based line of `example` as the runner numbers it, or None."""
    if example.lineno is None:
        return None
    if test.docstring is None:
        return example.lineno + 1
    return (test.lineno or 0) + example.lineno + 1


def outcome_of(reporter, args):
    """The verdict a report method announces; `args` are the method's arguments."""
    if reporter == "report_success":
        return "passed"
    if reporter == "report_unexpected_exception" and len(args) >= 4:
        exc_info = args[3]
        if exc_info and type(exc_info[1]).__name__ == "Skipped":
            return "skipped"
    return "failed"


def write_record(record):
    path = os.environ.get(VERDICTS_VARIABLE)
    if not path:
        return
    line = (json.dumps(record) + "\n").encode("utf-8")
    # One write on an O_APPEND descriptor: records from several processes never interleave.
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(descriptor, line)
    finally:
        os.close(descriptor)


def recording(runner, reporter, bound):
    def report(*args, **kwargs):
        # Every reporter is called as (out, test, example, ...).
        if len(args) >= 3:
            test, example = args[1], args[2]
            write_record(
                {
                    "file": test.filename,
                    "line": page_line(test, example),
                    "source": example.source,
                    "outcome": outcome_of(reporter, args),
                    "name": test.name,
                    "runner": type(runner).__name__,
                }
            )
        return bound(*args, **kwargs)

    return report


def install():
    """Wraps `doctest.DocTestRunner.run` (once) so that every run records its verdicts."""
    original_run = doctest.DocTestRunner.run
    if getattr(original_run, "records_verdicts", False):
        return

    def run(self, test, *args, **kwargs):
        if self.__dict__.get("_records_verdicts"):
            # A subclass's run calling the base class's: already recording.
            return original_run(self, test, *args, **kwargs)
        shadowed = {name: self.__dict__[name] for name in REPORTERS if name in self.__dict__}
        for name in REPORTERS:
            setattr(self, name, recording(self, name, getattr(self, name)))
        self._records_verdicts = True
        try:
            return original_run(self, test, *args, **kwargs)
        finally:
            del self._records_verdicts
            for name in REPORTERS:
                if name in shadowed:
                    setattr(self, name, shadowed[name])
                else:
                    delattr(self, name)

    run.records_verdicts = True
    doctest.DocTestRunner.run = run
