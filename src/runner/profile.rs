//! Which runner's rules each page follows, and why: the page's [`PageProfile`] (how it is
//! read, its default flags, what is prepended to `sys.path`, whether the page stops at its
//! first failure) and the files that decided it ([`ProfileSource`]).
//!
//! In order, a page's profile is decided by: the first `[[profiles]]` entry of our
//! configuration whose `paths` globs match it; our `profile` key; detection: `sphinx` for a
//! page under a Sphinx source directory whose conf.py enables `sphinx.ext.doctest`;
//! `pytest` or `doctestplus` for a file the project's pytest configuration collects as a
//! doctest file (`--doctest-glob`, `--doctest-rst`, `doctest_plus = enabled`, pytest's
//! rootdir rules); else `doctest`, CPython's `DocFileSuite`. [`Profiles`] resolves and
//! caches them, once per page; both front ends ask it, for parsing and for running, so a
//! page is read and judged the same way in the CLI and in the editor.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use crate::engine::flags::{FlagRegistry, FlagSet};
use crate::engine::{Profile, Reading};

use super::config::Config;
use super::pytest_config::{Collector, PytestConfigError, PytestSettings, PytestSetup};
use super::sphinx_conf::{SphinxConf, read_sphinx_conf, sphinx_default_flags};

/// A file that took part in deciding a page's profile, and what it said.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ProfileSource {
    pub path: PathBuf,
    /// What it decided, for people: `profile = "pytest"`, `line 2: addopts = ...`.
    pub what: String,
}

/// How one page is read and run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageProfile {
    pub reading: Reading,
    /// What decided the profile and its settings (empty: nothing did, the defaults apply).
    pub sources: Vec<ProfileSource>,
    /// The flags every example starts from (before its own directives).
    pub default_flags: FlagSet,
    /// Prepended to `sys.path` in the page's process (before `setup` runs).
    pub sys_path: Vec<PathBuf>,
    /// pytest's runner raises at the first failure: later examples are not run.
    pub stop_at_first_failure: bool,
}

impl PageProfile {
    /// `DocFileSuite`'s reading with `default_flags`, decided by nothing but defaults.
    pub fn doctest(default_flags: FlagSet) -> PageProfile {
        PageProfile::of(Profile::Doctest, default_flags)
    }

    /// `profile`'s reading on top of `base_flags`, with no configuration of its runner.
    pub fn of(profile: Profile, base_flags: FlagSet) -> PageProfile {
        let default_flags = match profile {
            // pytest-doctestplus adds FIX to every text file's flags.
            Profile::Doctestplus => crate::engine::doctestplus::text_file_flags(base_flags),
            _ => base_flags,
        };
        PageProfile {
            reading: Reading::of(profile),
            sources: Vec::new(),
            default_flags,
            sys_path: Vec::new(),
            stop_at_first_failure: false,
        }
    }

    pub fn profile(&self) -> Profile {
        self.reading.profile
    }
}

/// One `[[profiles]]` entry of our configuration: pages matching `paths` follow `profile`.
#[derive(Debug, Clone)]
pub struct ProfileRule {
    /// The globs as written (relative to the configuration's directory).
    pub patterns: Vec<String>,
    pub globs: globset::GlobSet,
    pub profile: Profile,
    /// Where the entry is written, for sources and messages.
    pub line: usize,
}

/// A problem with the configurations that decide profiles.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProfileError {
    #[error(transparent)]
    Pytest(#[from] PytestConfigError),
}

/// The profile of every page of a run (or of an editor's workspace), resolved once per page.
#[derive(Debug)]
pub struct Profiles {
    /// Our configuration's file and its directory (globs are relative to it).
    config_source: Option<PathBuf>,
    config_root: PathBuf,
    rules: Vec<ProfileRule>,
    configured: Option<Profile>,
    /// The flags our configuration and the command line set for every page.
    base_flags: FlagSet,
    registry: FlagRegistry,
    /// The project's pytest configuration, when it has one.
    pytest: Option<Arc<PytestSettings>>,
    /// The paths the run was given, absolute (pytest tests any `.txt`/`.rst` it is given).
    arguments: Vec<PathBuf>,
    /// Configuration files not used, and why.
    pub warnings: Vec<String>,
    cache: Mutex<HashMap<PathBuf, Arc<PageProfile>>>,
    /// The interpreter that may execute Sphinx's conf.py, once a front end allows it
    /// (the CLI; the editor never does): then conf.py is read as Sphinx reads it.
    conf_python: std::sync::OnceLock<PathBuf>,
    /// Each conf.py read, once.
    sphinx_confs: Mutex<HashMap<PathBuf, Result<Arc<SphinxConf>, String>>>,
}

