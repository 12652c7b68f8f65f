//! Sphinx's `conf.py`, read as Sphinx reads it, for the sphinx profile: finding the source
//! directory of a page (the nearest ancestor holding `conf.py`), executing `conf.py` in a
//! separate, short-lived interpreter (its directory as working directory, `__file__` and
//! `tags` set, as `sphinx.config.eval_config_file` does; bounded by a timeout; what it
//! prints kept apart from the answer) and turning its answer into the page's [`Reading`]
//! and default flags.
//!
//! Executing `conf.py` runs the project's code: the editor does it only when execution is
//! allowed (callers decide; nothing here runs on its own). [`SphinxConf::from_answer`] is
//! pure, so what a given answer means is tested without Python.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde::Deserialize;

use super::profile::{PageProfile, ProfileSource};
use crate::engine::flags::FlagSet;
use crate::engine::profile::{Profile, Reading};

/// What objgraph-doctest needs of a Sphinx project's configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SphinxConf {
    /// The `conf.py` read.
    pub path: PathBuf,
    /// `extensions`, as listed.
    pub extensions: Vec<String>,
    pub global_setup: String,
    pub global_cleanup: String,
    /// `doctest_default_flags` as CPython's bits (Sphinx's default: ELLIPSIS |
    /// IGNORE_EXCEPTION_DETAIL | DONT_ACCEPT_TRUE_FOR_1).
    pub default_flags: FlagSet,
    /// `doctest_test_doctest_blocks`: the group of standard doctest blocks; `None` when
    /// set to `''` (doctest blocks are not tested).
    pub doctest_blocks_group: Option<String>,
    /// `trim_doctest_flags`: only how pages are rendered (flags hidden from `>>>` lines);
    /// it changes nothing that is tested.
    pub trim_doctest_flags: bool,
    /// `doctest_path`: directories Sphinx puts in front of `sys.path`, resolved against
    /// the configuration's directory.
    pub sys_path: Vec<PathBuf>,
    /// Problems with values that were read anyway (a bit no flag has, a value of the wrong
    /// type), with how to fix them.
    pub warnings: Vec<String>,
}

/// Sphinx's `doctest_default_flags` default.
pub fn sphinx_default_flags() -> FlagSet {
    use crate::engine::flags::Flag;
    FlagSet::EMPTY
        .with(Flag::ELLIPSIS)
        .with(Flag::IGNORE_EXCEPTION_DETAIL)
        .with(Flag::DONT_ACCEPT_TRUE_FOR_1)
}

/// The bits of CPython's own option flags (`DONT_ACCEPT_TRUE_FOR_1` … `FAIL_FAST`), which
/// are the same bits in our [`FlagSet`].
const CPYTHON_FLAG_BITS: u64 = (1 << 11) - 1;

impl SphinxConf {
    /// Whether the project runs Sphinx's doctest builder (`sphinx.ext.doctest` is among
    /// its extensions).
    pub fn has_doctest_extension(&self) -> bool {
        self.extensions
            .iter()
            .any(|extension| extension == "sphinx.ext.doctest")
    }

    /// Puts what decides how pages are read into `reading`.
    pub fn apply(&self, reading: &mut Reading) {
        reading.sphinx_doctest_blocks_group = self.doctest_blocks_group.clone();
        reading.sphinx_global_setup = self.global_setup.clone();
        reading.sphinx_global_cleanup = self.global_cleanup.clone();
    }

    /// The sphinx profile of a page of this project: its reading with this configuration,
    /// `base_flags` (the configuration's `optionflags` and `-o`) plus
    /// `doctest_default_flags`, `doctest_path` on `sys.path`, and conf.py as the source.
    pub fn page_profile(&self, base_flags: FlagSet) -> PageProfile {
        let mut profile = PageProfile::of(Profile::Sphinx, base_flags);
        self.apply(&mut profile.reading);
        profile.default_flags = FlagSet::from_bits(base_flags.bits() | self.default_flags.bits());
        profile.sys_path = self.sys_path.clone();
        profile.sources.push(ProfileSource {
            path: self.path.clone(),
            what: "Sphinx's configuration (doctest_global_setup, doctest_default_flags, ...)"
                .to_owned(),
        });
        profile
    }

