//! Writing a user's page: only when asked (`--update`), and the way git writes a work tree.
//!
//! - Nothing is written over a change we did not read: the page's stamp (device, inode,
//!   size, times) and bytes are compared with what was read, once before the new text is
//!   prepared and again right before the rename.
//! - The new text goes to a temporary file beside the page (the symlink's target, so that a
//!   symlinked page stays a link), is flushed to disk, gets the page's mode and owner, and
//!   replaces the page in one rename: a crash leaves the old page or the new one.
//! - What a rename cannot keep is refused with a message: a page with several hard links
//!   (the other names would keep the old text), a page whose owner we cannot give the new
//!   file, a read-only page.
//! - Temporary files are named recognisably (`.objgraph-doctest-update.<pid>.*.tmp`); one
//!   left by a run that was killed is removed by the next run ([`remove_stale_temporaries`]).

use std::io::Write;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use super::read::{ReadError, ReadFile, irregular_kind, read_regular_file};

/// The start of every temporary file `--update` makes.
pub const TEMPORARY_PREFIX: &str = ".objgraph-doctest-update.";
const TEMPORARY_SUFFIX: &str = ".tmp";
/// A temporary file older than this is stale whatever its pid says.
pub const STALE_AFTER: std::time::Duration = std::time::Duration::from_secs(3600);

/// Why a page was not written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WriteError {
    #[error("changed on disk since it was read; not updated (run again to update it)")]
    Changed,
    #[error("is read-only; not updated (make it writable, e.g. `chmod u+w`, and run again)")]
    ReadOnly,
    #[error(
        "has {links} hard links, which replacing it would break; not updated (update it by \
         hand, or give it a name of its own with `cp FILE FILE.new && mv FILE.new FILE`)"
    )]
    HardLinked { links: u64 },
    #[error(
        "belongs to user {uid} and group {gid}, which the updated file cannot keep; not updated \
         (update it as its owner)"
    )]
    Owner { uid: u32, gid: u32 },
    #[error("{0}")]
    Read(#[from] ReadError),
    #[error("cannot be written: {0}")]
    Io(String),
}

impl From<std::io::Error> for WriteError {
    fn from(error: std::io::Error) -> WriteError {
        WriteError::Io(error.to_string())
    }
}

/// Replaces the page that `read` was read from with `contents`, if it is still what was read.
pub fn replace_page(read: &ReadFile, contents: &[u8]) -> Result<(), WriteError> {
    // The symlink's target is replaced, so the link itself stays as it is.
    let target = std::fs::canonicalize(&read.path).map_err(ReadError::from)?;
    let metadata = std::fs::metadata(&target).map_err(ReadError::from)?;
    if let Some(kind) = irregular_kind(&metadata) {
        return Err(ReadError::NotARegularFile { kind }.into());
    }
    ensure_unchanged(&target, read)?;
    if metadata.nlink() > 1 {
        return Err(WriteError::HardLinked {
            links: metadata.nlink(),
        });
    }
    ensure_writable(&target, &metadata)?;
    let directory = target
        .parent()
        .filter(|parent| !parent.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut temporary = tempfile::Builder::new()
        .prefix(&format!("{TEMPORARY_PREFIX}{}.", std::process::id()))
        .suffix(TEMPORARY_SUFFIX)
        .tempfile_in(directory)?;
    temporary.write_all(contents)?;
    let file = temporary.as_file();
    keep_owner(file, &metadata)?;
    // After the owner: changing the owner clears set-user-ID and set-group-ID bits.
    file.set_permissions(std::fs::Permissions::from_mode(metadata.mode() & 0o7777))?;
    file.sync_all()?;
    ensure_unchanged(&target, read)?;
    temporary.persist(&target).map_err(|error| error.error)?;
    // The rename is durable once the directory is flushed too.
    if let Ok(directory) = std::fs::File::open(directory) {
        let _ = directory.sync_all();
    }
    Ok(())
}

/// The page at `target` is still the file that was read, with the bytes that were read.
fn ensure_unchanged(target: &Path, read: &ReadFile) -> Result<(), WriteError> {
    let now = read_regular_file(target)?;
    if now.stamp != read.stamp || now.bytes != read.bytes {
        return Err(WriteError::Changed);
    }
    Ok(())
}

/// A page without write permission is the user saying "do not change this".
fn ensure_writable(target: &Path, metadata: &std::fs::Metadata) -> Result<(), WriteError> {
    if metadata.mode() & 0o222 == 0 {
        return Err(WriteError::ReadOnly);
    }
    // Opening for writing (without truncating) changes nothing and asks the kernel itself.
    match std::fs::OpenOptions::new()
        .write(true)
        .custom_flags(nix::libc::O_NONBLOCK | nix::libc::O_NOCTTY)
        .open(target)
    {
        Ok(_) => Ok(()),
        Err(error) if error.kind() == std::io::ErrorKind::PermissionDenied => {
            Err(WriteError::ReadOnly)
        }
        Err(error) => Err(error.into()),
    }
}

/// Gives the new file the page's owner and group, or refuses when that is not allowed.
fn keep_owner(file: &std::fs::File, page: &std::fs::Metadata) -> Result<(), WriteError> {
    let new = file.metadata()?;
    if new.uid() == page.uid() && new.gid() == page.gid() {
        return Ok(());
    }
    std::os::unix::fs::fchown(file, Some(page.uid()), Some(page.gid())).map_err(|_| {
        WriteError::Owner {
            uid: page.uid(),
            gid: page.gid(),
        }
    })
}

/// Removes temporary files that a killed `--update` left in `directory`: ours by name, owned
/// by us, and made by a process that no longer exists (or so long ago that its pid may have
/// been reused: a page is written in well under [`STALE_AFTER`]).
pub fn remove_stale_temporaries(directory: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(directory) else {
        return Vec::new();
    };
    let me = current_uid();
    let mut removed = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = temporary_owner_pid(&name.to_string_lossy()) else {
            continue;
        };
        let Ok(metadata) = entry.metadata() else {
            continue;
        };
        if !metadata.is_file() || metadata.uid() != me {
            continue;
        }
        let old = metadata
            .modified()
            .ok()
            .and_then(|modified| modified.elapsed().ok())
            .is_some_and(|age| age > STALE_AFTER);
        let stale = pid as u32 != std::process::id()
            && (old || !crate::backend::procs::process_exists(pid));
        if stale && std::fs::remove_file(entry.path()).is_ok() {
            removed.push(entry.path());
        }
    }
    removed
}

