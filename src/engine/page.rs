//! The page model: what a documentation page is made of once parsed.
//!
//! [`parse_page`] is the engine's entry point for pages. It never fails: a page that cannot be
//! decoded or whose examples are malformed comes back with [`ParseError`]s beside whatever could
//! be read, and the front ends decide what is fatal.

use std::ops::Range;

use serde::Serialize;

use super::doctest::{self, DoctestText};
use super::flags::{Flag, FlagRegistry};
use super::profile::{Profile, Reading};
use super::{doctestplus, markdown, rst, sphinx};

/// How a page is written; decides where examples may be found.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum PageFormat {
    /// A plain text page (`.txt`): the whole file is one docstring, as for `DocFileSuite`.
    Text,
    /// A reStructuredText page (`.rst`): examples as for text, plus reST structure.
    Rst,
    /// A Markdown page (`.md`): examples only inside Python-flavoured fenced code blocks.
    Markdown,
}

impl PageFormat {
    /// The format a file name implies, or `None` for files that are not pages.
    pub fn from_path(path: &str) -> Option<PageFormat> {
        let extension = path.rsplit_once('.')?.1.to_ascii_lowercase();
        match extension.as_str() {
            "txt" => Some(PageFormat::Text),
            "rst" => Some(PageFormat::Rst),
            "md" | "markdown" => Some(PageFormat::Markdown),
            _ => None,
        }
    }
}

/// One `>>>` example, with CPython's fields and where it is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Example {
    /// The source with prompts and indentation removed; ends with a newline, as in CPython.
    pub source: String,
    /// The expected output; empty, or ending with a newline.
    pub want: String,
    /// The exception message expected, when `want` is a traceback.
    pub exc_msg: Option<String>,
    /// CPython's `indent`: columns before the `>>>` (after tab expansion).
    pub indent: usize,
    /// Option directives written on this example, in order of first appearance; the value of
    /// a flag written twice is the last one written (as CPython's dict keeps it).
    pub options: Vec<(Flag, bool)>,
    /// Where the example is written in the page.
    pub span: ExampleSpan,
    /// Where and how it runs, for runners that do more than `DocFileSuite`.
    pub run: RunSpec,
}

/// Where and how an example runs, for runners that do more than `DocFileSuite` (Sphinx's
/// groups, its `testcode` blocks run as statements, setup and cleanup code). The default is
/// `DocFileSuite`'s: the page's one namespace, compiled as `single`, a test.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunSpec {
    /// The namespace it runs in (a Sphinx group's name); `None` for the page's one namespace.
    pub group: Option<String>,
    pub mode: CompileMode,
    pub role: ExampleRole,
    /// Why it is not run, when the page says so where it is read (pytest-doctestplus's
    /// `.. doctest-skip::`, Sphinx's `:pyversion:` and the like): reported as skipped.
    pub skip_reason: Option<String>,
    /// Sphinx's `:skipif:`: the example is skipped when the condition is true.
    pub skip_if: Option<SkipCondition>,
    /// Sphinx's `:pyversion:` (a PEP 440 specifier set, already validated): the example is
    /// skipped (SKIP) unless the interpreter's version satisfies it.
    pub python_versions: Option<String>,
    /// 1-based line of the Sphinx directive (or doctest block) the example comes from.
    pub block_line: Option<usize>,
    /// 1-based line of the `testoutput` directive holding the expected output, when it is
    /// written apart from the source.
    pub output_line: Option<usize>,
    /// Modules that must be importable for it to run (pytest-doctestplus's
    /// `.. doctest-requires::`): the run loop asks the interpreter and skips it otherwise.
    pub requires: Vec<String>,
    /// How its warnings are caught (pytest-doctestplus's IGNORE_WARNINGS and SHOW_WARNINGS).
    pub warnings: WarningCapture,
    /// The name it is compiled under, when its runner does not name it `PAGE[i]` by its
    /// place in the page: Sphinx's `GROUP[i]` (i counted in its block) and
    /// `GROUP (setup code)[i]`. Tracebacks an example prints show it.
    pub doctest_name: Option<String>,
}

