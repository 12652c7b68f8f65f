//! Writing a user's page: only when asked (`--update`), and the way git writes a work tree.
//!
//! - Nothing is written over a change we did not read: the page's stamp (device, inode,
//!   size, times) and bytes are compared with what was read, once before the new text is
//!   prepared and again right before it takes the page's place.
//! - The new text goes to a temporary file beside the page (the symlink's target, so that a
//!   symlinked page stays a link), gets the page's owner, mode and extended attributes (POSIX
//!   ACLs, `user.` attributes), and is flushed to disk.
//! - It then trades places with the page in one `renameat2(RENAME_EXCHANGE)`, so a crash
//!   leaves the old page or the new one. The old page, now under the temporary name, is
//!   checked once more: an edit saved after the last check went to it, and it is exchanged
//!   back, the user's file in its place and untouched (should that fail, the user's file is
//!   kept beside the page, `<page>.objgraph-doctest-kept`, and the message says where). Only
//!   an old page still as it was read is removed. A file system that cannot exchange gets a
//!   plain rename, as git does.
//! - What the new file cannot keep is refused with a message: a page with several hard links
//!   (the other names would keep the old text), a page whose owner or extended attributes
//!   we cannot give the new file, a read-only page. `security.` attributes (SELinux labels)
//!   are the kernel's to give, and are not copied when it will not let us.
//! - Temporary files are named recognisably (`.objgraph-doctest-update.<pid>.*.tmp`). While
//!   one holds our new text, a signal's shutdown removes it (`backend::shutdown`), never
//!   while it holds the user's old page; one left by a run that was killed is removed by
//!   the next run ([`remove_stale_temporaries`]).

use std::io::Write;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use rustix::fs::{CWD, RenameFlags, XattrFlags};
use rustix::io::Errno;
use tempfile::NamedTempFile;

use super::read::{ReadError, ReadFile, irregular_kind, read_regular_file};
use crate::backend::shutdown::{forget_cleanup, register_cleanup};

/// The start of every temporary file `--update` makes.
pub const TEMPORARY_PREFIX: &str = ".objgraph-doctest-update.";
const TEMPORARY_SUFFIX: &str = ".tmp";
/// Ends the name of a user's file kept beside the page when it could not be put back.
const KEPT_SUFFIX: &str = ".objgraph-doctest-kept";
/// A temporary file older than this is stale whatever its pid says.
pub const STALE_AFTER: std::time::Duration = std::time::Duration::from_secs(3600);
/// Linux's largest list of attribute names and largest attribute value (`XATTR_LIST_MAX`,
/// `XATTR_SIZE_MAX`).
const XATTR_MAX_BYTES: usize = 64 * 1024;

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
    #[error(
        "has the extended attribute {name}{}, which the updated file cannot keep: {error}; not \
         updated (update it by hand)",
        attribute_kind(.name)
    )]
    ExtendedAttribute { name: String, error: String },
    #[error(
        "changed on disk while it was being replaced, and putting the changed file back failed \
         ({error}): the page has the updated text and the changed file was kept as {}; move it \
         back over the page by hand with `mv`",
        .kept.display()
    )]
    Stranded { kept: PathBuf, error: String },
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

impl From<Errno> for WriteError {
    fn from(errno: Errno) -> WriteError {
        std::io::Error::from(errno).into()
    }
}

/// What an extended attribute is, in words, for the ones a user may not know by name.
fn attribute_kind(name: &str) -> &'static str {
    match name {
        "system.posix_acl_access" => " (an ACL)",
        "system.posix_acl_default" => " (a default ACL)",
        _ => "",
    }
}

/// Replaces the page that `read` was read from with `contents`, if it is still what was read.
pub fn replace_page(read: &ReadFile, contents: &[u8]) -> Result<(), WriteError> {
    replace_page_with(read, contents, || {})
}

