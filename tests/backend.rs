//! The backend against a real Python: examples run as doctest runs them, and every fault is
//! contained (timeouts, crashes, floods, stdin, sys.exit, closed fds) with no process left.

mod common;

use std::path::PathBuf;
use std::time::Duration;

use objgraph_doctest::backend::{
    Backend, BackendOptions, ExitStatus, Fault, PageProcess, PageSetup,
};

fn backend(fork: bool) -> Backend {
    Backend::start(BackendOptions {
        python: PathBuf::from(common::python()),
        preload: vec![],
        fork,
    })
    .expect("backend starts")
}

fn page(backend: &Backend, workdir: &std::path::Path) -> PageProcess {
    backend
        .open_page(&PageSetup {
            path: "/docs/page.txt",
            name: "page.txt",
            workdir,
            setup_code: None,
            output_cap: 1000,
            memory_limit: None,
        })
        .expect("page opens")
}

const SECOND: Duration = Duration::from_secs(10);

#[test]
fn examples_share_globals_and_capture_output() {
    let backend = backend(true);
    let dir = tempfile::tempdir().unwrap();
    let mut page = page(&backend, dir.path());
    assert_eq!(page.run(0, "x = 40\n", SECOND).unwrap().got, "");
    assert_eq!(page.run(1, "x + 2\n", SECOND).unwrap().got, "42\n");
    assert_eq!(
        page.run(2, "print('a', end='')\n", SECOND).unwrap().got,
        "a\n"
    );
    assert_eq!(
        page.run(3, "__name__, __file__\n", SECOND).unwrap().got,
        "('__main__', '/docs/page.txt')\n"
    );
    let cwd = page.run(4, "import os; os.getcwd()\n", SECOND).unwrap().got;
    assert!(
        cwd.contains(&*dir.path().file_name().unwrap().to_string_lossy()),
        "{cwd}"
    );
}

#[test]
fn exceptions_are_formatted_as_doctest_does() {
    let backend = backend(true);
    let dir = tempfile::tempdir().unwrap();
    let mut page = page(&backend, dir.path());
    page.run(0, "def f():\n    raise ValueError('bad')\n", SECOND)
        .unwrap();
    let result = page.run(1, "print('before'); f()\n", SECOND).unwrap();
    let exception = result.exception.expect("raised");
    assert_eq!(exception.exc_msg, "ValueError: bad\n");
    assert_eq!(exception.type_name, "ValueError");
    assert!(
        result
            .got
            .starts_with("before\nTraceback (most recent call last):\n"),
        "{}",
        result.got
    );
    assert!(
        result
            .got
            .contains("File \"<doctest page.txt[0]>\", line 2, in f\n    raise ValueError('bad')"),
        "{}",
        result.got
    );
}

#[test]
fn faults_are_contained() {
    let backend = backend(true);
    let dir = tempfile::tempdir().unwrap();
    let mut page = page(&backend, dir.path());
    let flood = page.run(0, "print('x' * 5000)\n", SECOND).unwrap();
    assert!(flood.truncated);
    assert_eq!(flood.got.len(), 1001);
    let stdin = page.run(1, "input()\n", SECOND).unwrap();
    assert_eq!(stdin.exception.unwrap().type_name, "EOFError");
    let exit = page.run(2, "import sys; sys.exit(3)\n", SECOND).unwrap();
    assert_eq!(exit.exception.unwrap().exc_msg, "SystemExit: 3\n");
    page.run(3, "import os; os.close(1); os.close(2)\n", SECOND)
        .unwrap();
    assert_eq!(
        page.run(4, "print('still here')\n", SECOND).unwrap().got,
        "still here\n"
    );

    assert_eq!(
        page.run(5, "while True: pass\n", Duration::from_millis(300)),
        Err(Fault::Timeout)
    );

    let mut page = self::page(&backend, dir.path());
    let died = page.run(0, "import os; os._exit(7)\n", SECOND);
    assert_eq!(died, Err(Fault::Died(Some(ExitStatus::Code(7)))));
    let mut page = self::page(&backend, dir.path());
    let died = page.run(
        0,
        "import os, signal; os.kill(os.getpid(), signal.SIGSEGV)\n",
        SECOND,
    );
    assert_eq!(died, Err(Fault::Died(Some(ExitStatus::Signal(11)))));
}

#[test]
fn fresh_interpreter_per_page_without_fork() {
    let backend = backend(false);
    assert!(!backend.forks());
    let dir = tempfile::tempdir().unwrap();
    let mut page = page(&backend, dir.path());
    assert_eq!(page.run(0, "1 + 1\n", SECOND).unwrap().got, "2\n");
}