/// Longest Sphinx's conf.py may take to execute.
const SPHINX_CONF_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

impl Profiles {
    /// The profiles of the project at `config.root`, as `pytest` run there with no
    /// arguments sees it; `base_flags` are our `optionflags` and `-o`.
    /// pytest-doctestplus's FLOAT_CMP tolerances (rtol, atol) from the pytest
    /// configuration, when there is one (doctestplus keeps one pair for the whole run).
    pub fn float_tolerance(&self) -> Option<(f64, f64)> {
        self.pytest
            .as_deref()
            .map(|settings| (settings.plus_rtol, settings.plus_atol))
    }

    /// The registry examples are judged with: `registry` with the FLOAT_CMP tolerances of
    /// the project's pytest configuration, comparing as `numpy.isclose` when the interpreter
    /// has numpy (`numpy`), as pytest-doctestplus does. Both front ends judge with it.
    pub fn judging_registry(&self, registry: &FlagRegistry, numpy: bool) -> FlagRegistry {
        let mut registry = registry.with_numpy_isclose(numpy);
        if let Some((rtol, atol)) = self.float_tolerance() {
            registry.set_float_tolerance(crate::engine::doctestplus::FloatTolerance {
                rtol,
                atol,
                numpy_isclose: numpy,
            });
        }
        registry
    }

    pub fn new(config: &Config, base_flags: FlagSet) -> Result<Profiles, ProfileError> {
        let root = std::slice::from_ref(&config.root);
        Profiles::for_run(config, base_flags, root, &config.root)
    }

    /// Profiles for a run over `arguments` (the paths given; the directory searched when
    /// none), started in `invocation_dir`: pytest's configuration is the one `pytest
    /// ARGUMENTS...` would use from there.
    pub fn for_run(
        config: &Config,
        base_flags: FlagSet,
        arguments: &[PathBuf],
        invocation_dir: &Path,
    ) -> Result<Profiles, ProfileError> {
        let registry = &config.flag_registry();
        let arguments: Vec<PathBuf> = arguments
            .iter()
            .map(|path| absolute(path, invocation_dir))
            .collect();
        let setup = PytestSetup::determine(&arguments, invocation_dir)?;
        let mut warnings = setup.warnings.clone();
        let pytest = if setup.configured {
            let env = std::env::var("PYTEST_ADDOPTS").ok();
            let settings = PytestSettings::from_setup(&setup, env.as_deref())?;
            check_optionflags(&settings, registry)?;
            Some(Arc::new(settings))
        } else {
            None
        };
        if let Some(settings) = &pytest
            && settings.doctest_modules
        {
            warnings.push(format!(
                "{}: --doctest-modules: docstrings in modules are pytest's to test; \
                 objgraph-doctest tests documentation pages only",
                settings.inifile_display()
            ));
        }
        Ok(Profiles {
            config_source: config.source.clone(),
            config_root: config.root.clone(),
            rules: config.profile_rules.clone(),
            configured: config.profile,
            base_flags,
            registry: registry.clone(),
            pytest,
            arguments,
            warnings,
            cache: Mutex::new(HashMap::new()),
            conf_python: std::sync::OnceLock::new(),
            sphinx_confs: Mutex::new(HashMap::new()),
        })
    }

    /// Every page read as `DocFileSuite` reads it, with `base_flags`.
    pub fn doctest(base_flags: FlagSet) -> Profiles {
        Profiles {
            config_source: None,
            config_root: PathBuf::new(),
            rules: Vec::new(),
            configured: Some(Profile::Doctest),
            base_flags,
            registry: FlagRegistry::new(),
            pytest: None,
            arguments: Vec::new(),
            warnings: Vec::new(),
            cache: Mutex::new(HashMap::new()),
            conf_python: std::sync::OnceLock::new(),
            sphinx_confs: Mutex::new(HashMap::new()),
        }
    }