    /// Reads the interpreter's answer (see `CONF_READER`) about `path`.
    pub fn from_answer(path: &Path, answer: &str) -> Result<SphinxConf, String> {
        let answer: Answer = serde_json::from_str(answer).map_err(|error| {
            format!("{}: unreadable answer from Python: {error}", path.display())
        })?;
        if let Some(error) = answer.error {
            let place = match (error.line, error.column) {
                (Some(line), Some(column)) => format!("{}:{line}:{column}", path.display()),
                (Some(line), None) => format!("{}:{line}", path.display()),
                _ => path.display().to_string(),
            };
            return Err(format!(
                "{place}: Sphinx's configuration cannot be read: {}; fix conf.py (sphinx-build \
                 would stop here too)",
                error.message.trim_end()
            ));
        }
        let mut warnings = Vec::new();
        let text_value = |name: &str,
                          value: Option<serde_json::Value>,
                          warnings: &mut Vec<String>| {
            match value {
                None | Some(serde_json::Value::Null) => None,
                Some(serde_json::Value::String(text)) => Some(text),
                Some(other) => {
                    warnings.push(format!(
                        "{}: {name} should be a string, not {other}; ignored",
                        path.display()
                    ));
                    None
                }
            }
        };
        let default_flags = match answer.doctest_default_flags {
            None | Some(serde_json::Value::Null) => sphinx_default_flags(),
            Some(serde_json::Value::Number(number)) if number.as_u64().is_some() => {
                let bits = number.as_u64().unwrap_or(0);
                if bits & !CPYTHON_FLAG_BITS != 0 {
                    warnings.push(format!(
                        "{}: doctest_default_flags has bits ({:#x}) that are not CPython's \
                         doctest flags; they are ignored",
                        path.display(),
                        bits & !CPYTHON_FLAG_BITS
                    ));
                }
                FlagSet::from_bits(u128::from(bits & CPYTHON_FLAG_BITS))
            }
            Some(other) => {
                warnings.push(format!(
                    "{}: doctest_default_flags should be an int (doctest.ELLIPSIS | ...), not \
                     {other}; Sphinx's default is used",
                    path.display()
                ));
                sphinx_default_flags()
            }
        };
        let blocks = text_value(
            "doctest_test_doctest_blocks",
            answer.doctest_test_doctest_blocks,
            &mut warnings,
        );
        let doctest_blocks_group = match blocks {
            None => Some("default".to_owned()),
            Some(group) if group.is_empty() => None,
            Some(group) => Some(group),
        };
        let directory = path.parent().unwrap_or(Path::new("."));
        Ok(SphinxConf {
            path: path.to_owned(),
            extensions: answer.extensions.unwrap_or_default(),
            global_setup: text_value(
                "doctest_global_setup",
                answer.doctest_global_setup,
                &mut warnings,
            )
            .unwrap_or_default(),
            global_cleanup: text_value(
                "doctest_global_cleanup",
                answer.doctest_global_cleanup,
                &mut warnings,
            )
            .unwrap_or_default(),
            default_flags,
            doctest_blocks_group,
            trim_doctest_flags: answer.trim_doctest_flags.unwrap_or(true),
            sys_path: answer
                .doctest_path
                .unwrap_or_default()
                .into_iter()
                .map(|entry| directory.join(entry))
                .collect(),
            warnings,
        })
    }
}