/// A Sphinx `:skipif:` condition: a Python expression evaluated (by the page's process,
/// before the example) in a fresh namespace where `setup` (conf.py's
/// `doctest_global_setup`) ran, `cleanup` (`doctest_global_cleanup`) run after.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SkipCondition {
    pub expression: String,
    pub setup: String,
    pub cleanup: String,
}

/// How the driver catches the warnings an example raises, as pytest-doctestplus does.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum WarningCapture {
    /// As the interpreter's filters say.
    #[default]
    Default,
    /// All ignored while it runs (`IGNORE_WARNINGS`).
    Ignore,
    /// All recorded and printed after its output as `Category: message` (`SHOW_WARNINGS`).
    Show,
}

/// How an example's source is compiled: as the interactive prompt does (`single`: an
/// expression's value is printed), or as a module's statements (`exec`: Sphinx's `testcode`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CompileMode {
    #[default]
    Single,
    Exec,
}

/// What an example is for: a test, or code that prepares or tidies up a Sphinx group.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ExampleRole {
    #[default]
    Test,
    Setup,
    Cleanup,
}

/// Where an example's parts are written, in the page's own coordinates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExampleSpan {
    /// 1-based line of the `>>>`.
    pub line: usize,
    /// Number of source lines (the `>>>` line and its `...` lines).
    pub source_lines: usize,
    /// Number of expected-output lines that follow the source.
    pub want_lines: usize,
    /// Byte range in the page of the source lines (line ends excluded at the end).
    pub source_bytes: Range<usize>,
    /// Byte range in the page of the expected-output lines (empty at the end of the source
    /// when the example expects nothing), including the last line's end.
    pub want_bytes: Range<usize>,
}

impl ExampleSpan {
    /// 1-based line of the last line the example occupies.
    pub fn end_line(&self) -> usize {
        self.line + self.source_lines + self.want_lines - 1
    }

    /// 1-based line of the first expected-output line, if any.
    pub fn want_line(&self) -> Option<usize> {
        (self.want_lines > 0).then_some(self.line + self.source_lines)
    }
}

/// What kind of problem a [`ParseError`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ParseErrorKind {
    /// The page's bytes are not UTF-8.
    Encoding,
    /// The page could not be read at all.
    Unreadable,
    /// `>>>` or `...` not followed by a blank.
    LacksBlank,
    /// A line less indented than its example's prompt.
    InconsistentWhitespace,
    /// An option directive naming a flag that does not exist or without `+`/`-`.
    InvalidOption,
    /// An option directive on an example that is only a comment or blank.
    DirectiveWithoutExample,
    /// A structural problem in a Markdown or reST page (unclosed fence, bad directive).
    Structure,
}

/// A problem found while reading a page: what, where and (in `message`) how CPython says it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ParseError {
    /// 1-based line.
    pub line: usize,
    /// 1-based column, counted in characters of the line as written.
    pub column: usize,
    pub kind: ParseErrorKind,
    /// CPython's wording for doctest errors (`line 3 of the docstring for x.txt lacks blank
    /// after >>>: '>>>x'`); our own wording for the rest.
    pub message: String,
}

/// Something in a page a reader would take for an example that does not run (a `>>>` line
/// in a ```` ```console ```` fence, an indented code block or prose): never an error, as the
/// page is read exactly as its runner reads it, but said, with how to include it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PageWarning {
    /// 1-based line.
    pub line: usize,
    /// 1-based column, counted in characters of the line as written.
    pub column: usize,
    pub message: String,
}

/// A reST section title, for outlines.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Section {
    pub title: String,
    /// 1-based line of the title text.
    pub line: usize,
    /// Nesting depth, 1 for the first underline style met in the page.
    pub level: usize,
}

/// What a reference in a page points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ReferenceKind {
    Include,
    Figure,
    Image,
    Toctree,
}

