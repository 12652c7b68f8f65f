//! Parse throughput on large pages, ours beside CPython's `DocTestParser`, in one run.
//!
//! `cargo bench --bench parse_throughput` prints, for each page shape, the median time of our
//! `parse_page` and of CPython's `DocTestParser().get_examples` on the same text, both as
//! MB/s, and the ratio. The pages are generated here (deterministically), so the figures are
//! comparable across machines and commits. Results are recorded in docs/benchmarks.md.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Instant;

use objgraph_doctest::engine::{FlagRegistry, PageFormat, parse_page};

const ROUNDS: usize = 15;

/// The CPython side: reads the page from stdin, times `get_examples` over ROUNDS rounds and
/// prints the median in seconds and the number of examples.
const PYTHON_TIMER: &str = r#"
import doctest, statistics, sys, time
doctest.register_optionflag('NODES_VARY')
doctest.register_optionflag('RANDOM_OUTPUT')
text = sys.stdin.buffer.read().decode('utf-8')
rounds = int(sys.argv[1])
parser = doctest.DocTestParser()
times = []
for _ in range(rounds):
    start = time.perf_counter()
    examples = parser.get_examples(text, 'bench.txt')
    times.append(time.perf_counter() - start)
print(statistics.median(times), len(examples))
"#;

fn main() {
    let registry = FlagRegistry::new();
    println!(
        "{:<28} {:>9} {:>9} {:>12} {:>12} {:>8}",
        "page", "size", "examples", "ours MB/s", "CPython MB/s", "ratio"
    );
    for (name, text) in pages() {
        let (ours_seconds, ours_examples) = time_ours(&text, &registry);
        let (cpython_seconds, cpython_examples) = time_cpython(&text);
        assert_eq!(
            ours_examples, cpython_examples,
            "{name}: example counts differ, the comparison would be meaningless"
        );
        let megabytes = text.len() as f64 / 1e6;
        println!(
            "{:<28} {:>8.1}M {:>9} {:>12.1} {:>12.1} {:>7.1}x",
            name,
            megabytes,
            ours_examples,
            megabytes / ours_seconds,
            megabytes / cpython_seconds,
            cpython_seconds / ours_seconds
        );
    }
}

fn time_ours(text: &str, registry: &FlagRegistry) -> (f64, usize) {
    let mut times = Vec::with_capacity(ROUNDS);
    let mut examples = 0;
    for _ in 0..ROUNDS {
        let start = Instant::now();
        let page = parse_page("bench.txt", PageFormat::Text, text.as_bytes(), registry);
        times.push(start.elapsed().as_secs_f64());
        examples = std::hint::black_box(page).examples.len();
    }
    times.sort_by(f64::total_cmp);
    (times[ROUNDS / 2], examples)
}

fn time_cpython(text: &str) -> (f64, usize) {
    let python = std::env::var("OBJGRAPH_DOCTEST_TEST_PYTHON").unwrap_or_else(|_| "python3".into());
    let mut child = Command::new(&python)
        .args(["-c", PYTHON_TIMER, &ROUNDS.to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|error| panic!("cannot start {python}: {error}"));
    let mut stdin = child.stdin.take().expect("piped stdin");
    let payload = text.as_bytes().to_vec();
    let writer = std::thread::spawn(move || stdin.write_all(&payload));
    let output = child.wait_with_output().expect("python runs");
    writer.join().expect("writer").expect("page written");
    let printed = String::from_utf8_lossy(&output.stdout);
    let mut fields = printed.split_whitespace();
    let seconds = fields
        .next()
        .and_then(|s| s.parse().ok())
        .expect("median printed");
    let examples = fields
        .next()
        .and_then(|s| s.parse().ok())
        .expect("count printed");
    (seconds, examples)
}

/// Large pages of different shapes, each about 4 MB.
fn pages() -> Vec<(&'static str, String)> {
    let objgraph_like = "Quick start\n-----------\n\nTry this in a Python shell:\n\n    \
        >>> x = []\n    >>> y = [x, [x], dict(x=x)]\n    >>> import objgraph\n    \
        >>> objgraph.show_refs([y], filename='sample-graph.png')\n    \
        Graph written to ....dot (... nodes)\n    Image generated as sample-graph.png\n\n\
        (If you've installed ``xdot``, omit the filename argument to get the\ninteractive \
        viewer.)\n\n    >>> objgraph.show_backrefs([x], filename='b.png')\n    \
        ... # doctest: +NODES_VARY\n    Graph written to ....dot (8 nodes)\n    \
        Image generated as b.png\n\n";
    let prose = "This paragraph explains the next example at some length, so that most of \
        the page is prose and the parser spends its time skipping text rather than building \
        examples. It goes on for a while, as documentation does.\n\n    >>> 1 + 1\n    2\n\n";
    let dense = ">>> def f(x):\n...     return x * 2\n>>> f(21)\n42\n>>> f('ab')  # doctest: +ELLIPSIS\n'abab'\n\
        >>> raise ValueError('no')\nTraceback (most recent call last):\n  ...\nValueError: no\n";
    let target = 4_000_000;
    [
        ("objgraph-like (indented)", objgraph_like),
        ("mostly prose", prose),
        ("dense examples", dense),
    ]
    .into_iter()
    .map(|(name, unit)| (name, unit.repeat(target / unit.len() + 1)))
    .collect()
}