    /// Lets pages' Sphinx conf.py be executed with `python` (as Sphinx does, in a separate
    /// process with a timeout) to read its doctest settings; until then, and if that
    /// fails, conf.py is only read as text. Call before the first `for_page`.
    pub fn execute_sphinx_conf_with(&self, python: &Path) {
        let _ = self.conf_python.set(python.to_path_buf());
    }

    /// conf.py as Sphinx reads it, when executing it is allowed (cached per file).
    fn sphinx_conf(&self, conf: &Path) -> Option<Result<Arc<SphinxConf>, String>> {
        let python = self.conf_python.get()?;
        let mut confs = self
            .sphinx_confs
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        Some(
            confs
                .entry(conf.to_path_buf())
                .or_insert_with(|| {
                    read_sphinx_conf(conf, python, SPHINX_CONF_TIMEOUT).map(Arc::new)
                })
                .clone(),
        )
    }

    /// The flags every page starts with before its profile's own.
    pub fn base_flags(&self) -> FlagSet {
        self.base_flags
    }

    /// The project's pytest configuration, if it has one.
    pub fn pytest(&self) -> Option<&PytestSettings> {
        self.pytest.as_deref()
    }

    /// The profile of the page at `path` (relative to the current directory, or absolute).
    pub fn for_page(&self, path: &Path) -> Arc<PageProfile> {
        let cwd = std::env::current_dir().unwrap_or_default();
        let key = absolute(path, &cwd);
        if let Ok(cache) = self.cache.lock()
            && let Some(profile) = cache.get(&key)
        {
            return Arc::clone(profile);
        }
        let profile = Arc::new(self.resolve(&key));
        if let Ok(mut cache) = self.cache.lock() {
            cache.insert(key, Arc::clone(&profile));
        }
        profile
    }

    fn resolve(&self, path: &Path) -> PageProfile {
        let config_path = self.config_source.clone().unwrap_or_default();
        if let Some(rule) = self.matching_rule(path) {
            let source = ProfileSource {
                path: config_path,
                what: format!(
                    "line {}: [[profiles]] paths = {:?} sets profile = \"{}\"",
                    rule.line, rule.patterns, rule.profile
                ),
            };
            return self.settle_chosen(rule.profile, path, vec![source]);
        }
        if let Some(profile) = self.configured {
            let sources = self
                .config_source
                .iter()
                .map(|path| ProfileSource {
                    path: path.clone(),
                    what: format!("profile = \"{profile}\""),
                })
                .collect();
            return self.settle_chosen(profile, path, sources);
        }
        if let Some(conf) = sphinx_conf_enabling_doctest(path, &self.config_root) {
            match self.sphinx_conf(&conf) {
                Some(Ok(read)) if read.has_doctest_extension() => {
                    let source = ProfileSource {
                        path: conf,
                        what: "a Sphinx source directory whose extensions include \
                               sphinx.ext.doctest (conf.py executed as Sphinx does)"
                            .to_owned(),
                    };
                    let mut page = self.settle(Profile::Sphinx, path, vec![source]);
                    self.apply_sphinx_conf(&mut page, &read);
                    return page;
                }
                // Named in the text, not among the extensions once executed.
                Some(Ok(_)) => {}
                Some(Err(error)) => {
                    let source = ProfileSource {
                        path: conf,
                        what: format!(
                            "a Sphinx source directory whose conf.py names sphinx.ext.doctest \
                             (read as text: executing it failed: {error})"
                        ),
                    };
                    return self.settle(Profile::Sphinx, path, vec![source]);
                }
                None => {
                    let source = ProfileSource {
                        path: conf,
                        what: "a Sphinx source directory whose conf.py names sphinx.ext.doctest \
                               (read as text, not executed)"
                            .to_owned(),
                    };
                    return self.settle(Profile::Sphinx, path, vec![source]);
                }
            }
        }
        if let Some(settings) = &self.pytest {
            let is_argument = self.arguments.iter().any(|argument| argument == path);
            if let Some(collector) = settings.collects(path, is_argument) {
                let profile = match collector {
                    Collector::Pytest => Profile::Pytest,
                    Collector::Doctestplus => Profile::Doctestplus,
                };
                let why = if is_argument
                    && !settings
                        .effective_globs()
                        .iter()
                        .any(|glob| super::pytest_config::fnmatch_ex(glob, path))
                {
                    "pytest tests a .txt or .rst file it is given".to_owned()
                } else {
                    format!(
                        "pytest collects it (--doctest-glob {})",
                        settings.effective_globs().join(" ")
                    )
                };
                let source = ProfileSource {
                    path: settings.inifile.clone().unwrap_or_default(),
                    what: why,
                };
                return self.settle(profile, path, vec![source]);
            }
        }
        self.settle(Profile::Doctest, path, Vec::new())
    }

