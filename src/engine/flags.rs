//! Option flags: CPython's doctest flags, objgraph's two, and user-defined ones.
//!
//! CPython gives each flag a bit in registration order (`doctest.register_optionflag`); we keep
//! the same order so that a [`FlagSet`] means what the same integer means to CPython for the
//! built-in flags. objgraph's `NODES_VARY` and `RANDOM_OUTPUT` are always registered, as
//! objgraph's `tests.py` registers them; then the flags of the other runners we read pages as
//! (pytest's, pytest-doctestplus's), then user flags from configuration.
//!
//! Every registry holds every family, so a [`FlagSet`] means the same in every page of a run
//! whatever profile read it; which names a page may *write* in its directives is the
//! profile's business: [`FlagRegistry::for_profile`] gives the view a page is parsed with
//! (to CPython's `DocFileSuite`, `+NUMBER` is an unknown option).

use std::fmt;

use super::doctestplus::{DoctestplusFlags, FloatTolerance};
use super::pytest_flags::PytestFlags;

/// What a flag does to the comparison, beyond CPython's own flags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FlagBehavior {
    /// A CPython flag whose meaning is built into the checker or the runner.
    Builtin,
    /// objgraph's `NODES_VARY`: `\(\d+ nodes\)$` becomes `(X nodes)` on both sides.
    NodesVary,
    /// objgraph's `RANDOM_OUTPUT`: any non-empty output passes.
    RandomOutput,
    /// A configured flag that rewrites both sides with regex substitutions, in order.
    Substitute(Vec<Substitution>),
    /// A configured flag under which any non-empty output passes.
    AnyNonEmptyOutput,
    /// pytest's `ALLOW_UNICODE`: `u'...'` and `'...'` compare equal (`engine/pytest_flags.rs`).
    AllowUnicode,
    /// pytest's `ALLOW_BYTES`: `b'...'` and `'...'` compare equal.
    AllowBytes,
    /// pytest's `NUMBER`: numbers compare to the precision written in the expected output.
    Number,
    /// pytest-doctestplus's `FIX` (on for every text file it collects): `u''` prefixes,
    /// numpy byte orders, `'i4'` sizes and `L` suffixes are normalized (`engine/doctestplus.rs`).
    DoctestplusFix,
    /// pytest-doctestplus's `FLOAT_CMP`: numbers compare within the tolerance.
    FloatCmp(FloatTolerance),
    /// pytest-doctestplus's `IGNORE_OUTPUT` and `IGNORE_OUTPUT_3`: the output is not compared.
    IgnoreOutput,
    /// pytest-doctestplus's `REMOTE_DATA`: skipped unless remote data is allowed (a parse
    /// step, `engine/doctestplus/directives.rs`).
    RemoteData,
    /// pytest-doctestplus's `IGNORE_WARNINGS`: warnings are silenced while it runs (driver).
    IgnoreWarnings,
    /// pytest-doctestplus's `SHOW_WARNINGS`: warnings are printed after its output (driver).
    ShowWarnings,
    /// A name a runner registers without giving it any effect (doctestplus's own
    /// `ALLOW_UNICODE` and `ALLOW_BYTES`).
    Inert,
}

/// One regex substitution of a user-defined flag, applied to want and got alike.
#[derive(Debug, Clone)]
pub struct Substitution {
    pub pattern: regex::Regex,
    pub replacement: String,
}

impl PartialEq for Substitution {
    fn eq(&self, other: &Self) -> bool {
        self.pattern.as_str() == other.pattern.as_str() && self.replacement == other.replacement
    }
}

impl Eq for Substitution {}

/// A flag's identity: its bit position in the registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Flag(u8);

impl Flag {
    pub const DONT_ACCEPT_TRUE_FOR_1: Flag = Flag(0);
    pub const DONT_ACCEPT_BLANKLINE: Flag = Flag(1);
    pub const NORMALIZE_WHITESPACE: Flag = Flag(2);
    pub const ELLIPSIS: Flag = Flag(3);
    pub const SKIP: Flag = Flag(4);
    pub const IGNORE_EXCEPTION_DETAIL: Flag = Flag(5);
    pub const REPORT_UDIFF: Flag = Flag(6);
    pub const REPORT_CDIFF: Flag = Flag(7);
    pub const REPORT_NDIFF: Flag = Flag(8);
    pub const REPORT_ONLY_FIRST_FAILURE: Flag = Flag(9);
    pub const FAIL_FAST: Flag = Flag(10);
    pub const NODES_VARY: Flag = Flag(11);
    pub const RANDOM_OUTPUT: Flag = Flag(12);
    /// pytest-doctestplus's `FIX`: its bit is fixed, as every registry registers CPython's,
    /// objgraph's, pytest's and then doctestplus's flags before any user flag.
    pub const DOCTESTPLUS_FIX: Flag = Flag(16);

