//! The artifact collector on real directories, and DOT summaries of graphs objgraph wrote
//! (`tests/pages/artifacts/*.dot`).

use std::fs;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};

use objgraph_doctest::engine::dot::{DotError, summarize_dot};
use objgraph_doctest::runner::artifacts::{
    Artifact, ArtifactCollector, ArtifactKind, MAX_SCAN_DEPTH, MAX_SCANNED_FILES,
};

fn fixture(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/pages/artifacts")
        .join(name);
    fs::read_to_string(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

/// A page's working directory and an artifacts directory, both temporary.
struct Scene {
    workdir: tempfile::TempDir,
    artifacts: tempfile::TempDir,
}

impl Scene {
    fn new() -> Scene {
        Scene {
            workdir: tempfile::tempdir().unwrap(),
            artifacts: tempfile::tempdir().unwrap(),
        }
    }

    fn collector(&self, page: &str) -> ArtifactCollector {
        ArtifactCollector::new(self.workdir.path(), self.artifacts.path(), page)
    }

    /// Writes a file in the working directory, creating its directories.
    fn write(&self, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.workdir.path().join(name);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, contents).unwrap();
        path
    }
}

fn names(artifacts: &[Artifact]) -> Vec<&str> {
    artifacts
        .iter()
        .map(|artifact| artifact.name.as_str())
        .collect()
}

#[test]
fn a_new_file_is_copied_under_the_page_and_line() {
    let scene = Scene::new();
    let mut collector = scene.collector("docs/index.txt");
    scene.write("refs.png", b"\x89PNG fake");
    let artifacts = collector.collect(12);
    assert_eq!(names(&artifacts), ["refs.png"]);
    let artifact = &artifacts[0];
    assert_eq!(artifact.kind, ArtifactKind::Image);
    assert!(artifact.copied, "{:?}", artifact.note);
    assert_eq!(artifact.note, None);
    assert_eq!(artifact.size, 9);
    assert_eq!(
        artifact.path,
        scene
            .artifacts
            .path()
            .join("docs__index.txt")
            .join("L12-refs.png")
    );
    assert_eq!(fs::read(&artifact.path).unwrap(), b"\x89PNG fake");
    // Private: the copy, and the folder that lists what the example wrote.
    use std::os::unix::fs::PermissionsExt;
    let mode = |path: &Path| fs::metadata(path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&artifact.path), 0o600);
    assert_eq!(mode(artifact.path.parent().unwrap()), 0o700);
}

#[test]
fn files_there_before_and_unchanged_files_are_not_reported() {
    let scene = Scene::new();
    scene.write("before.txt", "old");
    let mut collector = scene.collector("page.txt");
    assert!(collector.collect(1).is_empty());
    scene.write("made.txt", "new");
    assert_eq!(names(&collector.collect(2)), ["made.txt"]);
    assert!(collector.collect(3).is_empty(), "reported twice");
}

#[test]
fn a_changed_file_is_reported_again_under_the_new_line() {
    let scene = Scene::new();
    let mut collector = scene.collector("page.txt");
    scene.write("graph.dot", "digraph { a -> b }");
    assert_eq!(names(&collector.collect(3)), ["graph.dot"]);
    scene.write("graph.dot", "digraph { a -> b; b -> c }");
    let artifacts = collector.collect(7);
    assert_eq!(names(&artifacts), ["graph.dot"]);
    assert!(artifacts[0].path.ends_with("L7-graph.dot"));
    assert_eq!(artifacts[0].dot.as_ref().unwrap().edges, 2);
}

#[test]
fn a_file_rewritten_with_the_same_size_is_seen() {
    let scene = Scene::new();
    let path = scene.write("same.txt", "aaaa");
    let mut collector = scene.collector("page.txt");
    // Replaced by a rename, as atomic writers do: same size, maybe the same mtime tick.
    let replacement = scene.write("replacement.tmp", "bbbb");
    fs::rename(&replacement, &path).unwrap();
    assert_eq!(names(&collector.collect(2)), ["same.txt"]);
}

