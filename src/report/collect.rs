//! `--collect-only`: the examples and parse errors of each page, without running anything,
//! as JSON (a stable interface: docs/json-report.md) or as a listing for people.

use std::fmt::Write as _;

use serde::Serialize;
use serde::ser::SerializeMap;

use crate::engine::page::{ExampleRole, ParseErrorKind};
use crate::engine::{Example, Flag, FlagRegistry, Page, PageFormat, ParseError};
use crate::runner::structure::StructureWarning;

/// The version of the JSON schema; bumped only for incompatible changes.
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Serialize)]
struct CollectReport<'a> {
    version: u32,
    /// Includes and toctree entries that point nowhere (they never fail a run).
    warnings: &'a [StructureWarning],
    pages: Vec<PageReport<'a>>,
}

#[derive(Serialize)]
struct PageReport<'a> {
    path: &'a str,
    format: PageFormat,
    errors: Vec<ErrorReport<'a>>,
    examples: Vec<ExampleReport<'a>>,
}

/// A parse error in the JSON reports.
#[derive(Serialize)]
pub struct ErrorReport<'a> {
    line: usize,
    column: usize,
    kind: ParseErrorKind,
    message: &'a str,
}

impl<'a> ErrorReport<'a> {
    pub fn new(error: &'a ParseError) -> Self {
        ErrorReport {
            line: error.line,
            column: error.column,
            kind: error.kind,
            message: &error.message,
        }
    }
}

/// An example's fields in the JSON report; shared with the run report.
#[derive(Serialize)]
pub struct ExampleReport<'a> {
    pub line: usize,
    pub end_line: usize,
    pub source: &'a str,
    pub want: &'a str,
    pub exc_msg: Option<&'a str>,
    pub indent: usize,
    pub options: OptionsReport<'a>,
    /// The Sphinx group whose namespace it runs in; absent for a page's one namespace.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<&'a str>,
    /// `setup` or `cleanup` for a Sphinx group's `testsetup`/`testcleanup` code; absent for
    /// a test.
    #[serde(skip_serializing_if = "is_test")]
    pub role: ExampleRole,
}

fn is_test(role: &ExampleRole) -> bool {
    *role == ExampleRole::Test
}

impl<'a> ExampleReport<'a> {
    pub fn new(example: &'a Example, registry: &'a FlagRegistry) -> Self {
        ExampleReport {
            line: example.span.line,
            end_line: example.span.end_line(),
            source: &example.source,
            want: &example.want,
            exc_msg: example.exc_msg.as_deref(),
            indent: example.indent,
            options: OptionsReport {
                options: &example.options,
                registry,
            },
            group: example.run.group.as_deref(),
            role: example.run.role,
        }
    }
}

/// The directives written on an example, as `{"FLAG": true|false}` in the order written.
pub struct OptionsReport<'a> {
    options: &'a [(Flag, bool)],
    registry: &'a FlagRegistry,
}

impl Serialize for OptionsReport<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.options.len()))?;
        for &(flag, on) in self.options {
            map.serialize_entry(self.registry.name(flag), &on)?;
        }
        map.end()
    }
}

/// The collection as pretty JSON, ending with a newline.
pub fn render_json(
    pages: &[Page],
    registry: &FlagRegistry,
    warnings: &[StructureWarning],
) -> String {
    let report = CollectReport {
        version: SCHEMA_VERSION,
        warnings,
        pages: pages
            .iter()
            .map(|page| PageReport {
                path: &page.path,
                format: page.format,
                errors: page.errors.iter().map(ErrorReport::new).collect(),
                examples: page
                    .examples
                    .iter()
                    .map(|example| ExampleReport::new(example, registry))
                    .collect(),
            })
            .collect(),
    };
    let mut json = serde_json::to_string_pretty(&report).unwrap_or_else(|error| {
        format!(
            "{{\"version\":{SCHEMA_VERSION},\"error\":\"cannot serialise the report: {error}\"}}"
        )
    });
    json.push('\n');
    json
}

/// The collection as a listing: each page, its examples' first lines, and errors located as
/// `path:line:column`.
pub fn render_human(
    pages: &[Page],
    registry: &FlagRegistry,
    warnings: &[StructureWarning],
) -> String {
    let mut out = String::new();
    for warning in warnings {
        let location = match warning.line {
            Some(line) => format!("{}:{line}", warning.path),
            None => warning.path.clone(),
        };
        let _ = writeln!(out, "{location}: warning: {}", warning.message);
    }
    let mut examples = 0;
    let mut errors = 0;
    for page in pages {
        examples += page.examples.len();
        errors += page.errors.len();
        let _ = writeln!(
            out,
            "{} ({}): {}",
            page.path,
            format_name(page.format),
            count(page.examples.len(), "example")
        );
        for example in &page.examples {
            let first_line = example.source.lines().next().unwrap_or("");
            let more = if example.span.source_lines > 1 {
                " ..."
            } else {
                ""
            };
            let options = example
                .options
                .iter()
                .map(|&(flag, on)| format!("{}{}", if on { '+' } else { '-' }, registry.name(flag)))
                .collect::<Vec<_>>();
            let options = if options.is_empty() {
                String::new()
            } else {
                format!("  [{}]", options.join(", "))
            };
            let _ = writeln!(
                out,
                "  {:>5}  >>> {first_line}{more}{options}",
                example.span.line
            );
        }
        for error in &page.errors {
            let _ = writeln!(
                out,
                "{}:{}:{}: error: {}",
                page.path, error.line, error.column, error.message
            );
        }
    }
    let _ = writeln!(
        out,
        "\n{}, {}, {}",
        count(pages.len(), "page"),
        count(examples, "example"),
        count(errors, "error")
    );
    out
}

fn format_name(format: PageFormat) -> &'static str {
    match format {
        PageFormat::Text => "text",
        PageFormat::Rst => "rst",
        PageFormat::Markdown => "markdown",
    }
}

fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}
