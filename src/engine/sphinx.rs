//! Pages as Sphinx's doctest builder (`sphinx-build -b doctest`, `sphinx.ext.doctest`)
//! reads and runs them: which text is tested, in which group, in which order, with which
//! options.
//!
//! Reading finds the builder's nodes: `testsetup`, `testcleanup`, `doctest`, `testcode` and
//! `testoutput` directives (reST in `sphinx/rst.rs`, MyST fences in `sphinx/myst.rs`) and,
//! when `doctest_test_doctest_blocks` names a group, reST doctest blocks (paragraphs that
//! start with `>>>`). [`plan`] then groups them exactly as `DocTestBuilder.test_doc` does and
//! orders the page's examples as the builder runs them: groups in order of first appearance,
//! each as setup (conf.py's `doctest_global_setup`, the group's own `testsetup`s, then those
//! of group `*`), tests in page order (then those of group `*`), cleanup (the group's own,
//! group `*`'s, then `doctest_global_cleanup`). Each example carries its group, its compile
//! mode (`exec` for setup, cleanup and `testcode`; `single` for `>>>` examples) and its role;
//! the run loop runs each group in a namespace of its own and skips a group's tests and
//! cleanup when its setup fails.
//!
//! What Sphinx decides when it runs, we decide when the page runs: `:skipif:` conditions
//! (Python, evaluated in a namespace where `doctest_global_setup` ran) and `:pyversion:`
//! (against the interpreter's version) are carried in [`RunSpec`]. A `:skipif:` therefore
//! skips its example where Sphinx drops the node before grouping: the same verdicts, except
//! that a `testoutput` is always paired with its `testcode` as the page is written (give
//! both the same condition, as Sphinx's documentation does; a different one is warned about).
//!
//! Sphinx warns about and ignores what it cannot read (an invalid `>>>` block, an unknown
//! flag in `:options:`); docutils drops a directive with a bad option. Those are
//! [`PageWarning`]s here, with what Sphinx does and how to fix it: the rest of the page runs,
//! as it does under Sphinx.

use std::ops::Range;

use super::doctest::{self, DoctestLine, DoctestText};
use super::flags::{Flag, FlagRegistry};
use super::page::{
    CompileMode, Example, ExampleRole, ExampleSpan, PageFormat, PageWarning, ParseError, RunSpec,
    SkipCondition,
};
use super::profile::Reading;

mod myst;
mod rst;
mod untested;
mod version;

pub use version::VersionSpec;

/// What a Sphinx reading of a page gives.
#[derive(Debug, Clone, Default)]
pub struct SphinxParsed {
    /// In the order the builder runs them.
    pub examples: Vec<Example>,
    pub errors: Vec<ParseError>,
    pub warnings: Vec<PageWarning>,
}

/// Reads a page as Sphinx's doctest builder does; `name` names it in doctest's messages.
pub fn parse(
    text: &str,
    format: PageFormat,
    name: &str,
    flags: &FlagRegistry,
    reading: &Reading,
) -> SphinxParsed {
    let mut found = Found::default();
    match format {
        PageFormat::Markdown => myst::read(text, flags, &mut found),
        PageFormat::Rst | PageFormat::Text => rst::read(
            text,
            flags,
            reading.sphinx_doctest_blocks_group.is_some(),
            &mut found,
        ),
    }
    let mut parsed = SphinxParsed {
        examples: Vec::new(),
        errors: found.errors,
        warnings: found.warnings,
    };
    parsed.examples = plan(&found.nodes, name, flags, reading, &mut parsed.warnings);
    let untested = untested::warnings(text, format, &parsed.examples, reading, &parsed.warnings);
    parsed.warnings.extend(untested);
    parsed
        .warnings
        .sort_by_key(|warning| (warning.line, warning.column));
    parsed
}

/// Which directive a node comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NodeKind {
    Setup,
    Cleanup,
    Doctest,
    Code,
    Output,
    /// A standard reST doctest block (a `>>>` paragraph).
    DoctestBlock,
}

