//! Process trees from `/proc`: who descends from whom, killing a whole tree (however its
//! members daemonised themselves), and the little process-wide settings that keep orphans
//! in reach (`PR_SET_CHILD_SUBREAPER`).
//!
//! Why a tree and not a process group or a session: an example can leave both
//! (`setsid`, `setpgid`, `start_new_session=True`), but it cannot leave its ancestry while
//! an ancestor is a *child subreaper*: an orphan is re-parented to the nearest subreaper
//! above it instead of to init. Every Python process we start is a subreaper (set by the
//! driver), so everything an example starts stays below its page process, and walking
//! `/proc/*/stat` parent links finds it. A PID namespace or a cgroup would do the same
//! without the walk, but creating either needs privileges (CAP_SYS_ADMIN, or a delegated
//! cgroup subtree) that users running a doc test do not have; see docs/processes.md.

use std::collections::{BTreeSet, HashMap};
use std::io::Read;
use std::time::Duration;

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

/// One process as `/proc/PID/stat` shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProcessStat {
    pub pid: i32,
    pub ppid: i32,
    /// The process group.
    pub pgrp: i32,
    /// `R`, `S`, `D`, `T` (stopped), `t` (traced), `Z` (zombie), `X` (dead), ...
    pub state: char,
}

/// Reads `/proc/PID/stat`; `None` when the process is gone.
pub fn stat(pid: i32) -> Option<ProcessStat> {
    let mut text = String::new();
    std::fs::File::open(format!("/proc/{pid}/stat"))
        .ok()?
        .read_to_string(&mut text)
        .ok()?;
    parse_stat(&text)
}

/// `PID (COMM) STATE PPID ...`; COMM may hold spaces and parentheses, so the fields are
/// read after the *last* `)`.
fn parse_stat(text: &str) -> Option<ProcessStat> {
    let (head, rest) = text.rsplit_once(')')?;
    let pid = head.split_once('(')?.0.trim().parse().ok()?;
    let mut fields = rest.split_whitespace();
    let state = fields.next()?.chars().next()?;
    let ppid = fields.next()?.parse().ok()?;
    let pgrp = fields.next()?.parse().ok()?;
    Some(ProcessStat {
        pid,
        ppid,
        pgrp,
        state,
    })
}

/// Every live process's parent, from one walk of `/proc`.
fn parents() -> HashMap<i32, ProcessStat> {
    let mut all = HashMap::new();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return all;
    };
    for entry in entries.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<i32>().ok())
        else {
            continue;
        };
        if let Some(stat) = stat(pid) {
            all.insert(pid, stat);
        }
    }
    all
}

/// The live children of `parent`.
pub fn children(parent: i32) -> Vec<i32> {
    if children_are_listed() {
        let mut found = listed_children(parent);
        found.sort_unstable();
        found.dedup();
        return found;
    }
    let mut found: Vec<i32> = parents()
        .values()
        .filter(|stat| stat.ppid == parent)
        .map(|stat| stat.pid)
        .collect();
    found.sort_unstable();
    found
}

/// Whether the kernel lists each thread's children (`/proc/PID/task/TID/children`, Linux's
/// CONFIG_PROC_CHILDREN): then a tree is found with a few reads instead of a walk of every
/// process on the machine.
fn children_are_listed() -> bool {
    static LISTED: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *LISTED.get_or_init(|| {
        let tid = nix::unistd::gettid();
        std::path::Path::new(&format!("/proc/self/task/{tid}/children")).exists()
    })
}

/// The children of `parent` as the kernel lists them, from each of its threads; none when
/// it is gone.
fn listed_children(parent: i32) -> Vec<i32> {
    let Ok(threads) = std::fs::read_dir(format!("/proc/{parent}/task")) else {
        return Vec::new();
    };
    let mut children = Vec::new();
    for thread in threads.flatten() {
        if let Ok(text) = std::fs::read_to_string(thread.path().join("children")) {
            children.extend(
                text.split_whitespace()
                    .filter_map(|pid| pid.parse::<i32>().ok()),
            );
        }
    }
    children
}

/// The processes below `root` (not `root` itself), parents before children.
pub fn descendants(root: i32) -> Vec<i32> {
    if children_are_listed() {
        let mut found = Vec::new();
        let mut pending = vec![root];
        while let Some(pid) = pending.pop() {
            for child in listed_children(pid) {
                if child != root && !found.contains(&child) {
                    found.push(child);
                    pending.push(child);
                }
            }
        }
        return found;
    }
    let all = parents();
    let mut children: HashMap<i32, Vec<i32>> = HashMap::new();
    for stat in all.values() {
        children.entry(stat.ppid).or_default().push(stat.pid);
    }
    let mut found = Vec::new();
    let mut pending = vec![root];
    while let Some(pid) = pending.pop() {
        for &child in children.get(&pid).map(Vec::as_slice).unwrap_or_default() {
            if child != root && !found.contains(&child) {
                found.push(child);
                pending.push(child);
            }
        }
    }
    found
}

/// True when `pid` is `ancestor` or below it (a process re-parented away is not).
pub fn descends_from(pid: i32, ancestor: i32) -> bool {
    let mut current = pid;
    // Parent chains are short; the bound only guards against a /proc that lies.
    for _ in 0..4096 {
        if current == ancestor {
            return true;
        }
        match stat(current) {
            Some(stat) if stat.ppid > 0 && stat.ppid != current => current = stat.ppid,
            _ => return false,
        }
    }
    false
}