    /// The integer CPython would give this flag (`1 << position`).
    pub fn bit(self) -> u128 {
        1u128 << self.0
    }

    pub fn index(self) -> usize {
        usize::from(self.0)
    }
}

/// The flags in effect for one example, as a bit set.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct FlagSet(u128);

impl FlagSet {
    pub const EMPTY: FlagSet = FlagSet(0);

    pub fn from_bits(bits: u128) -> Self {
        FlagSet(bits)
    }

    pub fn bits(self) -> u128 {
        self.0
    }

    pub fn contains(self, flag: Flag) -> bool {
        self.0 & flag.bit() != 0
    }

    pub fn with(self, flag: Flag) -> Self {
        FlagSet(self.0 | flag.bit())
    }

    pub fn without(self, flag: Flag) -> Self {
        FlagSet(self.0 & !flag.bit())
    }

    pub fn set(self, flag: Flag, on: bool) -> Self {
        if on {
            self.with(flag)
        } else {
            self.without(flag)
        }
    }

    /// The flags of a run merged with an example's directives, as `DocTestRunner.run` does:
    /// each `+FLAG` sets, each `-FLAG` clears, in the order written.
    pub fn merged_with(self, directives: &[(Flag, bool)]) -> Self {
        directives
            .iter()
            .fold(self, |flags, &(flag, on)| flags.set(flag, on))
    }

    pub fn iter(self) -> impl Iterator<Item = Flag> {
        (0..128u8)
            .map(Flag)
            .filter(move |flag| self.contains(*flag))
    }
}

const BUILTIN_NAMES: [&str; 11] = [
    "DONT_ACCEPT_TRUE_FOR_1",
    "DONT_ACCEPT_BLANKLINE",
    "NORMALIZE_WHITESPACE",
    "ELLIPSIS",
    "SKIP",
    "IGNORE_EXCEPTION_DETAIL",
    "REPORT_UDIFF",
    "REPORT_CDIFF",
    "REPORT_NDIFF",
    "REPORT_ONLY_FIRST_FAILURE",
    "FAIL_FAST",
];

/// Who defines a flag; decides in which profiles its name may be written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FlagFamily {
    /// CPython's `doctest` module.
    Cpython,
    /// objgraph's `tests.py` (`NODES_VARY`, `RANDOM_OUTPUT`): valid everywhere, ours.
    Objgraph,
    /// pytest's doctest plugin (`ALLOW_UNICODE`, `ALLOW_BYTES`, `NUMBER`).
    Pytest,
    /// pytest-doctestplus (`FLOAT_CMP`, `IGNORE_OUTPUT`, ...).
    Doctestplus,
    /// The project's configuration (`[tool.objgraph-doctest.flags]`): valid everywhere.
    User,
}

impl FlagFamily {
    fn bit(self) -> u8 {
        1 << self as u8
    }
}

/// A flag's name, behaviour and one line of meaning (for hovers and `--help`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlagInfo {
    pub name: String,
    pub behavior: FlagBehavior,
    pub summary: String,
    pub family: FlagFamily,
}

/// Errors registering a user-defined flag.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FlagError {
    #[error("flag name {0:?} is already defined; choose another name")]
    Duplicate(String),
    #[error(
        "flag name {0:?} is not valid; use letters, digits and underscores (no spaces, commas or quotes)"
    )]
    InvalidName(String),
    #[error("too many option flags: at most 128 can be defined")]
    TooMany,
}

/// All known flags, in CPython's registration order, then objgraph's, pytest's, and the
/// user's; `accepted` says which families' names [`FlagRegistry::lookup`] finds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlagRegistry {
    flags: Vec<FlagInfo>,
    accepted: u8,
}

impl Default for FlagRegistry {
    fn default() -> Self {
        Self::new()
    }
}

