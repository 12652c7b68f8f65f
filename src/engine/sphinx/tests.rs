//! The Sphinx reading on small pages: what is tested, in which group and order.

use super::*;
use crate::engine::page::{ExampleRole, PageFormat};
use crate::engine::profile::{Profile, Reading};

fn read(text: &str, format: PageFormat) -> SphinxParsed {
    read_with(text, format, &Reading::of(Profile::Sphinx))
}

fn read_with(text: &str, format: PageFormat, reading: &Reading) -> SphinxParsed {
    parse(text, format, "t.rst", &FlagRegistry::new(), reading)
}

/// (group, role, source) of each example, in run order.
fn order(parsed: &SphinxParsed) -> Vec<(String, ExampleRole, String)> {
    parsed
        .examples
        .iter()
        .map(|example| {
            (
                example.run.group.clone().unwrap_or_default(),
                example.run.role,
                example.source.clone(),
            )
        })
        .collect()
}

#[test]
fn groups_run_in_order_of_first_appearance_with_setup_first() {
    let page = "\
.. testcode:: b

   print('b1')

.. testsetup:: *

   import os

.. doctest::

   >>> 1
   1

.. testcleanup:: b

   del x

.. testsetup:: b

   x = 1
";
    let reading = Reading {
        sphinx_global_setup: "G = 1".to_owned(),
        ..Reading::of(Profile::Sphinx)
    };
    let parsed = read_with(page, PageFormat::Rst, &reading);
    assert!(parsed.warnings.is_empty(), "{:?}", parsed.warnings);
    let order = order(&parsed);
    let expected = [
        ("b", ExampleRole::Setup, "G = 1\n"),
        ("b", ExampleRole::Setup, "x = 1\n"),
        ("b", ExampleRole::Setup, "import os\n"),
        ("b", ExampleRole::Test, "print('b1')\n"),
        ("b", ExampleRole::Cleanup, "del x\n"),
        ("default", ExampleRole::Setup, "G = 1\n"),
        ("default", ExampleRole::Setup, "import os\n"),
        ("default", ExampleRole::Test, "1\n"),
    ];
    let expected: Vec<(String, ExampleRole, String)> = expected
        .iter()
        .map(|(g, r, s)| (g.to_string(), *r, s.to_string()))
        .collect();
    assert_eq!(order, expected);
    let code = &parsed.examples[3];
    assert_eq!(code.run.mode, CompileMode::Exec);
    assert_eq!(code.want, "");
    assert_eq!(code.options, vec![(Flag::DONT_ACCEPT_BLANKLINE, true)]);
    assert_eq!(code.span.line, 3);
    assert_eq!(parsed.examples[7].run.mode, CompileMode::Single);
}

#[test]
fn testoutput_pairs_with_testcode_and_reads_exceptions() {
    let page = "\
.. testcode::

   raise ValueError('x')

.. testoutput::
   :options: +NORMALIZE_WHITESPACE, -DONT_ACCEPT_BLANKLINE

   Traceback (most recent call last):
     ...
   ValueError: x
";
    let parsed = read(page, PageFormat::Rst);
    assert_eq!(parsed.examples.len(), 1);
    let example = &parsed.examples[0];
    assert_eq!(
        example.want,
        "Traceback (most recent call last):\n  ...\nValueError: x\n"
    );
    assert_eq!(example.exc_msg.as_deref(), Some("ValueError: x\n"));
    assert_eq!(
        example.options,
        vec![
            (Flag::NORMALIZE_WHITESPACE, true),
            (Flag::DONT_ACCEPT_BLANKLINE, true)
        ]
    );
    assert_eq!(example.run.output_line, Some(5));
    assert_eq!((example.span.line, example.span.end_line()), (3, 10));
    assert_eq!(
        &page[example.span.want_bytes.clone()].lines().next(),
        &Some("   Traceback (most recent call last):")
    );
}

#[test]
fn literal_blocks_comments_and_code_blocks_are_not_tested() {
    let page = "\
Para::

    >>> 1
    2

.. code-block:: pycon

   >>> 1
   2

..
   >>> 1
   2

Quoted::

>>> 1
2

.. note::

   >>> 3
   3

   Inside:

      >>> 4
      4
";
    let parsed = read(page, PageFormat::Rst);
    let sources: Vec<&str> = parsed.examples.iter().map(|e| e.source.as_str()).collect();
    assert_eq!(sources, vec!["3\n", "4\n"]);
    assert_eq!(parsed.examples[1].span.line, 27);
    let none = Reading {
        sphinx_doctest_blocks_group: None,
        ..Reading::of(Profile::Sphinx)
    };
    assert!(read_with(page, PageFormat::Rst, &none).examples.is_empty());
}