/// A `.. include::`, `.. figure::`, `.. image::` target or a `.. toctree::` entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reference {
    pub kind: ReferenceKind,
    /// The target as written (relative to the page's directory, or `/`-rooted for Sphinx).
    pub target: String,
    /// 1-based line where the target is written.
    pub line: usize,
    /// Byte range of the target text in the page.
    #[serde(skip)]
    pub bytes: Range<usize>,
    /// `:start-after:` of an include.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_after: Option<String>,
    /// `:end-before:` of an include.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_before: Option<String>,
    /// A figure's or image's alternative text: its `:alt:` option in reST and MyST, the
    /// image's text in Markdown (`![alt](target)`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alt: Option<String>,
}

/// The structure of a page that the editor and reports need, read without running anything.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Structure {
    pub sections: Vec<Section>,
    pub references: Vec<Reference>,
}

/// A parsed page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    /// The page's path as given by the caller (used in messages).
    pub path: String,
    pub format: PageFormat,
    /// Whose rules the page was read by.
    pub profile: Profile,
    /// The decoded text the examples were found in (BOM removed, line ends as written).
    pub text: String,
    pub examples: Vec<Example>,
    pub errors: Vec<ParseError>,
    /// What is not an error but is not tested either ([`PageWarning`]), in page order.
    pub warnings: Vec<PageWarning>,
    pub structure: Structure,
}

/// Parses a page's bytes as `DocFileSuite` reads them. `path` names the page in messages;
/// CPython's messages use its file name, as `DocFileSuite` does.
pub fn parse_page(path: &str, format: PageFormat, bytes: &[u8], flags: &FlagRegistry) -> Page {
    parse_page_as(path, format, bytes, flags, &Reading::default())
}

/// Parses a page's bytes as `reading`'s profile reads them; directives may name the flags
/// of `flags` that the profile accepts.
pub fn parse_page_as(
    path: &str,
    format: PageFormat,
    bytes: &[u8],
    flags: &FlagRegistry,
    reading: &Reading,
) -> Page {
    let flags = &reading.profile.registry(flags);
    let name = path.rsplit(['/', '\\']).next().unwrap_or(path);
    let (text, mut errors) = match decode_utf8(path, bytes) {
        Ok(text) => (text, Vec::new()),
        Err(error) => {
            return Page {
                path: path.to_owned(),
                format,
                profile: reading.profile,
                text: String::new(),
                examples: Vec::new(),
                errors: vec![error],
                warnings: Vec::new(),
                structure: Structure::default(),
            };
        }
    };
    let mut warnings = Vec::new();
    if reading.profile == Profile::Sphinx {
        let parsed = sphinx::parse(&text, format, name, flags, reading);
        errors.extend(parsed.errors);
        errors.sort_by_key(|error| (error.line, error.column));
        let structure = match format {
            PageFormat::Markdown => markdown::structure(&text),
            PageFormat::Rst | PageFormat::Text => rst::structure(&text),
        };
        return Page {
            path: path.to_owned(),
            format,
            profile: reading.profile,
            text,
            examples: parsed.examples,
            errors,
            warnings: parsed.warnings,
            structure,
        };
    }
    let (examples, structure) = match format {
        // pytest-doctestplus collects every matching file as one docstring, Markdown too,
        // and reads its own directives in the texts between examples.
        _ if reading.profile == Profile::Doctestplus => {
            let parsed = doctest::parse(&DoctestText::whole(&text), name, flags);
            errors.extend(parsed.errors);
            let mut examples = parsed.examples;
            doctestplus::directives::apply(&text, name, &mut examples, flags, reading.remote_data);
            let structure = match format {
                PageFormat::Markdown => markdown::structure(&text),
                _ if format == PageFormat::Rst || looks_like_rst(&text) => rst::structure(&text),
                _ => Structure::default(),
            };
            (examples, structure)
        }
        PageFormat::Text | PageFormat::Rst => {
            let parsed = doctest::parse(&DoctestText::whole(&text), name, flags);
            errors.extend(parsed.errors);
            let structure = if format == PageFormat::Rst || looks_like_rst(&text) {
                rst::structure(&text)
            } else {
                Structure::default()
            };
            (parsed.examples, structure)
        }
        // pytest's `--doctest-glob` reads any matched file as one docstring: in a Markdown
        // page every `>>>` is an example, fences or not.
        PageFormat::Markdown if reading.profile == Profile::Pytest => {
            let parsed = doctest::parse(&DoctestText::whole(&text), name, flags);
            errors.extend(parsed.errors);
            (parsed.examples, markdown::structure(&text))
        }
        PageFormat::Markdown => {
            let parsed = markdown::parse(&text, name, flags);
            errors.extend(parsed.errors);
            warnings = markdown::untested_prompts(&text);
            (parsed.examples, markdown::structure(&text))
        }
    };
    errors.sort_by_key(|error| (error.line, error.column));
    Page {
        path: path.to_owned(),
        format,
        profile: reading.profile,
        text,
        examples,
        errors,
        warnings,
        structure,
    }
}

