//! pytest's configuration, read as pytest reads it: which file is the inifile and which
//! directory the rootdir (pytest's `determine_setup` / `locate_config`), the ini values
//! (iniconfig's rules for `.ini`/`.cfg`, `[tool.pytest.ini_options]` for pyproject.toml), and
//! what those values say about doctests in text files (`addopts`, `doctest_optionflags`,
//! `doctest_encoding`, `pythonpath`, `testpaths`, pytest-doctestplus's `doctest_plus`,
//! `doctest_rst`, `text_file_format`).
//!
//! The parse functions are pure (text in, data out); [`PytestSetup::determine`] is the finder
//! that looks at the file system. Which pages pytest would collect as doctest files is
//! [`PytestSettings::collects`], with pytest's `fnmatch_ex` ([`fnmatch_ex`]).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// An error in a pytest configuration file, located.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}:{line}:{column}: {message}", path.display())]
pub struct PytestConfigError {
    pub path: PathBuf,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

/// One ini value: text (from an ini file, or a TOML scalar as `str()` gives it) or a list
/// (a TOML array), and the 1-based line it was written on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IniValue {
    pub value: IniText,
    pub line: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IniText {
    Text(String),
    List(Vec<String>),
}

impl IniText {
    /// pytest's `args` type: a string is `shlex.split`, a list is used as it is.
    fn args(&self) -> Result<Vec<String>, String> {
        match self {
            IniText::Text(text) => shlex_split(text),
            IniText::List(items) => Ok(items.clone()),
        }
    }

    /// Python truthiness of the value as `getini` returns it for an untyped key: any
    /// non-empty string is true (`doctest_plus = false` enables doctestplus, as in pytest).
    fn truthy(&self) -> bool {
        match self {
            IniText::Text(text) => !text.is_empty(),
            IniText::List(items) => !items.is_empty(),
        }
    }

    fn text(&self) -> String {
        match self {
            IniText::Text(text) => text.clone(),
            IniText::List(items) => items.join(" "),
        }
    }
}

/// The `[pytest]`-section values of an inifile, by key.
pub type IniValues = BTreeMap<String, IniValue>;

/// One parsed ini file: its sections in order, each with its keys.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IniFile {
    pub sections: Vec<(String, IniValues)>,
}

impl IniFile {
    pub fn section(&self, name: &str) -> Option<&IniValues> {
        self.sections
            .iter()
            .find(|(section, _)| section == name)
            .map(|(_, values)| values)
    }
}

/// Parses ini text with iniconfig's rules (as pytest calls it: inline comments are kept in
/// values): `#` and `;` start comment lines; blank and comment lines are skipped, also inside
/// a value; a line starting with whitespace continues the previous value (joined with `\n`);
/// `name = value` or `name: value` (the first `=` unless the name would contain a `:`);
/// duplicate sections and names are errors. Errors are `(1-based line, message)`.
pub fn parse_ini(text: &str) -> Result<IniFile, (usize, String)> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut file = IniFile::default();
    // The value being continued: (section index, key).
    let mut last: Option<(usize, String)> = None;
    for (index, raw) in split_lines_keepends(text).enumerate() {
        let line_number = index + 1;
        let is_comment = raw
            .trim_start_matches(char::is_whitespace)
            .starts_with(['#', ';']);
        let line = if is_comment {
            ""
        } else {
            raw.trim_end_matches(char::is_whitespace)
        };
        if line.is_empty() {
            continue;
        }
        let first = line.chars().next().unwrap_or(' ');
        if first == '[' {
            let mut header = line;
            for comment in ['#', ';'] {
                header = header
                    .split(comment)
                    .next()
                    .unwrap_or("")
                    .trim_end_matches(char::is_whitespace);
            }
            if let Some(name) = header.strip_suffix(']') {
                let name = &name[1..];
                if name.is_empty() {
                    return Err((line_number, "empty section name".to_owned()));
                }
                if file.section(name).is_some() {
                    return Err((line_number, format!("duplicate section {name:?}")));
                }
                file.sections.push((name.to_owned(), IniValues::new()));
                last = None;
                continue;
            }
            // A `[` line that is not a header is a continuation in iniconfig.
            continue_value(&mut file, &last, line.trim(), line_number)?;
            continue;
        }
        if first.is_whitespace() {
            continue_value(&mut file, &last, line.trim(), line_number)?;
            continue;
        }
        let (name, value) = match line.split_once('=') {
            Some((name, value)) if !name.contains(':') => (name, value),
            _ => line.split_once(':').ok_or_else(|| {
                (
                    line_number,
                    format!("unexpected line: {line:?} (write `name = value`)"),
                )
            })?,
        };
        let name = name.trim().to_owned();
        let value = value.trim().to_owned();
        let Some(section_index) = file.sections.len().checked_sub(1) else {
            return Err((line_number, "no section header defined".to_owned()));
        };
        let values = &mut file.sections[section_index].1;
        if values.contains_key(&name) {
            return Err((line_number, format!("duplicate name {name:?}")));
        }
        values.insert(
            name.clone(),
            IniValue {
                value: IniText::Text(value),
                line: line_number,
            },
        );
        last = Some((section_index, name));
    }
    Ok(file)
}

