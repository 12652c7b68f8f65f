//! Configuration: `[tool.objgraph-doctest]` in pyproject.toml, or objgraph-doctest.toml with
//! the same keys at its top level.
//!
//! Every key is validated when the file is read; an unknown key or a bad value is an error
//! that names the file, line and column and says what would be accepted. The one place that
//! turns configured flags into a [`FlagRegistry`] is [`Config::flag_registry`].
//!
//! Discovery looks in the start directory and its parents, but not above the project root
//! (the first directory with a `pyproject.toml`, an `objgraph-doctest.toml` or a `.git`), and
//! never uses a file that another user could have written (owned by someone other than us or
//! root, writable by everyone or by a group other than the user's own private group, or in a
//! directory others can write to without the sticky bit): such a file is skipped with a warning that says why, because its
//! `setup` and `python` keys run code as us.

use std::fmt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde::de::{self, MapAccess, Visitor};
use toml::Spanned;

use crate::engine::Profile;
use crate::engine::flags::{FlagBehavior, FlagFamily, FlagRegistry, FlagSet, Substitution};

use super::profile::ProfileRule;

/// A configuration error, located in its file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}:{line}:{column}: {message}", path.display())]
pub struct ConfigError {
    pub path: PathBuf,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

/// One user-defined flag as configured.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawFlag {
    /// Substitutions applied to expected and actual output alike.
    replace: Option<Vec<RawSubstitution>>,
    /// Any non-empty output passes.
    any_output: Option<bool>,
    /// One line saying what the flag is for (shown in hovers).
    help: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSubstitution {
    pattern: Spanned<String>,
    with: Spanned<String>,
}

/// A TOML table kept in document order (flags apply in the order they are written).
#[derive(Debug, Clone, Default)]
struct OrderedTable<T>(Vec<(Spanned<String>, Spanned<T>)>);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for OrderedTable<T> {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TableVisitor<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for TableVisitor<T> {
            type Value = OrderedTable<T>;
            fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                formatter.write_str("a table of flag definitions")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut entries = Vec::new();
                while let Some(entry) = map.next_entry()? {
                    entries.push(entry);
                }
                Ok(OrderedTable(entries))
            }
        }
        deserializer.deserialize_map(TableVisitor(std::marker::PhantomData))
    }
}

/// The keys of the configuration table, as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawConfig {
    paths: Option<Vec<String>>,
    exclude: Option<Vec<String>>,
    optionflags: Option<Vec<Spanned<String>>>,
    profile: Option<Spanned<String>>,
    python: Option<String>,
    timeout: Option<Spanned<f64>>,
    preload: Option<Vec<String>>,
    setup: Option<String>,
    jobs: Option<Spanned<usize>>,
    memory_limit: Option<Spanned<u64>>,
    artifacts_dir: Option<String>,
    stale_figures: Option<Spanned<String>>,
    flags: Option<OrderedTable<RawFlag>>,
    profiles: Option<Vec<Spanned<RawProfileRule>>>,
}

/// One `[[profiles]]` entry as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProfileRule {
    paths: Vec<Spanned<String>>,
    profile: Spanned<String>,
}

#[derive(Debug, Default, Deserialize)]
struct PyProject {
    tool: Option<PyProjectTools>,
}

#[derive(Debug, Default, Deserialize)]
struct PyProjectTools {
    #[serde(rename = "objgraph-doctest")]
    objgraph_doctest: Option<RawConfig>,
}

/// A user-defined flag, validated.
#[derive(Debug, Clone)]
pub struct UserFlag {
    pub name: String,
    pub behavior: FlagBehavior,
    pub help: String,
}