    /// A profile the configuration chose for `path`: for `sphinx`, the page's conf.py (the
    /// nearest one above it) still says the builder's settings, where it may be executed.
    fn settle_chosen(
        &self,
        profile: Profile,
        path: &Path,
        mut sources: Vec<ProfileSource>,
    ) -> PageProfile {
        if profile != Profile::Sphinx {
            return self.settle(profile, path, sources);
        }
        let conf = crate::runner::sphinx_conf::find_conf_py(path)
            // Never a conf.py above the project.
            .filter(|conf| conf.starts_with(&self.config_root));
        let read = conf.as_ref().and_then(|conf| self.sphinx_conf(conf));
        match (conf, read) {
            (Some(conf), Some(Ok(read))) => {
                sources.push(ProfileSource {
                    path: conf,
                    what: "its doctest settings (conf.py executed as Sphinx does)".to_owned(),
                });
                let mut page = self.settle(profile, path, sources);
                self.apply_sphinx_conf(&mut page, &read);
                page
            }
            (Some(conf), Some(Err(error))) => {
                sources.push(ProfileSource {
                    path: conf,
                    what: format!("not used: executing it failed: {error}"),
                });
                self.settle(profile, path, sources)
            }
            _ => self.settle(profile, path, sources),
        }
    }

    /// conf.py's reading, default flags (which replace Sphinx's own) and `sys.path`.
    fn apply_sphinx_conf(&self, page: &mut PageProfile, read: &SphinxConf) {
        read.apply(&mut page.reading);
        page.default_flags = FlagSet::from_bits(self.base_flags.bits() | read.default_flags.bits());
        page.sys_path = read.sys_path.clone();
    }

    fn matching_rule(&self, path: &Path) -> Option<&ProfileRule> {
        let relative = path.strip_prefix(&self.config_root).ok()?;
        self.rules.iter().find(|rule| rule.globs.is_match(relative))
    }

    /// The profile's settings for `path`: its runner's defaults, then what the runner's
    /// configuration says, then our flags.
    fn settle(
        &self,
        profile: Profile,
        path: &Path,
        mut sources: Vec<ProfileSource>,
    ) -> PageProfile {
        let registry = profile.registry(&self.registry);
        let mut page = PageProfile {
            reading: Reading::of(profile),
            sources: Vec::new(),
            default_flags: self.base_flags,
            sys_path: Vec::new(),
            stop_at_first_failure: false,
        };
        match profile {
            Profile::Doctest => {}
            Profile::Sphinx => {
                // sphinx.ext.doctest's `doctest_default_flags` default (conf.py's own, when
                // it is executed, replaces it: see `resolve`).
                page.default_flags =
                    FlagSet::from_bits(page.default_flags.bits() | sphinx_default_flags().bits());
            }
            Profile::Pytest | Profile::Doctestplus => {
                let settings = self.pytest.as_deref();
                let default: &[&str] = if profile == Profile::Pytest {
                    &["ELLIPSIS"]
                } else {
                    // pytest-doctestplus registers its own default for the same key.
                    &["ELLIPSIS", "NORMALIZE_WHITESPACE"]
                };
                let names: Vec<String> = settings
                    .and_then(|settings| settings.optionflags.clone())
                    .unwrap_or_else(|| default.iter().map(|name| (*name).to_owned()).collect());
                // Checked when the configuration was read (`check_optionflags`).
                if let Ok(flags) = optionflags(profile, &registry, &names) {
                    page.default_flags =
                        FlagSet::from_bits(page.default_flags.bits() | flags.bits());
                }
                if let Some(settings) = settings {
                    page.stop_at_first_failure = !settings.continue_on_failure;
                    page.sys_path = pytest_sys_path(settings, path);
                    let inifile = settings.inifile.clone().unwrap_or_default();
                    for setting in &settings.sources {
                        sources.push(ProfileSource {
                            path: inifile.clone(),
                            what: format!("line {}: {}", setting.line, setting.said),
                        });
                    }
                } else {
                    page.stop_at_first_failure = true;
                }
                if profile == Profile::Doctestplus {
                    // pytest-doctestplus adds FIX to every text file's flags.
                    page.default_flags =
                        crate::engine::doctestplus::text_file_flags(page.default_flags);
                    page.reading.remote_data =
                        settings.is_some_and(|settings| settings.remote_data);
                }
            }
        }
        page.sources = sources;
        page
    }
}

