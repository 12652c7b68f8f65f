//! The page process's `inspect` request against a real Python (`PageProcess::inspect`, what
//! the editor's heap hover asks of a fork): a name's type, refcount (as `sys.getrefcount`
//! in an example says) and capped repr; lookup errors as text; a repr that loops ends with
//! the deadline; a Sphinx group's namespace; objgraph's drawing when it is importable.

mod common;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use objgraph_doctest::backend::protocol::DrawRefs;
use objgraph_doctest::backend::{
    Backend, BackendOptions, Fault, InspectQuery, PageProcess, PageSetup,
};

const TIMEOUT: Duration = Duration::from_secs(10);

fn backend(python: String) -> Backend {
    Backend::start(BackendOptions {
        python: PathBuf::from(python),
        preload: vec![],
        fork: true,
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

fn query(expression: &str) -> InspectQuery<'_> {
    InspectQuery {
        expression,
        group: None,
        repr_cap: 50,
        draw: None,
    }
}

#[test]
fn values_types_refcounts_and_capped_reprs() {
    let backend = backend(common::python());
    let dir = tempfile::tempdir().expect("tempdir");
    let mut page = page(&backend, dir.path());
    let source = "import sys\nitems = [1, 2, 3]\nclass Box:\n    inner = 'x' * 80\n    def __repr__(self):\n        raise ValueError('no repr')\nbox = Box()\n";
    page.run_with(
        0,
        source,
        objgraph_doctest::backend::worker::RunExtras {
            mode: Some("exec"),
            ..Default::default()
        },
        TIMEOUT,
    )
    .expect("runs");
    let refcount = page
        .run(1, "sys.getrefcount(items)\n", TIMEOUT)
        .expect("runs")
        .got;
    let items = page.inspect(&query("items"), TIMEOUT).expect("inspects");
    assert_eq!(items.error, None);
    assert_eq!(items.type_name, "list");
    assert_eq!(items.repr, "[1, 2, 3]");
    assert_eq!(
        format!("{}\n", items.refcount),
        refcount,
        "as an example says"
    );

    let boxed = page.inspect(&query("box"), TIMEOUT).expect("inspects");
    assert_eq!(boxed.type_name, "Box");
    assert_eq!(boxed.repr, "<repr raised ValueError: no repr>");

    let inner = page
        .inspect(&query("box.inner"), TIMEOUT)
        .expect("inspects");
    // reprlib shortens a long string in its middle, within the cap.
    assert!(inner.repr.chars().count() <= 50, "{inner:?}");
    assert!(inner.repr.contains("..."), "{inner:?}");

    let builtin = page.inspect(&query("len"), TIMEOUT).expect("inspects");
    assert_eq!(builtin.repr, "<built-in function len>");

    let missing = page.inspect(&query("nothing"), TIMEOUT).expect("inspects");
    assert_eq!(
        missing.error.as_deref(),
        Some("NameError: name 'nothing' is not defined")
    );
    let attribute = page
        .inspect(&query("items.nope"), TIMEOUT)
        .expect("inspects");
    assert_eq!(
        attribute.error.as_deref(),
        Some("AttributeError: 'list' object has no attribute 'nope'")
    );
    let not_a_name = page.inspect(&query("items[0]"), TIMEOUT).expect("inspects");
    assert_eq!(
        not_a_name.error.as_deref(),
        Some("ValueError: 'items[0]' is not a name or dotted name")
    );
    // The page goes on as before: nothing it printed or set was touched.
    assert_eq!(
        page.run(2, "items\n", TIMEOUT).expect("runs").got,
        "[1, 2, 3]\n"
    );
}

#[test]
fn a_sphinx_group_is_looked_up_in_its_own_namespace() {
    let backend = backend(common::python());
    let dir = tempfile::tempdir().expect("tempdir");
    let mut page = page(&backend, dir.path());
    page.run_with(
        0,
        "grouped = 'in the group'\n",
        objgraph_doctest::backend::worker::RunExtras {
            group: Some("g"),
            ..Default::default()
        },
        TIMEOUT,
    )
    .expect("runs");
    let in_group = InspectQuery {
        group: Some("g"),
        ..query("grouped")
    };
    assert_eq!(
        page.inspect(&in_group, TIMEOUT).expect("inspects").repr,
        "'in the group'"
    );
    let outside = page.inspect(&query("grouped"), TIMEOUT).expect("inspects");
    assert!(outside.error.is_some(), "{outside:?}");
}

#[test]
fn a_repr_that_never_returns_ends_with_the_deadline() {
    let backend = backend(common::python());
    let dir = tempfile::tempdir().expect("tempdir");
    let mut page = page(&backend, dir.path());
    page.run_with(
        0,
        "class Forever:\n    def __repr__(self):\n        while True:\n            pass\nforever = Forever()\n",
        objgraph_doctest::backend::worker::RunExtras {
            mode: Some("exec"),
            ..Default::default()
        },
        TIMEOUT,
    )
    .expect("runs");
    let started = Instant::now();
    let answer = page.inspect(&query("forever"), Duration::from_millis(500));
    assert_eq!(answer, Err(Fault::Timeout));
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[test]
fn objgraph_draws_the_references_into_the_file_named() {
    let backend = backend(common::python_with_objgraph());
    let dir = tempfile::tempdir().expect("tempdir");
    let mut page = page(&backend, dir.path());
    page.run(0, "items = [[1], [2]]\n", TIMEOUT).expect("runs");
    let image = dir.path().join("refs.png");
    let filename = image.to_string_lossy().into_owned();
    let drawing = InspectQuery {
        draw: Some(DrawRefs {
            kind: "refs",
            filename: &filename,
            max_depth: 3,
        }),
        ..query("items")
    };
    let answer = page.inspect(&drawing, TIMEOUT).expect("inspects");
    assert_eq!(answer.draw_error, None, "{answer:?}");
    assert_eq!(answer.drawn.as_deref(), Some(filename.as_str()));
    assert!(answer.draw_output.contains("(5 nodes)"), "{answer:?}");
    let bytes = std::fs::read(&image).expect("the image exists");
    assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG");
}
