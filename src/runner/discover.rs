//! Finding pages: directories are walked for `.txt`, `.rst` and `.md` files, honouring
//! `.gitignore` and configured excludes; files named on the command line are always taken.
//! The result is sorted so that reports come in a stable order, and a page named twice (as
//! `p`, `./p` and `/abs/p`, or through a symlink or a hard link) is taken once.
//!
//! Named paths are checked before anything is opened: a FIFO, a device or a symlink loop is
//! an error that says so (opening a FIFO would block). A directory inside the walk that
//! cannot be read is a warning, and the other pages still run.

use std::collections::HashSet;
use std::os::unix::fs::MetadataExt;
use std::path::{Component, Path, PathBuf};

use ignore::WalkBuilder;
use ignore::overrides::OverrideBuilder;

use crate::engine::PageFormat;

/// A page to read: its path (as it will be shown) and its format.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct PageFile {
    pub path: PathBuf,
    pub format: PageFormat,
}

/// The pages found, and what was skipped on the way.
#[derive(Debug, Clone, Default)]
pub struct Discovery {
    pub pages: Vec<PageFile>,
    /// Directories or entries that could not be read, each a full sentence.
    pub warnings: Vec<String>,
}

/// Why discovery failed.
#[derive(Debug, thiserror::Error)]
pub enum DiscoverError {
    #[error("{}: no such file or directory; check the path (or the `paths` key of the configuration)", path.display())]
    Missing { path: PathBuf },
    #[error("invalid exclude pattern {pattern:?}: {message}")]
    BadExclude { pattern: String, message: String },
    #[error("{}: cannot be read: {message}", path.display())]
    Walk { path: PathBuf, message: String },
    #[error("{}: {}", path.display(), crate::runner::read::ReadError::SymlinkLoop)]
    SymlinkLoop { path: PathBuf },
    #[error("{}: is {kind}, not a page; give a regular file or a directory", path.display())]
    NotAPage { path: PathBuf, kind: &'static str },
}

/// Finds the pages under `paths`. `exclude` holds gitignore-style globs, relative to `root`.
pub fn discover(
    paths: &[PathBuf],
    exclude: &[String],
    root: &Path,
) -> Result<Discovery, DiscoverError> {
    let mut overrides = OverrideBuilder::new(root);
    for pattern in exclude {
        overrides
            .add(&format!("!{pattern}"))
            .map_err(|error| DiscoverError::BadExclude {
                pattern: pattern.clone(),
                message: error.to_string(),
            })?;
    }
    let overrides = overrides
        .build()
        .map_err(|error| DiscoverError::BadExclude {
            pattern: exclude.join(", "),
            message: error.to_string(),
        })?;

    let mut found = Discovery::default();
    for path in paths {
        let path = &without_dot_components(path);
        let metadata = std::fs::metadata(path).map_err(|error| named_path_error(path, &error))?;
        if metadata.is_file() {
            let format = PageFormat::from_path(&path.to_string_lossy()).unwrap_or(PageFormat::Text);
            found.pages.push(PageFile {
                path: path.clone(),
                format,
            });
            continue;
        }
        if let Some(kind) = crate::runner::read::irregular_kind(&metadata)
            && !metadata.is_dir()
        {
            return Err(DiscoverError::NotAPage {
                path: path.clone(),
                kind,
            });
        }
        let walker = WalkBuilder::new(path)
            .require_git(false)
            .overrides(overrides.clone())
            .build();
        for entry in walker {
            let entry = match entry {
                Ok(entry) => entry,
                Err(error) => {
                    // One unreadable directory must not hide the pages beside it.
                    found.warnings.push(format!(
                        "{}; the pages under it were skipped (check its permissions)",
                        error.to_string().trim_end_matches('.')
                    ));
                    continue;
                }
            };
            if !entry.file_type().is_some_and(|kind| kind.is_file()) {
                continue;
            }
            if let Some(format) = PageFormat::from_path(&entry.path().to_string_lossy()) {
                found.pages.push(PageFile {
                    path: entry.into_path(),
                    format,
                });
            }
        }
    }
    found.pages.sort();
    // One file is one page, however it was named: `p`, `/abs/p`, a symlink or a hard link.
    let mut seen = HashSet::new();
    found
        .pages
        .retain(|page| match std::fs::metadata(&page.path) {
            Ok(metadata) => seen.insert((metadata.dev(), metadata.ino())),
            Err(_) => true,
        });
    Ok(found)
}

/// `./p` and `p/./q` as `p` and `p/q`, so that the same page is shown the same way.
fn without_dot_components(path: &Path) -> PathBuf {
    let cleaned: PathBuf = path
        .components()
        .filter(|component| *component != Component::CurDir)
        .collect();
    if cleaned.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        cleaned
    }
}

fn named_path_error(path: &Path, error: &std::io::Error) -> DiscoverError {
    if error.raw_os_error() == Some(nix::libc::ELOOP) {
        DiscoverError::SymlinkLoop {
            path: path.to_path_buf(),
        }
    } else if error.kind() == std::io::ErrorKind::NotFound {
        DiscoverError::Missing {
            path: path.to_path_buf(),
        }
    } else {
        DiscoverError::Walk {
            path: path.to_path_buf(),
            message: error.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walks_sorted_and_excludes() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("docs/sub")).unwrap();
        std::fs::create_dir_all(root.join("docs/_build")).unwrap();
        for file in [
            "docs/b.txt",
            "docs/a.rst",
            "docs/sub/c.md",
            "docs/x.py",
            "docs/_build/d.txt",
        ] {
            std::fs::write(root.join(file), ">>> 1\n1\n").unwrap();
        }
        let found = discover(&[root.join("docs")], &["_build/".to_owned()], root).unwrap();
        let names: Vec<_> = found
            .pages
            .iter()
            .map(|page| {
                page.path
                    .strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        assert_eq!(names, ["docs/a.rst", "docs/b.txt", "docs/sub/c.md"]);
    }

    #[test]
    fn missing_paths_are_errors() {
        let error =
            discover(&[PathBuf::from("/nonexistent/docs")], &[], Path::new("/")).unwrap_err();
        assert!(error.to_string().contains("no such file or directory"));
    }

    #[test]
    fn the_same_page_named_three_ways_is_taken_once() {
        let dir = tempfile::tempdir().unwrap();
        let page = dir.path().join("p.txt");
        std::fs::write(&page, ">>> 1\n1\n").unwrap();
        let dotted = dir.path().join(".").join("p.txt");
        let found = discover(
            &[page.clone(), dotted, dir.path().to_path_buf()],
            &[],
            dir.path(),
        )
        .unwrap();
        assert_eq!(found.pages.len(), 1, "{:?}", found.pages);
        assert_eq!(found.pages[0].path, page);
    }
}
