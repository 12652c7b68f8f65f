#!/usr/bin/env python3
"""Wall time of objgraph 3.7.0's seven passing doc pages: objgraph-doctest beside objgraph's
own runner (tests.py's DocFileSuite), interleaved, several rounds; prints medians and ratio.

Usage: python3 benches/objgraph_docs.py [--rounds N] [--binary target/release/objgraph-doctest]

It downloads objgraph's sdist from PyPI and makes a venv with objgraph under
target/bench-cache (once), and needs graphviz's `dot` on PATH. The figures go into
docs/benchmarks.md with the command that produced them.
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CACHE = os.path.join(ROOT, "target", "bench-cache")
PAGES = [
    "chain.txt", "extra-info.txt", "generator-sample.txt", "highlighting.txt",
    "index.txt", "quoting.txt", "references.txt",
]

# objgraph's runner: tests.py's checker and setUp, DocFileSuite, ELLIPSIS, one process.
THEIR_RUNNER = r"""
import doctest, os, re, shutil, sys, tempfile, unittest
NODES_VARY = doctest.register_optionflag('NODES_VARY')
RANDOM_OUTPUT = doctest.register_optionflag('RANDOM_OUTPUT')
class RandomOutputChecker(doctest.OutputChecker):
    def check_output(self, want, got, optionflags):
        if optionflags & RANDOM_OUTPUT:
            return got != ""
        return doctest.OutputChecker.check_output(self, want, got, optionflags)
class IgnoreNodeCountChecker(RandomOutputChecker):
    _r = re.compile(r'\(\d+ nodes\)$', re.MULTILINE)
    def check_output(self, want, got, optionflags):
        if optionflags & NODES_VARY:
            want = self._r.sub('(X nodes)', want)
            got = self._r.sub('(X nodes)', got)
        return RandomOutputChecker.check_output(self, want, got, optionflags)
def setUp(test):
    test.tmpdir = tempfile.mkdtemp(prefix='test-objgraph-')
    test.prevdir = os.getcwd()
    test.prevtempdir = tempfile.tempdir
    tempfile.tempdir = test.tmpdir
    os.chdir(test.tmpdir)
def tearDown(test):
    tempfile.tempdir = test.prevtempdir
    os.chdir(test.prevdir)
    shutil.rmtree(test.tmpdir)
suite = doctest.DocFileSuite(*sys.argv[1:], module_relative=False, setUp=setUp,
                             tearDown=tearDown, optionflags=doctest.ELLIPSIS,
                             checker=IgnoreNodeCountChecker())
result = unittest.TextTestRunner(stream=open(os.devnull, 'w')).run(suite)
sys.exit(0 if result.wasSuccessful() else 1)
"""


def prepare():
    os.makedirs(CACHE, exist_ok=True)
    docs = os.path.join(CACHE, "objgraph-3.7.0", "docs")
    if not os.path.isdir(docs):
        subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
                        "--no-binary", ":all:", "-d", CACHE,
                        "objgraph==3.7.0"], check=True)
        with tarfile.open(os.path.join(CACHE, "objgraph-3.7.0.tar.gz")) as archive:
            archive.extractall(CACHE)
    venv = os.path.join(CACHE, "venv")
    python = os.path.join(venv, "bin", "python")
    if not os.path.exists(python):
        subprocess.run([sys.executable, "-m", "venv", venv], check=True)
        subprocess.run([python, "-m", "pip", "install", "--quiet", "objgraph==3.7.0"], check=True)
    return [os.path.join(docs, page) for page in PAGES], python


def timed(command, cwd):
    start = time.perf_counter()
    completed = subprocess.run(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    elapsed = time.perf_counter() - start
    if completed.returncode != 0:
        sys.exit(f"{command[0]} failed:\n{completed.stderr.decode(errors='replace')}")
    return elapsed


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--binary", default=os.path.join(ROOT, "target", "release", "objgraph-doctest"))
    args = parser.parse_args()
    if shutil.which("dot") is None:
        sys.exit("graphviz's dot is not on PATH; install graphviz")
    pages, python = prepare()
    ours_command = [args.binary, "--python", python, "-o", "ELLIPSIS", "--format", "json",
                    "--artifacts-dir", os.path.join(CACHE, "artifacts"), *pages]
    theirs_command = [python, "-c", THEIR_RUNNER, *pages]
    cwd = os.path.dirname(pages[0])
    timed(ours_command, cwd), timed(theirs_command, cwd)  # warm caches
    ours, theirs = [], []
    for _ in range(args.rounds):
        ours.append(timed(ours_command, cwd))
        theirs.append(timed(theirs_command, cwd))
    ours_median, theirs_median = statistics.median(ours), statistics.median(theirs)
    print(f"objgraph 3.7.0 docs, {len(pages)} pages, {args.rounds} interleaved rounds, {os.cpu_count()} cores")
    print(f"{'runner':<32} {'median':>9} {'min':>9} {'max':>9}")
    print(f"{'objgraph-doctest':<32} {ours_median:>8.3f}s {min(ours):>8.3f}s {max(ours):>8.3f}s")
    print(f"{'DocFileSuite (objgraph tests.py)':<32} {theirs_median:>8.3f}s {min(theirs):>8.3f}s {max(theirs):>8.3f}s")
    print(f"ratio (ours / theirs): {ours_median / theirs_median:.2f}x")


main()
