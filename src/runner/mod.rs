//! The CLI's job: find pages, read configuration, read and parse pages (and, with the backend,
//! run them). This is the layer that does file I/O for the engine.

pub mod artifacts;
pub mod cancel;
pub mod checkpoint_policy;
pub mod config;
pub mod discover;
pub mod figures;
pub mod options;
pub mod profile;
pub mod pytest_config;
pub mod read;
pub mod run;
pub mod shard;
pub mod sphinx_conf;
mod stream;
pub mod structure;
pub mod update;
pub mod workdirs;
pub mod write;

use std::path::{Path, PathBuf};

use crate::engine::{FlagRegistry, Page, parse_page_as};

use profile::Profiles;

pub use config::{Config, ConfigError};
pub use discover::{DiscoverError, Discovery, PageFile, discover};
pub use read::ReadFile;

/// Reads and parses one page. A page that cannot be read becomes a page with one error, so
/// that one unreadable file does not hide the others.
pub fn read_page(file: &PageFile, registry: &FlagRegistry, profiles: &Profiles) -> Page {
    load_page(file, registry, profiles).0
}

/// Reads and parses one page, and keeps what was read (the file's own path, which need not be
/// UTF-8, its bytes and its stamp) for `--update`; `None` when it could not be read.
/// The page is read as its profile reads it.
pub fn load_page(
    file: &PageFile,
    registry: &FlagRegistry,
    profiles: &Profiles,
) -> (Page, Option<ReadFile>) {
    let shown = display_path(&file.path);
    let reading = &profiles.for_page(&file.path).reading;
    match read::read_regular_file(&file.path) {
        Ok(read) => (
            parse_page_as(&shown, file.format, &read.bytes, registry, reading),
            Some(read),
        ),
        Err(error) => {
            let mut page = parse_page_as(&shown, file.format, b"", registry, reading);
            page.errors.push(crate::engine::ParseError {
                line: 1,
                column: 1,
                kind: crate::engine::page::ParseErrorKind::Unreadable,
                message: format!("{shown}: {error}"),
            });
            (page, None)
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
