//! Nobody else gets in: every folder, socket and log file of a run is private to the user
//! (0700/0600) whatever the umask, a TMPDIR too deep for a socket path still works (or
//! says why not) and removes only its own stale folders, and `--no-fork` with several jobs gives each page its own interpreter.

mod common;

use std::path::Path;
use std::process::{Command, Output, Stdio};

fn run(cwd: &Path, tmpdir: &Path, umask: &str, args: &[&str]) -> Output {
    // The umask is set by a shell right before it becomes the binary.
    Command::new("sh")
        .arg("-c")
        .arg(format!("umask {umask} && exec \"$0\" \"$@\""))
        .arg(env!("CARGO_BIN_EXE_objgraph-doctest"))
        .args(["--python", &common::python(), "--color", "never"])
        .args(args)
        .current_dir(cwd)
        .env("TMPDIR", tmpdir)
        .stdin(Stdio::null())
        .output()
        .expect("the binary runs")
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// Examples that look at the modes of what the run made: the socket (`sys.argv[1]` of
/// the driver), its folder and logs, the session folder, the page's folder and TMPDIR.
const MODES_PAGE: &str = r#"
>>> import os, sys, stat
>>> mode = lambda path: oct(stat.S_IMODE(os.stat(path).st_mode))
>>> socket_dir = os.path.dirname(sys.argv[1])
>>> mode(sys.argv[1]), mode(socket_dir), mode(os.path.dirname(socket_dir))
('0o600', '0o700', '0o700')
>>> sorted({mode(os.path.join(socket_dir, f)) for f in os.listdir(socket_dir) if f.endswith('.stderr')})
['0o600']
>>> mode(os.getcwd()), mode(os.environ['TMPDIR'])
('0o700', '0o700')
"#;

#[test]
fn everything_is_private_whatever_the_umask() {
    // In /tmp itself: under a deep $TMPDIR the socket would not fit its 108 bytes and the
    // run would (rightly) fall back to a folder in /tmp, whose parent is not ours.
    let dir = tempfile::Builder::new()
        .prefix("ogd-")
        .tempdir_in("/tmp")
        .unwrap();
    std::fs::write(dir.path().join("modes.txt"), MODES_PAGE).unwrap();
    let tmp = dir.path().join("tmp");
    std::fs::create_dir(&tmp).unwrap();
    for args in [&["modes.txt"][..], &["--no-fork", "modes.txt"][..]] {
        let output = run(dir.path(), &tmp, "000", args);
        assert_eq!(output.status.code(), Some(0), "{args:?}: {}", text(&output));
    }
    assert_eq!(
        std::fs::read_dir(&tmp).unwrap().count(),
        0,
        "left in TMPDIR"
    );
}

#[test]
fn a_tmpdir_too_deep_for_a_socket_still_works() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("ok.txt"), ">>> 1 + 1\n2\n").unwrap();
    let mut deep = dir.path().join("tmp");
    while deep.as_os_str().len() < 150 {
        deep.push("a-rather-long-directory-name");
    }
    std::fs::create_dir_all(&deep).unwrap();
    let output = run(dir.path(), &deep, "022", &["ok.txt"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    assert_eq!(
        std::fs::read_dir(&deep).unwrap().count(),
        0,
        "left in TMPDIR"
    );
}

#[test]
fn a_dead_runs_socket_folder_is_removed_and_a_lookalike_is_not() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("ok.txt"), ">>> 1 + 1\n2\n").unwrap();
    let mut deep = dir.path().join("tmp");
    while deep.as_os_str().len() < 150 {
        deep.push("a-rather-long-directory-name");
    }
    std::fs::create_dir_all(&deep).unwrap();
    let mut child = Command::new("true").spawn().unwrap();
    let dead = child.id();
    child.wait().unwrap();
    // A killed run's folder: private, with its socket still there.
    let stale = tempfile::Builder::new()
        .prefix(&format!("ogd-{dead}."))
        .tempdir_in("/tmp")
        .unwrap()
        .keep();
    std::fs::set_permissions(&stale, std::fs::Permissions::from_mode(0o700)).unwrap();
    drop(std::os::unix::net::UnixListener::bind(stale.join("backend.sock")).unwrap());
    // Someone else's folder with a name of the same shape.
    let lookalike = tempfile::Builder::new()
        .prefix(&format!("ogd-{dead}."))
        .tempdir_in("/tmp")
        .unwrap();
    std::fs::write(lookalike.path().join("precious.txt"), "keep me").unwrap();
    std::fs::set_permissions(lookalike.path(), std::fs::Permissions::from_mode(0o700)).unwrap();

    // Under a TMPDIR too deep for a socket, the run makes its folder in /tmp, and first
    // removes those of runs that died.
    let output = run(dir.path(), &deep, "022", &["ok.txt"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    let stale_left = stale.exists();
    let _ = std::fs::remove_dir_all(&stale);
    assert!(!stale_left, "{} was not removed", stale.display());
    assert_eq!(
        std::fs::read_to_string(lookalike.path().join("precious.txt")).unwrap(),
        "keep me"
    );
}

#[test]
fn no_fork_with_several_jobs_gives_each_page_its_own_interpreter() {
    let dir = tempfile::tempdir().unwrap();
    let tmp = dir.path().join("tmp");
    std::fs::create_dir(&tmp).unwrap();
    let mut names = Vec::new();
    for index in 0..6 {
        let name = format!("page{index}.txt");
        // Each page sees only its own globals and its own folder.
        let page = format!(
            ">>> 'marker' in globals()\nFalse\n>>> marker = {index}\n\
             >>> import os, time; time.sleep(0.2); os.path.exists('mine-{index}') or open('mine-{index}', 'w').close()\n\
             >>> sorted(f for f in os.listdir('.') if f.startswith('mine')), marker\n(['mine-{index}'], {index})\n"
        );
        std::fs::write(dir.path().join(&name), page).unwrap();
        names.push(name);
    }
    let mut args = vec!["--no-fork", "-j", "4"];
    args.extend(names.iter().map(String::as_str));
    let output = run(dir.path(), &tmp, "022", &args);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    assert!(text(&output).contains("24 passed"), "{}", text(&output));
}

#[test]
fn a_missing_tmpdir_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("ok.txt"), ">>> 1 + 1\n2\n").unwrap();
    let missing = dir.path().join("no-such-dir");
    let output = run(dir.path(), &missing, "022", &["ok.txt"]);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("cannot make a private directory in")
            && stderr.contains("set TMPDIR to a directory you can write"),
        "{stderr}"
    );
}

#[test]
fn a_relative_tmpdir_works_and_is_left_empty() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("ok.txt"),
        ">>> import os, tempfile\n>>> os.path.isabs(tempfile.gettempdir())\nTrue\n",
    )
    .unwrap();
    std::fs::create_dir(dir.path().join("tmp")).unwrap();
    for args in [&["ok.txt"][..], &["--no-fork", "ok.txt"][..]] {
        let output = run(dir.path(), Path::new("tmp"), "022", args);
        assert_eq!(output.status.code(), Some(0), "{args:?}: {}", text(&output));
    }
    assert_eq!(
        std::fs::read_dir(dir.path().join("tmp")).unwrap().count(),
        0
    );
}
