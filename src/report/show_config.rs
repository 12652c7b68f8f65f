//! `--show-config PATH`: the settings one page runs with (profile, how it is read, default
//! flags, stopping at the first failure, timeout, Python, setup code, `sys.path`, preload,
//! working directory) and, for each, where it came from.

use std::path::Path;

use crate::backend::interpreter::Candidate;
use crate::engine::{FlagRegistry, Profile};
use crate::runner::config::Config;
use crate::runner::figures::StaleFigures;
use crate::runner::options::{DEFAULT_PRELOAD, Overrides, RunSettings};
use crate::runner::profile::{PageProfile, Profiles};
use crate::runner::run::format_duration;

/// One effective setting: its value and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting {
    pub name: &'static str,
    pub value: String,
    /// Where it came from, one line each (the first is the main one).
    pub origins: Vec<String>,
}

/// What `--show-config` needs besides the page's profile.
pub struct ShowConfigInput<'a> {
    pub page: &'a Path,
    pub profile: &'a PageProfile,
    pub profiles: &'a Profiles,
    pub config: &'a Config,
    pub overrides: &'a Overrides,
    pub settings: &'a RunSettings,
    pub registry: &'a FlagRegistry,
    /// The interpreter and why it was chosen (`None`: none found; the message says why).
    pub python: Result<&'a Candidate, String>,
}

