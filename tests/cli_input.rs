//! Bad input and bad options, with the built binary: every case gets one clear message (what,
//! where, how to fix) and the documented exit status, never a panic or a hang. Also which
//! configuration is used (up to the project root, never a file another user can write) and
//! how the reports say so, and reading only regular files of bounded size.

#[path = "common/cli.rs"]
mod cli;
mod common;

use cli::{both, json, text};

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The binary in `cwd` with a private TMPDIR, run through `wrapper` if any; killed (and the
/// test failed) after 60 s, so that a hang is a failure, not a stuck suite.
fn run_with(cwd: &Path, args: &[&str], wrapper: &[&str]) -> Output {
    let tmp = tempfile::tempdir().expect("private TMPDIR");
    let direct = cli::objgraph_doctest(cwd, tmp.path());
    let mut command = match wrapper.split_first() {
        Some((program, rest)) => {
            // The same command, as the wrapper's arguments.
            let mut wrapped = Command::new(program);
            wrapped
                .args(rest)
                .arg(direct.get_program())
                .args(direct.get_args())
                .current_dir(cwd)
                .env("TMPDIR", tmp.path())
                .stdin(Stdio::null());
            wrapped
        }
        None => direct,
    };
    let child = command
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    let pid = child.id();
    let started = Instant::now();
    let waiter = std::thread::spawn(move || child.wait_with_output().expect("wait"));
    while !waiter.is_finished() {
        if started.elapsed() > Duration::from_secs(60) {
            let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
            panic!("objgraph-doctest {args:?} hung");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let output = waiter.join().expect("waiter");
    assert!(
        !text(&output.stderr).contains("panicked"),
        "{}",
        text(&output.stderr)
    );
    output
}

fn run(cwd: &Path, args: &[&str]) -> Output {
    run_with(cwd, args, &[])
}

/// A project directory (it has a `.git`, so nothing above it is looked at) with one page.
fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir(dir.path().join(".git")).expect(".git");
    std::fs::write(dir.path().join("page.txt"), ">>> 1 + 1\n2\n").expect("page");
    dir
}

fn mkfifo(path: &Path) {
    let made = Command::new("mkfifo").arg(path).status().expect("mkfifo");
    assert!(made.success());
}

#[test]
fn out_of_range_options_are_usage_errors_that_say_what_to_give() {
    let dir = project();
    for (args, message) in [
        (
            &["--timeout", "1e20"][..],
            "invalid value '1e20' for '--timeout <SECONDS>': the timeout must be more than 0 and at most 86400 seconds (one day), e.g. --timeout 30",
        ),
        (
            &["--timeout", "0"],
            "invalid value '0' for '--timeout <SECONDS>': the timeout must",
        ),
        (
            &["--timeout=-3"],
            "invalid value '-3' for '--timeout <SECONDS>': the timeout must",
        ),
        (
            &["--timeout", "nan"],
            "invalid value 'nan' for '--timeout <SECONDS>': the timeout must",
        ),
        (
            &["--timeout", "soon"],
            "\"soon\" is not a number of seconds",
        ),
        (
            &["--memory-limit", "0"],
            "invalid value '0' for '--memory-limit <MIB>': 0 MiB is too small for Python to start; give at least 64",
        ),
        (
            &["--memory-limit", "1"],
            "1 MiB is too small for Python to start; give at least 64",
        ),
        (&["-j", "0"], "0 jobs would run nothing; give at least 1"),
        (&["-j", "many"], "\"many\" is not a whole number"),
        (
            &["--update", "--collect-only"],
            "the argument '--update' cannot be used with '--collect-only'",
        ),
    ] {
        let mut all = args.to_vec();
        all.push("page.txt");
        let output = run(dir.path(), &all);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {}", both(&output));
        assert!(
            text(&output.stderr).contains(message),
            "{args:?}: {}",
            both(&output)
        );
    }
}

#[test]
fn out_of_range_configuration_is_located() {
    let dir = project();
    std::fs::write(
        dir.path().join("objgraph-doctest.toml"),
        "jobs = 2\ntimeout = 1e20\n",
    )
    .expect("config");
    let output = run(dir.path(), &["page.txt"]);
    assert_eq!(output.status.code(), Some(2), "{}", both(&output));
    assert!(
        text(&output.stderr).contains(
            "objgraph-doctest.toml:2:11: the timeout must be more than 0 and at most 86400 seconds (one day), e.g. timeout = 30"
        ),
        "{}",
        both(&output)
    );
}

#[test]
fn a_million_jobs_are_capped_at_the_page_count() {
    let dir = project();
    std::fs::write(dir.path().join("other.txt"), ">>> 2 * 3\n6\n").expect("page");
    let output = run(dir.path(), &["-j", "1000000", "page.txt", "other.txt"]);
    assert_eq!(output.status.code(), Some(0), "{}", both(&output));
    assert!(
        text(&output.stdout).ends_with("2 passed, 0 failed\n"),
        "{}",
        both(&output)
    );
    let output = run(dir.path(), &["-j", "99999999999999999999999", "page.txt"]);
    assert_eq!(output.status.code(), Some(0), "{}", both(&output));
}

#[test]
fn a_fifo_or_a_symlink_loop_on_the_command_line_is_an_error_not_a_hang() {
    let dir = project();
    mkfifo(&dir.path().join("pipe.txt"));
    std::os::unix::fs::symlink("loop.txt", dir.path().join("loop.txt")).expect("symlink");
    let output = run(dir.path(), &["pipe.txt"]);
    assert_eq!(output.status.code(), Some(2), "{}", both(&output));
    assert!(
        text(&output.stderr).contains(
            "pipe.txt: is a FIFO (named pipe), not a page; give a regular file or a directory"
        ),
        "{}",
        both(&output)
    );
    let output = run(dir.path(), &["--collect-only", "loop.txt"]);
    assert_eq!(output.status.code(), Some(2), "{}", both(&output));
    assert!(
        text(&output.stderr).contains(
            "loop.txt: is a symlink loop (too many levels of symbolic links); fix or remove the link"
        ),
        "{}",
        both(&output)
    );
    // In a directory, neither is a page: the walk skips them and the real page runs.
    let output = run(dir.path(), &["."]);
    assert_eq!(output.status.code(), Some(0), "{}", both(&output));
}

#[test]
fn an_unreadable_subdirectory_is_a_warning_and_the_other_pages_run() {
    let dir = project();
    let docs = dir.path().join("docs");
    std::fs::create_dir_all(docs.join("secret")).expect("dirs");
    std::fs::write(docs.join("secret/hidden.txt"), ">>> 1\n1\n").expect("page");
    std::fs::write(docs.join("open.txt"), ">>> 2\n2\n").expect("page");
    std::fs::set_permissions(docs.join("secret"), std::fs::Permissions::from_mode(0o000))
        .expect("chmod");
    // Root reads any directory: drop the capabilities that let it, so the test means the same
    // for every user.
    let wrapper: &[&str] = &[
        "setpriv",
        "--inh-caps=-dac_override,-dac_read_search",
        "--bounding-set=-dac_override,-dac_read_search",
    ];
    let output = run_with(dir.path(), &["--format", "json", "docs"], wrapper);
    std::fs::set_permissions(docs.join("secret"), std::fs::Permissions::from_mode(0o700))
        .expect("chmod back");
    assert_eq!(output.status.code(), Some(0), "{}", both(&output));
    let report = json(&output);
    let warnings = report["warnings"].as_array().expect("warnings");
    assert!(
        warnings.iter().any(|warning| {
            let warning = warning.as_str().unwrap_or("");
            warning.contains("docs/secret")
                && warning.contains("Permission denied")
                && warning.ends_with("the pages under it were skipped (check its permissions)")
        }),
        "{warnings:?}"
    );
    assert_eq!(report["pages"].as_array().expect("pages").len(), 1);
    assert_eq!(report["pages"][0]["path"], "docs/open.txt");
}

#[test]
fn the_same_page_named_three_ways_runs_once() {
    let dir = project();
    let absolute = dir.path().join("page.txt");
    let output = run(
        dir.path(),
        &[
            "--format",
            "json",
            "page.txt",
            "./page.txt",
            &absolute.to_string_lossy(),
        ],
    );
    assert_eq!(output.status.code(), Some(0), "{}", both(&output));
    let report = json(&output);
    assert_eq!(report["pages"].as_array().expect("pages").len(), 1);
    assert_eq!(report["pages"][0]["path"], "page.txt");
    assert_eq!(report["summary"]["passed"], 1);
}

#[test]
fn pages_and_includes_that_are_not_regular_files_or_too_large_are_never_read() {
    let dir = project();
    // A page that is a link to /dev/zero: an error, not a hang or unbounded memory.
    std::os::unix::fs::symlink("/dev/zero", dir.path().join("zero.txt")).expect("symlink");
    let output = run(dir.path(), &["--collect-only", "zero.txt"]);
    assert_eq!(output.status.code(), Some(2), "{}", both(&output));
    assert!(
        text(&output.stderr).contains(
            "zero.txt: is a character device, not a page; give a regular file or a directory"
        ),
        "{}",
        both(&output)
    );
    // A page over 16 MiB.
    let big = std::fs::File::create(dir.path().join("big.txt")).expect("big");
    big.set_len(17 * 1024 * 1024).expect("sparse file");
    let output = run(dir.path(), &["--collect-only", "big.txt"]);
    assert_eq!(output.status.code(), Some(1), "{}", both(&output));
    assert!(
        text(&output.stdout).contains("big.txt: is larger than 16 MiB"),
        "{}",
        both(&output)
    );
    // Includes of a FIFO and of /dev/zero: warnings, and the page runs.
    mkfifo(&dir.path().join("pipe.rst"));
    std::fs::write(
        dir.path().join("index.rst"),
        "Title\n=====\n\n.. include:: pipe.rst\n\n.. include:: zero.txt\n\n>>> 3\n3\n",
    )
    .expect("page");
    let output = run(dir.path(), &["--format", "json", "index.rst"]);
    assert_eq!(output.status.code(), Some(0), "{}", both(&output));
    let warnings = json(&output)["warnings"].clone();
    let warnings: Vec<&str> = warnings
        .as_array()
        .expect("warnings")
        .iter()
        .filter_map(|warning| warning.as_str())
        .collect();
    assert!(
        warnings
            .iter()
            .any(|warning| warning.starts_with("pipe.rst: included file not read: it is a FIFO")),
        "{warnings:?}"
    );
    assert!(
        warnings.iter().any(|warning| warning
            .starts_with("zero.txt: included file not read: it is a character device")),
        "{warnings:?}"
    );
}

#[test]
fn the_reports_say_which_configuration_file_was_used() {
    let dir = project();
    let output = run(dir.path(), &["page.txt"]);
    assert!(
        text(&output.stdout).starts_with("configfile: none (defaults)\n"),
        "{}",
        both(&output)
    );
    assert_eq!(
        json(&run(dir.path(), &["--format", "json", "page.txt"]))["configfile"],
        serde_json::Value::Null
    );
    std::fs::write(
        dir.path().join("pyproject.toml"),
        "[tool.objgraph-doctest]\noptionflags = ['ELLIPSIS']\n",
    )
    .expect("config");
    let output = run(dir.path(), &["page.txt"]);
    assert!(
        text(&output.stdout).starts_with("configfile: pyproject.toml\n"),
        "{}",
        both(&output)
    );
    let report = json(&run(dir.path(), &["--format", "json", "page.txt"]));
    assert_eq!(report["configfile"], "pyproject.toml");
}

#[test]
fn configuration_above_the_project_root_is_not_used() {
    let outer = tempfile::tempdir().expect("tempdir");
    // This one would break every page; it belongs to a different project.
    std::fs::write(
        outer.path().join("objgraph-doctest.toml"),
        "setup = 'raise SystemExit(3)'\n",
    )
    .expect("config");
    let inner = outer.path().join("project");
    std::fs::create_dir_all(inner.join(".git")).expect("project");
    std::fs::create_dir_all(inner.join("docs")).expect("docs");
    std::fs::write(inner.join("docs/page.txt"), ">>> 1\n1\n").expect("page");
    let output = run(&inner.join("docs"), &["page.txt"]);
    assert_eq!(output.status.code(), Some(0), "{}", both(&output));
    assert!(
        text(&output.stdout).starts_with("configfile: none (defaults)\n"),
        "{}",
        both(&output)
    );
}

#[test]
fn configuration_another_user_can_write_is_ignored_with_the_reason() {
    let dir = project();
    let config = dir.path().join("objgraph-doctest.toml");
    std::fs::write(&config, "setup = 'raise SystemExit(3)'\n").expect("config");
    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o664)).expect("chmod");
    // Writable by a group other users are in: as root we can give the file such a group
    // (nogroup); a user's own private group would be trusted.
    let shared_group = std::os::unix::fs::chown(&config, None, Some(65534)).is_ok();
    if !shared_group {
        std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o666)).expect("chmod");
    }
    let output = run(dir.path(), &["--format", "json", "page.txt"]);
    assert_eq!(output.status.code(), Some(0), "{}", both(&output));
    let report = json(&output);
    assert_eq!(report["configfile"], serde_json::Value::Null);
    let warning = report["warnings"][0].as_str().unwrap_or("").to_owned();
    assert!(
        warning.ends_with(&format!(
            "objgraph-doctest.toml: configuration ignored: it is writable by {}; run `chmod go-w {}`",
            if shared_group { "its group (mode 664)" } else { "everyone (mode 666)" },
            config.display()
        )),
        "{warning}"
    );

    // Owned by someone else (as root we can make it so; as anyone else, a file we own is
    // the only kind we can make, and the mode check above stands for this one).
    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let owned_by_root = std::fs::metadata(dir.path()).map(|m| {
        use std::os::unix::fs::MetadataExt;
        m.uid() == 0
    });
    if owned_by_root.unwrap_or(false) {
        std::os::unix::fs::chown(&config, Some(65534), Some(65534)).expect("chown");
        let output = run(dir.path(), &["page.txt"]);
        assert_eq!(output.status.code(), Some(0), "{}", both(&output));
        assert!(
            text(&output.stdout)
                .contains("configuration ignored: it belongs to user 65534, not to you or root"),
            "{}",
            both(&output)
        );
    }
    // The user can still point at it on purpose.
    let output = run(
        dir.path(),
        &["--config", "objgraph-doctest.toml", "page.txt"],
    );
    assert_eq!(output.status.code(), Some(1), "{}", both(&output));
    assert!(text(&output.stdout).starts_with("configfile: objgraph-doctest.toml\n"));
}

