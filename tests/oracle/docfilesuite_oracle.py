"""Oracle: run pages as objgraph's tests.py runs them (DocFileSuite semantics, its setUp and
IgnoreNodeCountChecker, ELLIPSIS on) and print each example's verdict as JSON.

Input (stdin, JSON): {"pages": [absolute paths], "optionflags": ["ELLIPSIS", ...]}
Output: {"path": [{"line": 1-based line of >>>, "verdict": "passed"|"failed"|"skipped"|"not-run"}]}
"""

import doctest
import json
import os
import re
import shutil
import sys
import tempfile

from objgraph_checker import NODES_VARY, RANDOM_OUTPUT, IgnoreNodeCountChecker, RandomOutputChecker  # noqa: F401


class RecordingRunner(doctest.DocTestRunner):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.verdicts = {}

    def report_start(self, out, test, example):
        pass

    def report_success(self, out, test, example, got):
        self.verdicts[example.lineno] = "passed"

    def report_failure(self, out, test, example, got):
        self.verdicts[example.lineno] = "failed"

    def report_unexpected_exception(self, out, test, example, exc_info):
        self.verdicts[example.lineno] = "failed"


def run_page(path, optionflags):
    """What DocFileCase.runTest does, with tests.py's setUp and tearDown around it."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    name = os.path.basename(path)
    test = doctest.DocTestParser().get_doctest(text, {"__file__": path}, name, path, 0)
    tmpdir = tempfile.mkdtemp(prefix="test-objgraph-")
    prevdir, prevtempdir = os.getcwd(), tempfile.tempdir
    tempfile.tempdir = tmpdir
    os.chdir(tmpdir)
    runner = RecordingRunner(optionflags=optionflags, checker=IgnoreNodeCountChecker(), verbose=False)
    try:
        runner.run(test, clear_globs=False, out=lambda s: None)
    finally:
        tempfile.tempdir = prevtempdir
        os.chdir(prevdir)
        shutil.rmtree(tmpdir)
        test.globs.clear()
    verdicts = []
    for example in test.examples:
        flags = optionflags
        for flag, value in example.options.items():
            flags = flags | flag if value else flags & ~flag
        if example.lineno in runner.verdicts:
            verdict = runner.verdicts[example.lineno]
        elif flags & doctest.SKIP:
            verdict = "skipped"
        else:
            verdict = "not-run"
        verdicts.append({"line": example.lineno + 1, "verdict": verdict})
    return verdicts


def main():
    request = json.load(sys.stdin)
    optionflags = 0
    for name in request["optionflags"]:
        optionflags |= doctest.OPTIONFLAGS_BY_NAME[name]
    results = {path: run_page(path, optionflags) for path in request["pages"]}
    json.dump(results, sys.stdout)


main()
