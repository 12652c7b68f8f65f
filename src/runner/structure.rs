//! Structure warnings: `.. include::` and `.. toctree::` references that point nowhere, and
//! include cycles, found by building the page graph over the files on disk. Doctest itself
//! follows neither, so these never fail a run; they are warnings a reader of the page would
//! want. Figures and images are left out: objgraph's pages draw them in their examples.
//!
//! Included files are read as pages are ([`read_regular_file`]): only regular files, up to
//! the size cap, so an include of a FIFO, a device or `/dev/zero` is a warning, never a hang
//! or unbounded memory.

use std::cell::RefCell;
use std::path::{Path, PathBuf};

use super::read::{ReadError, read_regular_file};

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
    let refused: RefCell<Vec<(PathBuf, ReadError)>> = RefCell::new(Vec::new());
    let read = |path: &Path| match read_regular_file(path) {
        Ok(read) => Some(structure_of(path, &String::from_utf8_lossy(&read.bytes))),
        Err(ReadError::Io(_)) => None,
        Err(error) => {
            // It exists but is not read: an empty page, so it is not also called missing.
            refused.borrow_mut().push((path.to_path_buf(), error));
            Some(Default::default())
        }
    };
    let roots: Vec<&str> = pages.iter().map(|page| page.path.as_str()).collect();
    let graph = PageGraph::build(roots.clone(), root, &read);
    let mut warnings: Vec<StructureWarning> = refused
        .take()
        .into_iter()
        .filter(|(path, _)| !roots.iter().any(|root| Path::new(root) == path))
        .map(|(path, error)| StructureWarning {
            path: crate::runner::display_path(&path),
            line: None,
            message: format!("included file not read: it {error}"),
        })
        .collect();
    let problems = graph
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
        });
    warnings.extend(problems);
    warnings.extend(untested_warnings(pages));
    warnings
}

/// The pages' own warnings (`>>>` lines that are not tested, `engine::page::PageWarning`).
fn untested_warnings(pages: &[Page]) -> impl Iterator<Item = StructureWarning> + '_ {
    pages.iter().flat_map(|page| {
        page.warnings.iter().map(|warning| StructureWarning {
            path: page.path.clone(),
            line: Some(warning.line),
            message: warning.message.clone(),
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{FlagRegistry, PageFormat, parse_page};

    /// The warnings of `index.rst` holding `text`, in `dir`.
    fn warnings_of_index(dir: &Path, text: &str) -> Vec<StructureWarning> {
        let page_path = dir.join("index.rst");
        std::fs::write(&page_path, text).unwrap();
        let page = parse_page(
            &page_path.to_string_lossy(),
            PageFormat::Rst,
            text.as_bytes(),
            &FlagRegistry::new(),
        );
        structure_warnings(&[page], dir)
    }

    #[test]
    fn missing_includes_and_toctree_entries_are_warned_about() {
        let dir = tempfile::tempdir().unwrap();
        let text = "Title\n=====\n\n.. include:: ../missing.rst\n\n.. toctree::\n\n   nowhere\n\n.. figure:: drawn-later.png\n";
        let warnings = warnings_of_index(dir.path(), text);
        let lines: Vec<_> = warnings.iter().map(|warning| warning.line).collect();
        assert_eq!(lines, [Some(4), Some(8)], "{warnings:?}");
    }

    #[test]
    fn sphinx_generated_toctree_entries_are_not_missing() {
        let dir = tempfile::tempdir().unwrap();
        let text = "Title\n=====\n\n.. toctree::\n\n   self\n   genindex\n   modindex\n   search\n   nowhere\n";
        let warnings = warnings_of_index(dir.path(), text);
        let lines: Vec<_> = warnings.iter().map(|warning| warning.line).collect();
        assert_eq!(lines, [Some(10)], "{warnings:?}");
    }

    #[test]
    fn includes_of_devices_and_fifos_are_warnings_not_hangs() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo.rst");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        assert!(made.unwrap().success());
        std::os::unix::fs::symlink("/dev/zero", dir.path().join("zero.rst")).unwrap();
        let text = ".. include:: zero.rst\n\n.. include:: fifo.rst\n";
        let warnings = warnings_of_index(dir.path(), text);
        let messages: Vec<String> = warnings.iter().map(ToString::to_string).collect();
        assert_eq!(messages.len(), 2, "{messages:?}");
        assert!(
            messages[0].ends_with("zero.rst: included file not read: it is a character device, not a regular file; give a regular file"),
            "{messages:?}"
        );
        assert!(
            messages[1].contains("it is a FIFO (named pipe)"),
            "{messages:?}"
        );
    }
}
