//! Supported interpreters: CPython 3.9 to 3.13 run pages (each tested when this machine has
//! it, under ~/.pyenv or on PATH; a missing one prints a "skipped" line and passes); older
//! ones are refused at start with a clear message and exit code 2.

mod common;

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

/// `python3.X` from pyenv or PATH, if this machine has it.
fn python(version: &str) -> Option<PathBuf> {
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_default();
    let mut found: Vec<PathBuf> = std::fs::read_dir(home.join(".pyenv/versions"))
        .into_iter()
        .flatten()
        .flatten()
        .filter(|entry| {
            let name = entry.file_name().to_string_lossy().into_owned();
            name.strip_prefix(version)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('.'))
        })
        .map(|entry| entry.path().join("bin/python"))
        .filter(|path| path.is_file())
        .collect();
    found.sort();
    if let Some(path) = found.pop() {
        return Some(path);
    }
    let name = format!("python{version}");
    std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
        .map(|dir| dir.join(&name))
        .find(|path| path.is_file())
}

fn run_page_with(python: &PathBuf, page: &str, extra: &[&str]) -> Output {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("page.txt"), page).unwrap();
    Command::new(env!("CARGO_BIN_EXE_objgraph-doctest"))
        .arg("--python")
        .arg(python)
        .args(["--color", "never", "page.txt"])
        .args(extra)
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .output()
        .expect("the binary runs")
}

const PAGE: &str = "\
>>> import sys, os
>>> sys.version_info >= (3, 9)
True
>>> print('caf\\u00e9')
café
>>> def f():
...     raise ValueError('bad')
>>> f()
Traceback (most recent call last):
  ...
ValueError: bad
>>> os._exit(4)
";

fn supported(version: &str) {
    let Some(python) = python(version) else {
        println!("skipped: python{version} not on this machine");
        return;
    };
    for extra in [&[][..], &["--no-fork"][..]] {
        let output = run_page_with(&python, PAGE, extra);
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert_eq!(
            output.status.code(),
            Some(1),
            "{version} {extra:?}: {stdout}{}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(
            stdout.contains("5 passed") && stdout.contains("xited with status 4"),
            "{version} {extra:?}: {stdout}"
        );
    }
}

#[test]
fn python_3_9_runs_pages() {
    supported("3.9");
}

#[test]
fn python_3_12_runs_pages() {
    supported("3.12");
}

#[test]
fn python_3_13_runs_pages() {
    supported("3.13");
}

#[test]
fn older_interpreters_are_refused_with_exit_code_2() {
    let mut tried = 0;
    for version in ["3.8", "3.7", "3.6", "2.7"] {
        let Some(python) = python(version) else {
            println!("skipped: python{version} not on this machine");
            continue;
        };
        tried += 1;
        for extra in [&[][..], &["--no-fork"][..]] {
            let output = run_page_with(&python, PAGE, extra);
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert_eq!(output.status.code(), Some(2), "{version}: {stderr}");
            assert!(
                stderr.contains(&format!("is Python {version}."))
                    && stderr.contains("needs CPython 3.9 or newer")
                    && stderr.contains("--python"),
                "{version}: {stderr}"
            );
            assert!(output.stdout.is_empty(), "{version}: nothing ran");
        }
    }
    if tried == 0 {
        println!("skipped: no Python older than 3.9 on this machine");
    }
}

#[test]
fn a_broken_interpreter_is_a_clear_error_with_what_it_printed() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let fake = dir.path().join("python");
    std::fs::write(
        &fake,
        "#!/bin/sh\necho 'boom: no such module' >&2\nexit 3\n",
    )
    .unwrap();
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    for extra in [&[][..], &["--no-fork"][..]] {
        let output = run_page_with(&fake, PAGE, extra);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{stderr}");
        assert!(
            stderr.contains("exit status: 3")
                && stderr.contains("it printed:\nboom: no such module"),
            "{stderr}"
        );
        assert_eq!(stderr.matches("it printed").count(), 1, "{stderr}");
    }
}