/// objgraph's `.txt` pages are reST; read their structure when they use reST directives.
fn looks_like_rst(text: &str) -> bool {
    text.contains("\n.. ") || text.starts_with(".. ")
}

/// Decodes a page as UTF-8, tolerating a BOM; an invalid sequence is an error at its byte.
fn decode_utf8(path: &str, bytes: &[u8]) -> Result<String, ParseError> {
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(text) => Ok(text.to_owned()),
        Err(error) => {
            let offset = error.valid_up_to();
            let before = &bytes[..offset];
            let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
            let line_start = before
                .iter()
                .rposition(|&b| b == b'\n')
                .map_or(0, |i| i + 1);
            let column = String::from_utf8_lossy(&before[line_start..])
                .chars()
                .count()
                + 1;
            Err(ParseError {
                line,
                column,
                kind: ParseErrorKind::Encoding,
                message: format!(
                    "{path} is not valid UTF-8: invalid byte 0x{:02x} at byte offset {offset} \
                     (line {line}, column {column}); save the page as UTF-8",
                    bytes[offset]
                ),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bom_is_tolerated() {
        let page = parse_page(
            "a.txt",
            PageFormat::Text,
            b"\xef\xbb\xbf>>> 1\n1\n",
            &FlagRegistry::new(),
        );
        assert!(page.errors.is_empty());
        assert_eq!(page.examples.len(), 1);
    }

    #[test]
    fn invalid_utf8_names_the_byte_offset() {
        let page = parse_page(
            "docs/a.txt",
            PageFormat::Text,
            b"ok\nab\xffc\n",
            &FlagRegistry::new(),
        );
        assert_eq!(page.errors.len(), 1);
        let error = &page.errors[0];
        assert_eq!((error.line, error.column), (2, 3));
        assert!(error.message.contains("byte offset 5"), "{}", error.message);
        assert!(error.message.contains("docs/a.txt"));
    }

    #[test]
    fn pytest_reads_a_markdown_page_as_one_docstring() {
        let text = b"Intro\n>>> 1 + 1\n2\n\n```python\n>>> 'fenced'\n'fenced'\n```\n";
        let registry = FlagRegistry::new();
        let markdown = parse_page("a.md", PageFormat::Markdown, text, &registry);
        assert_eq!(markdown.examples.len(), 1);
        let pytest = parse_page_as(
            "a.md",
            PageFormat::Markdown,
            text,
            &registry,
            &Reading::of(Profile::Pytest),
        );
        let sources: Vec<_> = pytest.examples.iter().map(|e| e.source.as_str()).collect();
        assert_eq!(sources, ["1 + 1\n", "'fenced'\n"]);
        // The closing fence is the fenced example's expected output, as pytest reads it.
        assert_eq!(pytest.examples[1].want, "'fenced'\n```\n");
        assert!(pytest.warnings.is_empty());
    }

    #[test]
    fn formats_from_extensions() {
        assert_eq!(PageFormat::from_path("a/b.TXT"), Some(PageFormat::Text));
        assert_eq!(PageFormat::from_path("b.md"), Some(PageFormat::Markdown));
        assert_eq!(PageFormat::from_path("b.py"), None);
    }
}