/// pytest's `doctest_optionflags` as a set: pytest's own lookup table (CPython's comparison
/// flags, `COMPARISON_FLAGS`, `NUMBER`, `ALLOW_UNICODE`, `ALLOW_BYTES`; not `SKIP` or the
/// `REPORT_*` flags); with pytest-doctestplus, any registered doctest option name.
fn optionflags(
    profile: Profile,
    registry: &FlagRegistry,
    names: &[String],
) -> Result<FlagSet, String> {
    const PYTEST_NAMES: [&str; 8] = [
        "DONT_ACCEPT_TRUE_FOR_1",
        "DONT_ACCEPT_BLANKLINE",
        "NORMALIZE_WHITESPACE",
        "ELLIPSIS",
        "IGNORE_EXCEPTION_DETAIL",
        "ALLOW_UNICODE",
        "ALLOW_BYTES",
        "NUMBER",
    ];
    const COMPARISON_FLAGS: [&str; 5] = [
        "DONT_ACCEPT_TRUE_FOR_1",
        "DONT_ACCEPT_BLANKLINE",
        "NORMALIZE_WHITESPACE",
        "ELLIPSIS",
        "IGNORE_EXCEPTION_DETAIL",
    ];
    let mut set = FlagSet::EMPTY;
    for name in names {
        let expanded: Vec<&str> = if name == "COMPARISON_FLAGS" {
            COMPARISON_FLAGS.to_vec()
        } else {
            vec![name.as_str()]
        };
        for one in expanded {
            let allowed = profile == Profile::Doctestplus || PYTEST_NAMES.contains(&one);
            match registry.lookup(one).filter(|_| allowed) {
                Some(flag) => set = set.with(flag),
                None => {
                    return Err(if profile == Profile::Doctestplus {
                        format!(
                            "doctest_optionflags: {name:?} is not a doctest option flag \
                             (pytest-doctestplus fails with KeyError: '{name}')"
                        )
                    } else {
                        format!(
                            "doctest_optionflags: pytest does not know {name:?} (it fails every \
                             doctest with KeyError: '{name}'); use {} or COMPARISON_FLAGS",
                            PYTEST_NAMES.join(", ")
                        )
                    });
                }
            }
        }
    }
    Ok(set)
}

/// An unknown `doctest_optionflags` name fails every doctest in pytest: an error here, at
/// its line.
fn check_optionflags(
    settings: &PytestSettings,
    registry: &FlagRegistry,
) -> Result<(), ProfileError> {
    let Some(names) = &settings.optionflags else {
        return Ok(());
    };
    let profile = if settings.doctestplus_active() {
        Profile::Doctestplus
    } else {
        Profile::Pytest
    };
    optionflags(profile, &profile.registry(registry), names)
        .map(|_| ())
        .map_err(|message| {
            ProfileError::Pytest(PytestConfigError {
                path: settings.inifile.clone().unwrap_or_default(),
                line: settings.optionflags_line,
                column: 1,
                message,
            })
        })
}

/// What pytest puts before `sys.path` for a text file: its `pythonpath` entries, and (in
/// its default `prepend` import mode) the directory of each conftest.py from the rootdir
/// down to the page's directory, the deepest first.
fn pytest_sys_path(settings: &PytestSettings, page: &Path) -> Vec<PathBuf> {
    let mut conftests: Vec<PathBuf> = page
        .parent()
        .into_iter()
        .flat_map(Path::ancestors)
        .take_while(|directory| directory.starts_with(&settings.rootdir))
        .filter(|directory| directory.join("conftest.py").is_file())
        .map(Path::to_path_buf)
        .collect();
    conftests.extend(settings.pythonpath.iter().cloned());
    let mut seen = std::collections::HashSet::new();
    conftests.retain(|path| seen.insert(path.clone()));
    conftests
}

