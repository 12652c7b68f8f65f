//! Structure warnings: `.. include::` and `.. toctree::` references that point nowhere, and
//! include cycles, found by building the page graph over the files on disk. Doctest itself
//! follows neither, so these never fail a run; they are warnings a reader of the page would
//! want. Figures and images are left out: objgraph's pages draw them in their examples.

use std::path::Path;

use crate::engine::Page;
use crate::engine::graph::{PageGraph, ProblemKind, structure_of};

/// One warning, located in the page that writes the reference.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct StructureWarning {
    pub path: String,
    pub line: Option<usize>,
    pub message: String,
}

impl std::fmt::Display for StructureWarning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{line}: {}", self.path, self.message),
            None => write!(f, "{}: {}", self.path, self.message),
        }
    }
}

/// The structure warnings of `pages`, whose relative targets resolve against each page's
/// directory and whose `/`-rooted targets against `root`.
pub fn structure_warnings(pages: &[Page], root: &Path) -> Vec<StructureWarning> {
    let read = |path: &Path| {
        let bytes = std::fs::read(path).ok()?;
        Some(structure_of(path, &String::from_utf8_lossy(&bytes)))
    };
    let roots: Vec<&str> = pages.iter().map(|page| page.path.as_str()).collect();
    let graph = PageGraph::build(roots, root, &read);
    graph
        .problems()
        .iter()
        .filter(|problem| {
            matches!(
                problem.kind,
                ProblemKind::MissingInclude
                    | ProblemKind::IncludeCycle
                    | ProblemKind::MissingToctreeEntry
                    | ProblemKind::ToctreeCycle
            )
        })
        .map(|problem| StructureWarning {
            path: crate::runner::display_path(&problem.page),
            line: problem.line,
            message: problem.message.clone(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{FlagRegistry, PageFormat, parse_page};

    #[test]
    fn missing_includes_and_toctree_entries_are_warned_about() {
        let dir = tempfile::tempdir().unwrap();
        let page_path = dir.path().join("index.rst");
        let text = "Title\n=====\n\n.. include:: ../missing.rst\n\n.. toctree::\n\n   nowhere\n\n.. figure:: drawn-later.png\n";
        std::fs::write(&page_path, text).unwrap();
        let page = parse_page(
            &page_path.to_string_lossy(),
            PageFormat::Rst,
            text.as_bytes(),
            &FlagRegistry::new(),
        );
        let warnings = structure_warnings(&[page], dir.path());
        let lines: Vec<_> = warnings.iter().map(|warning| warning.line).collect();
        assert_eq!(lines, [Some(4), Some(8)], "{warnings:?}");
    }
}
