//! Finding pages: directories are walked for `.txt`, `.rst` and `.md` files, honouring
//! `.gitignore` and configured excludes; files named on the command line are always taken.
//! The result is sorted so that reports come in a stable order.

use std::path::{Path, PathBuf};

use ignore::WalkBuilder;
use ignore::overrides::OverrideBuilder;

use crate::engine::PageFormat;

/// A page to read: its path (as it will be shown) and its format.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct PageFile {
    pub path: PathBuf,
    pub format: PageFormat,
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
}

/// Finds the pages under `paths`. `exclude` holds gitignore-style globs, relative to `root`.
pub fn discover(
    paths: &[PathBuf],
    exclude: &[String],
    root: &Path,
) -> Result<Vec<PageFile>, DiscoverError> {
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

    let mut pages = Vec::new();
    for path in paths {
        if path.is_file() {
            let format = PageFormat::from_path(&path.to_string_lossy()).unwrap_or(PageFormat::Text);
            pages.push(PageFile {
                path: path.clone(),
                format,
            });
            continue;
        }
        if !path.is_dir() {
            return Err(DiscoverError::Missing { path: path.clone() });
        }
        let walker = WalkBuilder::new(path)
            .require_git(false)
            .overrides(overrides.clone())
            .build();
        for entry in walker {
            let entry = entry.map_err(|error| DiscoverError::Walk {
                path: path.clone(),
                message: error.to_string(),
            })?;
            if !entry.file_type().is_some_and(|kind| kind.is_file()) {
                continue;
            }
            if let Some(format) = PageFormat::from_path(&entry.path().to_string_lossy()) {
                pages.push(PageFile {
                    path: entry.into_path(),
                    format,
                });
            }
        }
    }
    pages.sort();
    pages.dedup();
    Ok(pages)
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
        let pages = discover(&[root.join("docs")], &["_build/".to_owned()], root).unwrap();
        let names: Vec<_> = pages
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
}
