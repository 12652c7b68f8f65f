#!/usr/bin/env python3
"""The floor of one process per page: the least any runner that forks a fresh process per
page must do, with nothing else. It shows what isolation alone costs, beside what the tool
and pytest cost (benches/many_pages.py runs it as the "fork-per-page floor" runner).

Usage: python3 benches/fork_floor.py [-j JOBS] [--preload MODULE,...] DIRECTORY

A warm parent (doctest imported, as pytest has it, and the PRELOAD modules, which the
examples would otherwise import from disk in every child; gc.freeze()) lists the
`*.txt` pages under DIRECTORY and forks one child per page, at most JOBS at a time. A child
reads its page, parses it with doctest's parser, runs the examples in fresh globals as
DocTestRunner does (compiled "single", output captured, doctest's OutputChecker judging),
writes its pass and fail counts to a pipe and leaves with os._exit. (The parent holds no
parsed pages: their objects would make every fork copy more page tables.) Nothing more: no working folder, no
timeout, no crash report, no protocol, no results beyond two numbers, which is why no
real runner can cost less. It prints "N passed, M failed" and exits 1 on a failure.
"""

import argparse
import doctest
import gc
import io
import os
import sys


def pages_under(directory):
    found = []
    for root, _, files in os.walk(directory):
        found.extend(os.path.join(root, name) for name in files if name.endswith(".txt"))
    return sorted(found)


def run_page(path, checker, flags):
    """In the child: (passed, failed) of the page's examples."""
    with open(path, encoding="utf-8") as page:
        examples = doctest.DocTestParser().get_examples(page.read(), path)
    captured = io.StringIO()
    sys.stdout = captured
    globs = {"__name__": "__main__"}
    passed = failed = 0
    for index, example in enumerate(examples):
        captured.seek(0)
        captured.truncate()
        try:
            exec(compile(example.source, "<doctest page[%d]>" % index, "single", 0, True), globs)
            got = captured.getvalue()
        except BaseException:
            got = None
        if got is not None and checker.check_output(example.want, got, flags):
            passed += 1
        else:
            failed += 1
    return passed, failed


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-j", "--jobs", type=int, default=2)
    parser.add_argument("--preload", default="", help="modules to import before forking")
    parser.add_argument("directory")
    args = parser.parse_args()
    for module in filter(None, args.preload.split(",")):
        __import__(module)
    pages = pages_under(args.directory)
    checker = doctest.OutputChecker()
    gc.collect()
    gc.freeze()
    running = {}
    totals = [0, 0]

    def collect_one():
        pid, _ = os.wait()
        read_end = running.pop(pid)
        with os.fdopen(read_end, "rb") as pipe:
            counts = pipe.read().split()
        if len(counts) == 2:
            totals[0] += int(counts[0])
            totals[1] += int(counts[1])
        else:
            totals[1] += 1

    for path in pages:
        while len(running) >= args.jobs:
            collect_one()
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(read_end)
            passed, failed = run_page(path, checker, 0)
            os.write(write_end, b"%d %d" % (passed, failed))
            os._exit(0)
        os.close(write_end)
        running[pid] = read_end
    while running:
        collect_one()
    print("%d passed, %d failed" % tuple(totals))
    return 1 if totals[1] else 0


if __name__ == "__main__":
    sys.exit(main())
