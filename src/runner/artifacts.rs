//! Files that examples write (objgraph's `show_refs(..., filename='refs.png')` and the like).
//! This module owns watching a page's working directory between examples, copying what each
//! example created or changed into the artifacts directory under names that are stable from
//! run to run, and summarising the DOT graphs among them with `engine::dot`.
//!
//! Everything here is best effort: a file that cannot be read, vanishes, or is too large
//! becomes a note on its artifact (or is skipped), never an error for the run.

use std::collections::{BTreeMap, HashSet};
use std::ffi::OsStr;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Component, Path, PathBuf};
use std::time::SystemTime;

use serde::{Serialize, Serializer};

use crate::engine::dot::{DotSummary, MAX_DOT_BYTES, summarize_dot};

/// Files larger than this are recorded but not copied.
pub const DEFAULT_MAX_COPY_BYTES: u64 = 50 * 1024 * 1024;

/// Regular files looked at per scan of a working directory; past this the rest are not
/// seen (an example that writes thousands of files is not making figures).
pub const MAX_SCANNED_FILES: usize = 1_000;

/// Directory levels below the working directory that are scanned.
pub const MAX_SCAN_DEPTH: usize = 8;

/// Entries read from one directory before sorting; bounds the memory a huge directory takes.
const MAX_DIRECTORY_ENTRIES: usize = 10_000;

/// Longest page directory name before it is shortened (and given a hash to stay unique).
const MAX_PAGE_KEY_BYTES: usize = 120;

/// Longest copy name; file systems allow 255 bytes.
const MAX_COPY_NAME_BYTES: usize = 200;

/// Directories never scanned: Python's bytecode caches appear when an example imports a
/// module it wrote, and are nobody's figure.
const SKIPPED_DIRECTORIES: &[&str] = &["__pycache__"];

/// What a file is, by its extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ArtifactKind {
    Image,
    Dot,
    Other,
}

impl ArtifactKind {
    /// `png`, `svg`, `jpg`, `jpeg`, `gif` are images; `dot` and `gv` are Graphviz graphs.
    pub fn of(name: &Path) -> ArtifactKind {
        let extension = name
            .extension()
            .and_then(OsStr::to_str)
            .map(str::to_ascii_lowercase);
        match extension.as_deref() {
            Some("png" | "svg" | "jpg" | "jpeg" | "gif") => ArtifactKind::Image,
            Some("dot" | "gv") => ArtifactKind::Dot,
            _ => ArtifactKind::Other,
        }
    }
}

/// A file an example created or changed.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct Artifact {
    /// Where the copy is; nothing is there when `copied` is false (`note` says why).
    #[serde(serialize_with = "serialize_path_lossy")]
    pub path: PathBuf,
    /// The file as the example named it, relative to the page's working directory.
    pub name: String,
    pub kind: ArtifactKind,
    /// Size in bytes when it was found.
    pub size: u64,
    pub copied: bool,
    /// For DOT files that could be read.
    pub dot: Option<DotSummary>,
    /// Why it was not copied or summarised.
    pub note: Option<String>,
}

/// Watches one page's working directory: remembers what is there, and after each example
/// copies what is new or changed into `<artifacts dir>/<page key>/L<line>-<name>`.
#[derive(Debug)]
pub struct ArtifactCollector {
    workdir: PathBuf,
    artifacts_dir: PathBuf,
    page_dir: PathBuf,
    max_copy_bytes: u64,
    known: BTreeMap<PathBuf, FileStamp>,
    truncated: bool,
}

/// What tells a changed file from an unchanged one. The inode catches a file replaced by a
/// rename (as `dot -o` and atomic writers do) within one mtime tick.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FileStamp {
    size: u64,
    modified: Option<SystemTime>,
    inode: u64,
}

impl ArtifactCollector {
    /// Starts watching `workdir` for the page at `page_path`, remembering the files already
    /// there. Copies a previous run of the page left behind are removed, so that the page's
    /// directory shows the latest run only; the directory itself is created when the first
    /// copy is made.
    pub fn new(workdir: &Path, artifacts_dir: &Path, page_path: &str) -> ArtifactCollector {
        let artifacts_dir =
            std::path::absolute(artifacts_dir).unwrap_or_else(|_| artifacts_dir.to_path_buf());
        let page_dir = artifacts_dir.join(page_key(page_path));
        remove_previous_copies(&page_dir);
        let mut collector = ArtifactCollector {
            workdir: std::path::absolute(workdir).unwrap_or_else(|_| workdir.to_path_buf()),
            artifacts_dir,
            page_dir,
            max_copy_bytes: DEFAULT_MAX_COPY_BYTES,
            known: BTreeMap::new(),
            truncated: false,
        };
        collector.known = collector.scan();
        collector
    }

