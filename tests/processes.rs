//! Processes an example starts never outlive its page (daemons, new sessions, resumed
//! runners), a child an example forks never speaks on our connection, a stopped or dead
//! zygote is replaced at once, `--no-fork` pages start in parallel, and the driver survives
//! examples that break what it uses. All against a real Python.

mod common;

use common::{alive, pids_in};

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use objgraph_doctest::backend::{
    Backend, BackendError, BackendOptions, ExitStatus, Fault, PageProcess, PageSetup,
};

const WAIT: Duration = Duration::from_secs(20);

fn backend(fork: bool) -> Backend {
    Backend::start(BackendOptions {
        python: PathBuf::from(common::python()),
        preload: vec![],
        fork,
        directory: None,
    })
    .expect("backend starts")
}

fn page(backend: &Backend, workdir: &Path) -> PageProcess {
    backend
        .open_page(&PageSetup {
            path: "/docs/page.txt",
            name: "page.txt",
            workdir,
            setup_code: None,
            sys_path: &[],
            pytest_globals: false,
            output_cap: 10_000,
            memory_limit: None,
        })
        .expect("page opens")
}

/// Several statements as one (examples are compiled in 'single' mode, as doctest does).
fn single(source: &str) -> String {
    let mut block = String::from("if True:\n");
    for line in source.lines() {
        block.push_str("    ");
        block.push_str(line);
        block.push('\n');
    }
    block
}