impl FlagRegistry {
    /// Every family's flags; only CPython's, objgraph's and the user's names are accepted in
    /// directives (the `doctest` profile: what `DocFileSuite` with objgraph's flags reads).
    pub fn new() -> Self {
        let mut flags: Vec<FlagInfo> = BUILTIN_NAMES
            .iter()
            .map(|name| FlagInfo {
                name: (*name).to_owned(),
                behavior: FlagBehavior::Builtin,
                summary: builtin_summary(name).to_owned(),
                family: FlagFamily::Cpython,
            })
            .collect();
        flags.push(FlagInfo {
            name: "NODES_VARY".to_owned(),
            behavior: FlagBehavior::NodesVary,
            summary: "a node count \"(N nodes)\" at the end of a line is not compared".to_owned(),
            family: FlagFamily::Objgraph,
        });
        flags.push(FlagInfo {
            name: "RANDOM_OUTPUT".to_owned(),
            behavior: FlagBehavior::RandomOutput,
            summary: "any non-empty output passes".to_owned(),
            family: FlagFamily::Objgraph,
        });
        let mut registry = FlagRegistry {
            flags,
            accepted: FlagFamily::Cpython.bit()
                | FlagFamily::Objgraph.bit()
                | FlagFamily::User.bit(),
        };
        registry.push_pytest_flags();
        registry.push_doctestplus_flags();
        registry
    }

    /// The same flags, with the names of `families` (besides CPython's, objgraph's and the
    /// user's) accepted in directives.
    pub fn accepting(&self, families: &[FlagFamily]) -> Self {
        let mut view = self.clone();
        view.accepted =
            FlagFamily::Cpython.bit() | FlagFamily::Objgraph.bit() | FlagFamily::User.bit();
        for family in families {
            view.accepted |= family.bit();
        }
        view
    }

    /// True when directives may name flags of `family`.
    pub fn accepts(&self, family: FlagFamily) -> bool {
        self.accepted & family.bit() != 0
    }

    /// A registry whose directives accept pytest's `ALLOW_UNICODE`, `ALLOW_BYTES` and
    /// `NUMBER` (pytest registers them in `_get_flag_lookup`, before any page is parsed, so
    /// their names are valid `# doctest:` directives in every page pytest collects).
    pub fn with_pytest_flags() -> Self {
        Self::new().accepting(&[FlagFamily::Pytest])
    }

    /// pytest's flags, in the order pytest registers them.
    fn push_pytest_flags(&mut self) {
        for (name, behavior, summary) in [
            (
                "ALLOW_UNICODE",
                FlagBehavior::AllowUnicode,
                "the u prefix of string literals is ignored (pytest)",
            ),
            (
                "ALLOW_BYTES",
                FlagBehavior::AllowBytes,
                "the b prefix of bytes literals is ignored (pytest)",
            ),
            (
                "NUMBER",
                FlagBehavior::Number,
                "numbers match to the precision written in the expected output (pytest)",
            ),
        ] {
            self.flags.push(FlagInfo {
                name: name.to_owned(),
                behavior,
                summary: summary.to_owned(),
                family: FlagFamily::Pytest,
            });
        }
    }

    /// pytest-doctestplus's flags, in the order it registers them (`output_checker.py`). Its
    /// `ALLOW_BYTES` and `ALLOW_UNICODE` are its own names, without effect: doctestplus
    /// replaces pytest's checker, so they do nothing there.
    fn push_doctestplus_flags(&mut self) {
        for (name, behavior, summary) in [
            (
                "FIX",
                FlagBehavior::DoctestplusFix,
                "u'' prefixes, numpy byte orders and L suffixes are ignored (doctestplus; on for text files)",
            ),
            (
                "FLOAT_CMP",
                FlagBehavior::FloatCmp(FloatTolerance::default()),
                "numbers compare within a relative and absolute tolerance (doctestplus)",
            ),
            (
                "REMOTE_DATA",
                FlagBehavior::RemoteData,
                "skipped unless remote data is allowed (doctestplus)",
            ),
            (
                "IGNORE_OUTPUT",
                FlagBehavior::IgnoreOutput,
                "the output is not compared (doctestplus)",
            ),
            (
                "IGNORE_OUTPUT_3",
                FlagBehavior::IgnoreOutput,
                "the output is not compared on Python 3 (doctestplus)",
            ),
            (
                "IGNORE_WARNINGS",
                FlagBehavior::IgnoreWarnings,
                "warnings are silenced while it runs (doctestplus)",
            ),
            (
                "SHOW_WARNINGS",
                FlagBehavior::ShowWarnings,
                "warnings are printed after its output (doctestplus)",
            ),
            (
                "ALLOW_BYTES",
                FlagBehavior::Inert,
                "accepted and ignored (doctestplus)",
            ),
            (
                "ALLOW_UNICODE",
                FlagBehavior::Inert,
                "accepted and ignored (doctestplus)",
            ),
        ] {
            self.flags.push(FlagInfo {
                name: name.to_owned(),
                behavior,
                summary: summary.to_owned(),
                family: FlagFamily::Doctestplus,
            });
        }
    }

