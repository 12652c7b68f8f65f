//! Which Python runs the examples: `--python`, else the configuration, else `$VIRTUAL_ENV`,
//! else the project's `.venv` (in the current directory, then at the project root), else
//! the virtual environment the tool itself is installed in, else `python3` on PATH. An
//! explicit choice that does not exist is an error; the implicit ones are tried in order and
//! the error lists what was tried.
//!
//! `$VIRTUAL_ENV` naming the tool's own environment is not the project's: pre-commit runs a
//! hook inside the hook's environment with `$VIRTUAL_ENV` set to it, and the pages import
//! the project's dependencies, which are in its `.venv`. Then the project's `.venv` comes
//! first, and the tool's environment is only a fallback.

use std::path::{Path, PathBuf};

/// Where an interpreter candidate came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub origin: &'static str,
    pub path: PathBuf,
}

/// No interpreter could be found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "no Python interpreter found; tried: {}. Install Python 3 or pass --python PATH",
    tried.iter().map(|(candidate, why)| format!("{} ({}: {why})", candidate.path.display(), candidate.origin)).collect::<Vec<_>>().join(", ")
)]
pub struct NoInterpreter {
    pub tried: Vec<(Candidate, String)>,
}

/// What the choice depends on besides the arguments: read from the process once, given
/// explicitly in tests.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Surroundings {
    /// `$VIRTUAL_ENV`.
    pub virtual_env: Option<PathBuf>,
    /// The virtual environment the running binary is installed in (`pip install`, `uvx`,
    /// `pipx`, pre-commit's hook environment), if it is in one.
    pub own_environment: Option<PathBuf>,
}

impl Surroundings {
    /// This process's `$VIRTUAL_ENV` and installation.
    pub fn of_this_process() -> Surroundings {
        Surroundings {
            virtual_env: std::env::var_os("VIRTUAL_ENV")
                .filter(|value| !value.is_empty())
                .map(PathBuf::from),
            own_environment: std::env::current_exe()
                .ok()
                .and_then(|exe| environment_of(&exe)),
        }
    }
}

/// The virtual environment an executable in its `bin/` belongs to: the folder above, when
/// it has the `pyvenv.cfg` every virtual environment has.
fn environment_of(executable: &Path) -> Option<PathBuf> {
    let environment = executable.parent()?.parent()?;
    environment
        .join("pyvenv.cfg")
        .is_file()
        .then(|| environment.to_path_buf())
}

fn same_directory(a: &Path, b: &Path) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

/// Chooses the interpreter. `explicit` is `--python`; `configured` the `python` key.
pub fn resolve(
    explicit: Option<&str>,
    configured: Option<&str>,
    config_root: &Path,
    cwd: &Path,
) -> Result<Candidate, NoInterpreter> {
    resolve_in(
        explicit,
        configured,
        config_root,
        cwd,
        &Surroundings::of_this_process(),
    )
}

/// [`resolve`] with the surroundings given.
pub fn resolve_in(
    explicit: Option<&str>,
    configured: Option<&str>,
    config_root: &Path,
    cwd: &Path,
    surroundings: &Surroundings,
) -> Result<Candidate, NoInterpreter> {
    let mut candidates = Vec::new();
    if let Some(path) = explicit {
        candidates.push(Candidate {
            origin: "--python",
            path: PathBuf::from(path),
        });
    } else if let Some(path) = configured {
        let path = if path.contains('/') {
            config_root.join(path)
        } else {
            PathBuf::from(path)
        };
        candidates.push(Candidate {
            origin: "configuration",
            path,
        });
    } else {
        let own = surroundings.own_environment.as_deref();
        if let Some(venv) = &surroundings.virtual_env
            && !own.is_some_and(|own| same_directory(own, venv))
        {
            candidates.push(Candidate {
                origin: "$VIRTUAL_ENV",
                path: venv.join("bin/python"),
            });
        }
        candidates.push(Candidate {
            origin: "./.venv",
            path: cwd.join(".venv/bin/python"),
        });
        if !same_directory(config_root, cwd) {
            candidates.push(Candidate {
                origin: "the project's .venv",
                path: config_root.join(".venv/bin/python"),
            });
        }
        if let Some(own) = own {
            candidates.push(Candidate {
                origin: "the environment objgraph-doctest is installed in",
                path: own.join("bin/python"),
            });
        }
        candidates.push(Candidate {
            origin: "PATH",
            path: PathBuf::from("python3"),
        });
    }
    let mut tried = Vec::new();
    for candidate in candidates {
        match locate(&candidate.path) {
            Ok(path) => {
                return Ok(Candidate {
                    origin: candidate.origin,
                    path,
                });
            }
            Err(why) => tried.push((candidate, why)),
        }
    }
    Err(NoInterpreter { tried })
}