fn continue_value(
    file: &mut IniFile,
    last: &Option<(usize, String)>,
    text: &str,
    line_number: usize,
) -> Result<(), (usize, String)> {
    let Some((section, name)) = last else {
        return Err((line_number, "unexpected value continuation".to_owned()));
    };
    if let Some(IniValue {
        value: IniText::Text(value),
        ..
    }) = file.sections[*section].1.get_mut(name)
    {
        // iniconfig keeps `name =` with no text as no line at all, so the first
        // continuation starts the value.
        if !value.is_empty() {
            value.push('\n');
        }
        value.push_str(text);
    }
    Ok(())
}

/// Python's `str.splitlines(True)` boundaries that matter in config files (`\n`, `\r\n`, `\r`).
fn split_lines_keepends(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = text;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let end = rest.find(['\n', '\r']).map_or(rest.len(), |i| {
            if rest[i..].starts_with("\r\n") {
                i + 2
            } else {
                i + 1
            }
        });
        let (line, tail) = rest.split_at(end);
        rest = tail;
        Some(line)
    })
}

/// What one candidate file says, as pytest's `load_config_dict_from_file`: `None` when it is
/// not a pytest configuration (no section, no table), the values otherwise. A pytest.ini is a
/// configuration even when empty; a setup.cfg with a plain `[pytest]` section is an error in
/// pytest, and here.
pub fn load_config_dict(path: &Path, text: &str) -> Result<Option<IniValues>, PytestConfigError> {
    let error = |line: usize, column: usize, message: String| PytestConfigError {
        path: path.to_path_buf(),
        line,
        column,
        message,
    };
    let name = path
        .file_name()
        .and_then(|name| name.to_str())
        .unwrap_or("");
    let suffix = path.extension().and_then(|ext| ext.to_str()).unwrap_or("");
    match suffix {
        "ini" => {
            let file = parse_ini(text).map_err(|(line, message)| error(line, 1, message))?;
            match file.section("pytest") {
                Some(values) => Ok(Some(values.clone())),
                None if name == "pytest.ini" => Ok(Some(IniValues::new())),
                None => Ok(None),
            }
        }
        "cfg" => {
            let file = parse_ini(text).map_err(|(line, message)| error(line, 1, message))?;
            if let Some(values) = file.section("tool:pytest") {
                Ok(Some(values.clone()))
            } else if file.section("pytest").is_some() {
                Err(error(
                    1,
                    1,
                    "[pytest] section in setup.cfg files is no longer supported, change to \
                     [tool:pytest] instead."
                        .to_owned(),
                ))
            } else {
                Ok(None)
            }
        }
        "toml" => {
            let document: toml::Spanned<toml::Table> = toml::from_str(text).map_err(|e| {
                let (line, column) =
                    super::config::line_column(text, e.span().map_or(0, |span| span.start));
                error(line, column, e.message().to_owned())
            })?;
            let options = document
                .get_ref()
                .get("tool")
                .and_then(|tool| tool.get("pytest"))
                .and_then(|pytest| pytest.get("ini_options"));
            let Some(options) = options else {
                return Ok(None);
            };
            let Some(table) = options.as_table() else {
                return Err(error(
                    1,
                    1,
                    "[tool.pytest.ini_options] must be a table".to_owned(),
                ));
            };
            let mut values = IniValues::new();
            for (key, value) in table {
                values.insert(
                    key.clone(),
                    IniValue {
                        value: toml_scalar(value),
                        line: toml_key_line(text, key),
                    },
                );
            }
            Ok(Some(values))
        }
        _ => Ok(None),
    }
}

/// pytest's `make_scalar`: lists stay lists (their items as `str()`), scalars become `str(v)`.
fn toml_scalar(value: &toml::Value) -> IniText {
    match value {
        toml::Value::Array(items) => IniText::List(items.iter().map(python_str).collect()),
        other => IniText::Text(python_str(other)),
    }
}

/// Python's `str()` of a value `tomllib` returns.
fn python_str(value: &toml::Value) -> String {
    match value {
        toml::Value::String(text) => text.clone(),
        toml::Value::Boolean(true) => "True".to_owned(),
        toml::Value::Boolean(false) => "False".to_owned(),
        toml::Value::Integer(number) => number.to_string(),
        toml::Value::Float(number) => {
            if number.is_finite() && number.fract() == 0.0 && number.abs() < 1e16 {
                format!("{number:.1}")
            } else {
                number.to_string()
            }
        }
        other => other.to_string(),
    }
}

/// The line of `key = ...` inside `[tool.pytest.ini_options]` (1 when not found), for
/// messages and `--show-config`.
fn toml_key_line(text: &str, key: &str) -> usize {
    let mut in_table = false;
    for (index, line) in text.lines().enumerate() {
        let trimmed = line.trim();
        if trimmed.starts_with('[') {
            in_table = trimmed.trim_start_matches('[').trim_end_matches(']').trim()
                == "tool.pytest.ini_options";
            continue;
        }
        if in_table
            && let Some((name, _)) = trimmed.split_once('=')
            && name.trim().trim_matches(['"', '\'']) == key
        {
            return index + 1;
        }
    }
    1
}

