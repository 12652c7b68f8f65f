//! Figures that follow the examples, with the built binary, a real Python with objgraph
//! 3.7.0 and Graphviz: `--update-figures` writes what an example drew where the page's
//! figure points and says "unchanged" the second time; a stale committed figure is a warning
//! with the share of pixels that differ (a failure with `stale-figures = "error"`); a figure
//! no example draws is left untouched; a graph that grew a node says so. Then objgraph's own
//! documentation: its figures rewritten where its pages point, unchanged on a second run up
//! to the graphs that vary, the others untouched.

mod common;
#[path = "common/lsp_client.rs"]
mod lsp_client;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::SystemTime;

/// A page whose example draws `graph.png` with objgraph, shown by a figure in `images/`,
/// and a second figure no example draws.
const PAGE: &str = "\
Drawing
=======

    >>> import objgraph
    >>> x = []
    >>> y = [x, [x], dict(x=x)]
    >>> objgraph.show_refs([y], filename='graph.png')
    Graph written to ....dot (... nodes)
    Image generated as graph.png

.. figure:: images/graph.png
   :alt: the graph of y

.. figure:: images/other.png
";

const CONFIG: &str = "optionflags = [\"ELLIPSIS\"]\n";

/// A project directory with `objgraph-doctest.toml` (`extra` appended) and `docs/page.txt`.
fn project(page: &str, extra: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    fs::write(
        dir.path().join("objgraph-doctest.toml"),
        format!("{CONFIG}{extra}"),
    )
    .unwrap();
    fs::create_dir_all(dir.path().join("docs/images")).unwrap();
    fs::write(dir.path().join("docs/page.txt"), page).unwrap();
    dir
}