#[test]
fn a_deleted_and_recreated_file_is_reported() {
    let scene = Scene::new();
    let mut collector = scene.collector("page.txt");
    let path = scene.write("x.txt", "1");
    assert_eq!(collector.collect(1).len(), 1);
    fs::remove_file(&path).unwrap();
    assert!(collector.collect(2).is_empty());
    scene.write("x.txt", "1");
    assert_eq!(names(&collector.collect(3)), ["x.txt"]);
}

#[test]
fn nested_files_keep_their_relative_name_and_flatten_in_the_copy() {
    let scene = Scene::new();
    let mut collector = scene.collector("page.txt");
    scene.write("out/graphs/refs.svg", "<svg/>");
    scene.write("out/z.txt", "z");
    let artifacts = collector.collect(4);
    assert_eq!(names(&artifacts), ["out/graphs/refs.svg", "out/z.txt"]);
    assert!(artifacts[0].path.ends_with("L4-out_graphs_refs.svg"));
    assert!(artifacts[1].path.ends_with("L4-out_z.txt"));
}

#[test]
fn names_that_flatten_alike_do_not_overwrite_each_other() {
    let scene = Scene::new();
    let mut collector = scene.collector("page.txt");
    scene.write("a/b.png", "nested");
    scene.write("a_b.png", "flat");
    let artifacts = collector.collect(1);
    let copies: Vec<_> = artifacts
        .iter()
        .map(|artifact| artifact.path.clone())
        .collect();
    assert_eq!(copies.len(), 2);
    assert_ne!(copies[0], copies[1]);
    assert_eq!(fs::read(&copies[0]).unwrap(), b"nested");
    assert_eq!(fs::read(&copies[1]).unwrap(), b"flat");
}

#[test]
fn symlinks_are_not_followed() {
    let scene = Scene::new();
    let outside = tempfile::tempdir().unwrap();
    fs::write(outside.path().join("secret.txt"), "outside").unwrap();
    let mut collector = scene.collector("page.txt");
    symlink(outside.path(), scene.workdir.path().join("linked-dir")).unwrap();
    symlink(
        outside.path().join("secret.txt"),
        scene.workdir.path().join("linked-file.txt"),
    )
    .unwrap();
    symlink("/nonexistent", scene.workdir.path().join("dangling")).unwrap();
    symlink(scene.workdir.path(), scene.workdir.path().join("loop")).unwrap();
    assert!(collector.collect(1).is_empty());
}

#[test]
fn an_oversized_file_is_noted_and_not_copied() {
    let scene = Scene::new();
    let mut collector = scene.collector("page.txt").with_max_copy_bytes(10);
    scene.write("big.png", [0u8; 11]);
    scene.write("small.png", [0u8; 10]);
    let artifacts = collector.collect(5);
    assert_eq!(names(&artifacts), ["big.png", "small.png"]);
    let (big, small) = (&artifacts[0], &artifacts[1]);
    assert!(!big.copied);
    assert_eq!(big.size, 11);
    assert_eq!(
        big.note.as_deref(),
        Some("not copied: 11 B is over the 10 B limit")
    );
    assert!(!big.path.exists());
    assert!(small.copied && small.path.exists());
}