/// Python's `shlex.split(text)` (POSIX mode, no comments): whitespace separates words;
/// `'...'` is literal; in `"..."` a backslash escapes only `"` and `\`; outside quotes a
/// backslash escapes any character. Errors are Python's messages.
pub fn shlex_split(text: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' | '\r' | '\n' => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            '\\' => {
                let escaped = chars.next().ok_or("No escaped character")?;
                word.push(escaped);
                in_word = true;
            }
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(other) => word.push(other),
                        None => return Err("No closing quotation".to_owned()),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(escaped @ ('"' | '\\')) => word.push(escaped),
                            Some(other) => {
                                word.push('\\');
                                word.push(other);
                            }
                            None => return Err("No closing quotation".to_owned()),
                        },
                        Some(other) => word.push(other),
                        None => return Err("No closing quotation".to_owned()),
                    }
                }
            }
            other => {
                word.push(other);
                in_word = true;
            }
        }
    }
    if in_word {
        words.push(word);
    }
    Ok(words)
}

/// Python's `fnmatch.fnmatchcase` (POSIX: `normcase` is the identity): `*` matches any run of
/// characters (`/` included), `?` one character, `[seq]`/`[!seq]` a set with ranges; a `[`
/// without its `]` is literal.
pub fn fnmatch(name: &str, pattern: &str) -> bool {
    let name: Vec<char> = name.chars().collect();
    let pattern: Vec<char> = pattern.chars().collect();
    // Iterative matching with backtracking to the last `*` (linear in practice).
    let (mut n, mut p) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while n < name.len() {
        if p < pattern.len() {
            match pattern[p] {
                '*' => {
                    star = Some((p, n));
                    p += 1;
                    continue;
                }
                '?' => {
                    n += 1;
                    p += 1;
                    continue;
                }
                '[' => {
                    if let Some((matched, next)) = match_set(&pattern, p, name[n]) {
                        if matched {
                            n += 1;
                            p = next;
                            continue;
                        }
                    } else if name[n] == '[' {
                        n += 1;
                        p += 1;
                        continue;
                    }
                }
                literal => {
                    if literal == name[n] {
                        n += 1;
                        p += 1;
                        continue;
                    }
                }
            }
        }
        match star {
            Some((star_p, star_n)) => {
                p = star_p + 1;
                n = star_n + 1;
                star = Some((star_p, star_n + 1));
            }
            None => return false,
        }
    }
    pattern[p..].iter().all(|&c| c == '*')
}

/// A `[...]` set at `pattern[start]`: whether `c` is in it and the index after it; `None`
/// when the `[` has no closing `]` (then it is a literal `[`, as in `fnmatch.translate`).
fn match_set(pattern: &[char], start: usize, c: char) -> Option<(bool, usize)> {
    let mut i = start + 1;
    let negate = pattern.get(i) == Some(&'!');
    if negate {
        i += 1;
    }
    // A `]` right after `[` or `[!` is a member.
    let members_start = i;
    if pattern.get(i) == Some(&']') {
        i += 1;
    }
    while i < pattern.len() && pattern[i] != ']' {
        i += 1;
    }
    if i >= pattern.len() {
        return None;
    }
    let members = &pattern[members_start..i];
    let mut found = false;
    let mut k = 0;
    while k < members.len() {
        if k + 2 < members.len() && members[k + 1] == '-' {
            if members[k] <= c && c <= members[k + 2] {
                found = true;
            }
            k += 3;
        } else {
            if members[k] == c {
                found = true;
            }
            k += 1;
        }
    }
    Some((found != negate, i + 1))
}

/// pytest's `fnmatch_ex`: a pattern without `/` matches the file's name; one with `/`
/// matches the whole path, and a relative pattern may match its tail (`*/` is prepended for
/// absolute paths).
pub fn fnmatch_ex(pattern: &str, path: &Path) -> bool {
    if !pattern.contains('/') {
        let name = path
            .file_name()
            .map(|name| name.to_string_lossy())
            .unwrap_or_default();
        return fnmatch(&name, pattern);
    }
    let full = path.to_string_lossy();
    if path.is_absolute() && !pattern.starts_with('/') {
        fnmatch(&full, &format!("*/{pattern}"))
    } else {
        fnmatch(&full, pattern)
    }
}

/// The candidate file names in each directory, in pytest's order of precedence.
pub const PYTEST_CONFIG_FILES: [&str; 5] = [
    "pytest.ini",
    ".pytest.ini",
    "pyproject.toml",
    "tox.ini",
    "setup.cfg",
];

/// pytest's setup for a run: the rootdir, the inifile (if any) and its values.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PytestSetup {
    pub rootdir: PathBuf,
    pub inifile: Option<PathBuf>,
    pub values: IniValues,
    /// True when the inifile is a pytest configuration (not pytest's fallbacks: a
    /// pyproject.toml without `[tool.pytest.ini_options]`, a setup.py, the args' directory).
    pub configured: bool,
    /// Files not used, and why (full sentences).
    pub warnings: Vec<String>,
}