#[test]
fn directive_options_and_content_as_docutils_splits_them() {
    let page = "\
.. doctest:: a, b
   :options: +ELLIPSIS
   :pyversion: >= 3.8
   :skipif: False

   >>> print('abc')  # doctest: -ELLIPSIS
   a...

.. doctest::
   :bogus:

   >>> 1
   1

.. doctest::
   :options: +NOPE

   >>> 2
   2
";
    let parsed = read(page, PageFormat::Rst);
    let groups: Vec<Option<String>> = parsed
        .examples
        .iter()
        .map(|e| e.run.group.clone())
        .collect();
    assert_eq!(
        groups,
        vec![Some("a".into()), Some("b".into()), Some("default".into())]
    );
    let first = &parsed.examples[0];
    assert_eq!(first.options, vec![(Flag::ELLIPSIS, false)]);
    assert_eq!(
        first.run.skip_if.as_ref().map(|c| c.expression.as_str()),
        Some("False")
    );
    assert_eq!(first.run.python_versions.as_deref(), Some(">= 3.8"));
    assert_eq!(first.run.block_line, Some(1));
    assert_eq!(parsed.warnings.len(), 2, "{:?}", parsed.warnings);
    assert!(
        parsed.warnings[0]
            .message
            .contains("unknown option: \"bogus\"")
    );
    assert!(
        parsed.warnings[1]
            .message
            .contains("'NOPE' is not a valid option")
    );
}

#[test]
fn invalid_doctest_code_is_ignored_with_a_warning() {
    let parsed = read(".. doctest::\n\n   >>>1\n", PageFormat::Rst);
    assert!(parsed.examples.is_empty());
    assert_eq!(parsed.warnings.len(), 1);
    assert!(parsed.warnings[0].message.contains("lacks blank after >>>"));
    assert_eq!((parsed.warnings[0].line, parsed.warnings[0].column), (3, 7));
}

#[test]
fn myst_fences_and_colon_fences() {
    let page = "\
# Title

```{testsetup}
x = 41
```

```{doctest}
:options: +ELLIPSIS

>>> x + 1
42
```

:::{testcode} g
---
hide:
---
print(x)
:::

```python
>>> 1
2
```
";
    let parsed = read(page, PageFormat::Markdown);
    assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
    let order = order(&parsed);
    assert_eq!(order.len(), 3, "{order:?}");
    assert_eq!(
        order[0],
        ("default".into(), ExampleRole::Setup, "x = 41\n".into())
    );
    assert_eq!(order[1].2, "x + 1\n");
    assert_eq!(
        order[2],
        ("g".into(), ExampleRole::Test, "print(x)\n".into())
    );
    assert_eq!(parsed.examples[1].options, vec![(Flag::ELLIPSIS, true)]);
    assert_eq!(parsed.examples[1].span.line, 10);
}

#[test]
fn star_output_attaches_to_each_groups_latest_testcode() {
    let page = "\
.. testcode:: a

   print(1)

.. testoutput:: *

   1
";
    let parsed = read(page, PageFormat::Rst);
    assert_eq!(parsed.examples.len(), 1);
    assert_eq!(parsed.examples[0].want, "1\n");
}

#[test]
fn hostile_pages_do_not_panic() {
    let deep: String = (0..1000).map(|i| format!("{}x\n", " ".repeat(i))).collect();
    let pages = [
        deep.as_str(),
        ".. doctest::",
        ".. doctest:: \u{e9}\u{e9}\n   :options: +\u{e9}, -\n   :skipif:\n",
        ".. testoutput::\n\n   x\n",
        "- .. doctest::\n\n     >>> 1\n     1\n",
        "::\n\n\t>>> 1\n\t2\n.. \u{2022}\n\u{2022} >>> 1\n",
        "\r\n.. testcode::\r\n\r\n   print(1)\r\n.. testoutput::\r\n\r\n   1\r\n",
        ":\u{e9}: x\n:a:b: c\n..\n\n.. |x| image:: y\n",
        ">>>\n>>> \n...\n",
        ".. doctest:: *\n\n   >>> 1\n",
        ".. testsetup::\n   :skipif: a\n   :skipif: b\n\n   x\n",
    ];
    for page in pages {
        for format in [PageFormat::Rst, PageFormat::Markdown] {
            let _ = read(page, format);
        }
    }
    let myst =
        "```{testoutput}\n---\n```\n:::{doctest}\n:\n:::\n```{testcode} a,,b\n---\nskipif: \"x\"\n";
    let _ = read(myst, PageFormat::Markdown);
}

#[test]
fn spans_never_end_before_they_start_and_updates_are_refused() {
    let reading = Reading {
        sphinx_global_setup: "x = 1".to_owned(),
        ..Reading::of(Profile::Sphinx)
    };
    let page = crate::engine::page::parse_page_as(
        "t.rst",
        PageFormat::Rst,
        b".. testcode::\n\n.. doctest::\n\n   >>> print(1)\n   2\n",
        &FlagRegistry::new(),
        &reading,
    );
    for example in &page.examples {
        assert!(
            example.span.end_line() >= example.span.line.max(1),
            "{example:?}"
        );
    }
    let failing = page
        .examples
        .iter()
        .find(|example| example.source == "print(1)\n")
        .expect("the doctest");
    let refusal = crate::engine::update::try_accept_actual(
        &page,
        failing,
        crate::engine::update::Actual {
            got: "1\n",
            exc_msg: None,
        },
        crate::engine::FlagSet::EMPTY,
        &FlagRegistry::new(),
    );
    assert_eq!(refusal, Err(crate::engine::update::Refusal::SphinxPage));
}