impl NodeKind {
    pub(crate) fn from_directive(name: &str) -> Option<NodeKind> {
        match name.to_ascii_lowercase().as_str() {
            "testsetup" => Some(NodeKind::Setup),
            "testcleanup" => Some(NodeKind::Cleanup),
            "doctest" => Some(NodeKind::Doctest),
            "testcode" => Some(NodeKind::Code),
            "testoutput" => Some(NodeKind::Output),
            _ => None,
        }
    }

    pub(crate) fn directive_name(self) -> &'static str {
        match self {
            NodeKind::Setup => "testsetup",
            NodeKind::Cleanup => "testcleanup",
            NodeKind::Doctest => "doctest",
            NodeKind::Code => "testcode",
            NodeKind::Output => "testoutput",
            NodeKind::DoctestBlock => "doctest block",
        }
    }

    /// The options the directive accepts (its `option_spec`), with whether each is a flag
    /// (takes no value) and whether a value is required.
    pub(crate) fn option_spec(self) -> &'static [(&'static str, OptionValue)] {
        use OptionValue::{Flag, Optional, Required};
        match self {
            NodeKind::Setup | NodeKind::Cleanup => &[("skipif", Required)],
            NodeKind::Doctest | NodeKind::Output => &[
                ("hide", Flag),
                ("no-trim-doctest-flags", Flag),
                ("options", Optional),
                ("pyversion", Required),
                ("skipif", Required),
                ("trim-doctest-flags", Flag),
            ],
            NodeKind::Code => &[
                ("hide", Flag),
                ("no-trim-doctest-flags", Flag),
                ("pyversion", Required),
                ("skipif", Required),
                ("trim-doctest-flags", Flag),
            ],
            NodeKind::DoctestBlock => &[],
        }
    }
}

/// What a directive option's value may be (docutils' `flag`, `unchanged`,
/// `unchanged_required`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OptionValue {
    Flag,
    Optional,
    Required,
}

/// One node the builder collects, as written in the page.
#[derive(Debug, Clone)]
pub(crate) struct TestNode<'t> {
    pub kind: NodeKind,
    /// The directive's groups (`default` when it names none), or the doctest blocks' group.
    /// `None` for doctest blocks: their group is the configuration's.
    pub groups: Option<Vec<String>>,
    /// `:options:` flags, in order, a repeated flag's last value winning.
    pub options: Vec<(Flag, bool)>,
    pub skip_if: Option<String>,
    /// A valid `:pyversion:` (on `doctest` only: Sphinx ignores it elsewhere).
    pub python_versions: Option<String>,
    /// The content lines as Sphinx sees them (slices of the page: trailing whitespace cut
    /// for reST), before [`TestNode::dedent`] is removed.
    pub content: Vec<DoctestLine<'t>>,
    /// Columns of indentation docutils removes from every content line.
    pub dedent: usize,
    /// Whether tabs are expanded (docutils does; MyST does not).
    pub expand_tabs: bool,
    /// 1-based line of the directive (or of the doctest block's first line).
    pub line: usize,
}

impl TestNode<'_> {
    /// The content as one string, as `'\n'.join(self.content)`.
    fn code(&self) -> String {
        let lines: Vec<String> = self
            .content
            .iter()
            .map(|line| {
                let expanded = if self.expand_tabs {
                    super::pystr::expand_tabs(line.text)
                } else {
                    std::borrow::Cow::Borrowed(line.text)
                };
                let skip = expanded
                    .char_indices()
                    .nth(self.dedent)
                    .map_or(expanded.len(), |(at, _)| at);
                expanded[skip..].to_owned()
            })
            .collect();
        lines.join("\n")
    }

    /// Byte range of the content lines in the page.
    fn bytes(&self) -> Range<usize> {
        match (self.content.first(), self.content.last()) {
            (Some(first), Some(last)) => first.start..last.start + last.text.len(),
            _ => 0..0,
        }
    }
}

/// What the readers collect.
#[derive(Debug, Default)]
pub(crate) struct Found<'t> {
    pub nodes: Vec<TestNode<'t>>,
    pub errors: Vec<ParseError>,
    pub warnings: Vec<PageWarning>,
}

impl Found<'_> {
    pub(crate) fn warn(&mut self, line: usize, column: usize, message: String) {
        self.warnings.push(PageWarning {
            line,
            column,
            message,
        });
    }
}

