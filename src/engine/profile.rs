//! Runner profiles: which runner's rules a page is read and judged by.
//!
//! A project tests its pages with one runner today (CPython's `DocFileSuite`, pytest's
//! `--doctest-glob`, pytest-doctestplus, Sphinx's doctest builder); a profile gives each page
//! the verdicts of that runner. The engine needs only [`Reading`]: how to find examples in a
//! page and which flag names its directives may use. Choosing a profile for a page (settings,
//! detection from the project's pytest and Sphinx configuration) is the runner's
//! (`runner/profile.rs`).

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

use super::flags::{FlagFamily, FlagRegistry};

/// A runner whose rules a page follows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Profile {
    /// CPython's `doctest.DocFileSuite` with objgraph's flags (what objgraph's tests.py does).
    #[default]
    Doctest,
    /// pytest's doctest plugin (`--doctest-glob`, `doctest_optionflags`).
    Pytest,
    /// pytest with pytest-doctestplus (`--doctest-plus`, `--doctest-rst`, `FLOAT_CMP`, ...).
    Doctestplus,
    /// Sphinx's doctest builder (`sphinx-build -b doctest`, `sphinx.ext.doctest`).
    Sphinx,
}

impl Profile {
    pub const ALL: [Profile; 4] = [
        Profile::Doctest,
        Profile::Pytest,
        Profile::Doctestplus,
        Profile::Sphinx,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Profile::Doctest => "doctest",
            Profile::Pytest => "pytest",
            Profile::Doctestplus => "doctestplus",
            Profile::Sphinx => "sphinx",
        }
    }

    /// The flag families whose names this profile's directives accept, besides CPython's,
    /// objgraph's and the user's.
    pub fn flag_families(self) -> &'static [FlagFamily] {
        match self {
            Profile::Doctest | Profile::Sphinx => &[],
            Profile::Pytest => &[FlagFamily::Pytest],
            // doctestplus unregisters pytest's doctest plugin: `NUMBER` is unknown there, and
            // `ALLOW_UNICODE`/`ALLOW_BYTES` are doctestplus's own (inert) names.
            Profile::Doctestplus => &[FlagFamily::Doctestplus],
        }
    }

    /// The registry a page of this profile is parsed with: `registry`'s flags, with this
    /// profile's names accepted.
    pub fn registry(self, registry: &FlagRegistry) -> FlagRegistry {
        registry.accepting(self.flag_families())
    }
}

impl fmt::Display for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Profile {
    type Err = String;

    fn from_str(name: &str) -> Result<Profile, String> {
        Profile::ALL
            .into_iter()
            .find(|profile| profile.name() == name)
            .ok_or_else(|| {
                format!(
                    "unknown profile {name:?}; use one of {}",
                    Profile::ALL.map(Profile::name).join(", ")
                )
            })
    }
}

/// How a page is read: its profile and the settings of that profile that decide which text
/// is an example. The default reads as `DocFileSuite` does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reading {
    pub profile: Profile,
    /// Sphinx's `doctest_test_doctest_blocks`: standard reST `>>>` paragraphs are tested
    /// (Sphinx's default `'default'`, i.e. in the `default` group); `None` when set to `''`.
    pub sphinx_doctest_blocks_group: Option<String>,
    /// pytest-doctestplus's `--remote-data`: examples marked as needing the network run.
    pub remote_data: bool,
    /// Sphinx's `doctest_global_setup` (conf.py): run first in every group's setup.
    pub sphinx_global_setup: String,
    /// Sphinx's `doctest_global_cleanup` (conf.py): run last in every group's cleanup.
    pub sphinx_global_cleanup: String,
}

impl Default for Reading {
    fn default() -> Reading {
        Reading::of(Profile::Doctest)
    }
}

impl Reading {
    /// The profile's reading with its runner's defaults.
    pub fn of(profile: Profile) -> Reading {
        Reading {
            profile,
            sphinx_doctest_blocks_group: Some("default".to_owned()),
            remote_data: false,
            sphinx_global_setup: String::new(),
            sphinx_global_cleanup: String::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for profile in Profile::ALL {
            assert_eq!(profile.name().parse::<Profile>(), Ok(profile));
        }
        let error = "nose".parse::<Profile>().unwrap_err();
        assert!(
            error.contains("doctest, pytest, doctestplus, sphinx"),
            "{error}"
        );
    }

    #[test]
    fn pytest_names_only_in_pytest_profiles() {
        let registry = FlagRegistry::new();
        assert!(
            Profile::Doctest
                .registry(&registry)
                .lookup("NUMBER")
                .is_none()
        );
        assert!(
            Profile::Sphinx
                .registry(&registry)
                .lookup("NUMBER")
                .is_none()
        );
        assert!(
            Profile::Pytest
                .registry(&registry)
                .lookup("NUMBER")
                .is_some()
        );
        let doctestplus = Profile::Doctestplus.registry(&registry);
        assert!(doctestplus.lookup("NUMBER").is_none());
        assert!(doctestplus.lookup("FLOAT_CMP").is_some());
        let pytest_allow_bytes = Profile::Pytest.registry(&registry).lookup("ALLOW_BYTES");
        assert_ne!(doctestplus.lookup("ALLOW_BYTES"), pytest_allow_bytes);
    }
}
