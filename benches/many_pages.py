#!/usr/bin/env python3
"""Many small pages: objgraph-doctest beside pytest --doctest-glob (one process),
pytest-xdist (-n 2) and the fork-per-page floor (benches/fork_floor.py: what one process per
page costs with nothing else), on a generated corpus, side by side in one run.

Usage:
  python3 benches/many_pages.py [--pages 400] [--examples 20] [--rounds 5]
                                [--binary target/release/objgraph-doctest] [--jobs 2]
                                [--interpreter PYTHON] [--baseline OLD_BINARY]
  python3 benches/many_pages.py --scaling 10,100,1000,4000 [--rounds 3]

The corpus is generated deterministically (seed 20261202) under target/bench-cache/corpus-*:
`.txt` pages of small pure-Python examples (dicts, sorted, string formatting, a for loop
printing lines, math.sqrt), every one passing under both runners. pytest 8.3.5 and
pytest-xdist 3.6.1 are installed once into target/bench-cache/pytest-venv, with the same
interpreter as the tool's examples (the venv's python, given to the tool with --python).

Per runner and round it measures wall time, CPU time (user + system of all child
processes, from getrusage) and the peak RSS of the largest child process; it prints the
medians and the ratios to serial pytest. The runs are interleaved (tool, pytest, xdist, tool,
...) so that a change in machine load affects all three alike. The figures go into
docs/benchmarks.md with the command that produced them.
"""

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CACHE = os.path.join(ROOT, "target", "bench-cache")
VENV = os.path.join(CACHE, "pytest-venv")
REQUIREMENTS = ["pytest==8.3.5", "pytest-xdist==3.6.1"]
SEED = 20261202
FLOOR = os.path.join(ROOT, "benches", "fork_floor.py")


def example(rng, index):
    """One small passing example (source lines, expected output lines)."""
    kind = rng.randrange(5)
    n = rng.randrange(2, 9)
    if kind == 0:
        keys = sorted(rng.sample("abcdefghijklmnop", n))
        src = [f"d{index} = {{{', '.join(f'{k!r}: {i}' for i, k in enumerate(keys))}}}",
               f"sorted(d{index}.items())[:3]"]
        return src, [repr(sorted({k: i for i, k in enumerate(keys)}.items())[:3])]
    if kind == 1:
        values = [rng.randrange(100) for _ in range(n)]
        return [f"sorted({values!r}, reverse=True)"], [repr(sorted(values, reverse=True))]
    if kind == 2:
        word, number = rng.choice(["alpha", "beta", "gamma"]), rng.randrange(1000)
        return [f"'{{:>8}}|{{:05d}}'.format({word!r}, {number})"], [
            repr("{:>8}|{:05d}".format(word, number))]
    if kind == 3:
        return [f"for i in range({n}):", "...     print(i, i * i)"], [
            f"{i} {i * i}" for i in range(n)]
    value = rng.randrange(1, 10_000)
    return ["import math", f"round(math.sqrt({value}), 3)"], [
        repr(round(value ** 0.5, 3))]


def page_text(rng, examples):
    lines = ["A generated page", "================", ""]
    for index in range(examples):
        src, want = example(rng, index)
        lines.append(f"Example {index}:")
        lines.append("")
        if src[0] == "import math":
            lines.append(">>> import math")
            src = src[1:]
        lines.append(f">>> {src[0]}")
        for line in src[1:]:
            lines.append(line if line.startswith("...") else f">>> {line}")
        lines.extend(want)
        lines.append("")
    return "\n".join(lines) + "\n"


def corpus(pages, examples):
    directory = os.path.join(CACHE, f"corpus-{pages}x{examples}")
    marker = os.path.join(directory, ".complete")
    if os.path.exists(marker):
        return directory
    shutil.rmtree(directory, ignore_errors=True)
    os.makedirs(os.path.join(directory, "docs"))
    rng = random.Random(SEED)
    for number in range(pages):
        with open(os.path.join(directory, "docs", f"page{number:05d}.txt"), "w") as f:
            f.write(page_text(rng, examples))
    # Neither runner may pick up a configuration from outside the corpus.
    with open(os.path.join(directory, "pytest.ini"), "w") as f:
        f.write("[pytest]\n")
    with open(os.path.join(directory, "objgraph-doctest.toml"), "w") as f:
        f.write("preload = []\n")
    open(marker, "w").close()
    return directory