impl PytestSetup {
    /// pytest's `determine_setup` without `-c`/`--rootdir`: from the common ancestor of the
    /// existing `args` (the invocation directory when none exist), the first directory
    /// upwards with a pytest configuration (pytest.ini, .pytest.ini, pyproject.toml with
    /// `[tool.pytest.ini_options]`, tox.ini with `[pytest]`, setup.cfg with `[tool:pytest]`);
    /// else the first pyproject.toml seen; else the first directory upwards with setup.py;
    /// else the args' own directories; else the common ancestor of the invocation directory
    /// and the args. Paths must be absolute. Files another user could have written are
    /// skipped with a warning (their `pythonpath` would decide what runs).
    pub fn determine(
        args: &[PathBuf],
        invocation_dir: &Path,
    ) -> Result<PytestSetup, PytestConfigError> {
        let dirs: Vec<PathBuf> = args
            .iter()
            .filter(|path| path.exists())
            .map(|path| {
                if path.is_dir() {
                    path.clone()
                } else {
                    path.parent()
                        .map(Path::to_path_buf)
                        .unwrap_or_else(|| path.clone())
                }
            })
            .collect();
        let ancestor = common_ancestor(invocation_dir, &dirs);
        let mut warnings = Vec::new();
        if let Some((rootdir, inifile, values, configured)) =
            locate_config(std::slice::from_ref(&ancestor), &mut warnings)?
        {
            return Ok(PytestSetup {
                configured,
                rootdir,
                inifile,
                values,
                warnings,
            });
        }
        if let Some(rootdir) = ancestor
            .ancestors()
            .find(|directory| directory.join("setup.py").is_file())
        {
            return Ok(PytestSetup {
                rootdir: rootdir.to_path_buf(),
                inifile: None,
                values: IniValues::new(),
                configured: false,
                warnings,
            });
        }
        if dirs != [ancestor.clone()]
            && let Some((rootdir, inifile, values, configured)) =
                locate_config(&dirs, &mut warnings)?
        {
            return Ok(PytestSetup {
                configured,
                rootdir,
                inifile,
                values,
                warnings,
            });
        }
        let mut rootdir = common_ancestor(
            invocation_dir,
            &[invocation_dir.to_path_buf(), ancestor.clone()],
        );
        if rootdir.parent().is_none() {
            rootdir = ancestor;
        }
        Ok(PytestSetup {
            rootdir,
            inifile: None,
            values: IniValues::new(),
            configured: false,
            warnings,
        })
    }
}

/// rootdir, inifile, its values, and whether it is a pytest configuration (false for the
/// bare pyproject.toml pytest falls back to).
type Located = (PathBuf, Option<PathBuf>, IniValues, bool);

/// pytest's `locate_config` over `dirs`: the first configuration upwards of each in turn.
fn locate_config(
    dirs: &[PathBuf],
    warnings: &mut Vec<String>,
) -> Result<Option<Located>, PytestConfigError> {
    let mut first_pyproject: Option<PathBuf> = None;
    for dir in dirs {
        for base in dir.ancestors() {
            for name in PYTEST_CONFIG_FILES {
                let path = base.join(name);
                let Ok(metadata) = std::fs::metadata(&path) else {
                    continue;
                };
                if !metadata.is_file() {
                    continue;
                }
                if let Some(reason) = super::config::untrusted(&path, &metadata) {
                    warnings.push(format!(
                        "{}: pytest configuration ignored: {reason}",
                        path.display()
                    ));
                    continue;
                }
                if name == "pyproject.toml" && first_pyproject.is_none() {
                    first_pyproject = Some(path.clone());
                }
                let text = read_text(&path)?;
                if let Some(values) = load_config_dict(&path, &text)? {
                    return Ok(Some((base.to_path_buf(), Some(path), values, true)));
                }
            }
        }
    }
    Ok(first_pyproject.map(|path| {
        let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
        (base, Some(path), IniValues::new(), false)
    }))
}

fn read_text(path: &Path) -> Result<String, PytestConfigError> {
    let error = |message: String| PytestConfigError {
        path: path.to_path_buf(),
        line: 1,
        column: 1,
        message,
    };
    let read = super::read::read_regular_file(path)
        .map_err(|e| error(format!("the pytest configuration file {e}")))?;
    String::from_utf8(read.bytes).map_err(|e| {
        error(format!(
            "not valid UTF-8 (byte offset {}); pytest reads it as UTF-8",
            e.utf8_error().valid_up_to()
        ))
    })
}

/// pytest's `get_common_ancestor` over existing directories.
fn common_ancestor(invocation_dir: &Path, paths: &[PathBuf]) -> PathBuf {
    let mut common: Option<PathBuf> = None;
    for path in paths {
        common = Some(match common {
            None => path.clone(),
            Some(current) => {
                if path.starts_with(&current) {
                    current
                } else if current.starts_with(path) {
                    path.clone()
                } else {
                    let shared: PathBuf = current
                        .components()
                        .zip(path.components())
                        .take_while(|(a, b)| a == b)
                        .map(|(a, _)| a)
                        .collect();
                    if shared.as_os_str().is_empty() {
                        current
                    } else {
                        shared
                    }
                }
            }
        });
    }
    match common {
        None => invocation_dir.to_path_buf(),
        Some(path) if path.is_file() => path.parent().map(Path::to_path_buf).unwrap_or(path),
        Some(path) => path,
    }
}