/// [`replace_page`], running `before_exchange` between the last check and the exchange:
/// where a test saves the user's edit that only the exchange can catch.
fn replace_page_with(
    read: &ReadFile,
    contents: &[u8],
    before_exchange: impl FnOnce(),
) -> Result<(), WriteError> {
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
    // A signal ends the process without running destructors: the shutdown removes it then.
    let temporary_path = temporary.path().to_path_buf();
    register_cleanup(&temporary_path);
    // `temporary` moves into the last step: whichever step fails, it is dropped (removed)
    // with that step, before the shutdown forgets it.
    let replaced = prepare_new_page(&mut temporary, contents, &target, &metadata)
        .and_then(|()| ensure_unchanged(&target, read))
        .and_then(|()| {
            before_exchange();
            swap_into_place(temporary, &target, read)
        });
    forget_cleanup(&temporary_path);
    replaced?;
    // The rename is durable once the directory is flushed too.
    if let Ok(directory) = std::fs::File::open(directory) {
        let _ = directory.sync_all();
    }
    Ok(())
}

/// Writes `contents` to the temporary file and gives it what the page has: owner, mode and
/// extended attributes; then flushes it to disk.
fn prepare_new_page(
    temporary: &mut NamedTempFile,
    contents: &[u8],
    target: &Path,
    metadata: &std::fs::Metadata,
) -> Result<(), WriteError> {
    temporary.write_all(contents)?;
    let file = temporary.as_file();
    keep_owner(file, metadata)?;
    // After the owner: changing the owner clears set-user-ID and set-group-ID bits.
    file.set_permissions(std::fs::Permissions::from_mode(metadata.mode() & 0o7777))?;
    // After the mode: an ACL sets the mode's group bits (its mask) too.
    keep_extended_attributes(target, file)?;
    file.sync_all()?;
    Ok(())
}

/// Puts the new page in place of the old one. With an exchange, the old page is checked
/// once it is out of the way: if an edit reached it after the last check, it goes back.
fn swap_into_place(
    temporary: NamedTempFile,
    target: &Path,
    read: &ReadFile,
) -> Result<(), WriteError> {
    match exchange(temporary.path(), target) {
        Ok(()) => {}
        Err(errno) if exchange_unsupported(errno) => {
            temporary.persist(target).map_err(|error| error.error)?;
            return Ok(());
        }
        Err(errno) => return Err(errno.into()),
    }
    // The temporary name now holds the user's old page: a shutdown must not remove it
    // before it is checked.
    forget_cleanup(temporary.path());
    if is_as_read(temporary.path(), read) {
        // Left behind only if it cannot be removed; the page itself is updated.
        let _ = temporary.close();
        return Ok(());
    }
    match exchange(temporary.path(), target) {
        // Our new text is back under the temporary name, and is removed with it.
        Ok(()) => Err(WriteError::Changed),
        Err(errno) => Err(WriteError::Stranded {
            kept: keep_aside(temporary, target),
            error: std::io::Error::from(errno).to_string(),
        }),
    }
}

/// Keeps the user's file that is stranded under the temporary name: under a name beside
/// the page that the next run's sweep of stale temporaries leaves alone, or where it is if
/// that name is taken. Returns where it is.
fn keep_aside(mut temporary: NamedTempFile, target: &Path) -> PathBuf {
    temporary.disable_cleanup(true);
    let stranded = temporary.path().to_path_buf();
    drop(temporary);
    let mut name = target.file_name().unwrap_or_default().to_os_string();
    name.push(KEPT_SUFFIX);
    let kept = target.with_file_name(name);
    // A link never replaces a file that has the name already.
    if std::fs::hard_link(&stranded, &kept).is_ok() {
        let _ = std::fs::remove_file(&stranded);
        kept
    } else {
        stranded
    }
}

