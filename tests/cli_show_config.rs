//! `--show-config PAGE`: each effective setting of a page and where it came from, as users
//! see it, for a page pytest's configuration claims (pyproject.toml with `--doctest-glob`,
//! `--doctest-continue-on-failure` and `pythonpath`, a conftest.py) and for one it does not.

mod common;

use std::path::Path;
use std::process::Command;

fn show_config(dir: &Path, page: &str) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_objgraph-doctest"))
        .args(["--show-config", page, "-o", "NORMALIZE_WHITESPACE"])
        .current_dir(dir)
        .env_remove("PYTEST_ADDOPTS")
        .env_remove("VIRTUAL_ENV")
        .output()
        .expect("the binary runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    common::redact(
        &String::from_utf8_lossy(&output.stdout),
        dir,
        // Which Python is found depends on the machine.
        &[(
            r"(?m)^python: .*\n  from .*$",
            "python: [PYTHON]\n  from [WHERE]",
        )],
    )
}

#[test]
fn show_config_says_where_each_setting_came_from() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    std::fs::create_dir_all(root.join("docs")).expect("docs");
    std::fs::write(
        root.join("pyproject.toml"),
        "[project]\nname = \"x\"\n\n[tool.pytest.ini_options]\n\
         addopts = \"--doctest-glob='*.txt' --doctest-continue-on-failure\"\n\
         pythonpath = [\"src\"]\ndoctest_optionflags = \"ELLIPSIS NUMBER\"\n\n\
         [tool.objgraph-doctest]\ntimeout = 5\nsetup = \"import os\"\n",
    )
    .expect("pyproject.toml");
    std::fs::write(root.join("docs/conftest.py"), "").expect("conftest.py");
    std::fs::write(root.join("docs/guide.txt"), ">>> 1\n1\n").expect("page");
    std::fs::write(root.join("docs/notes.md"), "```pycon\n>>> 1\n1\n```\n").expect("page");
    insta::assert_snapshot!(
        "show_config_pytest_page",
        show_config(root, "docs/guide.txt")
    );
    insta::assert_snapshot!(
        "show_config_doctest_page",
        show_config(root, "docs/notes.md")
    );
}