/// Kills `root` (when `include_root`) and everything below it.
///
/// A tree that forks while we look at it cannot outrun this: each member is stopped
/// (SIGSTOP) before it is counted, the walk repeats until it finds no new member and every
/// member is seen stopped, and only then does everyone get SIGKILL. A process that was
/// killed before its children were found leaves them to the nearest subreaper, which
/// kills orphans it did not start.
pub fn kill_tree(root: i32, include_root: bool) {
    kill_tree_then(root, include_root, |_| {});
}

/// Kills `root`, everything below it, and its process group, which `root` leads: a
/// member that left the tree (its parent died) but not the group goes too.
///
/// While `root` is alive (stopped, and not yet reaped) its pid, and so its group's id,
/// cannot belong to anyone else: the group is killed with one `killpg` then, instead of a
/// walk of every process below us. Only when `root` was gone already are the members looked
/// for, as [`kill_group`] does.
pub fn kill_tree_and_group(root: i32) {
    let mut group_killed = false;
    kill_tree_then(root, true, |root_alive| {
        if root_alive {
            group_killed = nix::sys::signal::killpg(Pid::from_raw(root), Signal::SIGKILL).is_ok();
        }
    });
    if !group_killed {
        kill_group(root);
    }
}

/// [`kill_tree`], calling `before_kill` once every member is stopped and before any is
/// killed, with whether `root` is then alive.
fn kill_tree_then(root: i32, include_root: bool, before_kill: impl FnOnce(bool)) {
    // A pid that is no longer below us was reaped and may be someone else's now.
    if root <= 1 || !descends_from(root, std::process::id() as i32) {
        return;
    }
    let mut stopped: BTreeSet<i32> = BTreeSet::new();
    if include_root {
        let _ = kill(Pid::from_raw(root), Signal::SIGSTOP);
        stopped.insert(root);
    }
    for round in 0..200 {
        let found = descendants(root);
        let fresh: Vec<i32> = found
            .iter()
            .copied()
            .filter(|pid| !stopped.contains(pid))
            .collect();
        for &pid in &fresh {
            let _ = kill(Pid::from_raw(pid), Signal::SIGSTOP);
            stopped.insert(pid);
        }
        let settled = fresh.is_empty()
            && found.iter().all(|&pid| {
                stat(pid).is_none_or(|stat| matches!(stat.state, 'T' | 't' | 'Z' | 'X'))
            });
        if settled {
            break;
        }
        if round > 2 {
            std::thread::sleep(Duration::from_micros(200));
        }
    }
    let root_alive =
        include_root && stat(root).is_some_and(|stat| !matches!(stat.state, 'Z' | 'X'));
    before_kill(root_alive);
    for &pid in &stopped {
        let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
    }
}

/// SIGKILLs the members of process group `group` that are below us (and only those: a
/// group id outlives its leader, and may be reused once the group is empty).
pub fn kill_group(group: i32) {
    let us = std::process::id() as i32;
    if children_are_listed() {
        // Our own tree is all that can be below us: a few reads, not the whole machine.
        for pid in descendants(us) {
            if stat(pid).is_some_and(|stat| stat.pgrp == group) && descends_from(pid, us) {
                let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
            }
        }
        return;
    }
    for stat in parents().values() {
        if stat.pgrp == group && stat.pid != us && descends_from(stat.pid, us) {
            let _ = kill(Pid::from_raw(stat.pid), Signal::SIGKILL);
        }
    }
}

/// True while a process `pid` exists (ours or anyone's).
pub fn process_exists(pid: i32) -> bool {
    if pid <= 0 {
        return false;
    }
    // Signal 0 checks for existence; EPERM means it exists but is someone else's.
    !matches!(
        kill(Pid::from_raw(pid), None),
        Err(nix::errno::Errno::ESRCH)
    )
}

/// Makes this process a child subreaper: orphans below it are re-parented here, not to
/// init, so that they stay in reach of [`kill_tree`].
pub fn become_subreaper() -> bool {
    nix::sys::prctl::set_child_subreaper(true).is_ok()
}

/// `bytes` random bytes from the kernel, as lowercase hex (tokens nobody can guess).
pub fn random_hex(bytes: usize) -> std::io::Result<String> {
    let mut buffer = vec![0u8; bytes];
    // getrandom(2): one system call and no descriptor (a page is forked with several tokens).
    getrandom::fill(&mut buffer).map_err(std::io::Error::other)?;
    Ok(buffer.iter().map(|byte| format!("{byte:02x}")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_fields_are_read_after_the_last_parenthesis() {
        let parsed = parse_stat("42 (a) b) (c) S 7 42 42 0 -1").unwrap();
        assert_eq!(
            parsed,
            ProcessStat {
                pid: 42,
                ppid: 7,
                pgrp: 42,
                state: 'S'
            }
        );
        assert_eq!(parse_stat("garbage"), None);
    }

    #[test]
    fn this_process_descends_from_its_parent_and_init() {
        let me = std::process::id() as i32;
        assert!(descends_from(me, me));
        assert!(descends_from(me, 1));
        assert!(!descends_from(1, me));
    }

    #[test]
    fn a_child_is_found_below_us() {
        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .expect("sleep starts");
        let pid = child.id() as i32;
        let me = std::process::id() as i32;
        assert!(children(me).contains(&pid));
        assert!(descendants(me).contains(&pid));
        let _ = child.kill();
        let _ = child.wait();
        assert!(!children(me).contains(&pid));
    }

    #[test]
    fn random_tokens_differ() {
        let a = random_hex(16).unwrap();
        assert_eq!(a.len(), 32);
        assert_ne!(a, random_hex(16).unwrap());
    }
}
