//! Reports: one renderer per output format, all reading the same run data.

pub mod collect;
pub mod github;
pub mod html;
pub mod human;
pub mod json;
pub mod junit;
pub mod merge;
pub mod show_config;
pub mod style;
pub mod summary;

/// How results are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    /// For people: doctest's familiar layout, a diff, and a closing line of counts.
    Human,
    /// The stable JSON interface documented in docs/json-report.md.
    Json,
    /// JUnit XML, for CI systems.
    Junit,
    /// GitHub Actions annotations at the file and line of each failure.
    Github,
}