    /// FLOAT_CMP's tolerance, for every page of the run (doctestplus keeps one, on its
    /// checker class).
    pub fn set_float_tolerance(&mut self, tolerance: FloatTolerance) {
        for info in &mut self.flags {
            if let FlagBehavior::FloatCmp(current) = &mut info.behavior {
                *current = tolerance;
            }
        }
    }

    /// The same registry, with FLOAT_CMP comparing as `numpy.isclose` does or not
    /// (pytest-doctestplus uses it when the interpreter has numpy).
    pub fn with_numpy_isclose(&self, numpy: bool) -> FlagRegistry {
        let mut registry = self.clone();
        for info in &mut registry.flags {
            if let FlagBehavior::FloatCmp(tolerance) = &mut info.behavior {
                tolerance.numpy_isclose = numpy;
            }
        }
        registry
    }

    /// Which of doctestplus's checker flags are on in `flags`.
    pub fn doctestplus_flags(&self, flags: FlagSet) -> DoctestplusFlags {
        let mut on = DoctestplusFlags::default();
        for (flag, info) in self.custom_flags() {
            if !flags.contains(flag) {
                continue;
            }
            match info.behavior {
                FlagBehavior::DoctestplusFix => on.fix = true,
                FlagBehavior::FloatCmp(tolerance) => on.float_cmp = Some(tolerance),
                FlagBehavior::IgnoreOutput => on.ignore_output = true,
                _ => {}
            }
        }
        on
    }

    /// The flags with `behavior` that are on in `flags` (for the run loop's runtime flags).
    pub fn has_behavior(&self, flags: FlagSet, behavior: &FlagBehavior) -> bool {
        self.custom_flags()
            .any(|(flag, info)| flags.contains(flag) && info.behavior == *behavior)
    }

    /// Which of pytest's flags are on in `flags` (none, unless the registry has them).
    pub fn pytest_flags(&self, flags: FlagSet) -> PytestFlags {
        let mut on = PytestFlags::default();
        for (flag, info) in self.custom_flags() {
            if !flags.contains(flag) {
                continue;
            }
            match info.behavior {
                FlagBehavior::AllowUnicode => on.allow_unicode = true,
                FlagBehavior::AllowBytes => on.allow_bytes = true,
                FlagBehavior::Number => on.number = true,
                _ => {}
            }
        }
        on
    }

    /// Registers a user-defined flag. Registering an existing name is an error (CPython
    /// silently returns the old bit; a configuration that redefines a flag is a mistake).
    pub fn register(
        &mut self,
        name: &str,
        behavior: FlagBehavior,
        summary: &str,
    ) -> Result<Flag, FlagError> {
        let valid = !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid {
            return Err(FlagError::InvalidName(name.to_owned()));
        }
        if self.flags.iter().any(|info| info.name == name) {
            return Err(FlagError::Duplicate(name.to_owned()));
        }
        if self.flags.len() >= 128 {
            return Err(FlagError::TooMany);
        }
        self.flags.push(FlagInfo {
            name: name.to_owned(),
            behavior,
            summary: summary.to_owned(),
            family: FlagFamily::User,
        });
        Ok(Flag((self.flags.len() - 1) as u8))
    }

    /// The flag named `name`, if its family's names are accepted here.
    pub fn lookup(&self, name: &str) -> Option<Flag> {
        self.flags
            .iter()
            .position(|info| info.name == name && self.accepts(info.family))
            .map(|index| Flag(index as u8))
    }

    pub fn info(&self, flag: Flag) -> &FlagInfo {
        &self.flags[flag.index()]
    }

    pub fn name(&self, flag: Flag) -> &str {
        &self.info(flag).name
    }

    /// Flags with behaviour beyond CPython's, in registration order.
    pub fn custom_flags(&self) -> impl Iterator<Item = (Flag, &FlagInfo)> {
        self.flags
            .iter()
            .enumerate()
            .filter(|(_, info)| info.behavior != FlagBehavior::Builtin)
            .map(|(index, info)| (Flag(index as u8), info))
    }

    pub fn iter(&self) -> impl Iterator<Item = (Flag, &FlagInfo)> {
        self.flags
            .iter()
            .enumerate()
            .map(|(index, info)| (Flag(index as u8), info))
    }

    /// Parses `NAME` (as `-o NAME` takes it) into a flag, or says which names exist.
    pub fn parse_name(&self, name: &str) -> Result<Flag, String> {
        self.lookup(name).ok_or_else(|| {
            // Two families may define one name (pytest's and doctestplus's ALLOW_UNICODE): the
            // message lists it once.
            let mut known: Vec<&str> = Vec::new();
            for info in self.flags.iter().filter(|info| self.accepts(info.family)) {
                if !known.contains(&info.name.as_str()) {
                    known.push(&info.name);
                }
            }
            format!(
                "unknown option flag {name:?}; known flags: {}",
                known.join(", ")
            )
        })
    }
}