#[test]
fn copies_are_stable_across_runs_and_stale_ones_go() {
    let scene = Scene::new();
    let run = |line_of_refs: usize, extra: bool| {
        let workdir = tempfile::tempdir().unwrap();
        let mut collector =
            ArtifactCollector::new(workdir.path(), scene.artifacts.path(), "docs/index.txt");
        fs::write(
            workdir.path().join("refs.png"),
            format!("run {line_of_refs}"),
        )
        .unwrap();
        if extra {
            fs::write(workdir.path().join("extra.txt"), "only in the first run").unwrap();
        }
        let artifacts = collector.collect(line_of_refs);
        (collector.page_dir().to_path_buf(), artifacts)
    };
    let (first_dir, first) = run(10, true);
    let (second_dir, second) = run(10, false);
    assert_eq!(first_dir, second_dir);
    assert_eq!(
        first[1].path, second[0].path,
        "refs.png lands in the same place"
    );
    assert_eq!(fs::read_to_string(&second[0].path).unwrap(), "run 10");
    assert!(
        !first[0].path.exists(),
        "the first run's extra.txt copy is gone"
    );
    let listed: Vec<_> = fs::read_dir(&second_dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(listed, ["L10-refs.png"]);
}

#[test]
fn two_pages_never_share_a_directory() {
    let scene = Scene::new();
    let pages = [
        "docs/a.txt",
        "docs__a.txt",
        "docs/a b.txt",
        "docs/a_b.txt",
        "a.txt",
    ];
    let dirs: Vec<PathBuf> = pages
        .iter()
        .map(|page| scene.collector(page).page_dir().to_path_buf())
        .collect();
    for (i, dir) in dirs.iter().enumerate() {
        assert_eq!(
            dir.parent(),
            Some(scene.artifacts.path()),
            "{}",
            dir.display()
        );
        for other in &dirs[i + 1..] {
            assert_ne!(dir, other);
        }
    }
}

#[test]
fn the_artifacts_directory_is_created_only_when_needed() {
    let scene = Scene::new();
    let artifacts = scene.artifacts.path().join("not/yet");
    let mut collector = ArtifactCollector::new(scene.workdir.path(), &artifacts, "page.txt");
    assert!(collector.collect(1).is_empty());
    assert!(!artifacts.exists());
    scene.write("x.gif", "GIF89a");
    let made = collector.collect(2);
    assert!(made[0].copied && artifacts.exists());
}

#[test]
fn an_uncreatable_artifacts_directory_becomes_a_note() {
    let scene = Scene::new();
    let blocker = scene.artifacts.path().join("a-file");
    fs::write(&blocker, "").unwrap();
    let mut collector = ArtifactCollector::new(scene.workdir.path(), &blocker, "page.txt");
    scene.write("x.png", "png");
    let artifacts = collector.collect(1);
    assert!(!artifacts[0].copied);
    assert!(
        artifacts[0]
            .note
            .as_deref()
            .unwrap()
            .starts_with("not copied: cannot create ")
    );
}

#[test]
fn dot_files_are_summarised_and_bad_ones_noted() {
    let scene = Scene::new();
    let mut collector = scene.collector("page.txt");
    scene.write("refs.dot", fixture("show_refs.dot"));
    scene.write("broken.gv", fixture("broken.dot"));
    let artifacts = collector.collect(8);
    assert_eq!(names(&artifacts), ["broken.gv", "refs.dot"]);
    let (broken, refs) = (&artifacts[0], &artifacts[1]);
    assert_eq!(refs.kind, ArtifactKind::Dot);
    assert_eq!(
        refs.dot.as_ref().unwrap().describe(),
        "4 nodes, 3 edges; roots: list"
    );
    assert_eq!(broken.kind, ArtifactKind::Dot);
    assert!(broken.copied);
    assert_eq!(broken.dot, None);
    let note = broken.note.as_deref().unwrap();
    assert!(
        note.starts_with("not summarised: invalid DOT at 6:1: "),
        "{note}"
    );
}

#[test]
fn python_caches_are_ignored() {
    let scene = Scene::new();
    let mut collector = scene.collector("page.txt");
    scene.write("helper.py", "x = 1");
    scene.write("__pycache__/helper.cpython-311.pyc", "bytecode");
    assert_eq!(names(&collector.collect(1)), ["helper.py"]);
}

#[test]
fn scans_stop_at_the_depth_limit() {
    let scene = Scene::new();
    let mut collector = scene.collector("page.txt");
    let within = "d/".repeat(MAX_SCAN_DEPTH) + "deep.txt";
    let beyond = "d/".repeat(MAX_SCAN_DEPTH + 1) + "deeper.txt";
    scene.write(&within, "x");
    scene.write(&beyond, "x");
    assert_eq!(names(&collector.collect(1)), [within.as_str()]);
    assert!(collector.scan_was_truncated());
}

#[test]
fn scans_stop_at_the_file_limit() {
    let scene = Scene::new();
    let mut collector = scene.collector("page.txt");
    for i in 0..MAX_SCANNED_FILES + 5 {
        scene.write(&format!("f{i:05}.txt"), "");
    }
    let artifacts = collector.collect(1);
    assert_eq!(artifacts.len(), MAX_SCANNED_FILES);
    assert_eq!(artifacts[0].name, "f00000.txt");
    assert!(collector.scan_was_truncated());
}

#[test]
fn unreadable_files_become_notes() {
    let scene = Scene::new();
    let mut collector = scene.collector("page.txt");
    let path = scene.write("locked.png", "png");
    fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o000)).unwrap();
    let artifacts = collector.collect(1);
    // Root reads it anyway; anyone else gets a note, and nobody a panic.
    if !artifacts[0].copied {
        assert!(
            artifacts[0]
                .note
                .as_deref()
                .unwrap()
                .starts_with("not copied: ")
        );
    }
}

