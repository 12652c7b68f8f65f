//! objgraph-doctest: runs the `>>>` examples of documentation pages as CPython's doctest does.
//!
//! The layers, top to bottom (arrows point down only): the CLI (`main.rs`) and the language
//! server are front ends over the runner; the runner schedules pages on the backend; the
//! engine parses pages and judges output without any I/O. See ARCHITECTURE.md.

pub mod backend;
pub mod engine;
pub mod lsp;
pub mod report;
pub mod runner;