fn builtin_summary(name: &str) -> &'static str {
    match name {
        "DONT_ACCEPT_TRUE_FOR_1" => "expected 1 or 0 no longer matches True or False",
        "DONT_ACCEPT_BLANKLINE" => "<BLANKLINE> is compared literally, not as an empty line",
        "NORMALIZE_WHITESPACE" => "all runs of whitespace compare equal",
        "ELLIPSIS" => "\"...\" in the expected output matches any text",
        "SKIP" => "the example is not run",
        "IGNORE_EXCEPTION_DETAIL" => {
            "an expected exception matches on its type alone, module and message ignored"
        }
        "REPORT_UDIFF" => "failures are shown as a unified diff",
        "REPORT_CDIFF" => "failures are shown as a context diff",
        "REPORT_NDIFF" => "failures are shown as an ndiff",
        "REPORT_ONLY_FIRST_FAILURE" => "only the page's first failure is reported",
        "FAIL_FAST" => "the page stops at its first failure",
        _ => "",
    }
}

impl fmt::Display for Flag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "flag#{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_bits_match_cpython() {
        let registry = FlagRegistry::new();
        assert_eq!(registry.lookup("ELLIPSIS").unwrap().bit(), 8);
        assert_eq!(registry.lookup("FAIL_FAST").unwrap().bit(), 1024);
        assert_eq!(registry.lookup("NODES_VARY"), Some(Flag::NODES_VARY));
        assert_eq!(registry.lookup("RANDOM_OUTPUT"), Some(Flag::RANDOM_OUTPUT));
    }

    #[test]
    fn pytest_flags_only_on_request() {
        assert_eq!(FlagRegistry::new().lookup("NUMBER"), None);
        assert!(FlagRegistry::new().parse_name("NUMBER").is_err());
        let registry = FlagRegistry::with_pytest_flags();
        let number = registry.lookup("NUMBER").unwrap();
        assert_eq!(registry.lookup("ALLOW_UNICODE").unwrap().index(), 13);
        assert_eq!(number.index(), 15);
        let on = registry.pytest_flags(FlagSet::EMPTY.with(number));
        assert!(on.number && !on.allow_unicode && !on.allow_bytes);
    }

    #[test]
    fn unknown_names_list_each_accepted_name_once() {
        let registry =
            FlagRegistry::new().accepting(&[FlagFamily::Pytest, FlagFamily::Doctestplus]);
        let message = registry.parse_name("NOPE").unwrap_err();
        assert_eq!(message.matches("ALLOW_UNICODE").count(), 1, "{message}");
        assert_eq!(message.matches("ALLOW_BYTES").count(), 1, "{message}");
        assert!(message.contains("FLOAT_CMP") && message.contains("NUMBER"));
    }

    #[test]
    fn doctestplus_flags_follow_pytest_flags() {
        let registry = FlagRegistry::new().accepting(&[FlagFamily::Doctestplus]);
        assert_eq!(registry.lookup("FIX"), Some(Flag::DOCTESTPLUS_FIX));
        assert_eq!(
            registry.info(Flag::DOCTESTPLUS_FIX).behavior,
            FlagBehavior::DoctestplusFix
        );
        assert!(registry.lookup("NUMBER").is_none());
        assert!(registry.lookup("ALLOW_BYTES").is_some());
    }

    #[test]
    fn directives_merge_in_order() {
        let flags = FlagSet::EMPTY.with(Flag::ELLIPSIS);
        let merged = flags.merged_with(&[(Flag::ELLIPSIS, false), (Flag::SKIP, true)]);
        assert!(!merged.contains(Flag::ELLIPSIS));
        assert!(merged.contains(Flag::SKIP));
    }

    #[test]
    fn user_flags_are_validated() {
        let mut registry = FlagRegistry::new();
        let flag = registry
            .register("ADDRESSES_VARY", FlagBehavior::AnyNonEmptyOutput, "")
            .unwrap();
        assert_eq!(flag.index(), 25);
        assert!(matches!(
            registry.register("ELLIPSIS", FlagBehavior::AnyNonEmptyOutput, ""),
            Err(FlagError::Duplicate(_))
        ));
        assert!(matches!(
            registry.register("A B", FlagBehavior::AnyNonEmptyOutput, ""),
            Err(FlagError::InvalidName(_))
        ));
    }
}