#[test]
fn a_missing_workdir_gives_nothing() {
    let scene = Scene::new();
    let gone = scene.workdir.path().join("gone");
    let mut collector = ArtifactCollector::new(&gone, scene.artifacts.path(), "page.txt");
    assert!(collector.collect(1).is_empty());
}

#[test]
fn artifacts_serialise_with_lowercase_kinds() {
    let scene = Scene::new();
    let mut collector = scene.collector("page.txt");
    scene.write("g.dot", fixture("show_refs.dot"));
    let json = serde_json::to_value(collector.collect(2)).unwrap();
    assert_eq!(json[0]["kind"], "dot");
    assert_eq!(json[0]["name"], "g.dot");
    assert_eq!(json[0]["copied"], true);
    assert_eq!(json[0]["dot"]["nodes"], 4);
    assert_eq!(json[0]["note"], serde_json::Value::Null);
    assert!(json[0]["path"].as_str().unwrap().ends_with("L2-g.dot"));
}

#[test]
fn objgraph_show_refs_summary() {
    let summary = summarize_dot(&fixture("show_refs.dot")).unwrap();
    assert_eq!((summary.nodes, summary.edges), (4, 3));
    assert_eq!(summary.describe(), "4 nodes, 3 edges; roots: list");
}

#[test]
fn objgraph_show_refs_with_quotes_in_labels() {
    let summary = summarize_dot(&fixture("show_refs_point.dot")).unwrap();
    assert_eq!((summary.nodes, summary.edges), (16, 18));
    assert_eq!(summary.roots, ["Point"]);
    assert_eq!(summary.describe(), "16 nodes, 18 edges; roots: Point");
    let graph = objgraph_doctest::engine::dot::parse_dot(&fixture("show_refs_point.dot")).unwrap();
    let note = graph
        .graph
        .node_weights()
        .find(|node| node.short_label() == "str" && node.label.contains("say"))
        .unwrap();
    // objgraph's label is the repr, so its backslashes and \n stay as the repr shows them.
    assert_eq!(note.label, "str\n'say \"hi\" \\\\ there\\nsecond line'");
}

#[test]
fn objgraph_show_backrefs_summary() {
    let summary = summarize_dot(&fixture("show_backrefs.dot")).unwrap();
    assert_eq!(
        summary.describe(),
        "3 nodes, 2 edges; roots: dict; started from: list"
    );
}

#[test]
fn broken_dot_is_an_error_with_a_position() {
    let error = summarize_dot(&fixture("broken.dot")).unwrap_err();
    assert!(
        matches!(error, DotError::Syntax { line: 6, .. }),
        "{error:?}"
    );
}
