//! Any bytes, read as a page of each format: the parsers return a page and never panic, and
//! every example's spans lie inside the page.
#![no_main]

use libfuzzer_sys::fuzz_target;
use objgraph_doctest::engine::{FlagRegistry, PageFormat, parse_page};

fuzz_target!(|bytes: &[u8]| {
    let registry = FlagRegistry::new();
    for format in [PageFormat::Text, PageFormat::Rst, PageFormat::Markdown] {
        let page = parse_page("fuzz.txt", format, bytes, &registry);
        for example in &page.examples {
            assert!(page.text.get(example.span.source_bytes.clone()).is_some());
            assert!(page.text.get(example.span.want_bytes.clone()).is_some());
            assert!(example.span.end_line() >= example.span.line);
        }
    }
});