/// The validated configuration. Paths are relative to [`Config::root`].
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// The file the configuration came from, if any.
    pub source: Option<PathBuf>,
    /// The directory relative paths are resolved against (the config file's directory).
    pub root: PathBuf,
    pub paths: Vec<String>,
    pub exclude: Vec<String>,
    pub optionflags: Vec<String>,
    /// The runner whose rules every page follows (`profile = "pytest"`), when set.
    pub profile: Option<Profile>,
    pub python: Option<String>,
    pub timeout_seconds: Option<f64>,
    pub preload: Option<Vec<String>>,
    pub setup: Option<String>,
    pub jobs: Option<usize>,
    /// Address-space limit per page process, in MiB.
    pub memory_limit_mib: Option<u64>,
    /// Where files that examples write are copied (relative to `root`).
    pub artifacts_dir: Option<String>,
    /// What a figure out of date with what its example draws is (`stale-figures`).
    pub stale_figures: Option<super::figures::StaleFigures>,
    pub flags: Vec<UserFlag>,
    /// `[[profiles]]`: pages matching an entry's globs follow its profile (the first match).
    pub profile_rules: Vec<ProfileRule>,
    /// Configuration files found but not used, and why (full sentences).
    pub warnings: Vec<String>,
}

/// The file names looked for in each directory, in order of precedence.
pub const CONFIG_FILES: [&str; 2] = ["objgraph-doctest.toml", "pyproject.toml"];

impl Config {
    /// Finds the nearest configuration at or above `start`, up to the project root: an
    /// objgraph-doctest.toml, or a pyproject.toml with a `[tool.objgraph-doctest]` table. No
    /// file means the defaults. Files another user can write are skipped with a warning.
    pub fn discover(start: &Path) -> Result<Config, ConfigError> {
        let mut warnings = Vec::new();
        for directory in start.ancestors() {
            for file in CONFIG_FILES {
                let path = directory.join(file);
                let Ok(metadata) = std::fs::metadata(&path) else {
                    continue;
                };
                if let Some(reason) = untrusted(&path, &metadata) {
                    warnings.push(format!(
                        "{}: configuration ignored: {reason}",
                        path.display()
                    ));
                    continue;
                }
                if let Some(mut config) = Config::load(&path)? {
                    config.warnings = warnings;
                    return Ok(config);
                }
            }
            if is_project_root(directory) {
                break;
            }
        }
        Ok(Config {
            root: start.to_path_buf(),
            warnings,
            ..Config::default()
        })
    }

    /// Reads one configuration file; `None` for a pyproject.toml without our table.
    pub fn load(path: &Path) -> Result<Option<Config>, ConfigError> {
        let unreadable = |message: String| ConfigError {
            path: path.to_path_buf(),
            line: 1,
            column: 1,
            message,
        };
        let read = crate::runner::read::read_regular_file(path)
            .map_err(|error| unreadable(format!("the configuration file {error}")))?;
        let text = String::from_utf8(read.bytes).map_err(|error| {
            unreadable(format!(
                "the configuration is not valid UTF-8 (byte offset {}); save it as UTF-8",
                error.utf8_error().valid_up_to()
            ))
        })?;
        Config::parse(path, &text)
    }

    /// Parses configuration text; `path` decides the layout (pyproject.toml or ours).
    pub fn parse(path: &Path, text: &str) -> Result<Option<Config>, ConfigError> {
        let locate = |span: Option<std::ops::Range<usize>>, message: String| {
            let (line, column) = line_column(text, span.map_or(0, |span| span.start));
            ConfigError {
                path: path.to_path_buf(),
                line,
                column,
                message,
            }
        };
        let is_pyproject = path
            .file_name()
            .is_some_and(|name| name == "pyproject.toml");
        let parse_error = |error: toml::de::Error| locate(error.span(), error.message().to_owned());
        let raw: RawConfig = if is_pyproject {
            let project: PyProject = toml::from_str(text).map_err(parse_error)?;
            match project.tool.and_then(|tool| tool.objgraph_doctest) {
                Some(raw) => raw,
                None => return Ok(None),
            }
        } else {
            toml::from_str(text).map_err(parse_error)?
        };
        let root = path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."));
        raw.validate(path.to_path_buf(), root, &locate).map(Some)
    }