def venv_python(interpreter):
    """The venv's python, made from `interpreter` (one venv per interpreter version)."""
    version = subprocess.run(
        [interpreter, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
        stdout=subprocess.PIPE, check=True, text=True).stdout.strip()
    venv = VENV if interpreter == sys.executable else f"{VENV}-{version}"
    python = os.path.join(venv, "bin", "python")
    if not os.path.exists(python):
        subprocess.run([interpreter, "-m", "venv", venv], check=True)
        subprocess.run([python, "-m", "pip", "install", "-q", *REQUIREMENTS], check=True)
    return python


# Runs one command in a fresh process and reports what it and its descendants used: the
# peak RSS of RUSAGE_CHILDREN only ever grows, so each measurement needs its own parent.
MEASURE = r"""
import json, resource, subprocess, sys, time
started = time.perf_counter()
result = subprocess.run(sys.argv[1:], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
wall = time.perf_counter() - started
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"code": result.returncode, "wall": wall,
                  "cpu": usage.ru_utime + usage.ru_stime, "rss_kib": usage.ru_maxrss,
                  "tail": result.stdout.decode(errors="replace")[-3000:]}))
"""


def measure(command, cwd):
    """(wall seconds, CPU seconds of it and its children, peak RSS MiB of the largest)."""
    answer = subprocess.run([sys.executable, "-c", MEASURE, *command], cwd=cwd,
                            stdout=subprocess.PIPE, check=True)
    figures = json.loads(answer.stdout)
    if figures["code"] != 0:
        sys.exit(f"{' '.join(command)} failed ({figures['code']}):\n{figures['tail']}")
    return figures["wall"], figures["cpu"], figures["rss_kib"] / 1024


def runners(binary, python, jobs, baseline=None):
    tools = [("objgraph-doctest", binary)]
    if baseline:
        tools.append(("objgraph-doctest (baseline)", baseline))
    return [
        *((name, [tool, "--python", python, "-j", str(jobs), "docs"]) for name, tool in tools),
        ("pytest (serial)", [python, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                             "--doctest-glob=*.txt", "docs"]),
        (f"pytest -n {jobs}", [python, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                               "-n", str(jobs), "--doctest-glob=*.txt", "docs"]),
        # What one process per page costs with nothing else (see benches/fork_floor.py);
        # `math` is the one module the corpus imports.
        (f"fork-per-page floor (-j {jobs})", [python, FLOOR, "--preload", "math", "-j",
                                             str(jobs), "docs"]),
    ]


def compare(pages, examples, rounds, binary, python, jobs, baseline=None):
    directory = corpus(pages, examples)
    table = runners(binary, python, jobs, baseline)
    figures = {name: [] for name, _ in table}
    for name, command in table:  # warm-up: caches, .pyc files
        measure(command, directory)
    for _ in range(rounds):
        for name, command in table:
            figures[name].append(measure(command, directory))
    return figures


def median(values, index):
    return statistics.median(value[index] for value in values)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=int, default=400)
    parser.add_argument("--examples", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--binary", default=os.path.join(ROOT, "target", "release",
                                                         "objgraph-doctest"))
    parser.add_argument("--baseline", help="another objgraph-doctest binary (an older "
                        "build), measured in the same rounds")
    parser.add_argument("--interpreter", default=sys.executable,
                        help="the Python both runners use (a venv is made from it)")
    parser.add_argument("--scaling", help="comma-separated page counts, e.g. 10,100,1000")
    args = parser.parse_args()
    args.binary = os.path.abspath(args.binary)
    if args.baseline:
        args.baseline = os.path.abspath(args.baseline)
    if not os.path.exists(args.binary):
        sys.exit(f"{args.binary} does not exist: run `cargo build --release` first")
    python = venv_python(args.interpreter)
    sizes = [int(n) for n in args.scaling.split(",")] if args.scaling else [args.pages]
    print(f"{args.examples} examples per page, median of {args.rounds} rounds, "
          f"-j {args.jobs}, {python}")
    print("| pages | runner | wall | CPU | peak RSS | wall vs pytest | CPU vs pytest |")
    print("| ---: | --- | ---: | ---: | ---: | ---: | ---: |")
    for pages in sizes:
        figures = compare(pages, args.examples, args.rounds, args.binary, python, args.jobs,
                          args.baseline)
        serial = figures["pytest (serial)"]
        for name, values in figures.items():
            wall, cpu, rss = (median(values, i) for i in range(3))
            print(f"| {pages} | {name} | {wall:.2f} s | {cpu:.2f} s | {rss:.0f} MiB | "
                  f"{wall / median(serial, 0):.2f}x | {cpu / median(serial, 1):.2f}x |",
                  flush=True)


if __name__ == "__main__":
    main()
