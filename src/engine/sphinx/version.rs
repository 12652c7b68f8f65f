//! `:pyversion:` of Sphinx's doctest directive: a PEP 440 specifier set (`>=3.8`,
//! `>3.2, <4.0`, `==3.11.*`, `~=3.10`) matched against the interpreter's
//! `major.minor.micro`, as `packaging.specifiers.SpecifierSet` does for a final release.
//!
//! Only release versions (`3`, `3.11`, `3.11.4`, optionally `N!` epochs are refused) are
//! read in specifiers: a pre-release, post-release, dev or local segment is reported as not
//! supported rather than guessed at.

use std::cmp::Ordering;

/// A parsed specifier set; empty matches every version (as `SpecifierSet('')` does).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionSpec {
    specifiers: Vec<Specifier>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Specifier {
    operator: Operator,
    release: Vec<u64>,
    /// `==3.11.*` / `!=3.*`: a prefix match.
    wildcard: bool,
    /// The version text, for `===`.
    text: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Operator {
    Compatible,
    Equal,
    NotEqual,
    LessEqual,
    GreaterEqual,
    Less,
    Greater,
    Arbitrary,
}

impl VersionSpec {
    /// Parses `spec`; the error says what is wrong, in words fit for a warning.
    pub fn parse(spec: &str) -> Result<VersionSpec, String> {
        let mut specifiers = Vec::new();
        for part in spec.split(',') {
            let part = part.trim();
            if part.is_empty() {
                if spec.trim().is_empty() {
                    continue;
                }
                return Err(format!("{spec:?} has an empty specifier"));
            }
            specifiers.push(Specifier::parse(part)?);
        }
        Ok(VersionSpec { specifiers })
    }

    /// Whether the interpreter version `version` (`3.11.4`, or what `sys.version` starts
    /// with, such as `3.13.0rc1`: its first three numbers count, as `sys.version_info[:3]`)
    /// satisfies every specifier.
    pub fn allows(&self, version: &str) -> bool {
        let release = interpreter_release(version);
        self.specifiers
            .iter()
            .all(|specifier| specifier.allows(&release))
    }
}

/// `major.minor.micro` of an interpreter version string.
fn interpreter_release(version: &str) -> Vec<u64> {
    version
        .split('.')
        .take(3)
        .map(|part| {
            let digits: String = part.chars().take_while(char::is_ascii_digit).collect();
            digits.parse().unwrap_or(0)
        })
        .collect()
}

impl Specifier {
    fn parse(part: &str) -> Result<Specifier, String> {
        const OPERATORS: [(&str, Operator); 8] = [
            ("===", Operator::Arbitrary),
            ("~=", Operator::Compatible),
            ("==", Operator::Equal),
            ("!=", Operator::NotEqual),
            ("<=", Operator::LessEqual),
            (">=", Operator::GreaterEqual),
            ("<", Operator::Less),
            (">", Operator::Greater),
        ];
        let Some((operator, rest)) = OPERATORS
            .iter()
            .find_map(|(text, operator)| part.strip_prefix(text).map(|rest| (*operator, rest)))
        else {
            return Err(format!(
                "{part:?} does not start with a comparison (==, !=, <=, >=, <, >, ~=, ===)"
            ));
        };
        let text = rest.trim().to_owned();
        if operator == Operator::Arbitrary {
            return Ok(Specifier {
                operator,
                release: Vec::new(),
                wildcard: false,
                text,
            });
        }
        let (body, wildcard) = match text.strip_suffix(".*") {
            Some(body) if matches!(operator, Operator::Equal | Operator::NotEqual) => (body, true),
            _ => (text.as_str(), false),
        };
        let body = body.strip_prefix(['v', 'V']).unwrap_or(body);
        let release: Option<Vec<u64>> = body
            .split('.')
            .map(|number| {
                (!number.is_empty() && number.bytes().all(|b| b.is_ascii_digit()))
                    .then(|| number.parse().ok())
                    .flatten()
            })
            .collect();
        let Some(release) = release else {
            return Err(format!(
                "{part:?} is not a release version such as 3.11 or 3.11.4 (pre-, post- and \
                 dev-releases are not supported here)"
            ));
        };
        if operator == Operator::Compatible && release.len() < 2 {
            return Err(format!("{part:?}: ~= needs at least two version numbers"));
        }
        Ok(Specifier {
            operator,
            release,
            wildcard,
            text,
        })
    }

    fn allows(&self, version: &[u64]) -> bool {
        let compare = || compare_releases(version, &self.release);
        let prefix_matches = || {
            (0..self.release.len()).all(|i| version.get(i).copied().unwrap_or(0) == self.release[i])
        };
        match self.operator {
            Operator::Arbitrary => {
                let joined: Vec<String> = version.iter().map(u64::to_string).collect();
                joined.join(".").eq_ignore_ascii_case(&self.text)
            }
            Operator::Equal if self.wildcard => prefix_matches(),
            Operator::NotEqual if self.wildcard => !prefix_matches(),
            Operator::Equal => compare() == Ordering::Equal,
            Operator::NotEqual => compare() != Ordering::Equal,
            Operator::LessEqual => compare() != Ordering::Greater,
            Operator::GreaterEqual => compare() != Ordering::Less,
            Operator::Less => compare() == Ordering::Less,
            Operator::Greater => compare() == Ordering::Greater,
            Operator::Compatible => {
                let prefix = &self.release[..self.release.len() - 1];
                compare() != Ordering::Less
                    && prefix
                        .iter()
                        .enumerate()
                        .all(|(i, &number)| version.get(i).copied().unwrap_or(0) == number)
            }
        }
    }
}

/// Release tuples compared with missing numbers as zeros (`3.11 == 3.11.0`).
fn compare_releases(left: &[u64], right: &[u64]) -> Ordering {
    let length = left.len().max(right.len());
    (0..length)
        .map(|i| {
            let a = left.get(i).copied().unwrap_or(0);
            let b = right.get(i).copied().unwrap_or(0);
            a.cmp(&b)
        })
        .find(|ordering| ordering.is_ne())
        .unwrap_or(Ordering::Equal)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allows(spec: &str, version: &str) -> bool {
        VersionSpec::parse(spec)
            .expect("valid spec")
            .allows(version)
    }

    #[test]
    fn sphinx_docstring_examples() {
        assert!(allows("<=3.5", "3.3"));
        assert!(!allows("<=3.2", "3.3"));
        assert!(allows(">3.2, <4.0", "3.3"));
    }

    #[test]
    fn wildcards_compatible_and_padding() {
        assert!(allows("==3.11.*", "3.11.7"));
        assert!(!allows("==3.11.*", "3.12.0"));
        assert!(allows("!=3.10.*", "3.11.7"));
        assert!(allows("~=3.10", "3.11.7"));
        assert!(!allows("~=3.10.2", "3.11.7"));
        assert!(allows("==3.11", "3.11.0"));
        assert!(!allows("==3.11", "3.11.7"));
        assert!(allows(">=3.13", "3.13.0rc1"));
        assert!(allows("", "3.11.7"));
    }

    #[test]
    fn invalid_specifiers_are_errors() {
        assert!(VersionSpec::parse("3.11").is_err());
        assert!(VersionSpec::parse(">=3.x").is_err());
        assert!(VersionSpec::parse(">=3.8,").is_err());
        assert!(VersionSpec::parse("~=3").is_err());
    }
}