    /// CPython's flags, objgraph's, and the configured ones, in the order written.
    pub fn flag_registry(&self) -> FlagRegistry {
        let mut registry = FlagRegistry::new();
        for flag in &self.flags {
            // Names were validated against the registry when the configuration was read.
            let _ = registry.register(&flag.name, flag.behavior.clone(), &flag.help);
        }
        registry
    }

    /// The configured default flags as a set.
    pub fn default_flags(&self, registry: &FlagRegistry) -> Result<FlagSet, String> {
        let registry = registry.accepting(&[FlagFamily::Pytest, FlagFamily::Doctestplus]);
        self.optionflags
            .iter()
            .try_fold(FlagSet::EMPTY, |set, name| {
                Ok(set.with(registry.parse_name(name)?))
            })
    }
}

impl RawConfig {
    fn validate(
        self,
        source: PathBuf,
        root: PathBuf,
        locate: &dyn Fn(Option<std::ops::Range<usize>>, String) -> ConfigError,
    ) -> Result<Config, ConfigError> {
        let mut registry = FlagRegistry::new();
        let mut flags = Vec::new();
        for (name, definition) in self.flags.map(|table| table.0).unwrap_or_default() {
            let flag = user_flag(&name, definition, locate)?;
            registry
                .register(&flag.name, flag.behavior.clone(), &flag.help)
                .map_err(|error| locate(Some(name.span()), error.to_string()))?;
            flags.push(flag);
        }
        // Any family's flag may be a default: which ones mean something depends on the
        // profile each page is read by.
        let every_name = registry.accepting(&[FlagFamily::Pytest, FlagFamily::Doctestplus]);
        let optionflags = self
            .optionflags
            .unwrap_or_default()
            .into_iter()
            .map(|name| {
                every_name
                    .parse_name(name.get_ref())
                    .map(|_| name.get_ref().clone())
                    .map_err(|message| locate(Some(name.span()), message))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let profile = self
            .profile
            .map(|name| {
                name.get_ref()
                    .parse::<Profile>()
                    .map_err(|message| locate(Some(name.span()), message))
            })
            .transpose()?;
        if let Some(timeout) = &self.timeout
            && let Err(message) = super::options::validate_timeout(*timeout.get_ref())
        {
            return Err(locate(
                Some(timeout.span()),
                format!("{message}, e.g. timeout = 30"),
            ));
        }
        if let Some(jobs) = &self.jobs
            && *jobs.get_ref() == 0
        {
            return Err(locate(
                Some(jobs.span()),
                "jobs must be at least 1 (leave it out to use one job per core)".to_owned(),
            ));
        }
        if let Some(limit) = &self.memory_limit
            && *limit.get_ref() < super::options::MIN_MEMORY_LIMIT_MIB
        {
            return Err(locate(
                Some(limit.span()),
                format!(
                    "memory-limit is in MiB and must be at least {} (Python needs that much \
                     to start)",
                    super::options::MIN_MEMORY_LIMIT_MIB
                ),
            ));
        }
        let stale_figures = self
            .stale_figures
            .map(|value| {
                value
                    .get_ref()
                    .parse()
                    .map_err(|message| locate(Some(value.span()), message))
            })
            .transpose()?;
        let profile_rules = self
            .profiles
            .unwrap_or_default()
            .into_iter()
            .map(|rule| profile_rule(rule, locate))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Config {
            source: Some(source),
            root,
            paths: self.paths.unwrap_or_default(),
            exclude: self.exclude.unwrap_or_default(),
            optionflags,
            profile,
            python: self.python,
            timeout_seconds: self.timeout.map(Spanned::into_inner),
            preload: self.preload,
            setup: self.setup,
            jobs: self.jobs.map(Spanned::into_inner),
            memory_limit_mib: self.memory_limit.map(Spanned::into_inner),
            artifacts_dir: self.artifacts_dir,
            stale_figures,
            flags,
            profile_rules,
            warnings: Vec::new(),
        })
    }
}

/// A `[[profiles]]` entry, validated: a known profile and at least one valid glob.
fn profile_rule(
    rule: Spanned<RawProfileRule>,
    locate: &dyn Fn(Option<std::ops::Range<usize>>, String) -> ConfigError,
) -> Result<ProfileRule, ConfigError> {
    let span = rule.span();
    let raw = rule.into_inner();
    let profile = raw
        .profile
        .get_ref()
        .parse::<Profile>()
        .map_err(|message| locate(Some(raw.profile.span()), format!("profiles: {message}")))?;
    if raw.paths.is_empty() {
        return Err(locate(
            Some(span),
            "this [[profiles]] entry matches no page: give paths = [\"docs/**/*.md\"] \
             (globs relative to this file's directory)"
                .to_owned(),
        ));
    }
    let mut builder = globset::GlobSetBuilder::new();
    let mut patterns = Vec::new();
    for pattern in &raw.paths {
        let written = pattern.get_ref();
        let relative = written.strip_prefix("./").unwrap_or(written);
        let glob = globset::GlobBuilder::new(relative)
            .literal_separator(true)
            .build()
            .map_err(|error| {
                locate(
                    Some(pattern.span()),
                    format!("profiles: invalid glob {written:?}: {}", error.kind()),
                )
            })?;
        builder.add(glob);
        patterns.push(written.clone());
    }
    let (line, _) = locate(Some(span.clone()), String::new()).position();
    let globs = builder.build().map_err(|error| {
        locate(
            Some(span),
            format!("profiles: cannot use these globs: {error}"),
        )
    })?;
    Ok(ProfileRule {
        patterns,
        globs,
        profile,
        line,
    })
}

fn user_flag(
    name: &Spanned<String>,
    definition: Spanned<RawFlag>,
    locate: &dyn Fn(Option<std::ops::Range<usize>>, String) -> ConfigError,
) -> Result<UserFlag, ConfigError> {
    let span = definition.span();
    let raw = definition.into_inner();
    let behavior = match (raw.replace, raw.any_output) {
        (Some(replacements), None | Some(false)) => {
            let substitutions = replacements
                .into_iter()
                .map(|substitution| {
                    let pattern =
                        regex::Regex::new(substitution.pattern.get_ref()).map_err(|error| {
                            locate(
                                Some(substitution.pattern.span()),
                                format!("flag {} has an invalid pattern: {error}", name.get_ref()),
                            )
                        })?;
                    let replacement = replacement_template(substitution.with.get_ref(), &pattern)
                        .map_err(|message| {
                        locate(
                            Some(substitution.with.span()),
                            format!("flag {}: {message}", name.get_ref()),
                        )
                    })?;
                    Ok(Substitution {
                        pattern,
                        replacement,
                    })
                })
                .collect::<Result<Vec<_>, ConfigError>>()?;
            FlagBehavior::Substitute(substitutions)
        }
        (None, Some(true)) => FlagBehavior::AnyNonEmptyOutput,
        (Some(_), Some(true)) => {
            return Err(locate(
                Some(span),
                format!(
                    "flag {} sets both replace and any-output; keep one of them",
                    name.get_ref()
                ),
            ));
        }
        (None, _) => {
            return Err(locate(
                Some(span),
                format!(
                    "flag {} does nothing; give it replace = [{{ pattern = '...', with = '...' }}] \
                     or any-output = true",
                    name.get_ref()
                ),
            ));
        }
    };
    let help = raw.help.unwrap_or_else(|| match &behavior {
        FlagBehavior::AnyNonEmptyOutput => "any non-empty output passes".to_owned(),
        _ => "configured substitutions are applied to both sides before comparing".to_owned(),
    });
    Ok(UserFlag {
        name: name.get_ref().clone(),
        behavior,
        help,
    })
}

/// A flag's `with` as the `regex` crate's replacement template, checked against `pattern`.
///
/// Users write Python's `re.sub` templates (`\1`, `\g<name>`, `\g<0>`): a `with` that has a
/// backslash is read with Python's rules (`$` is then literal). Otherwise it is the `regex`
/// crate's syntax (`$1`, `${name}`), as documented before. Either way, a reference to a group
/// the pattern does not have is an error: the `regex` crate would silently replace it with
/// nothing (`$1x` names a group "1x"), and a comparison would then pass or fail for the
/// wrong reason.
fn replacement_template(with: &str, pattern: &regex::Regex) -> Result<String, String> {
    let template = if with.contains('\\') {
        python_template(with)?
    } else {
        with.to_owned()
    };
    for group in template_groups(&template) {
        let known = match group.parse::<usize>() {
            Ok(number) => number < pattern.captures_len(),
            Err(_) => pattern.capture_names().flatten().any(|name| name == group),
        };
        if !known {
            return Err(format!(
                "`with` refers to group {group:?}, which the pattern does not have; groups are \
                 numbered from 1 (write `${{1}}x` or `\\g<1>x` for group 1 followed by x)"
            ));
        }
    }
    Ok(template)
}

/// Python's `re.sub` template syntax translated to the `regex` crate's.
fn python_template(with: &str) -> Result<String, String> {
    let mut template = String::with_capacity(with.len() + 8);
    let mut chars = with.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '$' => template.push_str("$$"),
            '\\' => match chars.next() {
                None => return Err("`with` ends with a lone backslash (write \\\\ for one)".into()),
                Some('\\') => template.push('\\'),
                Some('g') => {
                    if chars.next() != Some('<') {
                        return Err("`\\g` must be followed by <name> or <number>".into());
                    }
                    let name: String = chars.by_ref().take_while(|&c| c != '>').collect();
                    if name.is_empty() {
                        return Err("`\\g<>` names no group".into());
                    }
                    template.push_str(&format!("${{{name}}}"));
                }
                Some('0') => {
                    // Python reads `\0` as an octal escape (up to two more digits), not a group.
                    let mut code = 0u32;
                    for _ in 0..2 {
                        match chars.peek().and_then(|c| c.to_digit(8)) {
                            Some(digit) => {
                                code = code * 8 + digit;
                                chars.next();
                            }
                            None => break,
                        }
                    }
                    template.push(char::from_u32(code).unwrap_or('\0'));
                }
                Some(digit @ '1'..='9') => {
                    let mut number = digit.to_string();
                    if let Some(&next @ '0'..='9') = chars.peek() {
                        number.push(next);
                        chars.next();
                    }
                    template.push_str(&format!("${{{number}}}"));
                }
                Some('n') => template.push('\n'),
                Some('t') => template.push('\t'),
                Some('r') => template.push('\r'),
                Some('f') => template.push('\x0c'),
                Some('v') => template.push('\x0b'),
                Some('a') => template.push('\x07'),
                Some('b') => template.push('\x08'),
                Some(letter) if letter.is_ascii_alphabetic() => {
                    return Err(format!(
                        "bad escape \\{letter} in `with` (Python's re.sub rejects it too)"
                    ));
                }
                // Python keeps other escapes as they are: `\&` stays `\&`.
                Some(other) => {
                    template.push('\\');
                    template.push(other);
                }
            },
            other => template.push(other),
        }
    }
    Ok(template)
}