/// Where a setting came from, for reports and `--show-config`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingSource {
    /// The file (or `PYTEST_ADDOPTS`).
    pub origin: String,
    pub line: usize,
    /// What it said, e.g. `addopts = --doctest-glob='*.md'`.
    pub said: String,
}

/// What pytest's configuration says about doctests in text files.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PytestSettings {
    pub rootdir: PathBuf,
    pub inifile: Option<PathBuf>,
    /// `--doctest-glob` patterns, in order (empty: pytest's default `test*.txt`).
    pub doctest_globs: Vec<String>,
    /// `--doctest-modules`: modules are pytest's to test, not ours (noted, not used).
    pub doctest_modules: bool,
    pub continue_on_failure: bool,
    /// `-p no:doctest`: pytest tests no text files at all.
    pub doctest_plugin_disabled: bool,
    /// `-p no:doctestplus`.
    pub doctestplus_plugin_disabled: bool,
    /// `--doctest-plus`, `--doctest-only` or `doctest_plus` set.
    pub doctest_plus: bool,
    /// `--doctest-plus` on the command line (ini `doctest_plus` alone loses to
    /// `--doctest-modules`, as in pytest-doctestplus).
    pub doctest_plus_option: bool,
    /// `--doctest-rst` or `doctest_rst` set.
    pub doctest_rst: bool,
    /// `--text-file-format` or `text_file_format` (default `rst`).
    pub text_file_format: Option<String>,
    /// `doctest_optionflags` as written; `None` when unset (pytest's default `ELLIPSIS`).
    pub optionflags: Option<Vec<String>>,
    /// The line `doctest_optionflags` is written on (for messages).
    pub optionflags_line: usize,
    /// `doctest_encoding` (default utf-8).
    pub encoding: String,
    /// `pythonpath` entries, resolved against the inifile's directory.
    pub pythonpath: Vec<PathBuf>,
    pub testpaths: Vec<String>,
    /// pytest-doctestplus's FLOAT_CMP tolerances as its `pytest_configure` sets them: the
    /// larger of the ini value (`doctest_plus_rtol`/`doctest_plus_atol`) and the option
    /// (`--doctest-plus-rtol`/`--doctest-plus-atol`), each defaulting to numpy's 1e-05/1e-08.
    pub plus_rtol: f64,
    pub plus_atol: f64,
    /// `--remote-data` (pytest-remotedata's, `any` when given without a value): examples
    /// marked as needing the network run only when it is `any`.
    pub remote_data: bool,
    /// What decided each setting above.
    pub sources: Vec<SettingSource>,
}

/// How pytest would test a text file, if it collects it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Collector {
    /// pytest's own `DoctestTextfile`.
    Pytest,
    /// pytest-doctestplus's `DocTestTextfilePlus`.
    Doctestplus,
}

impl PytestSettings {
    /// The inifile as shown in messages (`pytest's defaults` when there is none).
    pub fn inifile_display(&self) -> String {
        self.inifile.as_ref().map_or_else(
            || "pytest's defaults".to_owned(),
            |path| super::display_path(path),
        )
    }

