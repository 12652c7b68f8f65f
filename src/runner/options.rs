//! The one place run options are built from configuration plus a front end's overrides
//! (the CLI's flags; the editor has none yet): timeout, jobs, output cap, memory limit,
//! setup code, preload list, artifacts directory, default flags, and the warnings about the
//! environment (graphviz, preload modules). The CLI and the language server both call
//! [`RunSettings::build`], so a page runs the same way in both.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::backend::worker::InterpreterInfo;
use crate::engine::flags::FlagFamily;
use crate::engine::{FlagRegistry, FlagSet};

use super::artifacts::graphviz_available;
use super::config::Config;
use super::profile::Profiles;
use super::run::RunOptions;

/// Output kept per example, in characters.
pub const OUTPUT_CAP: usize = 8 * 1024 * 1024;
/// Longest an example may run when nothing says otherwise, in seconds.
pub const DEFAULT_TIMEOUT_SECONDS: f64 = 30.0;
/// Longest timeout accepted, in seconds (a day). Larger values are typing mistakes, and
/// deadlines past this risk overflowing the clock arithmetic.
pub const MAX_TIMEOUT_SECONDS: f64 = 86_400.0;
/// Smallest memory limit accepted, in MiB: Python needs about that much to start.
pub const MIN_MEMORY_LIMIT_MIB: u64 = 64;
/// Where files that examples write are copied, relative to the configuration's root.
pub const DEFAULT_ARTIFACTS_DIR: &str = ".objgraph-doctest/artifacts";
/// Modules the zygote imports when the configuration names none.
pub const DEFAULT_PRELOAD: &str = "objgraph";

/// What a front end sets over the configuration (the CLI's flags). `None` keeps the
/// configured value.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub timeout_seconds: Option<f64>,
    pub jobs: Option<usize>,
    pub memory_limit_mib: Option<u64>,
    pub artifacts_dir: Option<PathBuf>,
    /// Flags set for every example, on top of `optionflags` (`-o FLAG`).
    pub flags: Vec<String>,
}

/// Options that cannot be used, with where they came from and how to fix them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct OptionsError(pub String);

/// Everything a run needs besides the pages: the run's options, the backend's preload list
/// and the warnings to show before the results.
#[derive(Debug, Clone)]
pub struct RunSettings {
    pub run: RunOptions,
    pub preload: Vec<String>,
    /// True when the configuration names the preload modules (then a module that cannot be
    /// imported is worth a warning; objgraph missing by default is not).
    pub explicit_preload: bool,
    /// Problems with the environment that make some examples fail for reasons of their own.
    pub warnings: Vec<String>,
}

impl RunSettings {
    /// Builds the options from `config` and `overrides`; every bad value is an error that
    /// names its source (the flag, or the configuration file and key).
    pub fn build(
        config: &Config,
        registry: &FlagRegistry,
        overrides: &Overrides,
    ) -> Result<RunSettings, OptionsError> {
        let config_file = config.source.as_ref().map_or_else(
            || "the configuration".to_owned(),
            |p| p.display().to_string(),
        );
        let timeout = match (overrides.timeout_seconds, config.timeout_seconds) {
            (Some(seconds), _) => validate_timeout(seconds)
                .map_err(|message| OptionsError(format!("--timeout {seconds:?}: {message}")))?,
            (None, Some(seconds)) => validate_timeout(seconds).map_err(|message| {
                OptionsError(format!("{config_file}: timeout = {seconds:?}: {message}"))
            })?,
            (None, None) => Duration::from_secs_f64(DEFAULT_TIMEOUT_SECONDS),
        };
        let jobs = match overrides.jobs.or(config.jobs) {
            Some(0) => {
                return Err(OptionsError(
                    "--jobs 0: run at least 1 page at a time (leave it out for one per core)"
                        .to_owned(),
                ));
            }
            Some(jobs) => jobs,
            None => std::thread::available_parallelism().map_or(1, |n| n.get()),
        };
        let memory_limit = match (overrides.memory_limit_mib, config.memory_limit_mib) {
            (Some(mib), _) => Some(
                validate_memory_limit(mib)
                    .map_err(|message| OptionsError(format!("--memory-limit {mib}: {message}")))?,
            ),
            (None, Some(mib)) => Some(validate_memory_limit(mib).map_err(|message| {
                OptionsError(format!("{config_file}: memory-limit = {mib}: {message}"))
            })?),
            (None, None) => None,
        };
        let default_flags = default_flags(config, registry, &overrides.flags)?;
        let profiles = Arc::new(Profiles::new(config, default_flags));
        let artifacts_dir = overrides.artifacts_dir.clone().unwrap_or_else(|| {
            config.root.join(
                config
                    .artifacts_dir
                    .as_deref()
                    .unwrap_or(DEFAULT_ARTIFACTS_DIR),
            )
        });
        let mut warnings = Vec::new();
        warnings.extend(graphviz_warning());
        Ok(RunSettings {
            run: RunOptions {
                jobs,
                timeout,
                profiles,
                output_cap: OUTPUT_CAP,
                memory_limit,
                setup_code: config.setup.clone(),
                artifacts_dir: Some(artifacts_dir),
                project_root: config.root.clone(),
            },
            preload: preload(config),
            explicit_preload: config.preload.is_some(),
            warnings,
        })
    }
}

