//! The page graph over in-memory sites: includes, toctrees and images followed from the roots,
//! targets resolved as documented, cycles and missing targets reported, and the queries the
//! editor and the CLI use.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use objgraph_doctest::engine::graph::{
    self, EdgeKind, NodeKind, PageGraph, PageSource, ProblemKind, Severity,
};
use objgraph_doctest::engine::page::Structure;
use serde_json::{Value, json};

/// A site held in memory: path to text. Every file exists; pages are parsed by extension.
struct Site(HashMap<PathBuf, String>);

impl Site {
    fn new(files: &[(&str, &str)]) -> Site {
        Site(
            files
                .iter()
                .map(|(path, text)| (PathBuf::from(path), (*text).to_owned()))
                .collect(),
        )
    }
}

impl PageSource for Site {
    fn structure(&self, path: &Path) -> Option<Structure> {
        self.0.get(path).map(|text| graph::structure_of(path, text))
    }
}

fn build(site: &Site, roots: &[&str]) -> PageGraph {
    PageGraph::build(roots, Path::new("docs"), site)
}

fn paths(found: Vec<&Path>) -> Vec<String> {
    found
        .into_iter()
        .map(|path| path.display().to_string())
        .collect()
}

/// Nodes, edges and problems, for snapshots.
fn summary(graph: &PageGraph) -> Value {
    let nodes: Vec<Value> = graph
        .nodes()
        .map(|node| {
            let edges: Vec<Value> = graph
                .references_from(&node.path)
                .into_iter()
                .map(|(edge, target)| {
                    json!({
                        "kind": edge.kind,
                        "line": edge.line,
                        "written": edge.target,
                        "to": target.path,
                    })
                })
                .collect();
            json!({
                "path": node.path,
                "kind": node.kind,
                "missing": node.missing,
                "references": edges,
            })
        })
        .collect();
    let problems: Vec<Value> = graph
        .problems()
        .iter()
        .map(|problem| {
            let mut value = serde_json::to_value(problem).expect("problems serialise");
            value["severity"] = json!(problem.severity());
            value
        })
        .collect();
    json!({ "nodes": nodes, "problems": problems })
}

const INDEX: &str = "\
.. include:: ../README.rst
   :end-before: .. _history:

Quick start
-----------

.. figure:: sample-graph.png
   :alt: a graph

.. toctree::
   :maxdepth: 2

   objgraph
   Extra information <extra-info>
   references
   self
";

fn objgraph_site() -> Site {
    Site::new(&[
        ("docs/index.txt", INDEX),
        (
            "README.rst",
            "Python Object Graphs\n====================\n\n.. image:: https://example.com/badge.svg\n",
        ),
        ("docs/objgraph.txt", "API\n===\n"),
        ("docs/extra-info.txt", ".. figure:: extra-info.png\n"),
        ("docs/extra-info.png", ""),
    ])
}

#[test]
fn objgraph_docs_shape() {
    let graph = build(&objgraph_site(), &["docs/index.txt"]);
    insta::assert_json_snapshot!(summary(&graph));
}

#[test]
fn missing_targets_are_reported_where_written() {
    let graph = build(&objgraph_site(), &["docs/index.txt"]);
    let problems: Vec<(ProblemKind, Severity, String, Option<usize>)> = graph
        .problems()
        .iter()
        .map(|problem| {
            (
                problem.kind,
                problem.severity(),
                problem.page.display().to_string(),
                problem.line,
            )
        })
        .collect();
    assert_eq!(
        problems,
        [
            (
                ProblemKind::MissingAsset,
                Severity::Warning,
                "docs/index.txt".to_owned(),
                Some(7)
            ),
            (
                ProblemKind::MissingToctreeEntry,
                Severity::Warning,
                "docs/index.txt".to_owned(),
                Some(15)
            ),
        ]
    );
    let missing_entry = &graph.problems()[1];
    assert!(
        missing_entry
            .message
            .contains("docs/references.rst, docs/references.txt, docs/references.md"),
        "{}",
        missing_entry.message
    );
}

#[test]
fn missing_include_is_an_error_and_its_includers_are_known() {
    let site = Site::new(&[(
        "docs/a.rst",
        "Title\n=====\n\n.. include:: parts/missing.rst\n",
    )]);
    let graph = build(&site, &["docs/a.rst"]);
    let [problem] = graph.problems() else {
        panic!("one problem expected: {:?}", graph.problems());
    };
    assert_eq!(problem.kind, ProblemKind::MissingInclude);
    assert_eq!(problem.severity(), Severity::Error);
    assert_eq!(problem.line, Some(4));
    assert_eq!(problem.bytes, Some(26..43));
    assert!(problem.message.contains("docs/parts/missing.rst"));
    let missing = graph
        .node(Path::new("docs/parts/missing.rst"))
        .expect("the missing file is a node, so that creating it can be noticed");
    assert!(missing.missing);
    assert_eq!(
        paths(graph.dependents_of(Path::new("docs/parts/missing.rst"))),
        ["docs/a.rst"]
    );
}