    /// Reads the settings of `setup`; `env_addopts` is `$PYTEST_ADDOPTS` (applied after the
    /// ini's `addopts`, as pytest does).
    pub fn from_setup(
        setup: &PytestSetup,
        env_addopts: Option<&str>,
    ) -> Result<PytestSettings, PytestConfigError> {
        let origin = setup
            .inifile
            .as_ref()
            .map(|path| path.display().to_string())
            .unwrap_or_default();
        let error = |line: usize, message: String| PytestConfigError {
            path: setup.inifile.clone().unwrap_or_default(),
            line,
            column: 1,
            message,
        };
        let mut settings = PytestSettings {
            rootdir: setup.rootdir.clone(),
            inifile: setup.inifile.clone(),
            encoding: "utf-8".to_owned(),
            plus_rtol: crate::engine::doctestplus::FloatTolerance::default().rtol,
            plus_atol: crate::engine::doctestplus::FloatTolerance::default().atol,
            ..PytestSettings::default()
        };
        let values = &setup.values;
        let note = |settings: &mut PytestSettings, key: &str, value: &IniValue| {
            settings.sources.push(SettingSource {
                origin: origin.clone(),
                line: value.line,
                // Continuation lines joined, so that a source is one line.
                said: format!("{key} = {}", value.value.text().replace('\n', " ")),
            });
        };
        if let Some(addopts) = values.get("addopts") {
            let words = addopts
                .value
                .args()
                .map_err(|message| error(addopts.line, format!("addopts: {message}")))?;
            if settings.apply_options(&words) {
                note(&mut settings, "addopts", addopts);
            }
        }
        if let Some(env) = env_addopts.filter(|text| !text.trim().is_empty()) {
            let words = shlex_split(env).map_err(|message| PytestConfigError {
                path: PathBuf::from("PYTEST_ADDOPTS"),
                line: 1,
                column: 1,
                message,
            })?;
            if settings.apply_options(&words) {
                settings.sources.push(SettingSource {
                    origin: "PYTEST_ADDOPTS".to_owned(),
                    line: 1,
                    said: env.to_owned(),
                });
            }
        }
        if let Some(flags) = values.get("doctest_optionflags") {
            let names = flags
                .value
                .args()
                .map_err(|message| error(flags.line, format!("doctest_optionflags: {message}")))?;
            settings.optionflags = Some(names);
            settings.optionflags_line = flags.line;
            note(&mut settings, "doctest_optionflags", flags);
        }
        if let Some(encoding) = values.get("doctest_encoding") {
            settings.encoding = encoding.value.text();
            note(&mut settings, "doctest_encoding", encoding);
        }
        if let Some(enabled) = values.get("doctest_plus") {
            if enabled.value.truthy() {
                settings.doctest_plus = true;
            }
            note(&mut settings, "doctest_plus", enabled);
        }
        if let Some(rst) = values.get("doctest_rst") {
            if rst.value.truthy() {
                settings.doctest_rst = true;
            }
            note(&mut settings, "doctest_rst", rst);
        }
        if let Some(format) = values.get("text_file_format") {
            if settings.text_file_format.is_none() && format.value.truthy() {
                settings.text_file_format = Some(format.value.text());
            }
            note(&mut settings, "text_file_format", format);
        }
        if let Some(paths) = values.get("pythonpath") {
            let base = setup
                .inifile
                .as_ref()
                .and_then(|path| path.parent())
                .unwrap_or(&setup.rootdir);
            let entries = paths
                .value
                .args()
                .map_err(|message| error(paths.line, format!("pythonpath: {message}")))?;
            settings.pythonpath = entries.iter().map(|entry| base.join(entry)).collect();
            note(&mut settings, "pythonpath", paths);
        }
        for (key, is_rtol) in [("doctest_plus_rtol", true), ("doctest_plus_atol", false)] {
            let Some(value) = values.get(key) else {
                continue;
            };
            let number: f64 = value.value.text().trim().parse().map_err(|_| {
                error(
                    value.line,
                    format!(
                        "{key}: {:?} is not a number (e.g. 1e-05)",
                        value.value.text()
                    ),
                )
            })?;
            let current = if is_rtol {
                &mut settings.plus_rtol
            } else {
                &mut settings.plus_atol
            };
            *current = current.max(number);
            note(&mut settings, key, value);
        }
        if let Some(paths) = values.get("testpaths") {
            settings.testpaths = paths
                .value
                .args()
                .map_err(|message| error(paths.line, format!("testpaths: {message}")))?;
            note(&mut settings, "testpaths", paths);
        }
        Ok(settings)
    }

    /// Applies the doctest options among command-line `words`; true when one was found.
    fn apply_options(&mut self, words: &[String]) -> bool {
        let mut found = false;
        let mut index = 0;
        while index < words.len() {
            let word = words[index].as_str();
            index += 1;
            // `--opt=value` or `--opt value`.
            let mut value_of = |name: &str| -> Option<String> {
                if let Some(value) = word
                    .strip_prefix(name)
                    .and_then(|rest| rest.strip_prefix('='))
                {
                    return Some(value.to_owned());
                }
                if word == name {
                    let value = words.get(index).cloned();
                    index += 1;
                    return value;
                }
                None
            };
            if let Some(glob) = value_of("--doctest-glob") {
                self.doctest_globs.push(glob);
                found = true;
                continue;
            }
            if let Some(format) = value_of("--text-file-format") {
                self.text_file_format = Some(format);
                found = true;
                continue;
            }
            for (name, is_rtol) in [
                ("--doctest-plus-rtol", true),
                ("--doctest-plus-atol", false),
            ] {
                if let Some(number) =
                    value_of(name).and_then(|text| text.trim().parse::<f64>().ok())
                {
                    let current = if is_rtol {
                        &mut self.plus_rtol
                    } else {
                        &mut self.plus_atol
                    };
                    *current = current.max(number);
                    found = true;
                }
            }
            if let Some(value) = word.strip_prefix("--remote-data=") {
                self.remote_data = value == "any";
                found = true;
                continue;
            }
            if word == "--remote-data" {
                // `--remote-data` alone means `any`; a following word is its value unless it
                // is another option (pytest-remotedata's `nargs="?"`).
                match words.get(index).filter(|next| !next.starts_with('-')) {
                    Some(value) if matches!(value.as_str(), "any" | "none" | "astropy") => {
                        self.remote_data = value == "any";
                        index += 1;
                    }
                    _ => self.remote_data = true,
                }
                found = true;
                continue;
            }
            let plugin = if let Some(name) = word.strip_prefix("-p").filter(|rest| !rest.is_empty())
            {
                Some(name.to_owned())
            } else if word == "-p" {
                let name = words.get(index).cloned();
                index += 1;
                name
            } else {
                None
            };
            if let Some(plugin) = plugin {
                match plugin.trim() {
                    "no:doctest" => self.doctest_plugin_disabled = true,
                    "no:doctestplus" => self.doctestplus_plugin_disabled = true,
                    _ => continue,
                }
                found = true;
                continue;
            }
            match word {
                "--doctest-modules" => self.doctest_modules = true,
                "--doctest-continue-on-failure" => self.continue_on_failure = true,
                "--doctest-plus" => {
                    self.doctest_plus = true;
                    self.doctest_plus_option = true;
                }
                "--doctest-only" => self.doctest_plus = true,
                "--doctest-rst" => self.doctest_rst = true,
                _ => continue,
            }
            found = true;
        }
        found
    }