/// The group names and numbers a `regex` replacement template refers to.
fn template_groups(template: &str) -> Vec<String> {
    let mut groups = Vec::new();
    let bytes = template.as_bytes();
    let mut index = 0;
    while index < bytes.len() {
        if bytes[index] != b'$' {
            index += 1;
            continue;
        }
        index += 1;
        match bytes.get(index) {
            Some(b'$') => index += 1,
            Some(b'{') => {
                let end = template[index..]
                    .find('}')
                    .map_or(bytes.len(), |end| index + end);
                groups.push(template[index + 1..end].to_owned());
                index = end + 1;
            }
            Some(_) => {
                let length = template[index..]
                    .bytes()
                    .take_while(|&b| b.is_ascii_alphanumeric() || b == b'_')
                    .count();
                if length > 0 {
                    groups.push(template[index..index + length].to_owned());
                }
                index += length;
            }
            None => {}
        }
    }
    groups
}

/// The first directory upwards with one of these is the project root; discovery stops there.
const PROJECT_MARKERS: [&str; 3] = ["pyproject.toml", "objgraph-doctest.toml", ".git"];

pub(crate) fn is_project_root(directory: &Path) -> bool {
    PROJECT_MARKERS
        .iter()
        .any(|marker| std::fs::symlink_metadata(directory.join(marker)).is_ok())
}