    /// Copies files up to `bytes` long (default [`DEFAULT_MAX_COPY_BYTES`]).
    pub fn with_max_copy_bytes(mut self, bytes: u64) -> ArtifactCollector {
        self.max_copy_bytes = bytes;
        self
    }

    /// Where this page's copies go.
    pub fn page_dir(&self) -> &Path {
        &self.page_dir
    }

    /// Whether the last scan stopped at [`MAX_SCANNED_FILES`] or skipped an over-full
    /// directory, so that files may have been missed.
    pub fn scan_was_truncated(&self) -> bool {
        self.truncated
    }

    /// Finds the files created or changed since the last call (or since `new`), copies
    /// them as `L<line>-<name>`, and returns them sorted by name.
    pub fn collect(&mut self, line: usize) -> Vec<Artifact> {
        let current = self.scan();
        let changed: Vec<(PathBuf, FileStamp)> = current
            .iter()
            .filter(|&(relative, stamp)| self.known.get(relative) != Some(stamp))
            .map(|(relative, stamp)| (relative.clone(), *stamp))
            .collect();
        self.known = current;
        let mut used_names = HashSet::new();
        changed
            .into_iter()
            .map(|(relative, stamp)| {
                let copy_name = unique_name(copy_name(line, &relative), &mut used_names);
                self.artifact(&relative, stamp.size, copy_name)
            })
            .collect()
    }

    fn artifact(&self, relative: &Path, size: u64, copy_name: String) -> Artifact {
        let kind = ArtifactKind::of(relative);
        let mut artifact = Artifact {
            path: self.page_dir.join(copy_name),
            name: slash_separated(relative),
            kind,
            size,
            copied: false,
            dot: None,
            note: None,
        };
        if size > self.max_copy_bytes {
            artifact.note = Some(format!(
                "not copied: {} is over the {} limit",
                human_size(size),
                human_size(self.max_copy_bytes)
            ));
            return artifact;
        }
        // Private as the copies in it are (0600): the names of the files an example wrote
        // are nobody else's business either.
        let made = fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&self.page_dir);
        if let Err(error) = made {
            artifact.note = Some(format!(
                "not copied: cannot create {}: {error}",
                self.page_dir.display()
            ));
            return artifact;
        }
        match copy_capped(
            &self.workdir.join(relative),
            &artifact.path,
            self.max_copy_bytes,
        ) {
            Ok(copied) => {
                artifact.copied = true;
                artifact.size = copied;
            }
            Err(CopyError::TooLarge) => {
                artifact.note = Some(format!(
                    "not copied: it grew past the {} limit while being copied",
                    human_size(self.max_copy_bytes)
                ));
            }
            Err(CopyError::Io(error)) if error.kind() == io::ErrorKind::NotFound => {
                artifact.note = Some(String::from(
                    "not copied: it vanished before it could be copied",
                ));
            }
            Err(CopyError::Io(error)) => artifact.note = Some(format!("not copied: {error}")),
        }
        if kind == ArtifactKind::Dot && artifact.copied {
            match summarize_dot_file(&artifact.path, artifact.size) {
                Ok(summary) => artifact.dot = Some(summary),
                Err(error) => artifact.note = Some(format!("not summarised: {error}")),
            }
        }
        artifact
    }

    /// The regular files under the working directory, by path relative to it. Symbolic
    /// links are never followed: a link to `/` must not make a scan walk the machine.
    fn scan(&mut self) -> BTreeMap<PathBuf, FileStamp> {
        let mut files = BTreeMap::new();
        let mut truncated = false;
        let mut pending = vec![(PathBuf::new(), 0usize)];
        'directories: while let Some((relative_dir, depth)) = pending.pop() {
            let directory = self.workdir.join(&relative_dir);
            let Ok(reader) = fs::read_dir(&directory) else {
                continue;
            };
            let mut names: Vec<_> = reader
                .filter_map(Result::ok)
                .map(|entry| entry.file_name())
                .take(MAX_DIRECTORY_ENTRIES + 1)
                .collect();
            if names.len() > MAX_DIRECTORY_ENTRIES {
                truncated = true;
                names.truncate(MAX_DIRECTORY_ENTRIES);
            }
            names.sort();
            let mut subdirectories = Vec::new();
            for name in names {
                let relative = relative_dir.join(&name);
                let path = directory.join(&name);
                // A file removed between the listing and this look is simply not there.
                let Ok(metadata) = fs::symlink_metadata(&path) else {
                    continue;
                };
                if metadata.is_dir() {
                    let skipped = SKIPPED_DIRECTORIES.iter().any(|skipped| name == *skipped)
                        || path == self.artifacts_dir;
                    if depth < MAX_SCAN_DEPTH && !skipped {
                        subdirectories.push((relative, depth + 1));
                    } else if depth >= MAX_SCAN_DEPTH {
                        truncated = true;
                    }
                } else if metadata.is_file() {
                    if files.len() >= MAX_SCANNED_FILES {
                        truncated = true;
                        break 'directories;
                    }
                    let stamp = FileStamp {
                        size: metadata.len(),
                        modified: metadata.modified().ok(),
                        inode: metadata.ino(),
                    };
                    files.insert(relative, stamp);
                }
            }
            // Popped from the end: reversed so that directories are walked in name order
            // and the same files fall under the cap every time.
            pending.extend(subdirectories.into_iter().rev());
        }
        self.truncated = truncated;
        files
    }
}