/// Waits (a little) for every pid to be gone; returns those still alive.
fn survivors(pids: &[i32]) -> Vec<i32> {
    let deadline = Instant::now() + Duration::from_secs(3);
    loop {
        let left: Vec<i32> = pids.iter().copied().filter(|&pid| alive(pid)).collect();
        if left.is_empty() || Instant::now() >= deadline {
            return left;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// An example that starts a double-forked `setsid` daemon and a `Popen` in a new session,
/// both sleeping, and writes their pids to `record`.
fn escaping_example(record: &Path) -> String {
    single(&format!(
        "import os, subprocess, sys, time\n\
         record = {record:?}\n\
         if os.fork() == 0:\n    os.setsid()\n    if os.fork() == 0:\n        \
         open(record, 'a').write('%d\\n' % os.getpid()); time.sleep(600)\n    os._exit(0)\n\
         p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)'], start_new_session=True)\n\
         open(record, 'a').write('%d\\n' % p.pid)\n",
        record = record.to_string_lossy()
    ))
}

fn escaping_processes_die_with_the_page(fork: bool) {
    let backend = backend(fork);
    let dir = tempfile::tempdir().unwrap();
    let record = dir.path().join("pids");
    let mut page = page(&backend, &dir.path().join("work").tap_create());
    let result = page.run(0, &escaping_example(&record), WAIT).unwrap();
    assert!(result.exception.is_none(), "{}", result.got);
    let pids = pids_in(&record, 2);
    assert_eq!(pids.len(), 2, "the example did not start both processes");
    assert!(pids.iter().all(|&pid| alive(pid)));
    drop(page);
    assert_eq!(
        survivors(&pids),
        Vec::<i32>::new(),
        "processes outlived their page"
    );
}

trait TapCreate {
    fn tap_create(self) -> Self;
}

impl TapCreate for PathBuf {
    fn tap_create(self) -> Self {
        std::fs::create_dir_all(&self).unwrap();
        self
    }
}

#[test]
fn daemons_and_new_sessions_die_with_their_forked_page() {
    escaping_processes_die_with_the_page(true);
}

#[test]
fn daemons_and_new_sessions_die_with_their_page_without_fork() {
    escaping_processes_die_with_the_page(false);
}

#[test]
fn daemons_die_with_a_page_that_timed_out_or_exited() {
    let backend = backend(true);
    let dir = tempfile::tempdir().unwrap();
    let record = dir.path().join("pids");
    let mut page = page(&backend, &dir.path().join("a").tap_create());
    let source = format!("{}    while True: pass\n", escaping_example(&record));
    assert_eq!(
        page.run(0, &source, Duration::from_secs(2)),
        Err(Fault::Timeout)
    );
    let pids = pids_in(&record, 2);
    assert_eq!(pids.len(), 2);
    assert_eq!(
        survivors(&pids),
        Vec::<i32>::new(),
        "a timeout left processes"
    );

    // The page process exits by itself: its orphans go to the zygote, which kills them.
    let record = dir.path().join("pids2");
    let mut page = self::page(&backend, &dir.path().join("b").tap_create());
    // It exits once both have written their pids (the daemon writes its own, later).
    let source = format!(
        "{}    while len(open(record).read().split()) < 2: time.sleep(0.01)\n    os._exit(3)\n",
        escaping_example(&record)
    );
    assert_eq!(
        page.run(0, &source, WAIT),
        Err(Fault::Died(Some(ExitStatus::Code(3))))
    );
    let pids = pids_in(&record, 2);
    assert_eq!(pids.len(), 2);
    assert_eq!(
        survivors(&pids),
        Vec::<i32>::new(),
        "an exit left processes"
    );
}

#[test]
fn daemons_of_resumed_runners_die_with_the_runner_and_crashes_say_how() {
    let backend = backend(true);
    let dir = tempfile::tempdir().unwrap();
    let mut runner = page(&backend, &dir.path().join("w").tap_create());
    // Even a page that ignores SIGCHLD gets its runners' exit statuses reported.
    runner
        .run(
            0,
            "import signal; x = signal.signal(signal.SIGCHLD, signal.SIG_IGN)\n",
            WAIT,
        )
        .unwrap();
    let mut checkpoint = runner.checkpoint(&backend).expect("checkpoint");
    drop(runner);
    let record = dir.path().join("pids");
    let mut resumed = checkpoint
        .resume(&backend, &dir.path().join("r").tap_create())
        .expect("resume");
    resumed.run(1, &escaping_example(&record), WAIT).unwrap();
    let pids = pids_in(&record, 2);
    assert_eq!(pids.len(), 2);
    drop(resumed);
    assert_eq!(
        survivors(&pids),
        Vec::<i32>::new(),
        "a runner's daemons survived it"
    );

    // A resumed runner that crashes is reported with its status, without the 500 ms wait.
    let mut resumed = checkpoint
        .resume(&backend, &dir.path().join("s").tap_create())
        .expect("resume again");
    let started = Instant::now();
    let died = resumed.run(1, "import os; os._exit(5)\n", WAIT);
    assert_eq!(died, Err(Fault::Died(Some(ExitStatus::Code(5)))));
    assert!(
        started.elapsed() < Duration::from_millis(450),
        "took {:?}",
        started.elapsed()
    );
    let mut resumed = checkpoint
        .resume(&backend, &dir.path().join("t").tap_create())
        .expect("resume a third time");
    let died = resumed.run(
        1,
        "import os, signal; os.kill(os.getpid(), signal.SIGABRT)\n",
        WAIT,
    );
    assert_eq!(died, Err(Fault::Died(Some(ExitStatus::Signal(6)))));
}

#[test]
fn a_forked_child_never_speaks_for_the_page() {
    let backend = backend(true);
    let dir = tempfile::tempdir().unwrap();
    let record = dir.path().join("children");
    let record = record.to_string_lossy();
    for round in 0..3 {
        let mut page = page(&backend, &dir.path().join(format!("w{round}")).tap_create());
        // The child returns into the driver at once, or keeps running and returns later,
        // or leaves our process group first, or ends with os._exit.
        let children = [
            "pid = os.fork()\nprint('parent' if pid else 'child')\n".to_owned(),
            "pid = os.fork()\nif not pid: time.sleep(0.3)\nprint('parent' if pid else 'child')\n"
                .to_owned(),
            "pid = os.fork()\nif not pid: os.setpgid(0, 0)\nprint('parent' if pid else 'child')\n"
                .to_owned(),
            format!(
                "pid = os.fork()\nif not pid: open({record:?}, 'a').write('x'); os._exit(0)\nprint('parent')\n"
            ),
        ];
        page.run(0, "import os, time\n", WAIT).unwrap();
        for (index, source) in children.iter().enumerate() {
            let result = page.run(index + 1, &single(source), WAIT).unwrap();
            assert_eq!(result.got, "parent\n", "round {round}, example {index}");
            let next = page.run(index + 100, "print('next')\n", WAIT).unwrap();
            assert_eq!(next.got, "next\n", "round {round}, after example {index}");
        }
        // A late child (the sleeping one) must not have answered a later request either.
        std::thread::sleep(Duration::from_millis(400));
        assert_eq!(page.run(999, "40 + 2\n", WAIT).unwrap().got, "42\n");
    }
}

#[test]
fn a_stopped_or_killed_zygote_is_replaced_at_once() {
    let backend = backend(true);
    let dir = tempfile::tempdir().unwrap();
    let mut first = page(&backend, &dir.path().join("a").tap_create());
    first
        .run(
            0,
            "import os, signal; os.kill(os.getppid(), signal.SIGSTOP)\n",
            WAIT,
        )
        .unwrap();
    let started = Instant::now();
    let mut second = page(&backend, &dir.path().join("b").tap_create());
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(second.run(0, "1 + 1\n", WAIT).unwrap().got, "2\n");
    // The page of the stopped zygote still runs.
    assert_eq!(first.run(1, "2 + 2\n", WAIT).unwrap().got, "4\n");
    drop(first);

    // An example that kills its zygote dies with it; the next page gets a new one.
    let died = second.run(
        1,
        "import os, signal; os.kill(os.getppid(), signal.SIGKILL)\n",
        WAIT,
    );
    assert!(matches!(died, Err(Fault::Died(_)) | Ok(_)), "{died:?}");
    let started = Instant::now();
    let mut third = page(&backend, &dir.path().join("c").tap_create());
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(third.run(0, "3 + 3\n", WAIT).unwrap().got, "6\n");

    // Past three replacements the backend gives up at once, with one clear error.
    third
        .run(
            1,
            "import os, signal; os.kill(os.getppid(), signal.SIGSTOP)\n",
            WAIT,
        )
        .unwrap();
    let mut third = page(&backend, &dir.path().join("d").tap_create());
    third
        .run(
            9,
            "import os, signal; os.kill(os.getppid(), signal.SIGSTOP)\n",
            WAIT,
        )
        .unwrap();
    let started = Instant::now();
    let setup = PageSetup {
        path: "/docs/page.txt",
        name: "page.txt",
        workdir: dir.path(),
        setup_code: None,
        sys_path: &[],
        pytest_globals: false,
        output_cap: 100,
        memory_limit: None,
    };
    let error = backend.open_page(&setup).err().expect("gives up");
    assert!(matches!(error, BackendError::ZygoteLost(_)), "{error}");
    assert!(error.to_string().contains("stopped"), "{error}");
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(backend.open_page(&setup).is_err());
    assert!(backend.health().is_err());
}

#[test]
fn pages_start_in_parallel_without_fork() {
    let backend = backend(false);
    let dir = tempfile::tempdir().unwrap();
    std::thread::scope(|scope| {
        for thread in 0..4 {
            let (backend, dir) = (&backend, dir.path());
            scope.spawn(move || {
                for round in 0..3 {
                    let workdir = dir.join(format!("t{thread}-{round}")).tap_create();
                    let mut page = page(backend, &workdir);
                    let got = page.run(0, "import os; os.getpid()\n", WAIT).unwrap().got;
                    assert_eq!(got, format!("{}\n", page.pid()));
                    let cwd = page.run(1, "os.getcwd()\n", WAIT).unwrap().got;
                    assert!(cwd.contains(&format!("t{thread}-{round}")), "{cwd}");
                }
            });
        }
    });
}

#[test]
fn examples_cannot_break_the_driver() {
    let backend = backend(true);
    let dir = tempfile::tempdir().unwrap();
    let mut page = page(&backend, &dir.path().join("w").tap_create());
    let steps: &[(&str, &str)] = &[
        (
            "import json, socket, os; json.dumps = json.loads = None\n",
            "",
        ),
        ("socket.socket.sendall = socket.socket.recv = None\n", ""),
        ("os.getpid = lambda: 1; os._exit = None\n", ""),
        (
            "print('caf\\u00e9 \\ud800 ok')\n",
            "caf\u{e9} \u{fffd} ok\n",
        ),
        ("'\\udcff'\n", "'\\udcff'\n"),
        ("import io, sys; sys.stdout = io.StringIO()\n", ""),
        ("print('lost')\n", ""),
        ("sys.stdout = sys.__stdout__; print('to fd 1')\n", ""),
    ];
    for (index, (source, expected)) in steps.iter().enumerate() {
        let result = page.run(index, source, WAIT).unwrap();
        assert!(result.exception.is_none(), "{source}: {}", result.got);
        assert_eq!(&result.got, expected, "{source}");
    }

    let mut page = self::page(&backend, &dir.path().join("x").tap_create());
    let closed = page.run(0, "import sys; sys.stdout.close()\n", WAIT);
    match closed {
        Err(Fault::Aborted(message)) => assert!(message.contains("closed sys.stdout"), "{message}"),
        other => panic!("{other:?}"),
    }
    let mut page = self::page(&backend, &dir.path().join("y").tap_create());
    let interrupted = page.run(0, "raise KeyboardInterrupt\n", WAIT);
    assert!(
        matches!(&interrupted, Err(Fault::Aborted(message)) if message.contains("KeyboardInterrupt")),
        "{interrupted:?}"
    );
}

#[test]
fn errors_of_the_python_side_show_their_traceback() {
    let backend = backend(true);
    let missing = PathBuf::from("/nonexistent/objgraph-doctest/workdir");
    let error = backend
        .open_page(&PageSetup {
            path: "/docs/page.txt",
            name: "page.txt",
            workdir: &missing,
            setup_code: None,
            sys_path: &[],
            pytest_globals: false,
            output_cap: 100,
            memory_limit: None,
        })
        .err()
        .expect("cannot set up in a missing directory");
    let message = error.to_string();
    assert!(
        message.contains("Traceback (most recent call last)"),
        "{message}"
    );
    assert!(message.contains("FileNotFoundError"), "{message}");
}

#[test]
fn each_page_has_its_own_temp_directory_in_its_working_folder() {
    let backend = backend(true);
    let dir = tempfile::tempdir().unwrap();
    let workdir = dir.path().join("w").tap_create();
    let mut page = page(&backend, &workdir);
    let source = "import os, subprocess, sys, tempfile\n\
                  here = os.path.realpath(os.getcwd())\n\
                  child = subprocess.run([sys.executable, '-c', 'import tempfile; print(tempfile.gettempdir())'], capture_output=True, text=True).stdout.strip()\n\
                  (os.path.realpath(tempfile.gettempdir()) == os.path.join(here, '.tmp'), os.path.realpath(child) == os.path.join(here, '.tmp'), oct(os.stat('.tmp').st_mode & 0o777))\n";
    let result = page.run(0, &single(source), WAIT).unwrap();
    assert_eq!(result.got, "(True, True, '0o700')\n", "{}", result.got);
}

#[test]
fn a_page_without_fork_outlives_the_thread_that_started_it() {
    let backend = backend(false);
    let dir = tempfile::tempdir().unwrap();
    let workdir = dir.path().join("w").tap_create();
    // An editor starts pages on a pool thread that may end before the page does.
    let mut page = std::thread::scope(|scope| {
        scope
            .spawn(|| page(&backend, &workdir))
            .join()
            .expect("the thread opens a page")
    });
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(page.run(0, "6 * 7\n", WAIT).unwrap().got, "42\n");
}

#[test]
fn a_checkpoints_own_children_live_as_long_as_it() {
    let backend = backend(true);
    let dir = tempfile::tempdir().unwrap();
    let record = dir.path().join("pids");
    let mut runner = page(&backend, &dir.path().join("w").tap_create());
    runner.run(0, &escaping_example(&record), WAIT).unwrap();
    let pids = pids_in(&record, 2);
    assert_eq!(pids.len(), 2);
    let mut checkpoint = runner.checkpoint(&backend).expect("checkpoint");
    drop(runner);
    let mut resumed = checkpoint
        .resume(&backend, &dir.path().join("r").tap_create())
        .expect("resume");
    // A runner that ends makes the checkpoint reap; what the page started before it stays.
    let died = resumed.run(1, "import os; os._exit(0)\n", WAIT);
    assert_eq!(died, Err(Fault::Died(Some(ExitStatus::Code(0)))));
    std::thread::sleep(Duration::from_millis(200));
    // Both: the daemon and the Popen (which of them wrote its pid first varies).
    assert!(
        pids.iter().all(|&pid| alive(pid)),
        "the checkpoint killed what its page started"
    );
    drop(resumed);
    drop(checkpoint);
    assert_eq!(
        survivors(&pids),
        Vec::<i32>::new(),
        "outlived the checkpoint"
    );
}

/// A daemon whose double fork is still under way when the checkpoint is taken: its parent
/// exits afterwards, and it is re-parented to the checkpoint (a subreaper), which must not
/// take it for an orphan of a runner.
#[test]
fn a_daemon_still_double_forking_at_a_checkpoint_is_part_of_its_state() {
    let backend = backend(true);
    let dir = tempfile::tempdir().unwrap();
    let record = dir.path().join("pids");
    let mut runner = page(&backend, &dir.path().join("w").tap_create());
    let example = single(&format!(
        "import os, time\n\
         record = {record:?}\n\
         if os.fork() == 0:\n    os.setsid()\n    if os.fork() == 0:\n        \
         open(record, 'a').write('%d\\n' % os.getpid()); time.sleep(600)\n    \
         time.sleep(0.5)\n    os._exit(0)\n",
        record = record.to_string_lossy()
    ));
    runner.run(0, &example, WAIT).unwrap();
    let daemon = pids_in(&record, 1);
    assert_eq!(daemon.len(), 1);
    let mut checkpoint = runner.checkpoint(&backend).expect("checkpoint");
    drop(runner);
    let mut resumed = checkpoint
        .resume(&backend, &dir.path().join("r").tap_create())
        .expect("resume");
    // By now its parent has exited and the checkpoint has reaped it.
    std::thread::sleep(Duration::from_millis(1000));
    let died = resumed.run(1, "import os; os._exit(0)\n", WAIT);
    assert_eq!(died, Err(Fault::Died(Some(ExitStatus::Code(0)))));
    std::thread::sleep(Duration::from_millis(200));
    assert!(alive(daemon[0]), "the checkpoint killed the page's daemon");
    drop(resumed);
    drop(checkpoint);
    assert_eq!(
        survivors(&daemon),
        Vec::<i32>::new(),
        "outlived the checkpoint"
    );
}

#[test]
fn a_fifo_or_a_deleted_working_directory_does_not_stall_a_checkpoint() {
    let backend = backend(true);
    let dir = tempfile::tempdir().unwrap();
    let setups = [
        "import os; os.mkfifo('pipe'); open('kept.txt', 'w').write('kept')\n",
        "import os, shutil; shutil.rmtree(os.getcwd())\n",
    ];
    for (round, setup) in setups.iter().enumerate() {
        let mut runner = page(&backend, &dir.path().join(format!("w{round}")).tap_create());
        runner.run(0, setup, WAIT).unwrap();
        let started = Instant::now();
        let mut checkpoint = runner.checkpoint(&backend).expect("checkpoint");
        assert!(started.elapsed() < Duration::from_secs(5));
        drop(runner);
        let mut resumed = checkpoint
            .resume(&backend, &dir.path().join(format!("r{round}")).tap_create())
            .expect("resume");
        let listing = resumed
            .run(1, "import os; sorted(os.listdir('.'))\n", WAIT)
            .unwrap()
            .got;
        let expected = if round == 0 {
            "['.tmp', 'kept.txt']\n"
        } else {
            "['.tmp']\n"
        };
        assert_eq!(listing, expected, "round {round}");
    }
}

/// Pages forked ahead (`fork_ahead`, as the CLI asks for one per job) wait for their set-up
/// and are used in turn; when their zygote dies they go with it, and the next page comes
/// from its replacement; when no more are wanted, they exit.
#[test]
fn pages_forked_ahead_are_used_and_go_with_their_zygote() {
    use objgraph_doctest::backend::procs;
    let backend = backend(true);
    backend.fork_ahead(2);
    let dir = tempfile::tempdir().unwrap();
    let mut pids = Vec::new();
    for name in ["a", "b", "c", "d"] {
        let mut page = page(&backend, &dir.path().join(name).tap_create());
        let result = page.run(0, "import os; os.getpid()\n", WAIT).unwrap();
        assert_eq!(result.got, format!("{}\n", page.pid()));
        pids.push(page.pid());
    }
    // The zygote's children: this page and the two spares forked ahead of it (the zygote
    // forks them when it gets to the requests: wait for them a little).
    let zygote_children = |page: &PageProcess| {
        let zygote = procs::stat(page.pid()).expect("page alive").ppid;
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let children = procs::children(zygote);
            if children.len() >= 3 || Instant::now() >= deadline {
                return children;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    };
    let mut killer = page(&backend, &dir.path().join("e").tap_create());
    let old_zygote = procs::stat(killer.pid()).expect("page alive").ppid;
    let before = zygote_children(&killer);
    assert!(before.len() >= 3, "{before:?}");
    pids.extend(before);
    let died = killer.run(
        0,
        "import os, signal; os.kill(os.getppid(), signal.SIGKILL)\n",
        WAIT,
    );
    assert!(matches!(died, Err(Fault::Died(_)) | Ok(_)), "{died:?}");
    drop(killer);
    // Once the zygote is gone, its spares are gone with it (PR_SET_PDEATHSIG), and the next
    // page comes from its replacement at once. (A spare taken in the microseconds while the
    // zygote is dying would start, and then die with it: a page reported as crashed, as
    // one already running then would be.)
    let deadline = Instant::now() + Duration::from_secs(5);
    while procs::stat(old_zygote).is_some_and(|stat| !matches!(stat.state, 'Z' | 'X'))
        && Instant::now() < deadline
    {
        std::thread::sleep(Duration::from_millis(5));
    }
    let started = Instant::now();
    let mut after = page(&backend, &dir.path().join("f").tap_create());
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(after.run(0, "6 * 7\n", WAIT).unwrap().got, "42\n");
    let replaced = zygote_children(&after);
    assert!(replaced.len() >= 3, "{replaced:?}");
    pids.extend(replaced);
    // No more wanted: they exit; the page is killed when dropped.
    backend.fork_ahead(0);
    drop(after);
    let left = survivors(&pids);
    let described: Vec<String> = left
        .iter()
        .map(|&pid| {
            format!(
                "{pid} {:?} {:?}",
                procs::stat(pid),
                std::fs::read_to_string(format!("/proc/{pid}/cmdline")).map(|c| c
                    .replace('\0', " ")
                    .chars()
                    .take(80)
                    .collect::<String>())
            )
        })
        .collect();
    assert_eq!(left, Vec::<i32>::new(), "{described:?} of {pids:?}");
}
