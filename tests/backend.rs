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
        directory: None,
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
            sys_path: &[],
            pytest_globals: false,
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

#[test]
fn checkpoints_resume_from_the_state_before_an_example() {
    let backend = backend(true);
    let dir = tempfile::tempdir().unwrap();
    let mut runner = page(&backend, dir.path());
    runner
        .run(0, "x = 1; open('f.txt', 'w').write('one')\n", SECOND)
        .unwrap();
    let mut before_1 = runner.checkpoint(&backend).expect("checkpoint");
    runner
        .run(1, "x += 10; open('f.txt', 'w').write('two')\n", SECOND)
        .unwrap();
    assert_eq!(runner.run(2, "x\n", SECOND).unwrap().got, "11\n");

    // Re-run from example 1 with different source: the state is the one before example 1.
    drop(runner);
    let again = tempfile::tempdir().unwrap();
    let mut resumed = before_1.resume(&backend, again.path()).expect("resume");
    assert_eq!(resumed.run(1, "x += 100\n", SECOND).unwrap().got, "");
    assert_eq!(
        resumed
            .run(2, "x, open('f.txt').read()\n", SECOND)
            .unwrap()
            .got,
        "(101, 'one')\n"
    );
    let cwd = resumed
        .run(3, "import os; os.getcwd()\n", SECOND)
        .unwrap()
        .got;
    assert!(
        cwd.contains(&*again.path().file_name().unwrap().to_string_lossy()),
        "{cwd}"
    );

    // A second runner from the same checkpoint starts from the same state again.
    drop(resumed);
    let third = tempfile::tempdir().unwrap();
    let mut other = before_1
        .resume(&backend, third.path())
        .expect("resume again");
    assert_eq!(other.run(1, "x\n", SECOND).unwrap().got, "1\n");
    let pids = [other.pid(), before_1.pid()];
    let snapshot = before_1
        .snapshot()
        .expect("the checkpoint's copy")
        .to_path_buf();
    assert!(snapshot.join("f.txt").is_file(), "{}", snapshot.display());
    drop(other);
    drop(before_1);
    // Killed, the checkpoint could not remove its copy: dropping it did.
    assert!(!snapshot.exists(), "{} left behind", snapshot.display());
    std::thread::sleep(Duration::from_millis(200));
    for pid in pids {
        let alive = std::path::Path::new(&format!("/proc/{pid}")).exists()
            && !std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .unwrap_or_default()
                .contains(") Z ");
        assert!(!alive, "process {pid} still running");
    }
}