/// `:options:` as `TestDirective.run` reads it: words separated by commas or blanks, each
/// `+NAME` or `-NAME`; a word without the sign or with an unknown name is warned about and
/// ignored, as Sphinx does.
pub(crate) fn read_flag_options(
    value: &str,
    line: usize,
    flags: &FlagRegistry,
    found: &mut Found<'_>,
) -> Vec<(Flag, bool)> {
    let mut options: Vec<(Flag, bool)> = Vec::new();
    for word in value
        .split(|c: char| c == ',' || super::pystr::is_space(c))
        .filter(|word| !word.is_empty())
    {
        let Some(name) = word.strip_prefix(['+', '-']) else {
            found.warn(
                line,
                1,
                format!(
                    "missing '+' or '-' in '{word}' option: Sphinx ignores it; write +{word} \
                     or -{word}"
                ),
            );
            continue;
        };
        let Some(flag) = flags.lookup(name) else {
            found.warn(
                line,
                1,
                format!(
                    "'{name}' is not a valid option: Sphinx ignores it; use a doctest flag \
                     such as ELLIPSIS or NORMALIZE_WHITESPACE"
                ),
            );
            continue;
        };
        set_flag(&mut options, flag, word.starts_with('+'));
    }
    options
}

/// `:pyversion:` as Sphinx reads it: only on `doctest`; an invalid specifier is warned
/// about and ignored.
pub(crate) fn read_python_versions(
    kind: NodeKind,
    value: &str,
    line: usize,
    found: &mut Found<'_>,
) -> Option<String> {
    if kind != NodeKind::Doctest {
        return None;
    }
    match VersionSpec::parse(value) {
        Ok(_) => Some(value.to_owned()),
        Err(problem) => {
            found.warn(
                line,
                1,
                format!(
                    "'{value}' is not a valid pyversion option ({problem}): Sphinx ignores it; \
                     write a PEP 440 specifier such as >=3.10"
                ),
            );
            None
        }
    }
}

/// The groups of a directive's argument: `a, b` is two groups, none is `default`.
pub(crate) fn groups_of(argument: &str) -> Vec<String> {
    if argument.trim().is_empty() {
        return vec!["default".to_owned()];
    }
    argument
        .split(',')
        .map(|group| group.trim_matches(super::pystr::is_space).to_owned())
        .collect()
}

fn set_flag(options: &mut Vec<(Flag, bool)>, flag: Flag, on: bool) {
    match options.iter_mut().find(|(known, _)| *known == flag) {
        Some(entry) => entry.1 = on,
        None => options.push((flag, on)),
    }
}

/// A test of a group: a `doctest` (or doctest block), or a `testcode` and the `testoutput`
/// that follows it.
#[derive(Debug, Clone, Copy)]
enum Test {
    Doctest(usize),
    Code(usize, Option<usize>),
}

/// `TestGroup`: what runs in one namespace (node indices).
#[derive(Debug, Default)]
struct Group {
    name: String,
    setup: Vec<usize>,
    tests: Vec<Test>,
    cleanup: Vec<usize>,
}

impl Group {
    /// `TestGroup.add_code`.
    fn add(&mut self, index: usize, kind: NodeKind) {
        match kind {
            NodeKind::Setup => self.setup.push(index),
            NodeKind::Cleanup => self.cleanup.push(index),
            NodeKind::Doctest | NodeKind::DoctestBlock => self.tests.push(Test::Doctest(index)),
            NodeKind::Code => self.tests.push(Test::Code(index, None)),
            // A testoutput pairs with the latest testcode (replacing an earlier output);
            // after a doctest, or first, it is ignored.
            NodeKind::Output => {
                if let Some(Test::Code(_, output)) = self.tests.last_mut() {
                    *output = Some(index);
                }
            }
        }
    }
}