/// The conf.py of the Sphinx source directory `page` is in, when it enables
/// `sphinx.ext.doctest` and the page is one of its sources. Read as text, never run: an
/// `extensions` list that names the extension in quotes (outside comments) enables it.
pub fn sphinx_conf_enabling_doctest(page: &Path, project_root: &Path) -> Option<PathBuf> {
    for directory in page.parent()?.ancestors() {
        let conf = directory.join("conf.py");
        if conf.is_file() {
            let text = super::read::read_regular_file(&conf)
                .ok()
                .map(|read| String::from_utf8_lossy(&read.bytes).into_owned())?;
            return (conf_enables_doctest(&text) && is_sphinx_source(page, &text)).then_some(conf);
        }
        if directory == project_root || super::config::is_project_root(directory) {
            break;
        }
    }
    None
}

/// True when conf.py's text names `sphinx.ext.doctest` in quotes on a line that is not a
/// comment.
pub fn conf_enables_doctest(text: &str) -> bool {
    text.lines().any(|line| {
        let code = line.split('#').next().unwrap_or("");
        code.contains("'sphinx.ext.doctest'") || code.contains("\"sphinx.ext.doctest\"")
    })
}

/// Sphinx reads `.rst` by default; other suffixes only when conf.py names them (and `.md`
/// only with MyST).
fn is_sphinx_source(page: &Path, conf: &str) -> bool {
    let Some(extension) = page.extension().and_then(|ext| ext.to_str()) else {
        return false;
    };
    if extension == "rst" {
        return true;
    }
    let named =
        conf.contains(&format!("'.{extension}'")) || conf.contains(&format!("\".{extension}\""));
    if extension == "md" {
        return conf.contains("myst_parser") || conf.contains("myst_nb");
    }
    named
}