/// Why a configuration file must not be used, if another user could have written it.
pub(crate) fn untrusted(path: &Path, metadata: &std::fs::Metadata) -> Option<String> {
    if !metadata.is_file() {
        let kind = crate::runner::read::irregular_kind(metadata).unwrap_or("not a file");
        return Some(format!("it is {kind}, not a regular file"));
    }
    let me = crate::runner::write::current_uid();
    if metadata.uid() != me && metadata.uid() != 0 {
        return Some(format!(
            "it belongs to user {}, not to you or root, so its setup code would run as you \
             (copy it, or pass --config to use it anyway)",
            metadata.uid()
        ));
    }
    let writable_by_others = if private_group(metadata.gid()) {
        metadata.mode() & 0o002 != 0
    } else {
        metadata.mode() & 0o022 != 0
    };
    if writable_by_others {
        return Some(format!(
            "it is writable by {} (mode {:o}); run `chmod go-w {}`",
            if metadata.mode() & 0o002 != 0 {
                "everyone"
            } else {
                "its group"
            },
            metadata.mode() & 0o777,
            path.display()
        ));
    }
    let directory = path
        .parent()
        .filter(|parent| !parent.as_os_str().is_empty());
    let directory_metadata = std::fs::metadata(directory.unwrap_or(Path::new("."))).ok()?;
    let sticky = directory_metadata.mode() & 0o1000 != 0;
    let others = if private_group(directory_metadata.gid()) {
        0o002
    } else {
        0o022
    };
    if directory_metadata.mode() & others != 0 && !sticky {
        return Some(format!(
            "its directory is writable by others (mode {:o}), who could replace it",
            directory_metadata.mode() & 0o777
        ));
    }
    None
}

