//! The VS Code extension's platform package, as users install it: `scripts/package-vscode`
//! (with this build's binary, so no release build is needed) writes one `.vsix` for this
//! machine's platform, holding the binary at `extension/bundled/libs/bin/objgraph-doctest`
//! (ruff-vscode's layout), executable, and that binary runs `--version`; the package carries
//! its licence, icon and marketplace metadata, and the script names the platforms it skipped.
//! tests/editor/vsix_contents.py opens the archive (Python's zipfile). Needs node and npm, as
//! scripts/test does for scripts/build-editors.

mod common;

use std::path::Path;
use std::process::Command;

use serde_json::Value;

/// vsce's name for the platform this test was built for.
fn host_platform() -> String {
    let os = match std::env::consts::OS {
        "linux" if cfg!(target_env = "musl") => "alpine",
        "linux" => "linux",
        "macos" => "darwin",
        "windows" => "win32",
        other => panic!("no VS Code platform for {other}"),
    };
    let arch = match std::env::consts::ARCH {
        "x86_64" => "x64",
        "aarch64" => "arm64",
        other => panic!("no VS Code platform for {other}"),
    };
    format!("{os}-{arch}")
}

fn vsix_contents(package: &Path, extract_dir: &Path) -> Value {
    let output = Command::new(common::python())
        .arg(common::repo_root().join("tests/editor/vsix_contents.py"))
        .arg(package)
        .arg(extract_dir)
        .output()
        .expect("python3 runs tests/editor/vsix_contents.py");
    assert!(
        output.status.success(),
        "vsix_contents.py failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("vsix_contents.py prints JSON")
}

#[test]
fn the_platform_package_holds_a_binary_that_runs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("vscode");
    let root = common::repo_root();
    let packaged = Command::new(root.join("scripts/package-vscode"))
        .arg("--binary")
        .arg(env!("CARGO_BIN_EXE_objgraph-doctest"))
        .arg("--out")
        .arg(&out)
        .output()
        .expect("scripts/package-vscode starts");
    let stdout = String::from_utf8_lossy(&packaged.stdout);
    assert!(
        packaged.status.success(),
        "scripts/package-vscode failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&packaged.stderr)
    );

    let platform = host_platform();
    let version = env!("CARGO_PKG_VERSION");
    let package = out.join(format!("objgraph-doctest-{platform}-{version}.vsix"));
    let written: Vec<_> = std::fs::read_dir(&out)
        .expect("the output directory exists")
        .map(|entry| entry.expect("entry").file_name())
        .collect();
    assert_eq!(
        written,
        [package.file_name().expect("name")],
        "one package, for {platform}"
    );
    assert!(
        stdout.contains("skipped") && stdout.contains("darwin-arm64"),
        "the script names the platforms it skipped:\n{stdout}"
    );
    assert!(
        !root.join("editors/vscode/bundled").exists(),
        "the binary staged in editors/vscode/bundled is removed after packaging"
    );

    let extract_dir = dir.path().join("extracted");
    let contents = vsix_contents(&package, &extract_dir);
    let entries: Vec<&str> = contents["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    for entry in [
        "extension/bundled/libs/bin/objgraph-doctest",
        "extension/out/extension.js",
        "extension/out/serverDiscovery.js",
        "extension/LICENSE.txt",
        "extension/icon.png",
        "extension/node_modules/vscode-languageclient/package.json",
    ] {
        assert!(
            entries.contains(&entry),
            "{entry} is in the package: {entries:?}"
        );
    }
    for left_out in [
        "extension/src/",
        "extension/out/test/",
        "extension/tsconfig.json",
    ] {
        assert!(
            !entries.iter().any(|entry| entry.starts_with(left_out)),
            "{left_out} is not shipped"
        );
    }
    assert_eq!(contents["target_platform"], platform);
    let mode = contents["binary_mode"]
        .as_u64()
        .expect("the archive records a Unix mode");
    assert_eq!(
        mode & 0o111,
        0o111,
        "the bundled binary is executable (mode {mode:o})"
    );

    let extracted = contents["extracted"]
        .as_str()
        .expect("the binary was extracted");
    let ran = Command::new(extracted)
        .arg("--version")
        .output()
        .expect("the bundled binary starts");
    assert!(ran.status.success(), "the bundled binary runs --version");
    let said = String::from_utf8_lossy(&ran.stdout);
    assert!(
        said.contains("objgraph-doctest") && said.contains(version),
        "--version names the tool and its version: {said}"
    );

    let manifest = &contents["package_json"];
    assert_eq!(manifest["publisher"], "objgraph-doctest");
    assert_eq!(manifest["license"], "MIT");
    assert_eq!(manifest["icon"], "icon.png");
    assert_eq!(
        manifest["repository"]["url"],
        "https://github.com/objgraph-doctest/objgraph-doctest"
    );
    assert_eq!(
        manifest["version"], version,
        "the extension's version is the tool's"
    );
    assert!(manifest.get("private").is_none());

    // The extension ships its own copy of the repository's licence.
    let root_licence = root.join("LICENSE");
    if root_licence.exists() {
        assert_eq!(
            std::fs::read_to_string(root.join("editors/vscode/LICENSE")).expect("licence"),
            std::fs::read_to_string(&root_licence).expect("licence"),
            "editors/vscode/LICENSE must be a copy of LICENSE: cp LICENSE editors/vscode/LICENSE"
        );
    }
}