/// Groups the nodes as `DocTestBuilder.test_doc` does and lists the examples in the order
/// `test_group` runs them.
fn plan(
    nodes: &[TestNode<'_>],
    name: &str,
    flags: &FlagRegistry,
    reading: &Reading,
    warnings: &mut Vec<PageWarning>,
) -> Vec<Example> {
    let mut groups: Vec<Group> = Vec::new();
    let mut for_all = Vec::new();
    for (index, node) in nodes.iter().enumerate() {
        let names = match &node.groups {
            Some(names) => names.clone(),
            None => match &reading.sphinx_doctest_blocks_group {
                Some(group) => vec![group.clone()],
                None => continue,
            },
        };
        if names.iter().any(|group| group == "*") {
            for_all.push(index);
            continue;
        }
        for group in names {
            let position = match groups.iter().position(|known| known.name == group) {
                Some(position) => position,
                None => {
                    groups.push(Group {
                        name: group,
                        ..Group::default()
                    });
                    groups.len() - 1
                }
            };
            groups[position].add(index, node.kind);
        }
    }
    for &index in &for_all {
        for group in &mut groups {
            group.add(index, nodes[index].kind);
        }
    }
    let mut examples = Vec::new();
    for group in &groups {
        let mut emit = Emitter {
            nodes,
            group: &group.name,
            global_setup: &reading.sphinx_global_setup,
            global_cleanup: &reading.sphinx_global_cleanup,
            name,
            flags,
            examples: &mut examples,
            warnings,
            setups: 0,
            cleanups: 0,
        };
        emit.global(&reading.sphinx_global_setup, ExampleRole::Setup);
        for &index in &group.setup {
            emit.code(index, None, ExampleRole::Setup);
        }
        for &test in &group.tests {
            match test {
                Test::Doctest(index) => emit.doctest(index),
                Test::Code(index, output) => emit.code(index, output, ExampleRole::Test),
            }
        }
        for &index in &group.cleanup {
            emit.code(index, None, ExampleRole::Cleanup);
        }
        emit.global(&reading.sphinx_global_cleanup, ExampleRole::Cleanup);
    }
    examples
}

/// Turns one group's nodes into examples.
struct Emitter<'a, 't> {
    nodes: &'a [TestNode<'t>],
    group: &'a str,
    global_setup: &'a str,
    global_cleanup: &'a str,
    name: &'a str,
    flags: &'a FlagRegistry,
    examples: &'a mut Vec<Example>,
    warnings: &'a mut Vec<PageWarning>,
    /// Setup and cleanup code so far: the builder runs each as one DocTest of examples.
    setups: usize,
    cleanups: usize,
}

impl Emitter<'_, '_> {
    /// The name the builder compiles an example under: its DocTest's name (the group, or
    /// `GROUP (setup code)`) and its index in that DocTest.
    fn doctest_name(&mut self, role: ExampleRole, index_in_block: usize) -> String {
        let counter = match role {
            ExampleRole::Setup => Some((&mut self.setups, "setup")),
            ExampleRole::Cleanup => Some((&mut self.cleanups, "cleanup")),
            ExampleRole::Test => None,
        };
        match counter {
            Some((count, what)) => {
                *count += 1;
                format!("{} ({what} code)[{}]", self.group, *count - 1)
            }
            None => format!("{}[{index_in_block}]", self.group),
        }
    }

    fn run_spec(
        &self,
        mode: CompileMode,
        role: ExampleRole,
        node: Option<&TestNode<'_>>,
    ) -> RunSpec {
        RunSpec {
            group: Some(self.group.to_owned()),
            mode,
            role,
            skip_if: node
                .and_then(|node| node.skip_if.clone())
                .map(|expression| SkipCondition {
                    expression,
                    setup: self.global_setup.to_owned(),
                    cleanup: self.global_cleanup.to_owned(),
                }),
            block_line: node.map(|node| node.line),
            ..RunSpec::default()
        }
    }

    /// conf.py's global setup or cleanup, as a setup or cleanup of the group.
    fn global(&mut self, code: &str, role: ExampleRole) {
        if code.is_empty() {
            return;
        }
        let doctest_name = self.doctest_name(role, 0);
        self.examples.push(Example {
            source: with_newline(code.to_owned()),
            want: String::new(),
            exc_msg: None,
            indent: 0,
            options: Vec::new(),
            // Written in conf.py, not on the page: shown at the page's first line.
            span: ExampleSpan {
                line: 1,
                source_lines: 1,
                want_lines: 0,
                source_bytes: 0..0,
                want_bytes: 0..0,
            },
            run: RunSpec {
                doctest_name: Some(doctest_name),
                ..self.run_spec(CompileMode::Exec, role, None)
            },
        });
    }