/// True for the user's own private group (named after the user, no other members): a file
/// writable by it is writable by the user alone. Distributions that give each user such a
/// group also set umask 002, so a user's ordinary files are group-writable.
fn private_group(gid: u32) -> bool {
    use nix::unistd::{Gid, Group, User};
    let me = nix::unistd::geteuid();
    let (Ok(Some(group)), Ok(Some(user))) =
        (Group::from_gid(Gid::from_raw(gid)), User::from_uid(me))
    else {
        return false;
    };
    user.gid.as_raw() == gid
        && group.name == user.name
        && group.mem.iter().all(|member| *member == user.name)
}

impl ConfigError {
    fn position(&self) -> (usize, usize) {
        (self.line, self.column)
    }
}

/// 1-based line and column (in characters) of byte `offset` in `text`.
pub fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(file: &str, text: &str) -> Result<Option<Config>, ConfigError> {
        Config::parse(Path::new(file), text)
    }

    #[test]
    fn pyproject_without_our_table_is_not_a_config() {
        assert!(
            parse("pyproject.toml", "[tool.black]\nx = 1\n")
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn keys_are_read() {
        let config = parse(
            "objgraph-doctest.toml",
            "paths = ['docs']\noptionflags = ['ELLIPSIS']\ntimeout = 5\njobs = 2\nmemory-limit = 1024\n\
             [flags.ADDRESSES]\nreplace = [{ pattern = '0x[0-9a-f]+', with = '0xADDR' }]\n\
             [flags.TIMING]\nany-output = true\n",
        )
        .unwrap()
        .unwrap();
        assert_eq!(config.paths, ["docs"]);
        assert_eq!(config.timeout_seconds, Some(5.0));
        assert_eq!(config.memory_limit_mib, Some(1024));
        let names: Vec<_> = config.flags.iter().map(|flag| flag.name.as_str()).collect();
        assert_eq!(names, ["ADDRESSES", "TIMING"]);
        let registry = config.flag_registry();
        assert!(registry.lookup("TIMING").is_some());
    }

    #[test]
    fn profile_is_read_and_checked() {
        let config = parse(
            "objgraph-doctest.toml",
            "profile = 'pytest'\noptionflags = ['NUMBER']\n",
        )
        .unwrap()
        .unwrap();
        assert_eq!(config.profile, Some(Profile::Pytest));
        assert!(config.default_flags(&config.flag_registry()).is_ok());
        let error = parse("objgraph-doctest.toml", "jobs = 1\nprofile = 'nose'\n").unwrap_err();
        assert_eq!((error.line, error.column), (2, 11));
        assert!(
            error.message.contains("use one of doctest, pytest"),
            "{}",
            error.message
        );
    }

    #[test]
    fn unknown_keys_are_located() {
        let error = parse(
            "pyproject.toml",
            "[project]\nname = 'x'\n\n[tool.objgraph-doctest]\npaths = ['docs']\ntimout = 3\n",
        )
        .unwrap_err();
        assert_eq!((error.line, error.column), (6, 1), "{error}");
        assert!(error.message.contains("timout"), "{error}");
        assert!(error.to_string().starts_with("pyproject.toml:6:1: "));
    }

    #[test]
    fn bad_values_are_located() {
        let error = parse("objgraph-doctest.toml", "optionflags = ['ELIPSIS']\n").unwrap_err();
        assert_eq!((error.line, error.column), (1, 16));
        assert!(error.message.contains("unknown option flag"));
        let error = parse(
            "objgraph-doctest.toml",
            "[flags.X]\nreplace = [{ pattern = '(', with = '' }]\n",
        )
        .unwrap_err();
        assert_eq!(error.line, 2);
        assert!(error.message.contains("invalid pattern"));
        let error = parse(
            "objgraph-doctest.toml",
            "[flags.ELLIPSIS]\nany-output = true\n",
        )
        .unwrap_err();
        assert!(error.message.contains("already defined"), "{error}");
    }

    #[test]
    fn stale_figures_is_read_and_checked() {
        let config = parse("objgraph-doctest.toml", "stale-figures = \"error\"\n")
            .unwrap()
            .unwrap();
        assert_eq!(
            config.stale_figures,
            Some(super::super::figures::StaleFigures::Error)
        );
        let error = parse("objgraph-doctest.toml", "\nstale-figures = \"fail\"\n").unwrap_err();
        assert_eq!((error.line, error.column), (2, 17));
        assert!(error.message.contains("\"ignore\""), "{error}");
    }

    #[test]
    fn profiles_are_validated_with_positions() {
        let config = parse(
            "pyproject.toml",
            "[tool.objgraph-doctest]\nprofile = 'pytest'\n\n[[tool.objgraph-doctest.profiles]]\n\
             paths = ['docs/**/*.md', './README.md']\nprofile = 'doctest'\n",
        )
        .unwrap()
        .unwrap();
        assert_eq!(config.profile, Some(Profile::Pytest));
        let rule = &config.profile_rules[0];
        assert_eq!(rule.profile, Profile::Doctest);
        assert!(rule.globs.is_match("docs/a/b.md") && rule.globs.is_match("README.md"));
        assert!(!rule.globs.is_match("docs/a/b.txt"));
        let error = parse("objgraph-doctest.toml", "profile = 'nose'\n").unwrap_err();
        assert_eq!((error.line, error.column), (1, 11), "{error}");
        assert!(
            error
                .message
                .contains("doctest, pytest, doctestplus, sphinx")
        );
        let error = parse(
            "objgraph-doctest.toml",
            "[[profiles]]\npaths = ['docs/[x']\nprofile = 'pytest'\n",
        )
        .unwrap_err();
        assert_eq!((error.line, error.column), (2, 10), "{error}");
        assert!(error.message.contains("invalid glob"), "{error}");
        let error = parse(
            "objgraph-doctest.toml",
            "[[profiles]]\npaths = []\nprofile = 'pytest'\n",
        )
        .unwrap_err();
        assert!(error.message.contains("matches no page"), "{error}");
        let error = parse(
            "objgraph-doctest.toml",
            "[[profiles]]\npaths = ['a']\nprofil = 'pytest'\n",
        )
        .unwrap_err();
        assert_eq!(error.line, 3, "{error}");
    }

    #[test]
    fn discovery_stops_at_the_project_root() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
        let project = dir.path().join("project");
        std::fs::create_dir_all(project.join(".git")).unwrap();
        std::fs::create_dir_all(project.join("docs")).unwrap();
        std::fs::write(dir.path().join("objgraph-doctest.toml"), "jobs = 3\n").unwrap();
        let config = Config::discover(&project.join("docs")).unwrap();
        assert_eq!(config.source, None);
        std::fs::remove_dir(project.join(".git")).unwrap();
        let config = Config::discover(&project.join("docs")).unwrap();
        assert_eq!(config.jobs, Some(3));
    }

    #[test]
    fn files_others_can_write_are_ignored_with_the_reason() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
        let path = dir.path().join("objgraph-doctest.toml");
        std::fs::write(&path, "setup = 'import os'\n").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o666)).unwrap();
        let config = Config::discover(dir.path()).unwrap();
        assert_eq!(config.source, None);
        assert_eq!(config.setup, None);
        assert!(
            config.warnings[0].contains("writable by everyone (mode 666)"),
            "{:?}",
            config.warnings
        );
    }

    #[test]
    fn group_writable_files_of_the_users_private_group_are_trusted() {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        let dir = tempfile::tempdir().unwrap();
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o770)).unwrap();
        let path = dir.path().join("objgraph-doctest.toml");
        std::fs::write(&path, "setup = 'import os'\n").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o664)).unwrap();
        let private = private_group(std::fs::metadata(&path).unwrap().gid());
        let config = Config::discover(dir.path()).unwrap();
        // umask 002 with a private group is the ordinary case on many distributions.
        assert_eq!(config.source.is_some(), private, "{:?}", config.warnings);
    }

    #[test]
    fn replacements_are_read_as_python_writes_them() {
        // Expected results computed with Python's re.sub(pattern, with, text).
        let cases = [
            (
                r"0x([0-9a-f]+)",
                r"<\1>",
                "at 0x7f3a and 0xbeef",
                "at <7f3a> and <beef>",
            ),
            (
                r"(?P<n>\d+) nodes",
                r"\g<n> node(s)",
                "(12 nodes)",
                "(12 node(s))",
            ),
            (r"(\d+)", r"\g<1>0", "5 and 7", "50 and 70"),
            (r"(\d+)", r"\g<0>$", "5", "5$"),
            (r"a", r"\\", "cat", r"c\t"),
            (r"a", r"x\ty", "a", "x\ty"),
            (r"a", r"\&", "a", r"\&"),
            (r"(\d)", "$1 (rust)", "7", "7 (rust)"),
            (r"(\d)", "${1}x", "7", "7x"),
        ];
        for (pattern, with, text, expected) in cases {
            let regex = regex::Regex::new(pattern).unwrap();
            let template = replacement_template(with, &regex).unwrap();
            assert_eq!(
                regex.replace_all(text, template.as_str()),
                expected,
                "{pattern} / {with}"
            );
        }
    }

    #[test]
    fn replacements_naming_missing_groups_or_bad_escapes_are_errors() {
        let regex = regex::Regex::new(r"(\d+)").unwrap();
        for with in [r"\2", r"\g<name>", "$1x", "${2}", r"\q", "\\"] {
            assert!(replacement_template(with, &regex).is_err(), "{with}");
        }
    }
}