/// Whether Graphviz's `dot` is on `PATH` (objgraph needs it for anything but `.dot` files).
pub fn graphviz_available() -> bool {
    std::env::var_os("PATH").is_some_and(|path| find_in_path("dot", &path).is_some())
}

/// The first executable regular file named `program` in the directories of `path` (a
/// `PATH`-style list). Empty entries, which a shell reads as the current directory, are
/// skipped.
pub fn find_in_path(program: &str, path: &OsStr) -> Option<PathBuf> {
    std::env::split_paths(path)
        .filter(|directory| !directory.as_os_str().is_empty())
        .map(|directory| directory.join(program))
        .find(|candidate| {
            fs::metadata(candidate).is_ok_and(|metadata| {
                metadata.is_file() && metadata.permissions().mode() & 0o111 != 0
            })
        })
}

/// The page's directory name: its path with `/` as `__` and characters that are unsafe in
/// file names as `_`. When that could name two pages alike (the path already has `__`, an
/// `_` beside a `/`, an unsafe character) or is too long, a hash of the path follows `@`, a
/// character no plain key contains.
fn page_key(page_path: &str) -> String {
    let mut key = String::with_capacity(page_path.len() + 8);
    let mut lossy = false;
    for c in page_path.chars() {
        if c == '/' {
            key.push_str("__");
        } else if is_safe_file_name_char(c) {
            key.push(c);
        } else {
            key.push('_');
            lossy = true;
        }
    }
    let ambiguous = lossy
        || page_path.contains("__")
        || page_path.contains("_/")
        || page_path.contains("/_")
        || key.chars().all(|c| c == '.')
        || key.len() > MAX_PAGE_KEY_BYTES;
    if ambiguous {
        truncate_at_char_boundary(&mut key, MAX_PAGE_KEY_BYTES);
        key.push('@');
        key.push_str(&format!("{:016x}", fnv1a(page_path.as_bytes())));
    }
    key
}

/// `L<line>-<relative path with / as _>`, unsafe characters as `_`, shortened (keeping the
/// extension) to fit a file name. Files in the page's TMPDIR (`.tmp/`, where objgraph puts
/// the .dot files it draws from) are named as if they were at the top.
fn copy_name(line: usize, relative: &Path) -> String {
    let relative = relative
        .strip_prefix(crate::backend::worker::PAGE_TMPDIR)
        .unwrap_or(relative);
    let flattened = relative
        .components()
        .filter_map(|component| match component {
            Component::Normal(part) => Some(part.to_string_lossy()),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join("_");
    let mut name: String = format!("L{line}-")
        .chars()
        .chain(
            flattened
                .chars()
                .map(|c| if is_safe_file_name_char(c) { c } else { '_' }),
        )
        .collect();
    if name.len() > MAX_COPY_NAME_BYTES {
        let extension = Path::new(&name)
            .extension()
            .map(|extension| format!(".{}", extension.to_string_lossy()))
            .filter(|extension| extension.len() < 20)
            .unwrap_or_default();
        truncate_at_char_boundary(&mut name, MAX_COPY_NAME_BYTES - extension.len());
        name.push_str(&extension);
    }
    name
}

/// `name`, or `name` with `-2`, `-3`, … before its extension when this example already
/// produced a copy of that name (`out/a.png` and `out_a.png` flatten alike).
fn unique_name(name: String, used: &mut HashSet<String>) -> String {
    if used.insert(name.clone()) {
        return name;
    }
    let (stem, extension) = match name.rfind('.') {
        Some(dot) if dot > 0 => name.split_at(dot),
        _ => (name.as_str(), ""),
    };
    let mut number = 2usize;
    loop {
        let candidate = format!("{stem}-{number}{extension}");
        if used.insert(candidate.clone()) {
            return candidate;
        }
        number += 1;
    }
}

fn is_safe_file_name_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '.' | '-' | '_' | '+' | '=' | ',')
}

