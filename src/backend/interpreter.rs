//! Which Python runs the examples: `--python`, else the configuration, else `$VIRTUAL_ENV`,
//! else `./.venv`, else `python3` on PATH. An explicit choice that does not exist is an
//! error; the implicit ones are tried in order and the error lists what was tried.

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

/// Chooses the interpreter. `explicit` is `--python`; `configured` the `python` key.
pub fn resolve(
    explicit: Option<&str>,
    configured: Option<&str>,
    config_root: &Path,
    cwd: &Path,
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
        if let Some(venv) = std::env::var_os("VIRTUAL_ENV") {
            candidates.push(Candidate {
                origin: "$VIRTUAL_ENV",
                path: PathBuf::from(venv).join("bin/python"),
            });
        }
        candidates.push(Candidate {
            origin: "./.venv",
            path: cwd.join(".venv/bin/python"),
        });
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

    #[test]
    fn python3_on_path_is_found() {
        let found = resolve(None, None, Path::new("/"), Path::new("/nonexistent")).unwrap();
        assert!(found.path.ends_with("python3") || found.origin != "PATH");
    }
}
