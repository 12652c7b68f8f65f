//! `--update` never loses or corrupts a user's text: the built binary on real pages and a
//! real Python. A page changed while it ran is not overwritten; output a page cannot hold is
//! refused and the page never gains an example; links, modes, owners, ACLs and other extended
//! attributes are kept, read-only and hard-linked pages are refused; a non-UTF-8 name updates
//! the same file; a kill leaves the old or the new page and the next run removes what it left
//! (after SIGTERM and the like, the run itself does); the exit status says whether every
//! failure was accepted, also when stdout's reader has gone.

#[path = "common/cli.rs"]
mod cli;
mod common;

use cli::{both, text};

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

/// The binary in `cwd` with a private TMPDIR (so that leftovers are ours to count).
fn command(cwd: &Path, args: &[&str]) -> Command {
    let tmp = cwd.join(".tmp");
    std::fs::create_dir_all(&tmp).expect("private TMPDIR");
    let mut command = cli::objgraph_doctest(cwd, &tmp);
    command.args(args);
    command
}

fn run(cwd: &Path, args: &[&str]) -> Output {
    command(cwd, args).output().expect("the binary runs")
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).expect("read page")
}

/// Names in `dir` other than the private TMPDIR.
fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("read dir")
        .map(|entry| {
            entry
                .expect("entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .filter(|name| name != ".tmp")
        .collect();
    names.sort();
    names
}

const FAILING: &str = ">>> print('new')\nold\n";
const UPDATED: &str = ">>> print('new')\nnew\n";

#[test]
fn a_page_changed_while_it_ran_is_not_overwritten() {
    let dir = tempfile::tempdir().expect("tempdir");
    let page = dir.path().join("page.txt");
    // The second example is the user saving an edit while the run is under way.
    let original =
        format!("{FAILING}>>> with open(__file__, 'a') as f: _ = f.write('the user edit\\n')\n");
    std::fs::write(&page, &original).expect("page");
    let output = run(dir.path(), &["--update", "page.txt"]);
    assert_eq!(output.status.code(), Some(1), "{}", both(&output));
    assert!(
        text(&output.stderr).contains(
            "page.txt: changed on disk since it was read; not updated (run again to update it)"
        ),
        "{}",
        both(&output)
    );
    assert_eq!(read(&page), format!("{original}the user edit\n"));
    assert_eq!(entries(dir.path()), ["page.txt"]);
}

#[test]
fn output_a_page_cannot_hold_is_refused_and_the_rest_is_accepted() {
    let dir = tempfile::tempdir().expect("tempdir");
    let page = dir.path().join("page.txt");
    std::fs::write(
        &page,
        ">>> print('>>> import os')\nx\n>>> print('a\\rb')\nx\n>>> print('... more')\nx\n>>> print('new')\nold\n",
    )
    .expect("page");
    let output = run(dir.path(), &["--update", "page.txt"]);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{}", both(&output));
    for message in [
        "page.txt:1:1: example not updated: its output has a line starting with `>>>`, which doctest would read as a new example",
        "page.txt:3:1: example not updated: its output has a carriage return",
        "page.txt:5:1: example not updated: its output starts with `...`",
    ] {
        assert!(stderr.contains(message), "{stderr}");
    }
    assert!(
        stderr.contains("updated 1 example in 1 page; some failures remain"),
        "{stderr}"
    );
    assert_eq!(
        read(&page),
        ">>> print('>>> import os')\nx\n>>> print('a\\rb')\nx\n>>> print('... more')\nx\n>>> print('new')\nnew\n"
    );
}

#[test]
fn a_fence_line_never_closes_a_markdown_block() {
    let dir = tempfile::tempdir().expect("tempdir");
    let page = dir.path().join("page.md");
    let original = "# Page\n\n```python\n>>> print('`' * 3)\nx\n>>> print('new')\nold\n```\n";
    std::fs::write(&page, original).expect("page");
    let output = run(dir.path(), &["--update", "--format", "json", "page.md"]);
    assert_eq!(output.status.code(), Some(1), "{}", both(&output));
    assert!(
        text(&output.stderr).contains(
            "page.md:4:1: example not updated: its output has a line that would close the Markdown code block"
        ),
        "{}",
        both(&output)
    );
    assert_eq!(read(&page), original.replace("old", "new"));
    // Run again: the page still has its two examples, the refused one still failing.
    let again = run(dir.path(), &["--format", "json", "page.md"]);
    let report: serde_json::Value = serde_json::from_slice(&again.stdout).expect("JSON");
    let examples = report["pages"][0]["examples"].as_array().expect("examples");
    let outcomes: Vec<&str> = examples
        .iter()
        .map(|example| example["outcome"].as_str().expect("outcome"))
        .collect();
    assert_eq!(outcomes, ["failed", "passed"]);
}

#[test]
fn symlinked_pages_update_their_target_and_stay_links() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir(dir.path().join("real")).expect("dir");
    let target = dir.path().join("real/page.txt");
    std::fs::write(&target, FAILING).expect("page");
    std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o640)).expect("chmod");
    let link = dir.path().join("link.txt");
    std::os::unix::fs::symlink("real/page.txt", &link).expect("symlink");
    let output = run(dir.path(), &["--update", "link.txt"]);
    assert_eq!(output.status.code(), Some(0), "{}", both(&output));
    assert!(
        std::fs::symlink_metadata(&link)
            .expect("link")
            .file_type()
            .is_symlink()
    );
    assert_eq!(read(&target), UPDATED);
    let mode = std::fs::metadata(&target).expect("stat").mode() & 0o777;
    assert_eq!(mode, 0o640);
    assert_eq!(entries(&dir.path().join("real")), ["page.txt"]);
}