/// Swaps the files at `one` and `other` in one step (`renameat2(RENAME_EXCHANGE)`, a system
/// call of its own, so that it works whatever the C library: glibc 2.17, musl).
fn exchange(one: &Path, other: &Path) -> Result<(), Errno> {
    rustix::fs::renameat_with(CWD, one, CWD, other, RenameFlags::EXCHANGE)
}

/// The kernel or the file system cannot exchange. A seccomp filter (older container
/// runtimes) answers EPERM; a real EPERM fails the plain rename tried instead as well.
fn exchange_unsupported(errno: Errno) -> bool {
    matches!(
        errno,
        Errno::INVAL | Errno::NOSYS | Errno::OPNOTSUPP | Errno::PERM
    )
}

/// The file at `path` is the file that was read, with the bytes that were read. Its ctime
/// is not compared: the exchange itself changed it.
fn is_as_read(path: &Path, read: &ReadFile) -> bool {
    read_regular_file(path).is_ok_and(|now| {
        let (was, is) = (read.stamp, now.stamp);
        (is.device, is.inode, is.size, is.modified)
            == (was.device, was.inode, was.size, was.modified)
            && now.bytes == read.bytes
    })
}

/// Gives the new file the page's extended attributes (POSIX ACLs, `user.` attributes) and
/// none other, so that who may read or write the page stays the same: a directory's
/// default ACL, which the new file inherits, would otherwise be added to a page without it.
fn keep_extended_attributes(page: &Path, file: &std::fs::File) -> Result<(), WriteError> {
    let page_list = match read_growing(|list| rustix::fs::listxattr(page, list)) {
        Ok(list) => list,
        // ENOTSUP (the same number on Linux): a file system without extended attributes.
        Err(Errno::OPNOTSUPP) => return Ok(()),
        Err(errno) => return Err(errno.into()),
    };
    let page_names = attribute_names(&page_list);
    let inherited = read_growing(|list| rustix::fs::flistxattr(file, list))?;
    for name in attribute_names(&inherited) {
        if !page_names.contains(&name) && !is_kernels(name) {
            rustix::fs::fremovexattr(file, name)?;
        }
    }
    for name in page_names {
        let value = match read_growing(|value| rustix::fs::getxattr(page, name, value)) {
            Ok(value) => value,
            // Removed since it was listed.
            Err(Errno::NODATA) => continue,
            Err(errno) => return Err(errno.into()),
        };
        match rustix::fs::fsetxattr(file, name, &value, XattrFlags::empty()) {
            Ok(()) => {}
            Err(_) if is_kernels(name) => {}
            Err(errno) => {
                return Err(WriteError::ExtendedAttribute {
                    name: String::from_utf8_lossy(name).into_owned(),
                    error: std::io::Error::from(errno).to_string(),
                });
            }
        }
    }
    Ok(())
}

/// `security.` attributes (SELinux and Smack labels, file capabilities) are the kernel's
/// to assign to a new file, whatever we ask.
fn is_kernels(name: &[u8]) -> bool {
    name.starts_with(b"security.")
}

/// The names in a `listxattr` list (each ends with a NUL byte).
fn attribute_names(list: &[u8]) -> Vec<&[u8]> {
    list.split(|&byte| byte == 0)
        .filter(|name| !name.is_empty())
        .collect()
}

