//! MyST Markdown pages as myst-parser hands them to Sphinx's doctest directives:
//! ```` ```{doctest} ````, `{testsetup}`, `{testcode}`, `{testoutput}`, `{testcleanup}`
//! fences (and the same as `:::` colon fences), with options as `:name: value` lines at the
//! top of the content or a `---` YAML block, read as `parse_directive_text` does: unknown
//! options are warned about and dropped (the directive still runs), one blank line after
//! the options is not content, and content lines are kept as written (no dedent, no
//! trailing-whitespace removal, tabs kept). Plain `python`/`pycon` fences are not tested by
//! Sphinx's builder, so not here either.

use super::{
    Found, NodeKind, OptionValue, TestNode, groups_of, read_flag_options, read_python_versions,
};
use crate::engine::doctest::DoctestLine;
use crate::engine::flags::FlagRegistry;
use crate::engine::markdown::{DirectiveFence, directive_fences};

pub(super) fn read<'t>(text: &'t str, flags: &FlagRegistry, found: &mut Found<'t>) {
    let (fences, errors) = directive_fences(text);
    found.errors.extend(errors);
    for fence in fences {
        if let Some(kind) = NodeKind::from_directive(&fence.name) {
            read_fence(kind, &fence, flags, found);
        }
    }
}

fn read_fence<'t>(
    kind: NodeKind,
    fence: &DirectiveFence<'t>,
    flags: &FlagRegistry,
    found: &mut Found<'t>,
) {
    let (options, mut body) = split_options(&fence.content);
    if body.first().is_some_and(|line| line.text.trim().is_empty()) {
        body.remove(0);
    }
    let mut node = TestNode {
        kind,
        groups: Some(groups_of(&fence.argument)),
        options: Vec::new(),
        skip_if: None,
        python_versions: None,
        content: body,
        dedent: 0,
        expand_tabs: false,
        line: fence.line,
    };
    let spec = kind.option_spec();
    let mut unknown = Vec::new();
    for (name, value, line) in options {
        let Some(&(_, accepts)) = spec.iter().find(|(known, _)| *known == name) else {
            unknown.push(name);
            continue;
        };
        if accepts == OptionValue::Required && value.is_empty() {
            found.warn(
                line,
                1,
                format!(
                    "invalid option value for '{name}': argument required but none supplied; \
                     Sphinx ignores the option"
                ),
            );
            continue;
        }
        match name.as_str() {
            "options" => node.options = read_flag_options(&value, line, flags, found),
            "skipif" => node.skip_if = Some(value),
            "pyversion" => node.python_versions = read_python_versions(kind, &value, line, found),
            _ => {}
        }
    }
    if !unknown.is_empty() {
        let known: Vec<&str> = spec.iter().map(|(known, _)| *known).collect();
        found.warn(
            fence.line,
            fence.column,
            format!(
                "unknown option keys: {} (allowed: {}); MyST ignores them",
                unknown.join(", "),
                known.join(", ")
            ),
        );
    }
    found.nodes.push(node);
}

/// The options at the top of the content (name, value, 1-based line) and the lines after.
fn split_options<'t>(
    content: &[DoctestLine<'t>],
) -> (Vec<(String, String, usize)>, Vec<DoctestLine<'t>>) {
    let option = |text: &str, line: usize| {
        let (name, value) = text.split_once(':').unwrap_or((text, ""));
        (
            name.trim().to_owned(),
            unquoted(value.trim()).to_owned(),
            line,
        )
    };
    if content
        .first()
        .is_some_and(|line| line.text.starts_with("---"))
    {
        let closing = content
            .iter()
            .skip(1)
            .position(|line| line.text.starts_with("---"))
            .map(|at| at + 1);
        let options_end = closing.unwrap_or(content.len());
        let options = content[1..options_end]
            .iter()
            .filter(|line| !line.text.trim().is_empty() && !line.text.trim_start().starts_with('#'))
            .map(|line| option(line.text.trim_start(), line.line))
            .collect();
        let body = content.get(options_end + 1..).unwrap_or_default().to_vec();
        return (options, body);
    }
    let taken = content
        .iter()
        .take_while(|line| line.text.trim_start().starts_with(':'))
        .count();
    let options = content[..taken]
        .iter()
        .map(|line| option(&line.text.trim_start()[1..], line.line))
        .collect();
    (options, content[taken..].to_vec())
}

/// A YAML scalar's text without its quotes.
fn unquoted(value: &str) -> &str {
    for quote in ['"', '\''] {
        if let Some(inner) = value
            .strip_prefix(quote)
            .and_then(|rest| rest.strip_suffix(quote))
        {
            return inner;
        }
    }
    value
}