fn truncate_at_char_boundary(text: &mut String, max_bytes: usize) {
    if text.len() <= max_bytes {
        return;
    }
    let mut end = max_bytes;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.truncate(end);
}

/// FNV-1a, 64 bits: stable across runs and Rust versions, unlike `DefaultHasher`.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// Removes `L<digits>-…` regular files (this module's copies) from a page's directory, and
/// nothing else: the directory may be one the user pointed at by mistake.
fn remove_previous_copies(page_dir: &Path) {
    let Ok(reader) = fs::read_dir(page_dir) else {
        return;
    };
    for entry in reader.filter_map(Result::ok) {
        let name = entry.file_name();
        let is_copy = name.to_str().is_some_and(|name| {
            name.strip_prefix('L')
                .and_then(|rest| rest.split_once('-'))
                .is_some_and(|(line, _)| {
                    !line.is_empty() && line.bytes().all(|b| b.is_ascii_digit())
                })
        });
        if is_copy && entry.file_type().is_ok_and(|kind| kind.is_file()) {
            let _ = fs::remove_file(entry.path());
        }
    }
}

enum CopyError {
    TooLarge,
    Io(io::Error),
}

impl From<io::Error> for CopyError {
    fn from(error: io::Error) -> CopyError {
        CopyError::Io(error)
    }
}

/// Copies a regular file, at most `max_bytes` of it, through a temporary file renamed into
/// place, so that a copy is never seen half written and a re-run replaces the old one.
/// The source is opened without following a link and without blocking (the file seen in
/// the scan may have been swapped for a link or a FIFO since).
fn copy_capped(source: &Path, destination: &Path, max_bytes: u64) -> Result<u64, CopyError> {
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(nix::libc::O_NOFOLLOW | nix::libc::O_NONBLOCK)
        .open(source)?;
    if !file.metadata()?.is_file() {
        return Err(CopyError::Io(io::Error::other(
            "it is no longer a regular file",
        )));
    }
    let directory = destination.parent().unwrap_or(Path::new("."));
    let mut temporary = tempfile::NamedTempFile::new_in(directory)?;
    let copied = io::copy(&mut file.take(max_bytes.saturating_add(1)), &mut temporary)?;
    if copied > max_bytes {
        return Err(CopyError::TooLarge);
    }
    temporary
        .persist(destination)
        .map_err(|error| error.error)?;
    Ok(copied)
}

/// The summary of a copied DOT file, or why there is none.
fn summarize_dot_file(path: &Path, size: u64) -> Result<DotSummary, String> {
    let limit = MAX_DOT_BYTES as u64;
    let too_large = |size: u64| {
        format!(
            "{} is over the {} limit for graphs",
            human_size(size),
            human_size(limit)
        )
    };
    if size > limit {
        return Err(too_large(size));
    }
    let mut bytes = Vec::new();
    File::open(path)
        .and_then(|file| file.take(limit + 1).read_to_end(&mut bytes))
        .map_err(|error| format!("cannot read the copy: {error}"))?;
    if bytes.len() as u64 > limit {
        return Err(too_large(bytes.len() as u64));
    }
    summarize_dot(&String::from_utf8_lossy(&bytes)).map_err(|error| error.to_string())
}