/// The interpreter's answer, as `CONF_READER` prints it.
#[derive(Debug, Deserialize)]
struct Answer {
    #[serde(default)]
    error: Option<AnswerError>,
    #[serde(default)]
    extensions: Option<Vec<String>>,
    #[serde(default)]
    doctest_global_setup: Option<serde_json::Value>,
    #[serde(default)]
    doctest_global_cleanup: Option<serde_json::Value>,
    #[serde(default)]
    doctest_default_flags: Option<serde_json::Value>,
    #[serde(default)]
    doctest_test_doctest_blocks: Option<serde_json::Value>,
    #[serde(default)]
    trim_doctest_flags: Option<bool>,
    #[serde(default)]
    doctest_path: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
struct AnswerError {
    message: String,
    line: Option<usize>,
    column: Option<usize>,
}

/// Executes conf.py as `sphinx.config.eval_config_file` does and prints the values we read
/// as one JSON object on the file descriptor that was stdout; conf.py's own output goes to
/// stderr.
const CONF_READER: &str = r#"
import json, os, sys, traceback
answer_fd = os.dup(1)
os.dup2(2, 1)
sys.stdout = sys.stderr

class Tags:
    """What conf.py sees as `tags` (no tags are set)."""
    def __init__(self):
        self.tags = {}
    def has(self, tag):
        return tag in self.tags
    __contains__ = has
    def add(self, tag):
        self.tags[tag] = True
    def remove(self, tag):
        self.tags.pop(tag, None)
    def __iter__(self):
        return iter(self.tags)
    def eval_condition(self, condition):
        return False

path = sys.argv[1]
namespace = {"__file__": path, "tags": Tags()}
answer = {}
try:
    os.chdir(os.path.dirname(path) or ".")
    with open(path, "rb") as file:
        code = compile(file.read(), path, "exec")
    exec(code, namespace)
except SyntaxError as error:
    answer["error"] = {"message": "syntax error: %s" % (error.msg,), "line": error.lineno, "column": error.offset}
except SystemExit:
    answer["error"] = {"message": "conf.py called sys.exit()", "line": None, "column": None}
except BaseException as error:
    line = None
    for frame in traceback.extract_tb(error.__traceback__):
        if frame.filename == path:
            line = frame.lineno
    answer["error"] = {"message": "%s: %s" % (type(error).__name__, error), "line": line, "column": None}
if "error" not in answer:
    def plain(value):
        if isinstance(value, (str, int, bool)) or value is None:
            return value
        return repr(value)
    extensions = namespace.get("extensions", [])
    answer["extensions"] = [str(name) for name in extensions] if isinstance(extensions, (list, tuple)) else []
    for name in ("doctest_global_setup", "doctest_global_cleanup", "doctest_default_flags", "doctest_test_doctest_blocks"):
        if name in namespace:
            answer[name] = plain(namespace[name])
    if "trim_doctest_flags" in namespace:
        answer["trim_doctest_flags"] = bool(namespace["trim_doctest_flags"])
    doctest_path = namespace.get("doctest_path", [])
    if isinstance(doctest_path, (list, tuple)):
        answer["doctest_path"] = [os.fspath(entry) for entry in doctest_path]
os.write(answer_fd, json.dumps(answer).encode("utf-8"))
os.close(answer_fd)
os._exit(0)
"#;

/// The `conf.py` of the Sphinx project a page belongs to: in the page's directory or the
/// nearest ancestor that has one.
pub fn find_conf_py(page: &Path) -> Option<PathBuf> {
    let start = if page.is_dir() { page } else { page.parent()? };
    start
        .ancestors()
        .map(|directory| directory.join("conf.py"))
        .find(|candidate| candidate.is_file())
}

/// Executes `conf_py` with `python` (in its own process group, killed after `timeout`) and
/// reads Sphinx's doctest settings from it. Runs the project's code: call it only where
/// execution is allowed.
pub fn read_sphinx_conf(
    conf_py: &Path,
    python: &Path,
    timeout: Duration,
) -> Result<SphinxConf, String> {
    use std::os::unix::process::CommandExt;
    let conf_py =
        std::path::absolute(conf_py).map_err(|error| format!("{}: {error}", conf_py.display()))?;
    let directory = conf_py.parent().unwrap_or(Path::new("/"));
    let mut command = Command::new(python);
    command
        .arg("-c")
        .arg(CONF_READER)
        .arg(&conf_py)
        .current_dir(directory)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    // Known to the binary's orphan reaper (a child it does not know of is killed).
    let mut owned = crate::backend::worker::OwnedChild::spawn(&mut command).map_err(|error| {
        format!(
            "{}: cannot start {} to read it: {error}",
            conf_py.display(),
            python.display()
        )
    })?;
    let child = owned.child();
    let mut stdout = child.stdout.take();
    let mut stderr = child.stderr.take();
    let out = std::thread::spawn(move || {
        let mut text = String::new();
        if let Some(pipe) = stdout.as_mut() {
            let _ = pipe.read_to_string(&mut text);
        }
        text
    });
    let err = std::thread::spawn(move || {
        let mut bytes = Vec::new();
        if let Some(pipe) = stderr.as_mut() {
            let _ = pipe.take(64 * 1024).read_to_end(&mut bytes);
            let _ = std::io::copy(pipe, &mut std::io::sink());
        }
        String::from_utf8_lossy(&bytes).into_owned()
    });
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if Instant::now() >= deadline => break None,
            // conf.py takes tens of milliseconds, and pages wait for it: look often.
            Ok(None) => std::thread::sleep(Duration::from_millis(1)),
            Err(error) => return Err(format!("{}: {error}", conf_py.display())),
        }
    };
    // Whatever conf.py started goes with it.
    let _ = nix::sys::signal::killpg(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGKILL,
    );
    let _ = child.wait();
    let answer = out.join().unwrap_or_default();
    let printed = err.join().unwrap_or_default();
    if status.is_none() {
        return Err(format!(
            "{}: reading Sphinx's configuration took longer than {:.1} s and was stopped; \
             make conf.py quicker to import",
            conf_py.display(),
            timeout.as_secs_f64()
        ));
    }
    if answer.trim().is_empty() {
        return Err(format!(
            "{}: {} ended without an answer while reading it{}",
            conf_py.display(),
            python.display(),
            if printed.trim().is_empty() {
                String::new()
            } else {
                format!(":\n{}", printed.trim_end())
            }
        ));
    }
    SphinxConf::from_answer(&conf_py, &answer)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::flags::Flag;

    #[test]
    fn answer_to_reading_and_flags() {
        let conf = SphinxConf::from_answer(
            Path::new("/p/docs/conf.py"),
            r#"{"extensions": ["sphinx.ext.doctest"], "doctest_global_setup": "import os",
                "doctest_default_flags": 12, "doctest_test_doctest_blocks": "",
                "doctest_path": ["../src"]}"#,
        )
        .expect("reads");
        assert!(conf.has_doctest_extension());
        assert_eq!(
            conf.default_flags,
            FlagSet::EMPTY
                .with(Flag::ELLIPSIS)
                .with(Flag::NORMALIZE_WHITESPACE)
        );
        assert_eq!(conf.sys_path, vec![PathBuf::from("/p/docs/../src")]);
        let mut reading = Reading::of(Profile::Sphinx);
        conf.apply(&mut reading);
        assert_eq!(reading.sphinx_doctest_blocks_group, None);
        assert_eq!(reading.sphinx_global_setup, "import os");
        assert!(conf.trim_doctest_flags);
        let profile = conf.page_profile(FlagSet::EMPTY.with(Flag::FAIL_FAST));
        assert_eq!(profile.profile(), Profile::Sphinx);
        assert_eq!(profile.reading, reading);
        assert!(profile.default_flags.contains(Flag::FAIL_FAST));
        assert!(profile.default_flags.contains(Flag::ELLIPSIS));
        assert_eq!(profile.sys_path, conf.sys_path);
    }

    #[test]
    fn defaults_and_errors() {
        let conf = SphinxConf::from_answer(Path::new("conf.py"), "{}").expect("reads");
        assert_eq!(conf.default_flags, sphinx_default_flags());
        assert_eq!(conf.doctest_blocks_group.as_deref(), Some("default"));
        assert!(!conf.has_doctest_extension());
        let error = SphinxConf::from_answer(
            Path::new("docs/conf.py"),
            r#"{"error": {"message": "NameError: name 'x' is not defined", "line": 3, "column": null}}"#,
        )
        .unwrap_err();
        assert!(error.starts_with("docs/conf.py:3: "), "{error}");
        let odd = SphinxConf::from_answer(
            Path::new("conf.py"),
            r#"{"doctest_default_flags": 4096, "doctest_global_setup": 3}"#,
        )
        .expect("reads");
        assert_eq!(odd.warnings.len(), 2, "{:?}", odd.warnings);
    }

    #[test]
    fn reads_a_real_conf_py() {
        let dir = tempfile::tempdir().expect("temp dir");
        let conf = dir.path().join("conf.py");
        std::fs::write(
            &conf,
            "import os\nprint('noise')\nextensions = ['sphinx.ext.doctest']\n\
             here = os.path.basename(os.getcwd())\ndoctest_global_setup = 'HERE = %r' % here\n\
             if tags.has('x'):\n    extensions = []\n",
        )
        .expect("write");
        let python = PathBuf::from(
            std::env::var("OBJGRAPH_DOCTEST_TEST_PYTHON").unwrap_or_else(|_| "python3".into()),
        );
        let read = read_sphinx_conf(&conf, &python, Duration::from_secs(20)).expect("reads");
        assert!(read.has_doctest_extension());
        let name = dir
            .path()
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("");
        assert_eq!(
            read.global_setup,
            format!("HERE = {name:?}").replace('"', "'")
        );
        assert_eq!(
            find_conf_py(&dir.path().join("page.rst")),
            Some(conf.clone())
        );

        std::fs::write(&conf, "x = 1\nraise ValueError('bad')\n").expect("write");
        let error = read_sphinx_conf(&conf, &python, Duration::from_secs(20)).unwrap_err();
        assert!(
            error.contains("conf.py:2: ") && error.contains("ValueError: bad"),
            "{error}"
        );

        std::fs::write(&conf, "import time\ntime.sleep(30)\n").expect("write");
        let error = read_sphinx_conf(&conf, &python, Duration::from_millis(300)).unwrap_err();
        assert!(error.contains("longer than"), "{error}");
    }
}