#[test]
fn owner_and_group_are_kept() {
    let dir = tempfile::tempdir().expect("tempdir");
    let page = dir.path().join("page.txt");
    std::fs::write(&page, FAILING).expect("page");
    let mine = std::fs::metadata(&page).expect("stat");
    // As root, give the page to another user and see it stay theirs; otherwise it is ours
    // and must stay ours.
    let (uid, gid) = if mine.uid() == 0 {
        std::os::unix::fs::chown(&page, Some(65534), Some(65534)).expect("chown");
        (65534, 65534)
    } else {
        (mine.uid(), mine.gid())
    };
    let output = run(dir.path(), &["--update", "page.txt"]);
    assert_eq!(output.status.code(), Some(0), "{}", both(&output));
    let after = std::fs::metadata(&page).expect("stat");
    assert_eq!((after.uid(), after.gid()), (uid, gid));
    assert_eq!(read(&page), UPDATED);
}

#[test]
fn hard_linked_and_read_only_pages_are_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let linked = dir.path().join("linked.txt");
    std::fs::write(&linked, FAILING).expect("page");
    std::fs::hard_link(&linked, dir.path().join("other-name.txt")).expect("hard link");
    let read_only = dir.path().join("read-only.txt");
    std::fs::write(&read_only, FAILING).expect("page");
    std::fs::set_permissions(&read_only, std::fs::Permissions::from_mode(0o444)).expect("chmod");
    let output = run(
        dir.path(),
        &["--update", "linked.txt", "other-name.txt", "read-only.txt"],
    );
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{}", both(&output));
    assert!(
        stderr
            .contains("linked.txt: has 2 hard links, which replacing it would break; not updated"),
        "{stderr}"
    );
    assert!(
        stderr.contains("read-only.txt: is read-only; not updated (make it writable"),
        "{stderr}"
    );
    // The hard-linked page was given twice (two names, one file): it ran once.
    assert_eq!(stderr.matches("hard links").count(), 1, "{stderr}");
    assert!(stderr.contains("updated 0 examples in 0 pages"), "{stderr}");
    assert_eq!(read(&linked), FAILING);
    assert_eq!(read(&read_only), FAILING);
    assert_eq!(std::fs::metadata(&linked).expect("stat").nlink(), 2);
}

