//! Warnings for `>>>` lines that Sphinx's doctest builder does not test, in a page read by
//! the `sphinx` profile: in a literal block (`::`), a `code-block`, a comment, a plain
//! ```` ```python ```` or ```` ```pycon ```` fence of a MyST page. Each is a paragraph a
//! reader takes for an example; one warning per paragraph (lines between blank lines) with
//! no tested line in it, at its first `>>>`, saying how to have it tested.

use std::collections::BTreeSet;

use crate::engine::page::{Example, PageFormat, PageWarning};
use crate::engine::profile::Reading;

/// `said`: the warnings the reading gave already; a paragraph one of them is in, or whose
/// directive (the paragraph before) one is about, is not warned about again.
pub(super) fn warnings(
    text: &str,
    format: PageFormat,
    examples: &[Example],
    reading: &Reading,
    said: &[PageWarning],
) -> Vec<PageWarning> {
    let said: BTreeSet<usize> = said.iter().map(|warning| warning.line).collect();
    let tested: BTreeSet<usize> = examples
        .iter()
        .filter(|example| example.span.source_lines > 0)
        .flat_map(|example| example.span.line..=example.span.end_line())
        .collect();
    let how = match format {
        PageFormat::Markdown => {
            "Sphinx's doctest builder tests only {doctest} fences (and {testcode}) in MyST \
             pages: put it in a ```{doctest} fence to have it tested"
                .to_owned()
        }
        PageFormat::Rst | PageFormat::Text if reading.sphinx_doctest_blocks_group.is_none() => {
            "conf.py sets doctest_test_doctest_blocks = '', so Sphinx's doctest builder tests \
             only `.. doctest::` directives: put it in one, or set doctest_test_doctest_blocks \
             = 'default'"
                .to_owned()
        }
        PageFormat::Rst | PageFormat::Text => {
            "Sphinx's doctest builder does not test `>>>` in literal blocks, code-blocks or \
             comments: put it in a `.. doctest::` directive (or a paragraph of its own) to have \
             it tested"
                .to_owned()
        }
    };
    let mut warnings = Vec::new();
    let mut paragraph: Vec<(usize, usize)> = Vec::new(); // (line, column) of its prompts
    let mut paragraph_tested = false;
    // Where the paragraph before this one starts, and where this one does.
    let (mut previous_start, mut start) = (1, 1);
    let mut flush =
        |prompts: &mut Vec<(usize, usize)>, tested: &mut bool, from: usize, to: usize| {
            let already_said = said.range(from..=to).next().is_some();
            if let Some(&(line, column)) = prompts.first()
                && !*tested
                && !already_said
            {
                let count = prompts.len();
                warnings.push(PageWarning {
                    line,
                    column,
                    message: format!(
                        "{} not tested: {how}",
                        if count == 1 {
                            "this `>>>` line is".to_owned()
                        } else {
                            format!("these {count} `>>>` lines are")
                        }
                    ),
                });
            }
            prompts.clear();
            *tested = false;
        };
    let mut in_paragraph = false;
    for (index, line) in text.lines().enumerate() {
        let number = index + 1;
        if line.trim().is_empty() {
            if in_paragraph {
                flush(
                    &mut paragraph,
                    &mut paragraph_tested,
                    previous_start,
                    number,
                );
                previous_start = start;
                in_paragraph = false;
            }
            continue;
        }
        if !in_paragraph {
            start = number;
            in_paragraph = true;
        }
        paragraph_tested |= tested.contains(&number);
        let trimmed = line.trim_start();
        if trimmed.starts_with(">>>") {
            let column = line[..line.len() - trimmed.len()].chars().count() + 1;
            paragraph.push((number, column));
        }
    }
    flush(
        &mut paragraph,
        &mut paragraph_tested,
        previous_start,
        usize::MAX,
    );
    warnings
}

#[cfg(test)]
mod tests {
    use crate::engine::flags::FlagRegistry;
    use crate::engine::page::{PageFormat, parse_page_as};
    use crate::engine::profile::{Profile, Reading};

    fn warnings(name: &str, text: &str) -> Vec<(usize, String)> {
        let format = PageFormat::from_path(name).unwrap();
        let page = parse_page_as(
            name,
            format,
            text.as_bytes(),
            &FlagRegistry::new(),
            &Reading::of(Profile::Sphinx),
        );
        page.warnings
            .iter()
            .filter(|warning| warning.message.contains("not tested"))
            .map(|warning| (warning.line, warning.message.clone()))
            .collect()
    }

    #[test]
    fn literal_blocks_and_code_blocks_are_said() {
        let page = "Tested:\n\n>>> 1 + 1\n2\n\nShown::\n\n    >>> 2 + 2\n    4\n    >>> 3\n    3\n\n\
                    .. code-block:: pycon\n\n   >>> 5\n   5\n\n.. doctest::\n\n   >>> 6\n   6\n";
        let found = warnings("a.rst", page);
        let lines: Vec<usize> = found.iter().map(|(line, _)| *line).collect();
        assert_eq!(lines, [8, 15], "{found:#?}");
        assert!(found[0].1.contains("these 2 `>>>` lines"), "{}", found[0].1);
        assert!(found[1].1.contains(".. doctest::"), "{}", found[1].1);
    }

    #[test]
    fn plain_fences_of_myst_pages_are_said() {
        let page = "```python\n>>> 1\n1\n```\n\n```{doctest}\n>>> 2\n2\n```\n";
        let found = warnings("a.md", page);
        assert_eq!(found.len(), 1, "{found:#?}");
        assert_eq!(found[0].0, 2);
        assert!(found[0].1.contains("```{doctest}"), "{}", found[0].1);
    }
}