/// The executable a name or path refers to.
fn locate(path: &Path) -> Result<PathBuf, String> {
    if path.components().count() > 1 || path.is_absolute() {
        return if path.is_file() {
            Ok(path.to_path_buf())
        } else {
            Err("not found".into())
        };
    }
    let search = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&search)
        .map(|directory| directory.join(path))
        .find(|candidate| candidate.is_file())
        .ok_or_else(|| "not on PATH".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explicit_missing_interpreter_is_not_replaced() {
        let error = resolve(
            Some("/no/such/python"),
            None,
            Path::new("/"),
            Path::new("/"),
        )
        .unwrap_err();
        assert_eq!(error.tried.len(), 1);
        assert!(
            error
                .to_string()
                .contains("/no/such/python (--python: not found)")
        );
    }

    /// A folder that looks like a virtual environment with a `bin/python`.
    fn fake_environment(at: &Path) -> PathBuf {
        std::fs::create_dir_all(at.join("bin")).unwrap();
        std::fs::write(at.join("bin/python"), "").unwrap();
        std::fs::write(at.join("pyvenv.cfg"), "home = /usr/bin\n").unwrap();
        at.to_path_buf()
    }

    #[test]
    fn the_tools_own_environment_is_not_the_projects() {
        let dir = tempfile::tempdir().unwrap();
        let project = dir.path().join("project");
        let project_venv = fake_environment(&project.join(".venv"));
        let hook_env = fake_environment(&dir.path().join("hook-env"));
        let choose = |virtual_env: Option<&Path>, cwd: &Path| {
            let surroundings = Surroundings {
                virtual_env: virtual_env.map(Path::to_path_buf),
                own_environment: Some(hook_env.clone()),
            };
            resolve_in(None, None, &project, cwd, &surroundings).unwrap()
        };
        // pre-commit: $VIRTUAL_ENV is the hook's own environment; the project's .venv wins.
        let chosen = choose(Some(&hook_env), &project);
        assert_eq!(
            (chosen.origin, chosen.path),
            ("./.venv", project_venv.join("bin/python"))
        );
        // From a subfolder, the project's .venv at its root.
        let sub = project.join("docs");
        std::fs::create_dir_all(&sub).unwrap();
        assert_eq!(choose(None, &sub).origin, "the project's .venv");
        // An activated environment that is not the tool's is the user's choice.
        let other = fake_environment(&dir.path().join("other"));
        assert_eq!(choose(Some(&other), &project).origin, "$VIRTUAL_ENV");
        // No project .venv: the tool's own environment before python3 on PATH.
        let elsewhere = dir.path().join("elsewhere");
        std::fs::create_dir_all(&elsewhere).unwrap();
        let chosen = resolve_in(
            None,
            None,
            &elsewhere,
            &elsewhere,
            &Surroundings {
                virtual_env: Some(hook_env.clone()),
                own_environment: Some(hook_env.clone()),
            },
        )
        .unwrap();
        assert_eq!(
            chosen.origin,
            "the environment objgraph-doctest is installed in"
        );
    }

    #[test]
    fn environments_are_recognised_by_pyvenv_cfg() {
        let dir = tempfile::tempdir().unwrap();
        let venv = fake_environment(&dir.path().join("venv"));
        assert_eq!(
            environment_of(&venv.join("bin/objgraph-doctest")),
            Some(venv.clone())
        );
        std::fs::remove_file(venv.join("pyvenv.cfg")).unwrap();
        assert_eq!(environment_of(&venv.join("bin/objgraph-doctest")), None);
    }

    #[test]
    fn python3_on_path_is_found() {
        let found = resolve(None, None, Path::new("/"), Path::new("/nonexistent")).unwrap();
        assert!(found.path.ends_with("python3") || found.origin != "PATH");
    }
}
