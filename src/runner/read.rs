//! Reading a user's file safely: pages, includes and configuration are read only when they
//! are regular files, and only up to [`MAX_FILE_BYTES`], so that a FIFO, a device,
//! `/dev/zero` or a huge file named by mistake is an error message, never a hang or
//! unbounded memory. What was read is kept with a [`FileStamp`], so that `--update` can tell
//! whether the file changed on disk before it writes over it.

use std::fs::{File, Metadata};
use std::io::Read;
use std::os::unix::fs::{FileTypeExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

/// The largest page, include or configuration file read, in bytes (16 MiB).
pub const MAX_FILE_BYTES: u64 = 16 * 1024 * 1024;

/// Why a file was not read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReadError {
    #[error("is {kind}, not a regular file; give a regular file")]
    NotARegularFile { kind: &'static str },
    #[error("is larger than {} MiB, the most read of a page, an include or a configuration file", MAX_FILE_BYTES / (1024 * 1024))]
    TooLarge,
    #[error("is a symlink loop (too many levels of symbolic links); fix or remove the link")]
    SymlinkLoop,
    #[error("cannot be read: {0}")]
    Io(String),
}

impl From<std::io::Error> for ReadError {
    fn from(error: std::io::Error) -> ReadError {
        if error.raw_os_error() == Some(nix::libc::ELOOP) {
            ReadError::SymlinkLoop
        } else {
            ReadError::Io(error.to_string())
        }
    }
}

/// Identifies one state of a file on disk: which file it is and when it last changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileStamp {
    pub device: u64,
    pub inode: u64,
    pub size: u64,
    pub modified: (i64, i64),
    pub changed: (i64, i64),
}

impl FileStamp {
    pub fn of(metadata: &Metadata) -> FileStamp {
        FileStamp {
            device: metadata.dev(),
            inode: metadata.ino(),
            size: metadata.size(),
            modified: (metadata.mtime(), metadata.mtime_nsec()),
            changed: (metadata.ctime(), metadata.ctime_nsec()),
        }
    }
}

/// A file as it was read: where, its bytes, and its stamp at the time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadFile {
    pub path: PathBuf,
    pub bytes: Vec<u8>,
    pub stamp: FileStamp,
}

/// What kind of file `metadata` describes, in words, when it is not a regular file.
pub fn irregular_kind(metadata: &Metadata) -> Option<&'static str> {
    let kind = metadata.file_type();
    if kind.is_file() {
        None
    } else if kind.is_dir() {
        Some("a directory")
    } else if kind.is_fifo() {
        Some("a FIFO (named pipe)")
    } else if kind.is_socket() {
        Some("a socket")
    } else if kind.is_char_device() {
        Some("a character device")
    } else if kind.is_block_device() {
        Some("a block device")
    } else {
        Some("not a file")
    }
}

/// Reads the regular file at `path` (following symlinks), at most [`MAX_FILE_BYTES`].
///
/// The type is checked before opening (opening a FIFO for reading blocks until a writer
/// comes; opening a device can have effects), and again on the open file, which is opened
/// non-blocking so that a file swapped for a FIFO in between cannot block either.
pub fn read_regular_file(path: &Path) -> Result<ReadFile, ReadError> {
    let before = std::fs::metadata(path)?;
    if let Some(kind) = irregular_kind(&before) {
        return Err(ReadError::NotARegularFile { kind });
    }
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(nix::libc::O_NONBLOCK | nix::libc::O_CLOEXEC | nix::libc::O_NOCTTY)
        .open(path)?;
    let metadata = file.metadata()?;
    if let Some(kind) = irregular_kind(&metadata) {
        return Err(ReadError::NotARegularFile { kind });
    }
    if metadata.len() > MAX_FILE_BYTES {
        return Err(ReadError::TooLarge);
    }
    let bytes = read_capped(file, metadata.len())?;
    Ok(ReadFile {
        path: path.to_path_buf(),
        bytes,
        stamp: FileStamp::of(&metadata),
    })
}

/// Reads at most [`MAX_FILE_BYTES`] (the file may grow while it is read).
fn read_capped(file: File, expected: u64) -> Result<Vec<u8>, ReadError> {
    let mut bytes = Vec::with_capacity(usize::try_from(expected).unwrap_or(0));
    file.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(ReadError::TooLarge);
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regular_files_are_read_with_their_stamp() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("page.txt");
        std::fs::write(&path, ">>> 1\n1\n").unwrap();
        let read = read_regular_file(&path).unwrap();
        assert_eq!(read.bytes, b">>> 1\n1\n");
        assert_eq!(read.stamp.size, 8);
    }

    #[test]
    fn devices_fifos_and_directories_are_refused_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo.txt");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        assert!(made.unwrap().success());
        for (path, kind) in [
            (Path::new("/dev/zero"), "a character device"),
            (fifo.as_path(), "a FIFO (named pipe)"),
            (dir.path(), "a directory"),
        ] {
            assert_eq!(
                read_regular_file(path),
                Err(ReadError::NotARegularFile { kind })
            );
        }
    }

    #[test]
    fn symlink_loops_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let link = dir.path().join("loop.txt");
        std::os::unix::fs::symlink(&link, &link).unwrap();
        assert_eq!(read_regular_file(&link), Err(ReadError::SymlinkLoop));
    }
}