/// The page's effective settings, in the order shown.
pub fn effective_settings(input: &ShowConfigInput<'_>) -> Vec<Setting> {
    let ShowConfigInput {
        profile,
        profiles,
        config,
        overrides,
        settings,
        registry,
        ..
    } = input;
    let config_file = config
        .source
        .as_deref()
        .map(crate::runner::display_path)
        .unwrap_or_else(|| "objgraph-doctest's configuration".to_owned());
    let sources: Vec<String> = profile
        .sources
        .iter()
        .map(|source| {
            format!(
                "{}: {}",
                shown(&source.path),
                source.what.replace('\n', " ")
            )
        })
        .collect();
    let mut out = Vec::new();
    out.push(Setting {
        name: "profile",
        value: profile.profile().to_string(),
        origins: sources.first().cloned().map_or_else(
            || {
                vec![
                    "the default: no configuration of ours, of pytest or of Sphinx says otherwise"
                        .to_owned(),
                ]
            },
            |first| vec![first],
        ),
    });
    out.push(Setting {
        name: "reading",
        value: reading_description(profile.profile(), input.page).to_owned(),
        origins: vec![format!("the {} profile", profile.profile())],
    });
    let flags = profile.profile().registry(registry);
    let names: Vec<&str> = profile
        .default_flags
        .iter()
        .map(|flag| flags.name(flag))
        .collect();
    let mut flag_origins = Vec::new();
    match profile.profile() {
        Profile::Pytest | Profile::Doctestplus => {
            match sources
                .iter()
                .find(|line| line.contains("doctest_optionflags"))
            {
                Some(line) => flag_origins.push(line.clone()),
                None => flag_origins.push(format!(
                    "{}'s default doctest_optionflags",
                    if profile.profile() == Profile::Pytest {
                        "pytest"
                    } else {
                        "pytest-doctestplus"
                    }
                )),
            }
        }
        Profile::Sphinx => flag_origins.push("Sphinx's default doctest_default_flags".to_owned()),
        Profile::Doctest => {}
    }
    if !config.optionflags.is_empty() {
        flag_origins.push(format!(
            "{config_file}: optionflags = {:?}",
            config.optionflags
        ));
    }
    if !overrides.flags.is_empty() {
        flag_origins.push(format!(
            "command line: {}",
            overrides
                .flags
                .iter()
                .map(|flag| format!("-o {flag}"))
                .collect::<Vec<_>>()
                .join(" ")
        ));
    }
    if flag_origins.is_empty() {
        flag_origins.push("the default: none".to_owned());
    }
    out.push(Setting {
        name: "default flags",
        value: if names.is_empty() {
            "none".to_owned()
        } else {
            names.join(", ")
        },
        origins: flag_origins,
    });
    let stop_origin = match profile.profile() {
        Profile::Pytest | Profile::Doctestplus if profile.stop_at_first_failure => {
            "pytest's default: its runner stops at the first failure \
             (--doctest-continue-on-failure goes on)"
                .to_owned()
        }
        Profile::Pytest | Profile::Doctestplus => sources
            .iter()
            .find(|line| line.contains("--doctest-continue-on-failure"))
            .cloned()
            .unwrap_or_else(|| "--doctest-continue-on-failure".to_owned()),
        _ => "doctest's default: every example runs (FAIL_FAST stops at a failure)".to_owned(),
    };
    out.push(Setting {
        name: "stop at first failure",
        value: if profile.stop_at_first_failure {
            "yes"
        } else {
            "no"
        }
        .to_owned(),
        origins: vec![stop_origin],
    });
    let timeout_origin = match (overrides.timeout_seconds, config.timeout_seconds) {
        (Some(_), _) => "command line: --timeout".to_owned(),
        (None, Some(_)) => format!("{config_file}: timeout"),
        (None, None) => "the default".to_owned(),
    };
    out.push(Setting {
        name: "timeout",
        value: format_duration(settings.run.timeout),
        origins: vec![timeout_origin],
    });
    let (python, python_origin) = match &input.python {
        Ok(candidate) => (
            candidate.path.display().to_string(),
            candidate.origin.to_owned(),
        ),
        Err(message) => ("none".to_owned(), message.clone()),
    };
    out.push(Setting {
        name: "python",
        value: python,
        origins: vec![python_origin],
    });
    out.push(Setting {
        name: "setup",
        value: match &config.setup {
            Some(code) => format!("{} line(s) of code", code.lines().count().max(1)),
            None => "none".to_owned(),
        },
        origins: vec![match &config.setup {
            Some(_) => format!("{config_file}: setup"),
            None => "the default".to_owned(),
        }],
    });
    let sys_path = if profile.sys_path.is_empty() {
        "nothing prepended".to_owned()
    } else {
        profile
            .sys_path
            .iter()
            .map(|path| shown(path))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut path_origins: Vec<String> = sources
        .iter()
        .filter(|line| line.contains("pythonpath"))
        .cloned()
        .collect();
    if profile
        .sys_path
        .iter()
        .any(|path| path.join("conftest.py").is_file())
    {
        path_origins.push("pytest's prepend import mode: each conftest.py's directory".to_owned());
    }
    if path_origins.is_empty() {
        path_origins
            .push("the default: the page's working directory is first on sys.path".to_owned());
    }
    out.push(Setting {
        name: "sys.path",
        value: sys_path,
        origins: path_origins,
    });
    out.push(Setting {
        name: "preload",
        value: if settings.preload.is_empty() {
            "none".to_owned()
        } else {
            settings.preload.join(", ")
        },
        origins: vec![if config.preload.is_some() {
            format!("{config_file}: preload")
        } else {
            format!("the default ({DEFAULT_PRELOAD}, when importable)")
        }],
    });
    let workdir_origin = match (profile.profile(), profiles.pytest()) {
        (Profile::Pytest | Profile::Doctestplus, Some(pytest)) => format!(
            "objgraph-doctest's default; pytest would run it where pytest starts \
             (usually its rootdir, {})",
            shown(&pytest.rootdir)
        ),
        _ => "objgraph-doctest's default".to_owned(),
    };
    out.push(Setting {
        name: "working directory",
        value: "a fresh temporary directory per page".to_owned(),
        origins: vec![workdir_origin],
    });
    out.push(Setting {
        name: "artifacts directory",
        value: settings
            .run
            .artifacts_dir
            .as_deref()
            .map(shown)
            .unwrap_or_else(|| "none".to_owned()),
        origins: vec![match (&overrides.artifacts_dir, &config.artifacts_dir) {
            (Some(_), _) => "command line: --artifacts-dir".to_owned(),
            (None, Some(_)) => format!("{config_file}: artifacts-dir"),
            (None, None) => "the default, under the project root".to_owned(),
        }],
    });
    out.push(Setting {
        name: "stale figures",
        value: match config.stale_figures.unwrap_or_default() {
            StaleFigures::Warn => "a warning",
            StaleFigures::Error => "a failure (exit status 1)",
            StaleFigures::Ignore => "not checked",
        }
        .to_owned(),
        origins: vec![match config.stale_figures {
            Some(_) => format!("{config_file}: stale-figures"),
            None => "the default (\"warn\")".to_owned(),
        }],
    });
    out.push(Setting {
        name: "figures",
        value: figures_of_page(input.page),
        origins: vec![
            "the page's figure and image directives (Markdown images), checked against the \
             images its examples draw (docs/figures.md)"
                .to_owned(),
        ],
    });
    for source in sources.iter().skip(1) {
        if !out.iter().any(|setting| setting.origins.contains(source))
            && let Some(profile_setting) = out.first_mut()
        {
            profile_setting.origins.push(source.clone());
        }
    }
    out
}

/// The figures `page` shows, as its directives name them (`none` when it has none or cannot
/// be read).
fn figures_of_page(page: &Path) -> String {
    let targets: Vec<String> = crate::runner::figures::figure_targets(page)
        .into_iter()
        .map(|(target, line)| format!("{target} (line {line})"))
        .collect();
    if targets.is_empty() {
        "none".to_owned()
    } else {
        targets.join(", ")
    }
}

/// A path as shown: relative to the current directory when under it (`.` for itself).
fn shown(path: &Path) -> String {
    let text = crate::runner::display_path(path);
    if text.is_empty() {
        ".".to_owned()
    } else {
        text
    }
}

/// How a page of `profile` is read, in words.
fn reading_description(profile: Profile, page: &Path) -> &'static str {
    let markdown = page
        .extension()
        .is_some_and(|ext| ext == "md" || ext == "markdown");
    match profile {
        Profile::Pytest if markdown => {
            "the whole file as one docstring, fences ignored (pytest's DoctestTextfile)"
        }
        Profile::Pytest => "the whole file as one docstring (pytest's DoctestTextfile)",
        Profile::Doctestplus => {
            "the whole file as one docstring, with pytest-doctestplus's directives"
        }
        Profile::Sphinx => "Sphinx's doctest directives and doctest blocks",
        Profile::Doctest if markdown => "Python code fences (```pycon, ```python, MyST {doctest})",
        Profile::Doctest => "the whole file as one docstring (DocFileSuite)",
    }
}

/// The settings as text: `name: value` and, under each, `  from ...` lines.
pub fn render(page: &str, settings: &[Setting]) -> String {
    let mut out = format!("page: {page}\n");
    for setting in settings {
        out.push_str(&format!("{}: {}\n", setting.name, setting.value));
        for origin in &setting.origins {
            out.push_str(&format!("  from {origin}\n"));
        }
    }
    out
}