    /// Whether pytest-doctestplus takes over text files (pytest-doctestplus's
    /// `pytest_configure`): enabled, not switched off, and not `--doctest-modules` without
    /// `--doctest-plus`.
    pub fn doctestplus_active(&self) -> bool {
        self.doctest_plus
            && !self.doctest_plugin_disabled
            && !self.doctestplus_plugin_disabled
            && (!self.doctest_modules || self.doctest_plus_option)
    }

    /// The `--doctest-glob` patterns pytest matches files against.
    pub fn effective_globs(&self) -> Vec<String> {
        if self.doctestplus_active() {
            let mut globs = self.doctest_globs.clone();
            if self.doctest_rst {
                let ext = self.text_file_format.as_deref().unwrap_or("rst");
                globs.push(format!("*.{ext}"));
            }
            globs
        } else if self.doctest_globs.is_empty() {
            vec!["test*.txt".to_owned()]
        } else {
            self.doctest_globs.clone()
        }
    }

    /// Which collector tests `path` (absolute) as a text file, if any. `is_argument`: the
    /// file was named on the command line (pytest then tests any `.txt`/`.rst` it is given).
    pub fn collects(&self, path: &Path, is_argument: bool) -> Option<Collector> {
        if self.doctest_plugin_disabled {
            return None;
        }
        let globs = self.effective_globs();
        let matches = globs.iter().any(|glob| fnmatch_ex(glob, path));
        if self.doctestplus_active() {
            if !matches || doctestplus_excludes(path) {
                return None;
            }
            return Some(Collector::Doctestplus);
        }
        let suffix = path.extension().and_then(|ext| ext.to_str());
        let named = is_argument && matches!(suffix, Some("txt" | "rst"));
        (named || matches).then_some(Collector::Pytest)
    }
}