fn run(dir: &Path, extra: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_objgraph-doctest"))
        .args(["--python", &common::python_with_objgraph()])
        .args(["--color", "never", "--jobs", "2"])
        .args(extra)
        .current_dir(dir)
        .stdin(Stdio::null())
        .env_remove("NO_COLOR")
        .output()
        .expect("the binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn redact(text: &str, dir: &Path) -> String {
    let text = text.replace(&common::python_with_objgraph(), "[PYTHON]");
    common::redact(&text, dir, &[])
}

/// A `width`×`height` white PNG.
fn white_png(width: u32, height: u32) -> Vec<u8> {
    let mut bytes = Vec::new();
    let mut encoder = png::Encoder::new(&mut bytes, width, height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().unwrap();
    writer
        .write_image_data(&vec![255; (width * height * 3) as usize])
        .unwrap();
    writer.finish().unwrap();
    bytes
}

fn bytes_and_mtime(path: &Path) -> (Vec<u8>, SystemTime) {
    (
        fs::read(path).unwrap(),
        fs::metadata(path).unwrap().modified().unwrap(),
    )
}

#[test]
fn update_figures_writes_the_drawing_then_finds_it_unchanged() {
    let dir = project(PAGE, "");
    let other = dir.path().join("docs/images/other.png");
    fs::write(&other, white_png(3, 3)).unwrap();
    let other_before = bytes_and_mtime(&other);

    let first = run(dir.path(), &["--update-figures", "docs"]);
    let (stdout, stderr) = (text(&first.stdout), text(&first.stderr));
    assert_eq!(first.status.code(), Some(0), "{stdout}\n{stderr}");
    insta::assert_snapshot!("update_figures_human", redact(&stdout, dir.path()));
    let figure = dir.path().join("docs/images/graph.png");
    let drawn = fs::read(&figure).expect("the figure was written");
    assert!(drawn.starts_with(b"\x89PNG\r\n\x1a\n"), "a PNG");
    assert_eq!(
        fs::metadata(&figure).unwrap().permissions().mode() & 0o777,
        0o644
    );
    assert!(
        stdout.contains(
            "Figure images/graph.png (line 11): written to docs/images/graph.png (a new file)"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("figures no example draws, left untouched: images/other.png (line 14)"),
        "{stdout}"
    );
    assert!(
        stderr.contains("figures: 1 written, 0 unchanged, 0 not written (see the report), 1 not drawn by any example"),
        "{stderr}"
    );

    let second = run(dir.path(), &["--update-figures", "docs"]);
    let (stdout, stderr) = (text(&second.stdout), text(&second.stderr));
    assert_eq!(second.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("Figure images/graph.png (line 11): unchanged (")
            && (stdout.contains("byte-identical") || stdout.contains("pixel-identical")),
        "{stdout}"
    );
    assert!(
        stderr.contains("figures: 0 written, 1 unchanged"),
        "{stderr}"
    );
    assert_eq!(fs::read(&figure).unwrap(), drawn);
    assert_eq!(bytes_and_mtime(&other), other_before, "untouched");

    // Without --update-figures, an up-to-date figure says nothing.
    let plain = run(dir.path(), &["docs"]);
    assert_eq!(plain.status.code(), Some(0));
    assert!(
        !text(&plain.stdout).contains("Figure"),
        "{}",
        text(&plain.stdout)
    );
    assert!(!text(&plain.stderr).contains("figure"));
    assert_eq!(bytes_and_mtime(&other), other_before, "untouched");
}

use std::os::unix::fs::PermissionsExt;

#[test]
fn a_stale_figure_is_a_warning_with_its_share_or_a_failure_by_setting() {
    let dir = project(PAGE, "");
    let figure = dir.path().join("docs/images/graph.png");
    let stale = white_png(10, 10);
    fs::write(&figure, &stale).unwrap();
    let before = bytes_and_mtime(&figure);
    // What a killed `--update-figures` would have left beside the figure (its pid gone).
    let mut dead = std::process::Command::new("true").spawn().unwrap();
    let dead_pid = dead.id();
    dead.wait().unwrap();
    let leftover = dir.path().join(format!(
        "docs/images/.objgraph-doctest-update.{dead_pid}.Xy12Zw.tmp"
    ));
    fs::write(&leftover, b"half a figure").unwrap();

    let warned = run(dir.path(), &["docs", "--html", "report.html"]);
    let (stdout, stderr) = (text(&warned.stdout), text(&warned.stderr));
    assert_eq!(warned.status.code(), Some(0), "{stdout}\n{stderr}");
    // The HTML report says it under the example, as the human report does.
    let html = fs::read_to_string(dir.path().join("report.html")).expect("HTML report");
    assert!(
        html.contains("<pre class=\"figures\" aria-label=\"figures and graph changes\">")
            && html.contains("out of date, 100.0% of its pixels differ"),
        "{html}"
    );
    insta::assert_snapshot!("stale_figure_human", redact(&stdout, dir.path()));
    assert!(
        stdout.contains(
            "Figure images/graph.png (line 11): out of date, 100.0% of its pixels differ \
             (docs/images/graph.png); --update-figures rewrites it"
        ),
        "{stdout}"
    );
    assert!(
        stderr.contains("warning: 1 figure is out of date with what the examples draw"),
        "{stderr}"
    );
    assert_eq!(
        bytes_and_mtime(&figure),
        before,
        "only --update-figures writes"
    );

    let json = run(dir.path(), &["--format", "json", "docs"]);
    let report: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    insta::assert_json_snapshot!("stale_figure_json", report["pages"][0]["figures"]);
    let check = &report["pages"][0]["figures"]["figures"][0];
    assert_eq!(check["target"], "images/graph.png");
    assert_eq!(check["comparison"]["kind"], "differs");
    assert_eq!(check["comparison"]["share"], 1.0);
    assert_eq!(check["example"], 3);
    assert_eq!(
        report["pages"][0]["figures"]["undrawn"][0]["target"],
        "images/other.png"
    );

    fs::write(
        dir.path().join("objgraph-doctest.toml"),
        format!("{CONFIG}stale-figures = \"error\"\n"),
    )
    .unwrap();
    let failed = run(dir.path(), &["docs"]);
    assert_eq!(failed.status.code(), Some(1), "{}", text(&failed.stderr));
    assert!(text(&failed.stderr).contains("error: 1 figure is out of date"));

    fs::write(
        dir.path().join("objgraph-doctest.toml"),
        format!("{CONFIG}stale-figures = \"ignore\"\n"),
    )
    .unwrap();
    let ignored = run(dir.path(), &["docs"]);
    assert_eq!(ignored.status.code(), Some(0));
    assert!(!text(&ignored.stdout).contains("Figure"));
    assert!(!text(&ignored.stderr).contains("figure"));

    fs::write(
        dir.path().join("objgraph-doctest.toml"),
        format!("{CONFIG}\nstale-figures = \"sometimes\"\n"),
    )
    .unwrap();
    let bad = run(dir.path(), &["docs"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        text(&bad.stderr).contains("objgraph-doctest.toml:3:17: unknown stale-figures value"),
        "{}",
        text(&bad.stderr)
    );

    // --update-figures rewrites it, keeping its mode.
    fs::set_permissions(&figure, fs::Permissions::from_mode(0o664)).unwrap();
    fs::write(dir.path().join("objgraph-doctest.toml"), CONFIG).unwrap();
    let updated = run(dir.path(), &["--update-figures", "docs"]);
    assert_eq!(updated.status.code(), Some(0), "{}", text(&updated.stderr));
    assert!(
        text(&updated.stdout)
            .contains("written to docs/images/graph.png (100.0% of its pixels differ)"),
        "{}",
        text(&updated.stdout)
    );
    assert_ne!(fs::read(&figure).unwrap(), stale);
    assert_eq!(
        fs::metadata(&figure).unwrap().permissions().mode() & 0o777,
        0o664
    );
    assert!(
        !leftover.exists(),
        "the killed write's temporary file is swept"
    );
}

/// A stale figure in the other reports: a GitHub annotation at the figure's line (a warning,
/// an error with `stale-figures = "error"`), a row of the job summary, the example's JUnit
/// `system-out`; and `merge` of the shards' JSON reports says it as the unsharded run did,
/// with the same exit status.
#[test]
fn a_stale_figure_in_github_junit_the_job_summary_and_merge() {
    let dir = project(PAGE, "");
    fs::write(dir.path().join("docs/images/graph.png"), white_png(10, 10)).unwrap();
    fs::write(dir.path().join("docs/other.txt"), ">>> 1 + 1\n2\n").unwrap();

    let github = run(
        dir.path(),
        &[
            "--format",
            "github",
            "--summary-markdown",
            "summary.md",
            "docs",
        ],
    );
    assert_eq!(github.status.code(), Some(0), "{}", text(&github.stderr));
    let annotations = redact(&text(&github.stdout), dir.path());
    insta::assert_snapshot!("stale_figure_github", annotations);
    let summary = fs::read_to_string(dir.path().join("summary.md")).unwrap();
    insta::assert_snapshot!("stale_figure_summary", redact(&summary, dir.path()));

    let junit = run(dir.path(), &["--format", "junit", "docs"]);
    let xml = text(&junit.stdout);
    assert!(
        xml.contains("<system-out>Figure images/graph.png (line 11): out of date, 100.0% of its pixels differ"),
        "{xml}"
    );

    // Shards and their merge: the same figure lines, the same closing line and status.
    fs::write(
        dir.path().join("objgraph-doctest.toml"),
        format!("{CONFIG}stale-figures = \"error\"\n"),
    )
    .unwrap();
    let whole = run(dir.path(), &["docs"]);
    assert_eq!(whole.status.code(), Some(1), "{}", text(&whole.stderr));
    for shard in ["1/2", "2/2"] {
        let out = run(dir.path(), &["--format", "json", "--shard", shard, "docs"]);
        let name = format!("shard-{}.json", &shard[..1]);
        fs::write(dir.path().join(name), &out.stdout).unwrap();
    }
    let merged = Command::new(env!("CARGO_BIN_EXE_objgraph-doctest"))
        .args(["merge", "--color", "never", "shard-1.json", "shard-2.json"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(merged.status.code(), Some(1), "{}", text(&merged.stderr));
    let figure_lines = |out: &[u8]| -> Vec<String> {
        text(out)
            .lines()
            .filter(|line| line.starts_with("Figure "))
            .map(str::to_owned)
            .collect()
    };
    assert_eq!(figure_lines(&merged.stdout), figure_lines(&whole.stdout));
    assert!(
        !figure_lines(&merged.stdout).is_empty(),
        "{}",
        text(&merged.stdout)
    );
    assert!(
        text(&merged.stderr).contains("error: 1 figure is out of date"),
        "{}",
        text(&merged.stderr)
    );
    let merged_github = Command::new(env!("CARGO_BIN_EXE_objgraph-doctest"))
        .args([
            "merge",
            "--format",
            "github",
            "shard-1.json",
            "shard-2.json",
        ])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(
        text(&merged_github.stdout)
            .contains("::error file=docs/page.txt,line=11,title=figure out of date::"),
        "{}",
        text(&merged_github.stdout)
    );
}

/// A `/`-rooted figure target is under Sphinx's source directory (the nearest conf.py's):
/// checked there, and shown there beside the drawing in the HTML report.
#[test]
fn a_rooted_figure_target_is_found_in_sphinx_source_directory() {
    let page = PAGE.replace(
        ".. figure:: images/graph.png",
        ".. figure:: /images/graph.png",
    );
    let dir = project(&page, "");
    fs::write(dir.path().join("docs/conf.py"), "project = 'x'\n").unwrap();
    fs::write(dir.path().join("docs/images/graph.png"), white_png(10, 10)).unwrap();
    let out = run(dir.path(), &["docs", "--html", "report.html"]);
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("Figure /images/graph.png (line 11): out of date, 100.0% of its pixels differ (docs/images/graph.png)"),
        "{stdout}"
    );
    let html = fs::read_to_string(dir.path().join("report.html")).unwrap();
    let beside = html
        .split("In the page (line 11): /images/graph.png")
        .next()
        .and_then(|before| before.rsplit("<figure").next())
        .unwrap_or_default();
    assert!(beside.contains("src=\"data:image/png;base64,"), "{html}");
    assert!(!html.contains("does not exist yet"), "{html}");

    // --show-config names the page's figures and what a stale one is.
    fs::write(
        dir.path().join("objgraph-doctest.toml"),
        format!("{CONFIG}stale-figures = \"error\"\n"),
    )
    .unwrap();
    let shown = text(&run(dir.path(), &["--show-config", "docs/page.txt"]).stdout);
    assert!(
        shown.contains("figures: /images/graph.png (line 11), images/other.png (line 14)")
            && shown.contains(
                "stale figures: a failure (exit status 1)\n  from objgraph-doctest.toml: stale-figures"
            ),
        "{shown}"
    );
}

#[test]
fn a_figure_outside_the_project_is_not_written() {
    let outside = tempfile::tempdir().unwrap();
    let dir = project(PAGE, "");
    fs::remove_dir(dir.path().join("docs/images")).unwrap();
    std::os::unix::fs::symlink(outside.path(), dir.path().join("docs/images")).unwrap();
    let output = run(dir.path(), &["--update-figures", "docs"]);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stderr));
    assert!(
        text(&output.stdout)
            .contains("not written: docs/images/graph.png is outside the project root"),
        "{}",
        text(&output.stdout)
    );
    assert_eq!(fs::read_dir(outside.path()).unwrap().count(), 0);
}

#[test]
fn a_committed_dot_beside_the_figure_is_the_graphs_base_and_follows_it() {
    let dir = project(PAGE, "");
    // The graph of `[x]` alone: y's list, its inner list and its dict are not in it.
    let committed = dir.path().join("docs/images/graph.dot");
    fs::write(
        &committed,
        "digraph ObjectGraph {\n  o1[label=\"list\\n3 items\"];\n  o2[label=\"list\\n0 items\"];\n  o1 -> o2;\n}\n",
    )
    .unwrap();
    let output = run(dir.path(), &["docs"]);
    let stdout = text(&output.stdout);
    assert!(
        // Compared by masked label, one of the three lists is new (which one, the labels
        // cannot tell: their counts are masked).
        stdout.contains(
            "Graph changed since docs/images/graph.dot:\n    + 2 nodes: dict 1 items, list "
        ),
        "{stdout}"
    );
    assert!(stdout.contains("    + 4 edges: "), "{stdout}");

    let updated = run(dir.path(), &["--update-figures", "docs"]);
    assert_eq!(updated.status.code(), Some(0), "{}", text(&updated.stderr));
    let rewritten = fs::read_to_string(&committed).unwrap();
    assert!(
        rewritten.contains("dict\\n1 items"),
        "the .dot follows its figure: {rewritten}"
    );
    let again = run(dir.path(), &["docs"]);
    assert!(
        !text(&again.stdout).contains("Graph changed"),
        "{}",
        text(&again.stdout)
    );
}

/// A page that draws `graph.dot`; `extra` grows the graph.
fn graph_page(extra: &str) -> String {
    format!(
        "Growing\n=======\n\n    >>> import objgraph\n    >>> x = []\n    \
         >>> y = [x, [x]{extra}]\n    >>> objgraph.show_refs([y], filename='graph.dot')\n    \
         Graph written to graph.dot (... nodes)\n"
    )
}

#[test]
fn a_graph_that_grew_a_node_says_so() {
    let dir = project(&graph_page(""), "");
    let artifacts = ["--artifacts-dir", "artifacts"];
    let first = run(dir.path(), &[&artifacts[..], &["docs"]].concat());
    assert_eq!(first.status.code(), Some(0), "{}", text(&first.stderr));
    assert!(!text(&first.stdout).contains("changed since"));
    let kept: Vec<PathBuf> =
        fs::read_dir(dir.path().join("artifacts/docs__page.txt/previous-dots"))
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .collect();
    assert_eq!(kept.len(), 1, "{kept:?}");

    fs::write(dir.path().join("docs/page.txt"), graph_page(", dict(x=x)")).unwrap();
    let second = run(dir.path(), &[&artifacts[..], &["docs"]].concat());
    assert_eq!(second.status.code(), Some(0), "{}", text(&second.stderr));
    insta::assert_snapshot!(
        "graph_diff_human",
        redact(&text(&second.stdout), dir.path())
    );

    // The same graph again: nothing changed since the previous run, and the store stays one
    // graph big.
    let third = run(
        dir.path(),
        &[&artifacts[..], &["--format", "json", "docs"]].concat(),
    );
    let report: serde_json::Value = serde_json::from_slice(&third.stdout).unwrap();
    assert!(report["pages"][0].get("figures").is_none(), "{report}");
    let kept = fs::read_dir(dir.path().join("artifacts/docs__page.txt/previous-dots"))
        .unwrap()
        .count();
    assert_eq!(kept, 1);
}

#[test]
fn the_editors_hover_shows_what_a_graph_gained_since_the_previous_run() {
    let dir = project(&graph_page(""), "");
    let first = run(dir.path(), &["docs"]);
    assert_eq!(first.status.code(), Some(0), "{}", text(&first.stderr));
    let grown = graph_page(", dict(x=x)");
    let page = dir.path().join("docs/page.txt");
    fs::write(&page, &grown).unwrap();

    let settings = serde_json::json!({
        "runOn": "change",
        "execute": true,
        "python": common::python_with_objgraph(),
        "debounceMs": 0,
    });
    let mut client = lsp_client::LspClient::start(dir.path(), settings);
    client.initialize(dir.path());
    let uri = format!("file://{}", page.display());
    client.open(&uri, "plaintext", &grown);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let hover = loop {
        let hover = client.hover_text(&uri, 6, 10);
        if hover.contains("**passed**") || std::time::Instant::now() > deadline {
            break hover;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    assert!(
        hover.contains(
            "Graph `graph.dot` changed since the previous run:\n```diff\n+ 1 node: dict 1 items\n"
        ),
        "{hover}"
    );
    assert!(client.shutdown().success());
}

/// objgraph 3.7.0's documentation, as `make images` would regenerate it.
#[test]
fn update_figures_on_objgraphs_docs() {
    let unpacked = common::sdist("objgraph==3.7.0");
    let scratch = tempfile::tempdir().unwrap();
    let root = scratch.path().join("objgraph");
    common::copy_tree(&unpacked, &root);
    fs::write(
        root.join("objgraph-doctest.toml"),
        "profile = \"doctest\"\noptionflags = [\"ELLIPSIS\"]\n",
    )
    .unwrap();
    // The pages objgraph's tests.py runs (docs/*.txt but uncollectable.txt).
    let mut pages: Vec<String> = fs::read_dir(root.join("docs"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".txt") && name != "uncollectable.txt")
        .map(|name| format!("docs/{name}"))
        .collect();
    pages.sort();
    let images: Vec<PathBuf> = fs::read_dir(root.join("docs"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "png"))
        .collect();
    let before: Vec<_> = images.iter().map(|path| bytes_and_mtime(path)).collect();
    let run_docs = || {
        let mut arguments = vec!["--update-figures", "--format", "json"];
        arguments.extend(pages.iter().map(String::as_str));
        let output = run(&root, &arguments);
        let report: serde_json::Value = serde_json::from_slice(&output.stdout)
            .unwrap_or_else(|_| panic!("{}", text(&output.stderr)));
        (report, text(&output.stderr))
    };
    let states = |report: &serde_json::Value| -> Vec<(String, String, bool)> {
        let mut states = Vec::new();
        for page in report["pages"].as_array().unwrap() {
            for figure in page["figures"]["figures"].as_array().into_iter().flatten() {
                let same = figure["comparison"]["kind"] == "same";
                states.push((
                    figure["path"].as_str().unwrap().to_owned(),
                    figure["write"]["kind"].as_str().unwrap().to_owned(),
                    same,
                ));
            }
        }
        states
    };

    let (first, stderr) = run_docs();
    let drawn = states(&first);
    let drawn_paths: Vec<&str> = drawn.iter().map(|(path, _, _)| path.as_str()).collect();
    // Every figure an example of these pages draws, where the pages point.
    for expected in [
        "docs/sample-graph.png",
        "docs/sample-backref-graph.png",
        "docs/chain.png",
        "docs/roots.png",
        "docs/extra-info.png",
        "docs/canary.png",
        "docs/canary-chain.png",
        "docs/highlight.png",
        "docs/too-many.png",
        "docs/42.png",
        "docs/refcounts.png",
    ] {
        assert!(
            drawn_paths.contains(&expected),
            "{expected}: {drawn:?}\n{stderr}"
        );
    }
    assert!(
        drawn.iter().all(|(_, write, _)| write != "refused"),
        "{drawn:?}"
    );
    // chain.txt shows chain.png, which only index.txt draws.
    let chain_page = first["pages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|page| page["path"] == "docs/chain.txt")
        .unwrap();
    assert_eq!(chain_page["figures"]["undrawn"][0]["target"], "chain.png");

    let (second, stderr) = run_docs();
    let again = states(&second);
    let changed: Vec<String> = again
        .iter()
        .filter(|(_, _, same)| !same)
        .map(|(path, _, _)| path.clone())
        .collect();
    eprintln!(
        "objgraph docs: {} figures drawn, {} unchanged on the second run; changed: {changed:?}",
        again.len(),
        again.len() - changed.len()
    );
    // The graphs that vary from run to run: object addresses in labels (extra-info's ids,
    // the `<function <module> at 0x...>` that sample-backref-graph reaches), and the graphs
    // of objects whose number varies (the pages mark those NODES_VARY).
    let varying = [
        "extra-info",
        "sample-backref-graph",
        "canary",
        "canary-chain",
        "chain",
        "highlight",
        "refcounts",
        "roots",
    ];
    for path in &changed {
        let stem = Path::new(path).file_stem().unwrap().to_string_lossy();
        assert!(
            varying.contains(&stem.as_ref()),
            "{path} changed on the second run; {stderr}"
        );
    }
    // The graphs of fixed objects are drawn the same every time.
    for fixed in ["docs/sample-graph.png", "docs/too-many.png", "docs/42.png"] {
        assert!(
            !changed.iter().any(|path| path == fixed),
            "{fixed}: {again:?}"
        );
    }

    // Without --update-figures, only figures whose example does not say that its drawing
    // varies count as out of date: extra-info.png, whose labels are object ids.
    let mut arguments = vec!["--format", "json"];
    arguments.extend(pages.iter().map(String::as_str));
    let plain = run(&root, &arguments);
    let report: serde_json::Value = serde_json::from_slice(&plain.stdout).unwrap();
    let mut stale = Vec::new();
    for page in report["pages"].as_array().unwrap() {
        for figure in page["figures"]["figures"].as_array().into_iter().flatten() {
            if figure["comparison"]["kind"] == "differs" && figure["varies"] == false {
                stale.push(figure["path"].as_str().unwrap().to_owned());
            }
        }
    }
    assert!(
        stale.iter().all(|path| path == "docs/extra-info.png"),
        "{stale:?}"
    );

    // Images no example of these pages draws are untouched.
    for (path, before) in images.iter().zip(&before) {
        let name = path.file_name().unwrap().to_string_lossy();
        if !drawn_paths
            .iter()
            .any(|drawn| drawn.ends_with(&format!("/{name}")))
        {
            assert_eq!(&bytes_and_mtime(path), before, "{name} was touched");
        }
    }
}
