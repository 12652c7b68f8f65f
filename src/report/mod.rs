//! Reports: one renderer per output format, all reading the same data.

pub mod collect;

/// How results are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    /// For people: doctest's familiar layout.
    Human,
    /// The stable JSON interface documented in docs/json-report.md.
    Json,
}