/// pytest-doctestplus does not test files named `_*`, nor files under a `_*` or `api`
/// directory below the last `docs` directory of the path.
fn doctestplus_excludes(path: &Path) -> bool {
    let name = path.file_name().map(|name| name.to_string_lossy());
    if name.is_some_and(|name| name.starts_with('_')) {
        return true;
    }
    let text = path.to_string_lossy();
    let parts: Vec<&str> = text.split('/').collect();
    match parts.iter().rposition(|part| *part == "docs") {
        Some(docs) => parts[docs..]
            .iter()
            .any(|part| part.starts_with('_') || *part == "api"),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ini_values_continuations_and_comments() {
        let file = parse_ini(
            "# comment\n[pytest]\naddopts = --doctest-glob='*.md'\n    -p no:cacheprovider\n\
             ; comment inside\n\n  --doctest-continue-on-failure\ndoctest_optionflags: NUMBER ELLIPSIS  # kept\n\
             [other]\nx=1\n",
        )
        .unwrap();
        let pytest = file.section("pytest").unwrap();
        assert_eq!(
            pytest["addopts"].value,
            IniText::Text(
                "--doctest-glob='*.md'\n-p no:cacheprovider\n--doctest-continue-on-failure".into()
            )
        );
        assert_eq!(pytest["addopts"].line, 3);
        assert_eq!(
            pytest["doctest_optionflags"].value,
            IniText::Text("NUMBER ELLIPSIS  # kept".into())
        );
        assert!(file.section("other").is_some());
    }

    #[test]
    fn ini_errors_are_iniconfigs() {
        assert_eq!(parse_ini("x = 1\n").unwrap_err().0, 1);
        assert!(
            parse_ini("[a]\n[a]\n")
                .unwrap_err()
                .1
                .contains("duplicate section")
        );
        assert!(
            parse_ini("[a]\nx=1\nx=2\n")
                .unwrap_err()
                .1
                .contains("duplicate name")
        );
        assert!(
            parse_ini("[a]\njunk\n")
                .unwrap_err()
                .1
                .contains("unexpected line")
        );
        assert!(
            parse_ini("  cont\n")
                .unwrap_err()
                .1
                .contains("continuation")
        );
        assert_eq!(
            parse_ini("[a]\nkey =\n  first\n")
                .unwrap()
                .section("a")
                .unwrap()["key"]
                .value,
            IniText::Text("first".into())
        );
    }

    #[test]
    fn config_dicts_by_file_kind() {
        let values = load_config_dict(Path::new("pytest.ini"), "[other]\n").unwrap();
        assert_eq!(values, Some(IniValues::new()));
        assert_eq!(
            load_config_dict(Path::new("tox.ini"), "[tox]\n").unwrap(),
            None
        );
        assert!(
            load_config_dict(Path::new("tox.ini"), "[pytest]\nx=1\n")
                .unwrap()
                .is_some()
        );
        assert!(load_config_dict(Path::new("setup.cfg"), "[pytest]\n").is_err());
        let toml = "[project]\nname='x'\n[tool.pytest.ini_options]\naddopts = ['--doctest-glob', '*.md']\nminversion = 6.0\nx = true\n";
        let values = load_config_dict(Path::new("pyproject.toml"), toml)
            .unwrap()
            .unwrap();
        assert_eq!(
            values["addopts"].value,
            IniText::List(vec!["--doctest-glob".into(), "*.md".into()])
        );
        assert_eq!(values["addopts"].line, 4);
        assert_eq!(values["minversion"].value, IniText::Text("6.0".into()));
        assert_eq!(values["x"].value, IniText::Text("True".into()));
        assert_eq!(
            load_config_dict(Path::new("pyproject.toml"), "[tool.black]\n").unwrap(),
            None
        );
    }

    #[test]
    fn shlex_is_pythons() {
        assert_eq!(
            shlex_split(r#"--doctest-glob='*.md' -p "no:doc\"test" a\ b"#).unwrap(),
            ["--doctest-glob=*.md", "-p", "no:doc\"test", "a b"]
        );
        assert_eq!(shlex_split(r#""a\nb""#).unwrap(), [r"a\nb"]);
        assert_eq!(shlex_split("a#b ''").unwrap(), ["a#b", ""]);
        assert_eq!(shlex_split("'open").unwrap_err(), "No closing quotation");
        assert_eq!(shlex_split("x\\").unwrap_err(), "No escaped character");
    }

    #[test]
    fn fnmatch_is_pythons() {
        assert!(fnmatch("test_a.txt", "test*.txt"));
        assert!(!fnmatch("a_test.txt", "test*.txt"));
        assert!(fnmatch("x.md", "*.md"));
        assert!(fnmatch("a/b/c.md", "*.md"));
        assert!(fnmatch("a1", "a[0-9]"));
        assert!(!fnmatch("a1", "a[!0-9]"));
        assert!(fnmatch("a]", "a[]]"));
        assert!(fnmatch("a[", "a["));
        assert!(fnmatch("README.rst", "*.rst"));
        assert!(!fnmatch("README.RST", "*.rst"));
        assert!(fnmatch_ex("docs/*.md", Path::new("/p/docs/x.md")));
        assert!(fnmatch_ex("*.md", Path::new("/p/docs/x.md")));
        assert!(!fnmatch_ex("docs/*.md", Path::new("/p/other/x.md")));
    }

    fn settings(addopts: &str) -> PytestSettings {
        let mut values = IniValues::new();
        values.insert(
            "addopts".into(),
            IniValue {
                value: IniText::Text(addopts.into()),
                line: 2,
            },
        );
        let setup = PytestSetup {
            rootdir: PathBuf::from("/p"),
            inifile: Some(PathBuf::from("/p/pytest.ini")),
            values,
            configured: true,
            warnings: vec![],
        };
        PytestSettings::from_setup(&setup, None).unwrap()
    }

    #[test]
    fn collection_follows_pytest() {
        let plain = settings("");
        assert_eq!(
            plain.collects(Path::new("/p/test_x.txt"), false),
            Some(Collector::Pytest)
        );
        assert_eq!(plain.collects(Path::new("/p/x.txt"), false), None);
        assert_eq!(
            plain.collects(Path::new("/p/x.rst"), true),
            Some(Collector::Pytest)
        );
        assert_eq!(plain.collects(Path::new("/p/x.md"), true), None);
        let md =
            settings("--doctest-glob='*.md' --doctest-glob *.rst --doctest-continue-on-failure");
        assert_eq!(md.doctest_globs, ["*.md", "*.rst"]);
        assert!(md.continue_on_failure);
        assert_eq!(
            md.collects(Path::new("/p/docs/a.md"), false),
            Some(Collector::Pytest)
        );
        assert_eq!(md.collects(Path::new("/p/test_x.txt"), false), None);
        assert_eq!(
            settings("-p no:doctest --doctest-glob=*.md").collects(Path::new("/p/a.md"), false),
            None
        );
        let plus = settings("--doctest-plus --doctest-rst");
        assert_eq!(
            plus.collects(Path::new("/p/docs/a.rst"), false),
            Some(Collector::Doctestplus)
        );
        assert_eq!(
            plus.collects(Path::new("/p/docs/_build/a.rst"), false),
            None
        );
        assert_eq!(plus.collects(Path::new("/p/docs/api/a.rst"), false), None);
        assert_eq!(plus.collects(Path::new("/p/test_a.txt"), false), None);
        // pytest-doctestplus steps aside for --doctest-modules unless --doctest-plus is given.
        let mut ini_plus = settings("--doctest-modules --doctest-glob=*.rst");
        ini_plus.doctest_plus = true;
        assert_eq!(
            ini_plus.collects(Path::new("/p/a.rst"), false),
            Some(Collector::Pytest)
        );
    }

    #[test]
    fn doctestplus_tolerances_and_remote_data() {
        let plain = settings("--doctest-plus");
        assert_eq!((plain.plus_rtol, plain.plus_atol), (1e-05, 1e-08));
        assert!(!plain.remote_data);
        // The larger of each default and option, as doctestplus's pytest_configure takes.
        let set = settings("--doctest-plus-rtol=0.1 --doctest-plus-atol 1e-12 --remote-data");
        assert_eq!((set.plus_rtol, set.plus_atol), (0.1, 1e-08));
        assert!(set.remote_data);
        assert!(!settings("--remote-data=none").remote_data);
        assert!(!settings("--remote-data astropy").remote_data);
        assert!(settings("--remote-data --doctest-plus").remote_data);
    }
}
