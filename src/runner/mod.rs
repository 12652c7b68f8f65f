//! The CLI's job: find pages, read configuration, read and parse pages (and, with the backend,
//! run them). This is the layer that does file I/O for the engine.

pub mod artifacts;
pub mod checkpoint_policy;
pub mod config;
pub mod discover;
pub mod options;
pub mod run;
pub mod structure;
pub mod write;

use std::path::{Path, PathBuf};

use crate::engine::{FlagRegistry, Page, parse_page};

pub use config::{Config, ConfigError};
pub use discover::{DiscoverError, PageFile, discover};

/// Reads and parses one page. A page that cannot be read becomes a page with one error, so
/// that one unreadable file does not hide the others.
pub fn read_page(file: &PageFile, registry: &FlagRegistry) -> Page {
    let shown = display_path(&file.path);
    match std::fs::read(&file.path) {
        Ok(bytes) => parse_page(&shown, file.format, &bytes, registry),
        Err(error) => {
            let mut page = parse_page(&shown, file.format, b"", registry);
            page.errors.push(crate::engine::ParseError {
                line: 1,
                column: 1,
                kind: crate::engine::page::ParseErrorKind::Unreadable,
                message: format!("{shown}: cannot be read: {error}"),
            });
            page
        }
    }
}

/// Paths are shown relative to the current directory when they are under it, without a
/// leading `./`.
pub fn display_path(path: &Path) -> String {
    let relative = std::env::current_dir()
        .ok()
        .and_then(|cwd| path.strip_prefix(&cwd).ok().map(PathBuf::from));
    let shown = relative.as_deref().unwrap_or(path);
    let shown = shown.strip_prefix(".").unwrap_or(shown);
    shown.to_string_lossy().into_owned()
}