#[test]
fn include_cycles_terminate_and_are_errors() {
    let site = Site::new(&[
        ("docs/a.rst", ".. include:: b.rst\n"),
        ("docs/b.rst", "text\n\n.. include:: sub/c.rst\n"),
        ("docs/sub/c.rst", ".. include:: ../a.rst\n"),
        ("docs/self.rst", ".. include:: ./self.rst\n"),
    ]);
    let graph = build(&site, &["docs/a.rst", "docs/self.rst"]);
    let problems: Vec<(ProblemKind, String, Option<usize>, &str)> = graph
        .problems()
        .iter()
        .map(|problem| {
            (
                problem.kind,
                problem.page.display().to_string(),
                problem.line,
                problem.message.as_str(),
            )
        })
        .collect();
    assert_eq!(
        problems,
        [
            (
                ProblemKind::IncludeCycle,
                "docs/sub/c.rst".to_owned(),
                Some(1),
                "include cycle: docs/a.rst -> docs/b.rst -> docs/sub/c.rst -> docs/a.rst; \
                 docutils would include these files forever, remove one of the includes"
            ),
            (
                ProblemKind::IncludeCycle,
                "docs/self.rst".to_owned(),
                Some(1),
                "include cycle: docs/self.rst -> docs/self.rst; docutils would include these \
                 files forever, remove one of the includes"
            ),
        ]
    );
    assert!(
        graph
            .problems()
            .iter()
            .all(|problem| problem.severity() == Severity::Error)
    );
    assert_eq!(
        paths(graph.dependents_of(Path::new("docs/a.rst"))),
        ["docs/sub/c.rst", "docs/b.rst"]
    );
}

#[test]
fn toctree_cycles_are_warnings() {
    let site = Site::new(&[
        ("docs/index.rst", ".. toctree::\n\n   guide\n"),
        ("docs/guide.rst", ".. toctree::\n\n   Back home </index>\n"),
    ]);
    let graph = build(&site, &["docs/index.rst"]);
    let [problem] = graph.problems() else {
        panic!("one problem expected: {:?}", graph.problems());
    };
    assert_eq!(problem.kind, ProblemKind::ToctreeCycle);
    assert_eq!(problem.severity(), Severity::Warning);
    assert_eq!(problem.page, Path::new("docs/guide.rst"));
    assert_eq!(problem.line, Some(3));
    assert!(
        problem
            .message
            .starts_with("toctree cycle: docs/index.rst -> docs/guide.rst -> docs/index.rst")
    );
}

#[test]
fn dependents_follow_includes_only() {
    let site = Site::new(&[
        ("docs/index.rst", ".. toctree::\n\n   a\n"),
        ("docs/a.rst", ".. include:: b.inc\n\n.. image:: pic.png\n"),
        ("docs/b.inc", ".. include:: c.inc\n"),
        ("docs/c.inc", "shared text\n"),
        ("docs/other.rst", ".. include:: c.inc\n"),
        ("docs/pic.png", ""),
    ]);
    let graph = build(&site, &["docs/index.rst", "docs/other.rst"]);
    assert_eq!(graph.problems(), []);
    assert_eq!(
        paths(graph.dependents_of(Path::new("docs/c.inc"))),
        ["docs/other.rst", "docs/b.inc", "docs/a.rst"]
    );
    assert_eq!(
        paths(graph.dependencies_of(Path::new("docs/a.rst"))),
        ["docs/b.inc", "docs/c.inc"]
    );
    // Listing a page in a toctree does not make the lister depend on it.
    assert_eq!(
        paths(graph.dependents_of(Path::new("docs/a.rst"))),
        Vec::<String>::new()
    );
    // Queries normalise their argument as the graph does.
    assert_eq!(
        paths(graph.dependents_of(Path::new("docs/./sub/../b.inc"))),
        ["docs/a.rst"]
    );
    let picture = graph.node(Path::new("docs/pic.png")).expect("image node");
    assert_eq!(picture.kind, NodeKind::Asset);
    assert!(!picture.missing);
}