impl RunSettings {
    /// Warnings about configured preload modules the interpreter could not import (objgraph
    /// missing when nobody asked for it is not worth one).
    pub fn preload_warnings(&self, info: &InterpreterInfo) -> Vec<String> {
        if !self.explicit_preload {
            return Vec::new();
        }
        info.preload_errors
            .iter()
            .map(|(module, error)| {
                format!("preload module {module} could not be imported: {error}")
            })
            .collect()
    }
}

/// The modules the zygote imports: the configured ones, else objgraph.
pub fn preload(config: &Config) -> Vec<String> {
    config
        .preload
        .clone()
        .unwrap_or_else(|| vec![DEFAULT_PRELOAD.to_owned()])
}

/// The warning shown when graphviz's `dot` cannot be found, if it cannot.
pub fn graphviz_warning() -> Option<String> {
    (!graphviz_available()).then(|| {
        "graphviz's `dot` is not on PATH: objgraph cannot render images, so examples that \
         expect \"Image generated as ...\" will fail (install graphviz)"
            .to_owned()
    })
}

/// A timeout in seconds as a duration: positive, finite, at most a day.
pub fn validate_timeout(seconds: f64) -> Result<Duration, String> {
    if !(seconds.is_finite() && seconds > 0.0 && seconds <= MAX_TIMEOUT_SECONDS) {
        return Err(format!(
            "the timeout must be more than 0 and at most {MAX_TIMEOUT_SECONDS} seconds (one day)"
        ));
    }
    Duration::try_from_secs_f64(seconds)
        .ok()
        .filter(|duration| !duration.is_zero())
        .ok_or_else(|| "the timeout is too short to measure; use at least 0.001".to_owned())
}

/// A memory limit in MiB as bytes: at least [`MIN_MEMORY_LIMIT_MIB`].
pub fn validate_memory_limit(mib: u64) -> Result<u64, String> {
    if mib < MIN_MEMORY_LIMIT_MIB {
        return Err(format!(
            "the memory limit is in MiB and must be at least {MIN_MEMORY_LIMIT_MIB} (Python \
             needs that much to start)"
        ));
    }
    Ok(mib.saturating_mul(1024 * 1024))
}