#[test]
fn a_fifo_given_as_configuration_is_an_error_not_a_hang() {
    let dir = project();
    mkfifo(&dir.path().join("config.toml"));
    let output = run(dir.path(), &["--config", "config.toml", "page.txt"]);
    assert_eq!(output.status.code(), Some(2), "{}", both(&output));
    assert!(
        text(&output.stderr).contains(
            "config.toml:1:1: the configuration file is a FIFO (named pipe), not a regular file"
        ),
        "{}",
        both(&output)
    );
}

#[test]
fn flag_replacements_are_read_as_python_writes_them_or_refused_where_they_are() {
    let dir = project();
    std::fs::write(
        dir.path().join("page.txt"),
        ">>> print('at 0x7f3a9c')  # doctest: +ADDRESSES\nat <address 7f...>\n",
    )
    .expect("page");
    let config = dir.path().join("objgraph-doctest.toml");
    std::fs::write(
        &config,
        "[flags.ADDRESSES]\nreplace = [{ pattern = '0x([0-9a-f]{2})[0-9a-f]*', with = '<address \\1...>' }]\n",
    )
    .expect("config");
    let output = run(dir.path(), &["page.txt"]);
    assert_eq!(output.status.code(), Some(0), "{}", both(&output));

    // `$1x` would be a group named "1x" to the regex crate: empty, and a wrong verdict.
    std::fs::write(
        &config,
        "[flags.ADDRESSES]\nreplace = [{ pattern = '0x([0-9a-f]{2})', with = '$1x' }]\n",
    )
    .expect("config");
    let output = run(dir.path(), &["page.txt"]);
    assert_eq!(output.status.code(), Some(2), "{}", both(&output));
    assert!(
        text(&output.stderr).contains(
            "objgraph-doctest.toml:2:50: flag ADDRESSES: `with` refers to group \"1x\", which the pattern does not have"
        ),
        "{}",
        both(&output)
    );
}