#[test]
fn toctree_entries_try_rst_then_txt_then_md() {
    let site = Site::new(&[
        (
            "docs/index.rst",
            ".. toctree::\n\n   both\n   text-only\n   markdown\n   explicit.txt\n   /rooted\n   https://example.com\n   api/*\n",
        ),
        ("docs/both.rst", ""),
        ("docs/both.txt", ""),
        ("docs/text-only.txt", ""),
        ("docs/markdown.md", "# Markdown\n"),
        ("docs/explicit.txt", ""),
        ("docs/rooted.rst", ""),
    ]);
    let graph = build(&site, &["docs/index.rst"]);
    assert_eq!(graph.problems(), []);
    let listed: Vec<(EdgeKind, String)> = graph
        .references_from(Path::new("docs/index.rst"))
        .into_iter()
        .map(|(edge, node)| (edge.kind, node.path.display().to_string()))
        .collect();
    assert_eq!(
        listed,
        [
            (EdgeKind::Toctree, "docs/both.rst".to_owned()),
            (EdgeKind::Toctree, "docs/text-only.txt".to_owned()),
            (EdgeKind::Toctree, "docs/markdown.md".to_owned()),
            (EdgeKind::Toctree, "docs/explicit.txt".to_owned()),
            (EdgeKind::Toctree, "docs/rooted.rst".to_owned()),
        ]
    );
}

#[test]
fn markdown_pages_take_part() {
    let site = Site::new(&[
        (
            "docs/index.md",
            "# Home\n\n![graph](img/graph.png)\n\n```{include} ../README.md\n```\n\n```{toctree}\n:maxdepth: 1\n\nguide\n```\n",
        ),
        ("README.md", "# Readme\n"),
        ("docs/guide.md", "# Guide\n"),
        ("docs/img/graph.png", ""),
    ]);
    let graph = build(&site, &["docs/index.md"]);
    assert_eq!(graph.problems(), []);
    let reached: Vec<(NodeKind, String)> = graph
        .nodes()
        .map(|node| (node.kind, node.path.display().to_string()))
        .collect();
    assert_eq!(
        reached,
        [
            (NodeKind::Page, "docs/index.md".to_owned()),
            (NodeKind::Asset, "docs/img/graph.png".to_owned()),
            (NodeKind::Page, "README.md".to_owned()),
            (NodeKind::Page, "docs/guide.md".to_owned()),
        ]
    );
}

#[test]
fn a_closure_is_a_page_source_and_missing_roots_are_errors() {
    let source = |path: &Path| (path == Path::new("docs/a.rst")).then(Structure::default);
    let graph = PageGraph::build(["docs/a.rst", "docs/gone.rst"], Path::new("docs"), &source);
    let [problem] = graph.problems() else {
        panic!("one problem expected: {:?}", graph.problems());
    };
    assert_eq!(problem.kind, ProblemKind::MissingRoot);
    assert_eq!(problem.line, None);
    assert!(
        graph
            .node(Path::new("docs/gone.rst"))
            .is_some_and(|node| node.missing)
    );
}

#[test]
fn long_include_chains_do_not_overflow() {
    let pages = 20_000;
    let source = |path: &Path| {
        let name = path.file_stem()?.to_str()?;
        let number: usize = name.strip_prefix('p')?.parse().ok()?;
        let next = (number + 1) % pages;
        let text = format!(".. include:: p{next}.rst\n");
        (number < pages).then(|| graph::structure_of(path, &text))
    };
    let graph = PageGraph::build(["docs/p0.rst"], Path::new("docs"), &source);
    assert_eq!(graph.nodes().count(), pages);
    let [problem] = graph.problems() else {
        panic!("one cycle expected");
    };
    assert_eq!(problem.kind, ProblemKind::IncludeCycle);
    assert_eq!(
        graph.dependents_of(Path::new("docs/p0.rst")).len(),
        pages - 1
    );
}

#[test]
fn resolution_rules() {
    let page = Path::new("docs/guide/page.rst");
    let root = Path::new("docs");
    let resolve = |target: &str| graph::resolve(page, target, root);
    assert_eq!(
        resolve("img.png"),
        Some(PathBuf::from("docs/guide/img.png"))
    );
    assert_eq!(
        resolve("../../README.rst"),
        Some(PathBuf::from("README.rst"))
    );
    assert_eq!(resolve("../../../up.rst"), Some(PathBuf::from("../up.rst")));
    assert_eq!(resolve("/top.rst"), Some(PathBuf::from("docs/top.rst")));
    assert_eq!(resolve("https://example.com/a.png"), None);
    assert_eq!(resolve("mailto:someone@example.com"), None);
    assert_eq!(resolve("//cdn.example.com/a.png"), None);
    assert_eq!(resolve("<isonum.txt>"), None);
    assert_eq!(resolve("  "), None);
    assert_eq!(
        graph::toctree_candidates(page, "intro", root),
        [
            PathBuf::from("docs/guide/intro.rst"),
            PathBuf::from("docs/guide/intro.txt"),
            PathBuf::from("docs/guide/intro.md"),
        ]
    );
    assert_eq!(
        graph::toctree_candidates(page, "intro.md", root)[0],
        PathBuf::from("docs/guide/intro.md")
    );
    assert_eq!(
        graph::toctree_candidates(page, "api/*", root),
        Vec::<PathBuf>::new()
    );
}