fn slash_separated(relative: &Path) -> String {
    relative
        .components()
        .map(|component| component.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

/// "512 B", "1.5 KiB", "60.0 MiB".
fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

fn serialize_path_lossy<S: Serializer>(path: &Path, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&path.to_string_lossy())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_by_extension() {
        assert_eq!(ArtifactKind::of(Path::new("refs.PNG")), ArtifactKind::Image);
        assert_eq!(ArtifactKind::of(Path::new("a/b.svg")), ArtifactKind::Image);
        assert_eq!(ArtifactKind::of(Path::new("x.jpeg")), ArtifactKind::Image);
        assert_eq!(ArtifactKind::of(Path::new("g.gv")), ArtifactKind::Dot);
        assert_eq!(ArtifactKind::of(Path::new("g.dot")), ArtifactKind::Dot);
        assert_eq!(
            ArtifactKind::of(Path::new("notes.txt")),
            ArtifactKind::Other
        );
        assert_eq!(ArtifactKind::of(Path::new("Makefile")), ArtifactKind::Other);
        assert_eq!(serde_json::to_value(ArtifactKind::Dot).unwrap(), "dot");
    }

    #[test]
    fn plain_page_keys_read_as_the_path() {
        assert_eq!(page_key("docs/index.txt"), "docs__index.txt");
        assert_eq!(page_key("README.md"), "README.md");
        assert_eq!(page_key("show_refs.txt"), "show_refs.txt");
        assert_eq!(page_key("../other/page.rst"), "..__other__page.rst");
    }

    #[test]
    fn page_keys_that_could_collide_get_a_hash() {
        let slashed = page_key("a/b.txt");
        let underscored = page_key("a__b.txt");
        assert_eq!(slashed, "a__b.txt");
        assert!(underscored.starts_with("a__b.txt@"), "{underscored}");
        assert_ne!(page_key("a b.txt"), page_key("a_b.txt"));
        assert_ne!(page_key("a_/b"), page_key("a/_b"));
        assert!(page_key("x:y*z?.md").starts_with("x_y_z_.md@"));
        assert!(page_key("..").starts_with("..@"));
        assert!(page_key("").starts_with('@'));
        assert_eq!(page_key("a b.txt"), page_key("a b.txt"), "stable");
    }

    #[test]
    fn long_page_keys_are_shortened() {
        let long = "d/".repeat(200) + "page.txt";
        let key = page_key(&long);
        assert!(key.len() <= MAX_PAGE_KEY_BYTES + 17, "{}", key.len());
        assert_ne!(key, page_key(&("d/".repeat(201) + "page.txt")));
        let accented = "é".repeat(100);
        assert!(page_key(&accented).len() <= MAX_PAGE_KEY_BYTES + 17);
    }

    #[test]
    fn copy_names_flatten_the_path() {
        assert_eq!(copy_name(12, Path::new("refs.png")), "L12-refs.png");
        assert_eq!(
            copy_name(3, Path::new("out/graphs/g.dot")),
            "L3-out_graphs_g.dot"
        );
        assert_eq!(copy_name(3, Path::new("a b:c.png")), "L3-a_b_c.png");
        assert_eq!(
            copy_name(4, Path::new(".tmp/objgraph-x1.dot")),
            "L4-objgraph-x1.dot"
        );
        let long = copy_name(1, Path::new(&format!("{}.png", "x".repeat(300))));
        assert_eq!(long.len(), MAX_COPY_NAME_BYTES);
        assert!(long.ends_with("x.png"));
    }

    #[test]
    fn repeated_copy_names_are_numbered() {
        let mut used = HashSet::new();
        assert_eq!(unique_name("L1-a_b.png".into(), &mut used), "L1-a_b.png");
        assert_eq!(unique_name("L1-a_b.png".into(), &mut used), "L1-a_b-2.png");
        assert_eq!(unique_name("L1-a_b.png".into(), &mut used), "L1-a_b-3.png");
        assert_eq!(unique_name("L1-noext".into(), &mut used), "L1-noext");
        assert_eq!(unique_name("L1-noext".into(), &mut used), "L1-noext-2");
    }

    #[test]
    fn sizes_read_well() {
        assert_eq!(human_size(512), "512 B");
        assert_eq!(human_size(1536), "1.5 KiB");
        assert_eq!(human_size(DEFAULT_MAX_COPY_BYTES), "50.0 MiB");
    }

    #[test]
    fn finds_programs_on_a_path() {
        let dir = tempfile::tempdir().unwrap();
        let program = dir.path().join("fake-dot");
        fs::write(&program, "#!/bin/sh\n").unwrap();
        let path =
            std::env::join_paths(["", "/nonexistent", dir.path().to_str().unwrap()]).unwrap();
        assert_eq!(find_in_path("fake-dot", &path), None, "not executable");
        fs::set_permissions(&program, fs::Permissions::from_mode(0o755)).unwrap();
        assert_eq!(find_in_path("fake-dot", &path), Some(program));
        assert_eq!(find_in_path("fake-dot", OsStr::new("")), None);
        fs::create_dir(dir.path().join("a-directory")).unwrap();
        assert_eq!(find_in_path("a-directory", &path), None);
    }

    #[test]
    fn previous_copies_are_removed_and_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        for name in [
            "L3-refs.png",
            "L12-x",
            "Lx-keep",
            "L-keep",
            "keep.txt",
            "L3",
        ] {
            fs::write(dir.path().join(name), "").unwrap();
        }
        fs::create_dir(dir.path().join("L4-directory")).unwrap();
        remove_previous_copies(dir.path());
        let mut left: Vec<String> = fs::read_dir(dir.path())
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(
            left,
            ["L-keep", "L3", "L4-directory", "Lx-keep", "keep.txt"]
        );
    }
}