#[test]
fn a_non_utf8_file_name_updates_the_same_file() {
    use std::os::unix::ffi::OsStrExt;
    let dir = tempfile::tempdir().expect("tempdir");
    let name = std::ffi::OsStr::from_bytes(b"caf\xe9.txt");
    let page = dir.path().join(name);
    std::fs::write(&page, FAILING).expect("page");
    let output = run(dir.path(), &["--update", "."]);
    assert_eq!(output.status.code(), Some(0), "{}", both(&output));
    assert_eq!(read(&page), UPDATED);
    let names: Vec<Vec<u8>> = std::fs::read_dir(dir.path())
        .expect("dir")
        .map(|entry| entry.expect("entry").file_name().as_bytes().to_vec())
        .filter(|name| name != b".tmp")
        .collect();
    assert_eq!(names, [b"caf\xe9.txt".to_vec()]);
}

#[test]
fn a_kill_at_any_moment_leaves_the_old_or_the_new_page_and_the_next_run_cleans_up() {
    let dir = tempfile::tempdir().expect("tempdir");
    let page = dir.path().join("page.txt");
    let original = ">>> import time; time.sleep(0.05)\n>>> print('new')\nold\n";
    let updated = original.replace("old", "new");
    // Kill the run at spread-out moments: before, during and after its pages ran and wrote.
    for delay_ms in [0, 50, 150, 300, 450, 600, 800, 1100] {
        std::fs::write(&page, original).expect("page");
        let mut child = command(dir.path(), &["--update", "page.txt"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn");
        std::thread::sleep(Duration::from_millis(delay_ms));
        let _ = child.kill();
        let _ = child.wait();
        let now = read(&page);
        assert!(
            now == original || now == updated,
            "after a kill at {delay_ms} ms: {now:?}"
        );
    }
    // A temporary file left by a killed run (its process is gone) is removed by the next run;
    // one of a run still going is not.
    let mut gone = Command::new("true").spawn().expect("true");
    let dead = gone.id();
    gone.wait().expect("wait");
    let stale = dir
        .path()
        .join(format!(".objgraph-doctest-update.{dead}.Ab12Cd.tmp"));
    let live = dir.path().join(format!(
        ".objgraph-doctest-update.{}.Ab12Cd.tmp",
        std::process::id()
    ));
    std::fs::write(&stale, "half a page").expect("stale");
    std::fs::write(&live, "being written").expect("live");
    let output = run(dir.path(), &["page.txt"]);
    assert!(output.status.code().is_some(), "{}", both(&output));
    assert!(!stale.exists(), "{:?}", entries(dir.path()));
    assert!(live.exists());
    std::fs::remove_file(&live).expect("remove");
    assert_eq!(entries(dir.path()), ["page.txt"]);
}

#[test]
fn exit_status_is_0_only_when_every_failure_was_accepted() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("a.txt"), FAILING).expect("page");
    std::fs::write(
        dir.path().join("b.txt"),
        ">>> print('new')\nold\n>>> raise KeyError('b')\nTraceback (most recent call last):\n  ...\nKeyError: 'a'\n",
    )
    .expect("page");
    let output = run(dir.path(), &["--update", "a.txt", "b.txt"]);
    assert_eq!(output.status.code(), Some(0), "{}", both(&output));
    assert!(
        text(&output.stderr).contains("updated 3 examples in 2 pages; the pages now pass"),
        "{}",
        both(&output)
    );
    let again = run(dir.path(), &["a.txt", "b.txt"]);
    assert_eq!(again.status.code(), Some(0), "{}", both(&again));

    // A timeout is not a failure --update can accept: the status stays 1.
    std::fs::write(
        dir.path().join("c.txt"),
        ">>> print('new')\nold\n>>> while True: pass\n",
    )
    .expect("page");
    let output = run(dir.path(), &["--update", "--timeout", "1", "c.txt"]);
    assert_eq!(output.status.code(), Some(1), "{}", both(&output));
    assert_eq!(
        read(&dir.path().join("c.txt")),
        ">>> print('new')\nnew\n>>> while True: pass\n"
    );
}