    /// A setup, cleanup or `testcode` (with its `testoutput`), run as statements.
    fn code(&mut self, index: usize, output: Option<usize>, role: ExampleRole) {
        let node = &self.nodes[index];
        let output = output.map(|index| &self.nodes[index]);
        let mut options = output
            .map(|output| output.options.clone())
            .unwrap_or_default();
        let want = output.map(TestNode::code).unwrap_or_default();
        let mut run = self.run_spec(CompileMode::Exec, role, Some(node));
        run.doctest_name = Some(self.doctest_name(role, 0));
        if role == ExampleRole::Test {
            // The builder turns off <BLANKLINE> for testoutput, whatever its options say.
            set_flag(&mut options, Flag::DONT_ACCEPT_BLANKLINE, true);
            if let Some(output) = output {
                run.output_line = Some(output.line);
                if output.skip_if != node.skip_if {
                    self.warnings.push(PageWarning {
                        line: output.line,
                        column: 1,
                        message: format!(
                            "this testoutput's :skipif: differs from its testcode's (line {}); \
                             the pair is skipped by the testcode's condition alone, where \
                             Sphinx decides each on its own: give both the same :skipif:",
                            node.line
                        ),
                    });
                }
            }
        }
        let exc_msg = doctest::exception_message(&want);
        let source_bytes = node.bytes();
        let line = node.content.first().map_or(node.line, |line| line.line);
        let source_lines = node.content.len().max(1);
        // The span runs from the testcode's first line to the testoutput's last, so that
        // the editor's ranges cover both; `want_bytes` is the testoutput's content.
        let (want_lines, want_bytes) = match output {
            Some(output) if !output.content.is_empty() => {
                let last = &output.content[output.content.len() - 1];
                (
                    (last.line + 1).saturating_sub(line + source_lines),
                    output.content[0].start..last.next,
                )
            }
            _ => (0, source_bytes.end..source_bytes.end),
        };
        self.examples.push(Example {
            source: with_newline(node.code()),
            want: if want.is_empty() {
                want
            } else {
                with_newline(want)
            },
            exc_msg,
            indent: 0,
            options,
            span: ExampleSpan {
                line,
                source_lines,
                want_lines,
                source_bytes,
                want_bytes,
            },
            run,
        });
    }

    /// A `doctest` directive or doctest block: its `>>>` examples, or nothing (with a
    /// warning) when doctest cannot parse it, as Sphinx ignores it.
    fn doctest(&mut self, index: usize) {
        let node = &self.nodes[index];
        let text = DoctestText {
            lines: node.content.clone(),
        };
        let parsed = doctest::parse(&text, self.name, self.flags);
        if let Some(error) = parsed.errors.first() {
            self.warnings.push(PageWarning {
                line: error.line,
                column: error.column,
                message: format!(
                    "Sphinx ignores this {} (invalid doctest code: {}); fix it to have it tested",
                    node.kind.directive_name(),
                    error.message
                ),
            });
            return;
        }
        for (index_in_block, mut example) in parsed.examples.into_iter().enumerate() {
            let mut options = node.options.clone();
            for &(flag, on) in &example.options {
                set_flag(&mut options, flag, on);
            }
            let inline_skip = example.options.iter().any(|(flag, _)| *flag == Flag::SKIP);
            example.options = options;
            example.run = self.run_spec(CompileMode::Single, ExampleRole::Test, Some(node));
            example.run.doctest_name = Some(self.doctest_name(ExampleRole::Test, index_in_block));
            if !inline_skip {
                example.run.python_versions = node.python_versions.clone();
            }
            self.examples.push(example);
        }
    }
}

fn with_newline(mut text: String) -> String {
    if !text.ends_with('\n') {
        text.push('\n');
    }
    text
}

#[cfg(test)]
mod tests;