/// The pid in `.objgraph-doctest-update.<pid>.<random>.tmp`.
fn temporary_owner_pid(name: &str) -> Option<i32> {
    let rest = name
        .strip_prefix(TEMPORARY_PREFIX)?
        .strip_suffix(TEMPORARY_SUFFIX)?;
    rest.split('.').next()?.parse().ok()
}

/// The effective user id of this process.
pub fn current_uid() -> u32 {
    nix::unistd::geteuid().as_raw()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(dir: &Path, text: &str) -> ReadFile {
        let path = dir.join("page.txt");
        std::fs::write(&path, text).unwrap();
        read_regular_file(&path).unwrap()
    }

    #[test]
    fn replaces_contents_and_keeps_permissions() {
        let dir = tempfile::tempdir().unwrap();
        let read = page(dir.path(), "old");
        std::fs::set_permissions(&read.path, std::fs::Permissions::from_mode(0o640)).unwrap();
        let read = read_regular_file(&read.path).unwrap();
        replace_page(&read, b"new").unwrap();
        assert_eq!(std::fs::read_to_string(&read.path).unwrap(), "new");
        let mode = std::fs::metadata(&read.path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o640);
        let leftovers = std::fs::read_dir(dir.path()).unwrap().count();
        assert_eq!(leftovers, 1);
    }

    #[test]
    fn a_page_changed_since_it_was_read_is_not_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let read = page(dir.path(), "old");
        std::fs::write(&read.path, "the user's edit").unwrap();
        assert_eq!(replace_page(&read, b"new"), Err(WriteError::Changed));
        assert_eq!(
            std::fs::read_to_string(&read.path).unwrap(),
            "the user's edit"
        );
    }

    #[test]
    fn stale_temporaries_of_dead_processes_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let dead = child.id();
        child.wait().unwrap();
        let stale = dir
            .path()
            .join(format!("{TEMPORARY_PREFIX}{dead}.abc123{TEMPORARY_SUFFIX}"));
        let live = dir.path().join(format!(
            "{TEMPORARY_PREFIX}{}.abc123{TEMPORARY_SUFFIX}",
            std::process::id()
        ));
        let unrelated = dir.path().join(".objgraph-doctest-other.tmp");
        // pid 1 is alive; its file is kept while fresh and removed once an hour old.
        let fresh = dir
            .path()
            .join(format!("{TEMPORARY_PREFIX}1.fresh1{TEMPORARY_SUFFIX}"));
        let old = dir
            .path()
            .join(format!("{TEMPORARY_PREFIX}1.old123{TEMPORARY_SUFFIX}"));
        for path in [&stale, &live, &unrelated, &fresh, &old] {
            std::fs::write(path, "").unwrap();
        }
        let touched = std::process::Command::new("touch")
            .args(["-d", "2 hours ago"])
            .arg(&old)
            .status();
        assert!(touched.unwrap().success());
        let mut removed = remove_stale_temporaries(dir.path());
        removed.sort();
        let mut expected = vec![stale.clone(), old.clone()];
        expected.sort();
        assert_eq!(removed, expected);
        assert!(live.exists() && unrelated.exists() && fresh.exists());
    }
}
