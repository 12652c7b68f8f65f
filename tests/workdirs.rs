//! Each page starts in an empty, private working folder, also when the folder is one an
//! earlier page of the same job used and left empty (src/runner/workdirs.rs). Every page
//! appends what it found to a log outside the folders: the log proves both that folders
//! were used again and that no page ever saw what an earlier one left.

#[path = "common/cli.rs"]
mod cli;
mod common;

use std::collections::HashMap;
use std::path::Path;

use cli::json;

/// A page that logs its working folder, what is in it and in its `.tmp`, and the folder's
/// mode; then, as `leave` says, leaves a file in either, or changes the folder's mode.
fn page(log: &Path, leave: &str) -> String {
    let mut text = format!(
        ">>> import os, stat, time; LOG = {:?}\n\
         >>> found = sorted(os.listdir('.')), sorted(os.listdir(os.environ['TMPDIR']))\n\
         >>> mode = '%o' % stat.S_IMODE(os.stat('.').st_mode)\n\
         >>> _ = open(LOG, 'a').write('%s %r %s\\n' % (os.getcwd(), found, mode))\n",
        log.display().to_string()
    );
    // Long enough for the page before to be gone (and reaped) when the next one starts,
    // so that its folder can surely be used again.
    text.push_str(">>> time.sleep(0.06)\n");
    match leave {
        "file" => text.push_str(">>> _ = open('left.txt', 'w').write('x')\n"),
        "tmp" => text.push_str(
            ">>> _ = open(os.path.join(os.environ['TMPDIR'], 'left.dot'), 'w').write('x')\n",
        ),
        "mode" => text.push_str(">>> os.chmod('.', 0o755)\n"),
        _ => {}
    }
    text
}

#[test]
fn every_page_starts_in_an_empty_private_folder_even_one_used_again() {
    let project = tempfile::tempdir().unwrap();
    let log = project.path().join("log");
    let docs = project.path().join("docs");
    std::fs::create_dir(&docs).unwrap();
    let leaves = [
        "", "", "file", "", "tmp", "", "mode", "", "", "file", "", "",
    ];
    for (number, leave) in leaves.iter().enumerate() {
        std::fs::write(docs.join(format!("page{number:02}.txt")), page(&log, leave)).unwrap();
    }
    let tmp = tempfile::tempdir().unwrap();
    let output = cli::objgraph_doctest(project.path(), tmp.path())
        .args(["--format", "json", "-j", "1", "docs"])
        .output()
        .expect("the binary runs");
    let report = json(&output);
    assert_eq!(report["summary"]["passed"], 12 * 5 + 4, "{report:#}");

    let lines = std::fs::read_to_string(&log).unwrap();
    let lines: Vec<&str> = lines.lines().collect();
    assert_eq!(lines.len(), leaves.len());
    let mut uses: HashMap<&str, usize> = HashMap::new();
    for line in &lines {
        let (folder, rest) = line.split_once(' ').unwrap();
        assert_eq!(
            rest, "(['.tmp'], []) 700",
            "a page found {rest} in {folder}"
        );
        *uses.entry(folder).or_default() += 1;
    }
    assert!(
        uses.values().any(|&count| count > 1),
        "no folder was used again: {lines:#?}"
    );
    assert!(
        uses.len() > 1,
        "the folders pages left files in were used again: {lines:#?}"
    );
}
