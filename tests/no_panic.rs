//! The parsers on hostile input: random bytes and mutated pages, every format. No panic, and
//! every span an example reports lies inside the page on a character boundary. (The
//! coverage-guided version of this is the cargo-fuzz target in fuzz/.)

use objgraph_doctest::engine::{FlagRegistry, PageFormat, parse_page};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

const SEEDS: &[&str] = &[
    "    >>> x = []\n    >>> objgraph.show_refs([y], filename='a.png')\n    Graph written to ....dot (3 nodes)\n",
    ">>> f()\nTraceback (most recent call last):\n  ...\nValueError: x\n",
    "```python\n>>> 1\n1\n```\n",
    "> ~~~pycon\n> >>> 2\n> 2\n> ~~~\n",
    "Title\n=====\n\n.. include:: ../README.rst\n   :end-before: x\n\n.. toctree::\n\n   a\n   b <c>\n",
    ">>> x # doctest: +ELLIPSIS\n... y\n\t>>> z\n\r\n",
    "```{doctest}\n:options: +SKIP\n>>> 3\n3\n```\n",
];

const PIECES: &[&str] = &[
    ">>>",
    ">>> ",
    "...",
    "... ",
    "\n",
    "\r\n",
    "\r",
    "\t",
    " ",
    "    ",
    "# doctest:",
    " +ELLIPSIS",
    "-SKIP",
    ",",
    "'",
    "\"",
    "```",
    "~~~",
    "> ",
    "- ",
    "1. ",
    "<BLANKLINE>",
    "Traceback (most recent call last):",
    "é",
    "\u{feff}",
    "\u{2028}",
    "\u{1c}",
    "===",
    ".. ",
    "::",
    "{doctest}",
    "python",
];

fn check(bytes: &[u8], registry: &FlagRegistry) {
    for format in [PageFormat::Text, PageFormat::Rst, PageFormat::Markdown] {
        let page = parse_page("hostile.txt", format, bytes, registry);
        for example in &page.examples {
            let span = &example.span;
            assert!(
                page.text.get(span.source_bytes.clone()).is_some(),
                "{bytes:?} {format:?}"
            );
            assert!(
                page.text.get(span.want_bytes.clone()).is_some(),
                "{bytes:?} {format:?}"
            );
            assert!(span.end_line() >= span.line);
        }
        for error in &page.errors {
            assert!(
                error.line >= 1 && error.column >= 1,
                "{bytes:?} {format:?} {error:?}"
            );
        }
    }
}

#[test]
fn random_bytes_never_panic() {
    let registry = FlagRegistry::new();
    let mut rng = ChaCha8Rng::seed_from_u64(0x0b1ec7);
    for _ in 0..3_000 {
        let length = rng.random_range(0..200);
        let bytes: Vec<u8> = (0..length).map(|_| rng.random()).collect();
        check(&bytes, &registry);
    }
}

#[test]
fn mutated_pages_never_panic() {
    let registry = FlagRegistry::new();
    let mut rng = ChaCha8Rng::seed_from_u64(0xd0c7e57);
    for _ in 0..10_000 {
        let mut page: Vec<u8> = SEEDS[rng.random_range(0..SEEDS.len())].as_bytes().to_vec();
        for _ in 0..rng.random_range(1..8) {
            let at = rng.random_range(0..=page.len());
            match rng.random_range(0..3) {
                0 => {
                    let piece = PIECES[rng.random_range(0..PIECES.len())].as_bytes();
                    page.splice(at..at, piece.iter().copied());
                }
                1 if at < page.len() => {
                    let end = (at + rng.random_range(1..6)).min(page.len());
                    page.drain(at..end);
                }
                _ => page.insert(at, rng.random()),
            }
        }
        check(&page, &registry);
    }
}