fn absolute(path: &Path, base: &Path) -> PathBuf {
    let joined = if path.is_absolute() {
        path.to_path_buf()
    } else {
        base.join(path)
    };
    // Lexical clean-up (`.` and `..`) without touching the file system.
    let mut clean = PathBuf::new();
    for component in joined.components() {
        match component {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                clean.pop();
            }
            other => clean.push(other),
        }
    }
    clean
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Flag;

    fn project(files: &[(&str, &str)]) -> tempfile::TempDir {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
        std::fs::create_dir(dir.path().join(".git")).unwrap();
        for (path, text) in files {
            let path = dir.path().join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        dir
    }

    fn profiles(dir: &Path) -> Profiles {
        let config = Config::discover(dir).unwrap();
        let base = config.default_flags(&config.flag_registry()).unwrap();
        Profiles::new(&config, base).unwrap()
    }

    #[test]
    fn doctest_unless_configured() {
        let flags = FlagSet::EMPTY.with(Flag::ELLIPSIS);
        let page = Profiles::doctest(flags).for_page(Path::new("docs/a.txt"));
        assert_eq!(page.profile(), Profile::Doctest);
        assert_eq!(page.default_flags, flags);
        assert!(page.sources.is_empty());
    }

    #[test]
    fn no_configuration_is_doctest() {
        let dir = project(&[("docs/a.txt", ">>> 1\n1\n"), ("test_b.txt", "")]);
        let profiles = profiles(dir.path());
        for page in ["docs/a.txt", "test_b.txt"] {
            let profile = profiles.for_page(&dir.path().join(page));
            assert_eq!(profile.profile(), Profile::Doctest, "{page}");
            assert!(profile.sources.is_empty());
            assert_eq!(profile.default_flags, FlagSet::EMPTY);
            assert!(!profile.stop_at_first_failure);
        }
    }

    #[test]
    fn pytest_globs_decide_and_say_why() {
        let dir = project(&[
            (
                "pytest.ini",
                "[pytest]\naddopts = --doctest-glob=*.md\ndoctest_optionflags = NUMBER\npythonpath = src\n",
            ),
            ("conftest.py", ""),
        ]);
        let profiles = profiles(dir.path());
        let page = profiles.for_page(&dir.path().join("docs/guide.md"));
        assert_eq!(page.profile(), Profile::Pytest);
        assert!(page.stop_at_first_failure);
        let registry = Profile::Pytest.registry(&FlagRegistry::new());
        assert!(
            page.default_flags
                .contains(registry.lookup("NUMBER").unwrap())
        );
        assert!(!page.default_flags.contains(Flag::ELLIPSIS));
        assert_eq!(
            page.sys_path,
            [dir.path().to_path_buf(), dir.path().join("src")]
        );
        assert!(page.sources[0].path.ends_with("pytest.ini"));
        assert!(page.sources[0].what.contains("*.md"), "{:?}", page.sources);
        assert!(
            page.sources
                .iter()
                .any(|source| source.what == "line 2: addopts = --doctest-glob=*.md")
        );
        let other = profiles.for_page(&dir.path().join("docs/notes.txt"));
        assert_eq!(other.profile(), Profile::Doctest);
    }

    #[test]
    fn pytest_default_flags_and_doctestplus() {
        let dir = project(&[(
            "tox.ini",
            "[pytest]\ndoctest_plus = enabled\naddopts = --doctest-rst --doctest-continue-on-failure\n",
        )]);
        let profiles = profiles(dir.path());
        let page = profiles.for_page(&dir.path().join("docs/a.rst"));
        assert_eq!(page.profile(), Profile::Doctestplus);
        assert!(!page.stop_at_first_failure);
        assert!(page.default_flags.contains(Flag::ELLIPSIS));
        assert!(page.default_flags.contains(Flag::NORMALIZE_WHITESPACE));
        assert_eq!(
            profiles
                .for_page(&dir.path().join("docs/_build/a.rst"))
                .profile(),
            Profile::Doctest
        );
    }

    #[test]
    fn our_settings_come_first() {
        let dir = project(&[
            ("pytest.ini", "[pytest]\naddopts = --doctest-glob=*.md\n"),
            (
                "objgraph-doctest.toml",
                "profile = 'sphinx'\n\n[[profiles]]\npaths = ['docs/**/*.md']\nprofile = 'doctest'\n",
            ),
        ]);
        let profiles = profiles(dir.path());
        let page = profiles.for_page(&dir.path().join("docs/deep/a.md"));
        assert_eq!(page.profile(), Profile::Doctest);
        assert!(
            page.sources[0].what.contains("line 3: [[profiles]]"),
            "{:?}",
            page.sources
        );
        let top = profiles.for_page(&dir.path().join("a.md"));
        assert_eq!(top.profile(), Profile::Sphinx);
        assert_eq!(top.sources[0].what, "profile = \"sphinx\"");
    }

    #[test]
    fn unknown_pytest_optionflags_are_errors_at_their_line() {
        let dir = project(&[(
            "pytest.ini",
            "[pytest]\naddopts = -p no:cacheprovider\ndoctest_optionflags = ELLIPSIS\n    FAIL_FAST\n",
        )]);
        let config = Config::discover(dir.path()).unwrap();
        let error = Profiles::new(&config, FlagSet::EMPTY)
            .unwrap_err()
            .to_string();
        assert!(
            error.contains(
                "pytest.ini:3:1: doctest_optionflags: pytest does not know \"FAIL_FAST\""
            ),
            "{error}"
        );
        let dir = project(&[(
            "pytest.ini",
            "[pytest]\ndoctest_optionflags = COMPARISON_FLAGS\naddopts = --doctest-glob=*.md\n",
        )]);
        let page = profiles(dir.path()).for_page(&dir.path().join("a.md"));
        assert!(page.default_flags.contains(Flag::DONT_ACCEPT_BLANKLINE));
        assert!(page.default_flags.contains(Flag::IGNORE_EXCEPTION_DETAIL));
    }

    #[test]
    fn sphinx_conf_with_the_doctest_extension() {
        let dir = project(&[
            (
                "docs/conf.py",
                "# 'sphinx.ext.doctest' in a comment does not count\nextensions = [\n    \"sphinx.ext.doctest\",\n]\n",
            ),
            (
                "other/conf.py",
                "# extensions = ['sphinx.ext.doctest']\nextensions = []\n",
            ),
        ]);
        let profiles = profiles(dir.path());
        assert_eq!(
            profiles.for_page(&dir.path().join("docs/a.rst")).profile(),
            Profile::Sphinx
        );
        // Sphinx reads .rst unless conf.py says otherwise.
        assert_eq!(
            profiles.for_page(&dir.path().join("docs/a.txt")).profile(),
            Profile::Doctest
        );
        assert_eq!(
            profiles.for_page(&dir.path().join("other/a.rst")).profile(),
            Profile::Doctest
        );
    }
}
