//! Pages' working directories: each page starts in an empty, private directory of its own.
//! A directory a page left as it found it (nothing in it but its empty `.tmp`) is used
//! again for a later page instead of being removed and made anew: on a journalled file
//! system (ext4 `/tmp`, as on CI runners) making and removing two directories per page
//! cost more CPU than small pages' examples did (docs/benchmarks.md).
//!
//! A directory is used again only when it is, to the inode, the one we made, holds nothing
//! but an empty `.tmp` directory, and no process of the page that used it is left: its
//! process group is gone (`kill(-group, 0)` says no such process), so nothing of it can
//! still write there. Anything else, or any doubt, and it is removed as before.

use std::collections::VecDeque;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use nix::errno::Errno;
use nix::sys::signal::killpg;
use nix::unistd::Pid;

use crate::backend::worker::PAGE_TMPDIR;

/// At most this many used directories wait to be used again; more are removed.
const WAITING: usize = 8;

/// One job's working directories: hands out an empty one for each page.
#[derive(Default)]
pub struct Workdirs {
    /// Directories pages have finished with, oldest first, each with the page's process
    /// group and the directory's identity when it was made.
    used: VecDeque<Used>,
}

struct Used {
    dir: tempfile::TempDir,
    identity: Identity,
    group: i32,
}

/// What tells a directory from another made at the same path: device, inode (which a file
/// system hands out again at once) and birth time where the file system keeps one.
type Identity = (u64, u64, Option<std::time::SystemTime>);

fn identity(metadata: &std::fs::Metadata) -> Identity {
    (metadata.dev(), metadata.ino(), metadata.created().ok())
}

/// A page's working directory, with what [`Workdirs::give_back`] needs to know it again.
pub struct Workdir {
    dir: tempfile::TempDir,
    identity: Identity,
}

impl Workdir {
    /// A new, empty directory (0700) in the session's temp directory.
    pub fn create() -> Result<Workdir, String> {
        let dir = tempfile::Builder::new()
            .prefix("objgraph-doctest-page-")
            .tempdir()
            .map_err(|error| format!("cannot create a working directory: {error}"))?;
        let metadata = std::fs::symlink_metadata(dir.path())
            .map_err(|error| format!("cannot create a working directory: {error}"))?;
        Ok(Workdir {
            dir,
            identity: identity(&metadata),
        })
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The directory itself, removed when dropped (the editor keeps no pool).
    pub fn into_temp_dir(self) -> tempfile::TempDir {
        self.dir
    }
}

impl Workdirs {
    /// An empty working directory: the oldest one given back that can be used again, or a
    /// new one. Those whose pages left something in them are removed on the way; those
    /// whose pages' processes are not all gone yet (a killed process may take a while to
    /// exit) wait for a later page.
    pub fn take(&mut self) -> Result<Workdir, String> {
        let mut waiting = VecDeque::with_capacity(self.used.len());
        let mut found = None;
        while let Some(used) = self.used.pop_front() {
            if found.is_some() || group_alive(used.group) {
                waiting.push_back(used);
            } else if holds_nothing(used.dir.path(), used.identity) {
                found = Some(Workdir {
                    dir: used.dir,
                    identity: used.identity,
                });
            }
        }
        self.used = waiting;
        match found {
            Some(workdir) => Ok(workdir),
            None => Workdir::create(),
        }
    }

    /// `workdir` is done with: the page that ran in it (process group `group`) was killed.
    /// It is used again later if the page left it empty; else it is removed.
    pub fn give_back(&mut self, workdir: Workdir, group: i32) {
        self.used.push_back(Used {
            dir: workdir.dir,
            identity: workdir.identity,
            group,
        });
        while self.used.len() > WAITING {
            self.used.pop_front();
        }
    }
}

/// True while any process of process group `group` exists (zombies included), or when
/// `group` is no group of a page's.
fn group_alive(group: i32) -> bool {
    group <= 1 || killpg(Pid::from_raw(group), None) != Err(Errno::ESRCH)
}

/// True when `path` is still the directory we made (`made`) and holds at most an empty
/// `.tmp` directory.
fn holds_nothing(path: &Path, made: Identity) -> bool {
    let Ok(metadata) = std::fs::symlink_metadata(path) else {
        return false;
    };
    if !metadata.is_dir() || identity(&metadata) != made {
        return false;
    }
    let Ok(entries) = std::fs::read_dir(path) else {
        return false;
    };
    for entry in entries {
        let Ok(entry) = entry else {
            return false;
        };
        if entry.file_name() != PAGE_TMPDIR {
            return false;
        }
        let tmp = entry.path();
        let empty_directory = std::fs::symlink_metadata(&tmp).is_ok_and(|meta| meta.is_dir())
            && std::fs::read_dir(&tmp).is_ok_and(|mut inside| inside.next().is_none());
        if !empty_directory {
            return false;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A group that surely has no process: our own pid's group is alive, so a pid above the
    /// kernel's maximum is used.
    const NO_GROUP: i32 = i32::MAX - 1;

    fn give_back_and_take(prepare: impl FnOnce(&Path)) -> (std::path::PathBuf, std::path::PathBuf) {
        let mut workdirs = Workdirs::default();
        let first = workdirs.take().unwrap();
        let first_path = first.path().to_owned();
        prepare(&first_path);
        workdirs.give_back(first, NO_GROUP);
        let second = workdirs.take().unwrap();
        let second_path = second.path().to_owned();
        let _ = second.dir.keep();
        (first_path, second_path)
    }

    #[test]
    fn a_directory_left_empty_is_used_again() {
        let (first, second) = give_back_and_take(|path| {
            std::fs::create_dir(path.join(PAGE_TMPDIR)).unwrap();
        });
        assert_eq!(first, second);
        std::fs::remove_dir_all(second).unwrap();
    }

    #[test]
    fn a_directory_with_anything_in_it_is_removed() {
        let cases: [fn(&Path); 4] = [
            |path| std::fs::write(path.join("figure.png"), b"x").unwrap(),
            |path| {
                std::fs::create_dir(path.join(PAGE_TMPDIR)).unwrap();
                std::fs::write(path.join(PAGE_TMPDIR).join("graph.dot"), b"x").unwrap();
            },
            |path| std::os::unix::fs::symlink("/etc", path.join(PAGE_TMPDIR)).unwrap(),
            |path| std::fs::write(path.join(PAGE_TMPDIR), b"not a directory").unwrap(),
        ];
        for prepare in cases {
            let (first, second) = give_back_and_take(prepare);
            assert_ne!(first, second);
            assert!(!first.exists(), "{first:?} was not removed");
            std::fs::remove_dir_all(second).unwrap();
        }
    }

    #[test]
    fn a_directory_replaced_by_another_is_not_used_again() {
        let (first, second) = give_back_and_take(|path| {
            std::fs::remove_dir(path).unwrap();
            std::fs::create_dir(path).unwrap();
        });
        assert_ne!(first, second);
        std::fs::remove_dir_all(second).unwrap();
    }

    #[test]
    fn a_directory_waits_while_its_page_has_processes() {
        let mut workdirs = Workdirs::default();
        let first = workdirs.take().unwrap();
        let first_path = first.path().to_owned();
        // Our own group is alive: the directory waits, and a new one is made.
        workdirs.give_back(first, nix::unistd::getpgrp().as_raw());
        let second = workdirs.take().unwrap();
        assert_ne!(second.path(), first_path);
        assert!(first_path.exists());
        drop(workdirs);
        assert!(
            !first_path.exists(),
            "the waiting directory goes with the pool"
        );
    }
}
