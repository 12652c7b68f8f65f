//! Helpers shared by the integration tests: finding CPython and talking to oracle scripts.
#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The Python interpreter used as the oracle: `$OBJGRAPH_DOCTEST_TEST_PYTHON`, else `python3`.
pub fn python() -> String {
    std::env::var("OBJGRAPH_DOCTEST_TEST_PYTHON").unwrap_or_else(|_| "python3".to_owned())
}

/// The repository root.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs `tests/oracle/<script>` with `input` on stdin (one process for a whole batch) and
/// returns its stdout parsed as JSON. Panics with the script's stderr when it fails.
pub fn run_oracle(script: &str, input: &serde_json::Value) -> serde_json::Value {
    run_oracle_with(&python(), script, input)
}

/// [`run_oracle`] with another interpreter (a venv holding the reference tool).
pub fn run_oracle_with(python: &str, script: &str, input: &serde_json::Value) -> serde_json::Value {
    let path = repo_root().join("tests").join("oracle").join(script);
    let mut child = Command::new(python)
        .arg(&path)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|error| panic!("cannot start {python} for the oracle: {error}"));
    let payload = serde_json::to_vec(input).expect("oracle input serialises");
    let mut stdin = child.stdin.take().expect("stdin is piped");
    let writer = std::thread::spawn(move || stdin.write_all(&payload));
    let output = child.wait_with_output().expect("oracle runs");
    writer
        .join()
        .expect("writer thread")
        .expect("oracle input written");
    assert!(
        output.status.success(),
        "oracle {} failed: {}",
        path.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("oracle prints JSON")
}

/// A cache directory for downloaded reference material (never committed).
pub fn cache_dir(name: &str) -> PathBuf {
    let dir = repo_root().join("target").join("test-cache").join(name);
    std::fs::create_dir_all(&dir).expect("cache dir");
    dir
}

/// Downloads `requirement`'s sdist from PyPI into the cache (once) and unpacks it; returns the
/// unpacked directory.
pub fn sdist(requirement: &str) -> PathBuf {
    let cache = cache_dir("sdists");
    let marker = cache.join(format!(
        "{}.unpacked",
        requirement.replace(['=', '<', '>'], "_")
    ));
    if let Ok(dir) = std::fs::read_to_string(&marker) {
        let dir = PathBuf::from(dir.trim());
        if dir.is_dir() {
            return dir;
        }
    }
    let downloads = cache.join("downloads");
    // pip builds an sdist's metadata to download it. Without build isolation that needs the
    // build backend's requirements (`wheel` for setuptools) in our Python; failing that, let pip
    // install them in a temporary environment.
    let download = |isolation: &[&str], stderr: Stdio| {
        Command::new(python())
            .args([
                "-m",
                "pip",
                "download",
                "--quiet",
                "--no-deps",
                "--no-binary",
                ":all:",
            ])
            .args(isolation)
            .arg("-d")
            .arg(&downloads)
            .arg(requirement)
            .stderr(stderr)
            .status()
            .expect("pip runs")
            .success()
    };
    let downloaded =
        download(&["--no-build-isolation"], Stdio::null()) || download(&[], Stdio::inherit());
    assert!(downloaded, "pip download {requirement} failed");
    let name = requirement.split("==").next().unwrap_or(requirement);
    let version = requirement.split("==").nth(1).unwrap_or("");
    let archive = std::fs::read_dir(&downloads)
        .expect("downloads dir")
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .find(|path| {
            let file = path.file_name().unwrap().to_string_lossy().to_lowercase();
            let normalized = name.to_lowercase().replace(['-', '.'], "_");
            let file_normalized = file.replace(['-', '.'], "_");
            file_normalized.starts_with(&normalized) && file.contains(version)
        })
        .unwrap_or_else(|| panic!("no sdist for {requirement} in {}", downloads.display()));
    let unpacked = unpack(&archive, &cache.join("unpacked"));
    std::fs::write(&marker, unpacked.to_string_lossy().as_bytes()).expect("marker");
    unpacked
}

fn unpack(archive: &Path, into: &Path) -> PathBuf {
    std::fs::create_dir_all(into).expect("unpack dir");
    let script = "import shutil,sys,os; d=sys.argv[2]; before=set(os.listdir(d)); \
                  shutil.unpack_archive(sys.argv[1], d); \
                  new=sorted(set(os.listdir(d))-before); print(new[0] if new else '')";
    let output = Command::new(python())
        .args(["-c", script])
        .arg(archive)
        .arg(into)
        .output()
        .expect("python unpacks");
    assert!(
        output.status.success(),
        "cannot unpack {}",
        archive.display()
    );
    let top = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    if top.is_empty() {
        // Already unpacked by an earlier run: the archive's stem names the directory.
        let stem = archive.file_name().unwrap().to_string_lossy().to_string();
        let stem = stem
            .trim_end_matches(".tar.gz")
            .trim_end_matches(".zip")
            .to_owned();
        return into.join(stem);
    }
    into.join(top)
}