/// The configured `optionflags` plus `extra` (`-o`), as one set.
fn default_flags(
    config: &Config,
    registry: &FlagRegistry,
    extra: &[String],
) -> Result<FlagSet, OptionsError> {
    let config_file = config.source.as_ref().map_or_else(
        || "the configuration".to_owned(),
        |p| p.display().to_string(),
    );
    let mut flags = config.default_flags(registry).map_err(|message| {
        OptionsError(format!(
            "{config_file}: optionflags: {message} (fix or remove that entry)"
        ))
    })?;
    let every_name = registry.accepting(&[FlagFamily::Pytest, FlagFamily::Doctestplus]);
    for name in extra {
        let flag = every_name
            .parse_name(name)
            .map_err(|message| OptionsError(format!("-o {name}: {message}")))?;
        flags = flags.with(flag);
    }
    Ok(flags)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn build(config: &Config, overrides: &Overrides) -> Result<RunSettings, OptionsError> {
        RunSettings::build(config, &config.flag_registry(), overrides)
    }

    #[test]
    fn overrides_beat_configuration_and_defaults_fill_in() {
        let config = Config {
            root: PathBuf::from("/project"),
            timeout_seconds: Some(5.0),
            memory_limit_mib: Some(512),
            artifacts_dir: Some("out".to_owned()),
            setup: Some("x = 1".to_owned()),
            ..Config::default()
        };
        let settings = build(&config, &Overrides::default()).unwrap();
        assert_eq!(settings.run.timeout, Duration::from_secs(5));
        assert_eq!(settings.run.memory_limit, Some(512 * 1024 * 1024));
        assert_eq!(
            settings.run.artifacts_dir.as_deref(),
            Some(std::path::Path::new("/project/out"))
        );
        assert_eq!(settings.run.setup_code.as_deref(), Some("x = 1"));
        assert_eq!(settings.preload, ["objgraph"]);
        assert!(!settings.explicit_preload);
        let overridden = build(
            &config,
            &Overrides {
                timeout_seconds: Some(0.5),
                artifacts_dir: Some(PathBuf::from("elsewhere")),
                ..Overrides::default()
            },
        )
        .unwrap();
        assert_eq!(overridden.run.timeout, Duration::from_millis(500));
        assert_eq!(
            overridden.run.artifacts_dir.as_deref(),
            Some(std::path::Path::new("elsewhere"))
        );
        let plain = build(&Config::default(), &Overrides::default()).unwrap();
        assert_eq!(plain.run.timeout, Duration::from_secs(30));
        assert_eq!(plain.run.memory_limit, None);
    }

    #[test]
    fn absurd_values_are_errors_that_name_their_source() {
        for seconds in [1e20, f64::INFINITY, f64::NAN, 0.0, -1.0, 1e-12] {
            let error = build(
                &Config::default(),
                &Overrides {
                    timeout_seconds: Some(seconds),
                    ..Overrides::default()
                },
            )
            .unwrap_err();
            assert!(error.0.starts_with("--timeout "), "{error}");
        }
        let config = Config {
            source: Some(PathBuf::from("objgraph-doctest.toml")),
            timeout_seconds: Some(1e20),
            ..Config::default()
        };
        let error = build(&config, &Overrides::default()).unwrap_err();
        assert!(
            error
                .0
                .starts_with("objgraph-doctest.toml: timeout = 1e20: "),
            "{error}"
        );
        let error = build(
            &Config::default(),
            &Overrides {
                memory_limit_mib: Some(1),
                ..Overrides::default()
            },
        )
        .unwrap_err();
        assert!(error.0.contains("at least 64"), "{error}");
        let error = build(
            &Config::default(),
            &Overrides {
                jobs: Some(0),
                ..Overrides::default()
            },
        )
        .unwrap_err();
        assert!(error.0.starts_with("--jobs 0"), "{error}");
    }

    #[test]
    fn preload_failures_are_warned_about_only_when_configured() {
        let info = InterpreterInfo {
            preload_errors: vec![("nope".to_owned(), "ModuleNotFoundError: nope".to_owned())],
            ..InterpreterInfo::default()
        };
        let default = build(&Config::default(), &Overrides::default()).unwrap();
        assert!(default.preload_warnings(&info).is_empty());
        let config = Config {
            preload: Some(vec!["nope".to_owned()]),
            ..Config::default()
        };
        let configured = build(&config, &Overrides::default()).unwrap();
        assert_eq!(configured.preload, ["nope"]);
        assert_eq!(
            configured.preload_warnings(&info),
            ["preload module nope could not be imported: ModuleNotFoundError: nope"]
        );
    }

    #[test]
    fn a_bad_flag_is_an_error_not_dropped() {
        let config = Config {
            source: Some(PathBuf::from("pyproject.toml")),
            optionflags: vec!["ELIPSIS".to_owned()],
            ..Config::default()
        };
        let error = build(&config, &Overrides::default()).unwrap_err();
        assert!(
            error.0.starts_with("pyproject.toml: optionflags: "),
            "{error}"
        );
        let error = build(
            &Config::default(),
            &Overrides {
                flags: vec!["NOPE".to_owned()],
                ..Overrides::default()
            },
        )
        .unwrap_err();
        assert!(error.0.starts_with("-o NOPE: "), "{error}");
    }
}