/// `command` with its stdout a pipe nobody reads any more (`| head -1` after its line).
fn with_stdout_gone(cwd: &Path, args: &[&str]) -> Output {
    let (reader, writer) = std::io::pipe().expect("pipe");
    drop(reader);
    command(cwd, args)
        .stdout(writer)
        .stderr(Stdio::piped())
        .output()
        .expect("the binary runs")
}

#[test]
fn a_reader_that_goes_away_ends_the_printing_not_the_run() {
    let dir = tempfile::tempdir().expect("tempdir");
    for name in ["a.txt", "b.txt"] {
        std::fs::write(dir.path().join(name), FAILING).expect("page");
    }
    // Under `set -o pipefail`, a failing run must not pass because its reader stopped early.
    for format in ["human", "json", "junit", "github"] {
        let output = with_stdout_gone(dir.path(), &["--format", format, "a.txt", "b.txt"]);
        assert_eq!(output.status.code(), Some(1), "{format}: {}", both(&output));
        assert_eq!(text(&output.stderr), "", "{format}");
    }
    // --update still writes the pages, and says so.
    let output = with_stdout_gone(dir.path(), &["--update", "a.txt", "b.txt"]);
    assert_eq!(output.status.code(), Some(0), "{}", both(&output));
    assert!(
        text(&output.stderr).contains("updated 2 examples in 2 pages; the pages now pass"),
        "{}",
        both(&output)
    );
    for name in ["a.txt", "b.txt"] {
        assert_eq!(read(&dir.path().join(name)), UPDATED);
    }
}