/// A Python with objgraph 3.7.0 installed, in a venv cached under target/ (made once).
pub fn python_with_objgraph() -> String {
    cached_venv("test-venv", &["objgraph==3.7.0"])
}

/// The Python of a venv `target/<name>` with `requirements` installed (pinned), made once
/// and shared by every test that asks for it; a lock file keeps parallel tests from making
/// it twice, and a marker naming the requirements says it is complete.
pub fn cached_venv(name: &str, requirements: &[&str]) -> String {
    let target = repo_root().join("target");
    let venv = target.join(name);
    let venv_python = venv.join("bin").join("python");
    let ready = venv.join(format!(
        "{}.ready",
        requirements.join("+").replace('=', "-")
    ));
    std::fs::create_dir_all(&target).expect("target dir");
    let lock = std::fs::File::create(target.join(format!("{name}.lock"))).expect("lock file");
    lock.lock().expect("lock the test venv");
    if !ready.is_file() {
        let status = Command::new(python())
            .args(["-m", "venv", "--clear"])
            .arg(&venv)
            .status()
            .expect("python -m venv runs");
        assert!(status.success(), "cannot create {}", venv.display());
        let status = Command::new(&venv_python)
            .args(["-m", "pip", "install", "--quiet"])
            .args(requirements)
            .status()
            .expect("pip runs");
        assert!(
            status.success(),
            "cannot install {requirements:?} into {}",
            venv.display()
        );
        std::fs::write(&ready, b"").expect("marker");
    }
    venv_python.to_string_lossy().into_owned()
}

/// True while `pid` is a live process (not a zombie).
pub fn alive(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        !stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z'))
    })
}

/// The pids an example wrote to `file`, one per line, waiting (up to a minute) for `count`.
pub fn pids_in(file: &Path, count: usize) -> Vec<i32> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let pids: Vec<i32> = std::fs::read_to_string(file)
            .unwrap_or_default()
            .lines()
            .filter_map(|line| line.trim().parse().ok())
            .collect();
        if pids.len() >= count || std::time::Instant::now() >= deadline {
            return pids;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// Snapshot text with what varies run to run replaced: the test's directory `dir` (as
/// given and canonical) by `[DIR]`, temporary paths before objgraph's `.dot` files by
/// `[TMP]`, their random names by `[ID]`, then each of `rules` (pattern, replacement).
pub fn redact(text: &str, dir: &Path, rules: &[(&str, &str)]) -> String {
    let canonical = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    let mut text = text.replace(&canonical.to_string_lossy().into_owned(), "[DIR]");
    text = text.replace(&dir.to_string_lossy().into_owned(), "[DIR]");
    let temp = std::env::temp_dir();
    let temp = regex::escape(temp.to_string_lossy().trim_end_matches('/'));
    let in_temp = format!(r"{temp}/[^\s\x22'`)]*/objgraph-");
    let common = [
        (in_temp.as_str(), "[TMP]/objgraph-"),
        (r"objgraph-[A-Za-z0-9_]+\.dot", "objgraph-[ID].dot"),
    ];
    for (pattern, replacement) in common.iter().chain(rules) {
        text = regex::Regex::new(pattern)
            .expect("redaction pattern")
            .replace_all(&text, *replacement)
            .into_owned();
    }
    text
}

/// Copies the fixed pages of the report and editor snapshots (`tests/pages/reports/`) into
/// `dir`.
pub fn copy_report_pages(dir: &Path) {
    let source = repo_root().join("tests").join("pages").join("reports");
    for entry in std::fs::read_dir(&source).expect("report pages") {
        let path = entry.expect("entry").path();
        std::fs::copy(&path, dir.join(path.file_name().expect("name"))).expect("copy");
    }
}

/// Copies the directory tree `from` to `to` (made; symbolic links are copied as the files
/// they point to), so that a test can run a cached project without touching the cache.
pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap_or_else(|error| panic!("mkdir {}: {error}", to.display()));
    for entry in std::fs::read_dir(from).unwrap_or_else(|e| panic!("{}: {e}", from.display())) {
        let entry = entry.expect("directory entry");
        let source = entry.path();
        let target = to.join(entry.file_name());
        if source.is_dir() {
            copy_tree(&source, &target);
        } else {
            std::fs::copy(&source, &target)
                .unwrap_or_else(|error| panic!("copy {}: {error}", source.display()));
        }
    }
}