/// Reads a list or value of unknown size with `read`, in a buffer that grows while it is
/// too small (ERANGE, also when the attribute grew in between).
fn read_growing(mut read: impl FnMut(&mut [u8]) -> Result<usize, Errno>) -> Result<Vec<u8>, Errno> {
    let mut buffer = vec![0; 256];
    loop {
        match read(&mut buffer) {
            Ok(length) => {
                buffer.truncate(length);
                return Ok(buffer);
            }
            Err(Errno::RANGE) if buffer.len() <= XATTR_MAX_BYTES => {
                buffer.resize(buffer.len() * 4, 0);
            }
            Err(errno) => return Err(errno),
        }
    }
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

    /// Names in `dir`, sorted.
    fn names_in(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn an_edit_saved_between_the_last_check_and_the_exchange_is_put_back() {
        let in_place = |page: &Path| {
            let mut file = std::fs::OpenOptions::new().append(true).open(page).unwrap();
            file.write_all(b"the user's edit\n").unwrap();
        };
        // As editors that save a new file and rename it over the page do.
        let by_rename = |page: &Path| {
            let saved = page.with_file_name("page.txt~");
            std::fs::write(&saved, "old\nthe user's edit\n").unwrap();
            std::fs::rename(&saved, page).unwrap();
        };
        let edits: [&dyn Fn(&Path); 2] = [&in_place, &by_rename];
        for edit in edits {
            let dir = tempfile::tempdir().unwrap();
            let read = page(dir.path(), "old\n");
            let replaced = replace_page_with(&read, b"new\n", || edit(&read.path));
            assert_eq!(replaced, Err(WriteError::Changed));
            assert_eq!(
                std::fs::read_to_string(&read.path).unwrap(),
                "old\nthe user's edit\n"
            );
            assert_eq!(names_in(dir.path()), ["page.txt"]);
        }
    }

    #[test]
    fn the_exchange_leaves_the_new_page_in_place_and_nothing_beside_it() {
        let dir = tempfile::tempdir().unwrap();
        let read = page(dir.path(), "old");
        replace_page(&read, b"new").unwrap();
        assert_eq!(std::fs::read_to_string(&read.path).unwrap(), "new");
        assert_ne!(
            std::fs::metadata(&read.path).unwrap().ino(),
            read.stamp.inode
        );
        assert_eq!(names_in(dir.path()), ["page.txt"]);
    }

    /// `system.posix_acl_access` as the kernel stores it: version 2, then (tag, permissions,
    /// id) entries in tag order.
    fn acl(entries: &[(u16, u16, u32)]) -> Vec<u8> {
        let mut bytes = 2u32.to_le_bytes().to_vec();
        for (tag, permissions, id) in entries {
            bytes.extend(tag.to_le_bytes());
            bytes.extend(permissions.to_le_bytes());
            bytes.extend(id.to_le_bytes());
        }
        bytes
    }

    const NO_ID: u32 = u32::MAX;
    /// The owner rw, user 65534 rw, the group r, the mask rw, others nothing.
    const ACL_ENTRIES: [(u16, u16, u32); 5] = [
        (0x01, 6, NO_ID),
        (0x02, 6, 65534),
        (0x04, 4, NO_ID),
        (0x10, 6, NO_ID),
        (0x20, 0, NO_ID),
    ];

    /// Sets an attribute on `path`, or says why the file system will not and returns false.
    fn set_attribute(path: &Path, name: &str, value: &[u8]) -> bool {
        match rustix::fs::setxattr(path, name, value, XattrFlags::empty()) {
            Ok(()) => true,
            Err(errno) => {
                eprintln!("skipped: cannot set {name} here: {errno}");
                false
            }
        }
    }

    fn attribute(path: &Path, name: &str) -> Result<Vec<u8>, Errno> {
        read_growing(|value| rustix::fs::getxattr(path, name, value))
    }

    #[test]
    fn acls_and_user_attributes_are_kept() {
        let dir = tempfile::tempdir().unwrap();
        let read = page(dir.path(), "old");
        std::fs::set_permissions(&read.path, std::fs::Permissions::from_mode(0o640)).unwrap();
        if !set_attribute(&read.path, "system.posix_acl_access", &acl(&ACL_ENTRIES))
            || !set_attribute(&read.path, "user.note", b"hello")
        {
            return;
        }
        let acl_before = attribute(&read.path, "system.posix_acl_access").unwrap();
        let mode_before = std::fs::metadata(&read.path).unwrap().mode();
        // The mask is the mode's group bits now.
        assert_eq!(mode_before & 0o777, 0o660);
        let read = read_regular_file(&read.path).unwrap();
        replace_page(&read, b"new").unwrap();
        assert_eq!(std::fs::read_to_string(&read.path).unwrap(), "new");
        assert_eq!(
            attribute(&read.path, "system.posix_acl_access"),
            Ok(acl_before)
        );
        assert_eq!(attribute(&read.path, "user.note"), Ok(b"hello".to_vec()));
        assert_eq!(std::fs::metadata(&read.path).unwrap().mode(), mode_before);
        assert_eq!(names_in(dir.path()), ["page.txt"]);
    }

    #[test]
    fn a_default_acl_of_the_folder_is_not_added_to_a_page_without_one() {
        let dir = tempfile::tempdir().unwrap();
        let read = page(dir.path(), "old");
        if !set_attribute(dir.path(), "system.posix_acl_default", &acl(&ACL_ENTRIES)) {
            return;
        }
        replace_page(&read, b"new").unwrap();
        assert_eq!(std::fs::read_to_string(&read.path).unwrap(), "new");
        assert_eq!(
            attribute(&read.path, "system.posix_acl_access"),
            Err(Errno::NODATA)
        );
    }

    #[test]
    fn an_attribute_the_new_file_cannot_keep_is_named_with_what_to_do() {
        let refusal = WriteError::ExtendedAttribute {
            name: "system.posix_acl_access".into(),
            error: "Operation not supported (os error 95)".into(),
        };
        assert_eq!(
            refusal.to_string(),
            "has the extended attribute system.posix_acl_access (an ACL), which the updated \
             file cannot keep: Operation not supported (os error 95); not updated (update it by \
             hand)"
        );
    }

    #[test]
    fn attribute_lists_and_values_of_any_size_are_read_whole() {
        let names = b"user.a\0system.posix_acl_access\0";
        let mut calls = 0;
        let list = read_growing(|buffer| {
            calls += 1;
            if buffer.len() < 4000 {
                return Err(Errno::RANGE);
            }
            buffer[..names.len()].copy_from_slice(names);
            Ok(names.len())
        })
        .unwrap();
        // 256, 1024 then 4096 bytes.
        assert_eq!(calls, 3);
        assert_eq!(
            attribute_names(&list),
            [&b"user.a"[..], &b"system.posix_acl_access"[..]]
        );
        // Past what Linux can hold, ERANGE is an answer, not a reason to grow further.
        let endless = read_growing(|_| Err(Errno::RANGE));
        assert_eq!(endless, Err(Errno::RANGE));
    }

    #[test]
    fn a_stranded_file_is_kept_where_the_sweep_of_temporaries_leaves_it() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("page.txt");
        std::fs::write(&target, "new").unwrap();
        let stranded = |text: &str| {
            let mut temporary = tempfile::Builder::new()
                .prefix(TEMPORARY_PREFIX)
                .suffix(TEMPORARY_SUFFIX)
                .tempfile_in(dir.path())
                .unwrap();
            temporary.write_all(text.as_bytes()).unwrap();
            temporary
        };
        let kept = keep_aside(stranded("the user's edit"), &target);
        assert_eq!(kept, dir.path().join("page.txt.objgraph-doctest-kept"));
        assert_eq!(std::fs::read_to_string(&kept).unwrap(), "the user's edit");
        assert_eq!(
            names_in(dir.path()),
            ["page.txt", "page.txt.objgraph-doctest-kept"]
        );
        // The name is taken: the second one stays under its temporary name, intact.
        let second = keep_aside(stranded("another edit"), &target);
        let second_name = second.file_name().unwrap().to_string_lossy().into_owned();
        assert!(second_name.starts_with(TEMPORARY_PREFIX), "{second_name}");
        assert_eq!(std::fs::read_to_string(&second).unwrap(), "another edit");
        assert_eq!(std::fs::read_to_string(&kept).unwrap(), "the user's edit");
    }
}