#[test]
fn a_kill_while_the_new_page_is_written_leaves_the_old_page_and_the_next_run_removes_the_rest() {
    let dir = tempfile::tempdir().expect("tempdir");
    let page = dir.path().join("page.txt");
    // A long page takes a while to write, so the moment the temporary file exists can be
    // seen from here and the run killed before its rename.
    let filler = "Some prose that is not an example.\n".repeat(100_000);
    let original = format!("{FAILING}\n{filler}");
    let updated = format!("{UPDATED}\n{filler}");
    let mut caught = 0;
    for _ in 0..3 {
        std::fs::write(&page, &original).expect("page");
        let mut child = command(dir.path(), &["--update", "page.txt"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn");
        loop {
            let writing = entries(dir.path())
                .iter()
                .any(|name| name.starts_with(".objgraph-doctest-update."));
            if writing {
                let _ = child.kill();
                caught += 1;
                break;
            }
            if child.try_wait().expect("try_wait").is_some() {
                break;
            }
            std::thread::sleep(Duration::from_micros(200));
        }
        let _ = child.wait();
        let now = read(&page);
        assert!(
            now == original || now == updated,
            "the page is half written"
        );
        // The next run finds what the killed one left and removes it.
        let output = run(dir.path(), &["--collect-only", "page.txt"]);
        assert_eq!(output.status.code(), Some(0), "{}", both(&output));
        assert_eq!(entries(dir.path()), ["page.txt"]);
    }
    println!("killed {caught} of 3 runs while the new page was being written");
    assert!(
        caught > 0,
        "never saw the temporary file: the test proved nothing"
    );
}

#[test]
fn a_signal_while_the_new_page_is_written_removes_the_temporary_file() {
    use nix::sys::signal::{Signal, kill};
    use nix::unistd::Pid;
    let dir = tempfile::tempdir().expect("tempdir");
    let page = dir.path().join("page.txt");
    // As in the SIGKILL test above: a page long enough that its temporary file can be seen.
    let filler = "Some prose that is not an example.\n".repeat(100_000);
    let original = format!("{FAILING}\n{filler}");
    let updated = format!("{UPDATED}\n{filler}");
    let mut caught = 0;
    for _ in 0..3 {
        std::fs::write(&page, &original).expect("page");
        let mut child = command(dir.path(), &["--update", "page.txt"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn");
        let mut signalled = false;
        loop {
            let writing = entries(dir.path())
                .iter()
                .any(|name| name.starts_with(".objgraph-doctest-update."));
            if writing {
                let pid = Pid::from_raw(child.id() as i32);
                kill(pid, Signal::SIGTERM).expect("SIGTERM");
                signalled = true;
                caught += 1;
                break;
            }
            if child.try_wait().expect("try_wait").is_some() {
                break;
            }
            std::thread::sleep(Duration::from_micros(200));
        }
        let status = child.wait().expect("wait");
        if signalled {
            assert_eq!(status.code(), Some(143), "{status:?}");
        }
        let now = read(&page);
        assert!(
            now == original || now == updated,
            "the page is half written"
        );
        // Removed by the run that was signalled, not by a next one.
        assert_eq!(entries(dir.path()), ["page.txt"]);
    }
    println!("signalled {caught} of 3 runs while the new page was being written");
    assert!(
        caught > 0,
        "never saw the temporary file: the test proved nothing"
    );
}

/// The standard output of `program args` run in `cwd`, or `None` (said on stderr) when the
/// tool is not installed or does not work here: a test that needs it is then skipped.
fn system_tool(cwd: &Path, program: &str, args: &[&str]) -> Option<String> {
    match Command::new(program).args(args).current_dir(cwd).output() {
        Ok(output) if output.status.success() => Some(text(&output.stdout)),
        Ok(output) => {
            eprintln!("skipped: `{program}` does not work here: {}", both(&output));
            None
        }
        Err(error) => {
            eprintln!("skipped: no `{program}` ({error})");
            None
        }
    }
}

#[test]
fn an_acl_is_kept_and_the_group_gains_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let page = dir.path().join("page.txt");
    std::fs::write(&page, FAILING).expect("page");
    std::fs::set_permissions(&page, std::fs::Permissions::from_mode(0o640)).expect("chmod");
    if system_tool(dir.path(), "setfacl", &["-m", "u:nobody:rw", "page.txt"]).is_none() {
        return;
    }
    let Some(acl) = system_tool(dir.path(), "getfacl", &["page.txt"]) else {
        return;
    };
    assert!(acl.contains("user:nobody:rw-"), "{acl}");
    let mode = std::fs::metadata(&page).expect("stat").mode();
    let output = run(dir.path(), &["--update", "page.txt"]);
    assert_eq!(output.status.code(), Some(0), "{}", both(&output));
    assert_eq!(read(&page), UPDATED);
    assert_eq!(
        system_tool(dir.path(), "getfacl", &["page.txt"]).as_ref(),
        Some(&acl)
    );
    // The mode's group bits are the ACL's mask: the same mask, the same bits.
    assert_eq!(std::fs::metadata(&page).expect("stat").mode(), mode);
    assert_eq!(entries(dir.path()), ["page.txt"]);
}

#[test]
fn a_user_attribute_is_kept() {
    let dir = tempfile::tempdir().expect("tempdir");
    let page = dir.path().join("page.txt");
    std::fs::write(&page, FAILING).expect("page");
    let set = ["-n", "user.note", "-v", "hello", "page.txt"];
    if system_tool(dir.path(), "setfattr", &set).is_none() {
        return;
    }
    let get = ["-d", "page.txt"];
    let Some(attributes) = system_tool(dir.path(), "getfattr", &get) else {
        return;
    };
    assert!(attributes.contains("user.note=\"hello\""), "{attributes}");
    let output = run(dir.path(), &["--update", "page.txt"]);
    assert_eq!(output.status.code(), Some(0), "{}", both(&output));
    assert_eq!(read(&page), UPDATED);
    assert_eq!(
        system_tool(dir.path(), "getfattr", &get).as_ref(),
        Some(&attributes)
    );
}
