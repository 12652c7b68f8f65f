//! Which runner's rules each page follows, and what that runner sets for it.
//!
//! [`Profiles`] answers, for a page's path, with a [`PageProfile`]: how the page is read
//! (the engine's [`Reading`]), the flags every example starts with, what is on `sys.path`,
//! whether the page stops at its first failure, and which configuration files decided it.
//! Both front ends ask it, for parsing and for running, so a page is read and judged the
//! same way in the CLI and in the editor. Answers are cached per page.
//!
//! Today a page's profile is the configuration's `profile` key, else `doctest` (CPython's
//! `DocFileSuite`, as objgraph's tests.py runs its pages).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use crate::engine::{FlagSet, Profile, Reading};

use super::config::Config;

/// A configuration file that decided something about a page, and what.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ProfileSource {
    pub path: PathBuf,
    /// What it decided, for people: `profile = "pytest"`, `--doctest-glob='*.md' in addopts`.
    pub what: String,
}

/// What a page's profile sets for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageProfile {
    /// How the page is read.
    pub reading: Reading,
    /// The configuration files that decided the profile and its settings, in the order read.
    pub sources: Vec<ProfileSource>,
    /// Flags in effect for every example before its own directives: the configuration's
    /// `optionflags` and `-o`, plus what the profile's runner turns on by default.
    pub default_flags: FlagSet,
    /// Directories put first on `sys.path` in the page's process (pytest's rootdir and
    /// `pythonpath`).
    pub sys_path: Vec<PathBuf>,
    /// No example runs after the page's first failure (pytest without
    /// `--doctest-continue-on-failure`).
    pub stop_at_first_failure: bool,
}

impl PageProfile {
    /// `DocFileSuite`'s reading with `default_flags`, decided by nothing but defaults.
    pub fn doctest(default_flags: FlagSet) -> PageProfile {
        PageProfile::of(Profile::Doctest, default_flags)
    }

    /// `profile`'s reading and runner defaults on top of `base_flags`.
    pub fn of(profile: Profile, base_flags: FlagSet) -> PageProfile {
        PageProfile {
            reading: Reading::of(profile),
            sources: Vec::new(),
            default_flags: base_flags,
            sys_path: Vec::new(),
            stop_at_first_failure: false,
        }
    }

    pub fn profile(&self) -> Profile {
        self.reading.profile
    }
}

/// Decides each page's profile; one per run (CLI) or per workspace (editor).
#[derive(Debug)]
pub struct Profiles {
    /// The configuration's `profile` key and the file it is written in.
    configured: Option<(Profile, Option<PathBuf>)>,
    /// The configuration's `optionflags` plus the front end's `-o`.
    base_flags: FlagSet,
    cache: Mutex<HashMap<PathBuf, Arc<PageProfile>>>,
}

impl Profiles {
    /// The profiles `config` gives, with `base_flags` (its `optionflags` and `-o`) for every
    /// page.
    pub fn new(config: &Config, base_flags: FlagSet) -> Profiles {
        Profiles {
            configured: config
                .profile
                .map(|profile| (profile, config.source.clone())),
            base_flags,
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// Every page read as `DocFileSuite` reads it, with `base_flags`.
    pub fn doctest(base_flags: FlagSet) -> Profiles {
        Profiles::new(&Config::default(), base_flags)
    }

    /// The flags every page starts with before its profile's own.
    pub fn base_flags(&self) -> FlagSet {
        self.base_flags
    }

    /// The profile of the page at `path` (as given, relative to the current directory, or
    /// absolute).
    pub fn for_page(&self, path: &Path) -> Arc<PageProfile> {
        let key = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        let mut cache = self
            .cache
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        cache
            .entry(key)
            .or_insert_with(|| Arc::new(self.resolve()))
            .clone()
    }

    fn resolve(&self) -> PageProfile {
        match &self.configured {
            Some((profile, source)) => PageProfile {
                sources: source
                    .iter()
                    .map(|path| ProfileSource {
                        path: path.clone(),
                        what: format!("profile = \"{profile}\""),
                    })
                    .collect(),
                ..PageProfile::of(*profile, self.base_flags)
            },
            None => PageProfile::doctest(self.base_flags),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Flag;

    #[test]
    fn doctest_unless_configured() {
        let flags = FlagSet::EMPTY.with(Flag::ELLIPSIS);
        let profiles = Profiles::doctest(flags);
        let page = profiles.for_page(Path::new("docs/a.txt"));
        assert_eq!(page.profile(), Profile::Doctest);
        assert_eq!(page.default_flags, flags);
        assert!(page.sources.is_empty());

        let config = Config {
            profile: Some(Profile::Sphinx),
            source: Some(PathBuf::from("/p/pyproject.toml")),
            ..Config::default()
        };
        let page = Profiles::new(&config, flags).for_page(Path::new("docs/a.rst"));
        assert_eq!(page.profile(), Profile::Sphinx);
        assert_eq!(page.sources[0].what, "profile = \"sphinx\"");
    }
}
