//! Editor settings, from `initializationOptions` or `workspace/configuration` (section
//! `objgraphDoctest`): when to run (`runOn`), whether to run at all (`execute`), the
//! interpreter (`python`) and the quiet time after an edit (`debounceMs`).
//!
//! Each key is read on its own: a bad value is reported (the caller shows the problems to
//! the user) and ignored, and never resets the other keys. `execute` fails closed: once
//! false it stays false, and a value we cannot read as true or false counts as false, since
//! it guards running a workspace's code.

use serde_json::Value;

/// When pages are run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RunOn {
    /// After each edit, once typing pauses (debounced).
    #[default]
    Change,
    /// When the document is saved.
    Save,
    /// Only when asked (the "Run page" code lens).
    Manual,
}

/// Longest debounce accepted, in milliseconds (a minute: more is surely a mistake).
const MAX_DEBOUNCE_MS: u64 = 60_000;

/// The settings a client may send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub run_on: RunOn,
    /// False: parse diagnostics only, nothing is executed (an untrusted workspace).
    pub execute: bool,
    /// The Python interpreter, overriding the configuration.
    pub python: Option<String>,
    /// Milliseconds of quiet after an edit before a run starts.
    pub debounce_ms: u64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            run_on: RunOn::Change,
            execute: true,
            python: None,
            debounce_ms: 300,
        }
    }
}

/// Settings read from a client's value, and what was wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Read {
    pub settings: Settings,
    /// One message per bad value: which key, what it was, what is accepted.
    pub problems: Vec<String>,
}

impl Settings {
    /// Reads settings from a JSON value, which may hold them directly or under
    /// `objgraphDoctest`; anything unreadable leaves the defaults.
    pub fn from_json(value: &Value) -> Settings {
        Settings::default().updated(value).settings
    }

    /// These settings with the keys present in `value` (flat or under `objgraphDoctest`)
    /// replaced: an empty object or one without our keys changes nothing. When `execute`
    /// was turned off (an untrusted workspace), later updates cannot turn it on; the client
    /// restarts the server once the workspace is trusted.
    pub fn updated(&self, value: &Value) -> Read {
        let section = value.get("objgraphDoctest").unwrap_or(value);
        let mut settings = self.clone();
        let mut problems = Vec::new();
        let Some(keys) = section.as_object() else {
            if !section.is_null() {
                problems.push(format!(
                    "objgraphDoctest settings must be an object, not {section}; they are ignored"
                ));
            }
            return Read { settings, problems };
        };
        let mut bad = |key: &str, value: &Value, accepted: &str, outcome: &str| {
            problems.push(format!(
                "setting objgraphDoctest.{key}: {value} is not {accepted}; {outcome}"
            ));
        };
        if let Some(value) = keys.get("runOn").filter(|value| !value.is_null()) {
            match value.as_str().map(str::to_ascii_lowercase).as_deref() {
                Some("change") => settings.run_on = RunOn::Change,
                Some("save") => settings.run_on = RunOn::Save,
                Some("manual") => settings.run_on = RunOn::Manual,
                _ => bad(
                    "runOn",
                    value,
                    "\"change\", \"save\" or \"manual\"",
                    "it is left as it was",
                ),
            }
        }
        if let Some(value) = keys.get("execute") {
            match boolean(value) {
                Some(execute) => settings.execute = settings.execute && execute,
                None => {
                    bad(
                        "execute",
                        value,
                        "true or false",
                        "examples are not run (an unreadable value counts as false)",
                    );
                    settings.execute = false;
                }
            }
        }
        if let Some(value) = keys.get("python") {
            match value {
                Value::Null => settings.python = None,
                Value::String(path) if path.trim().is_empty() => settings.python = None,
                Value::String(path) => settings.python = Some(path.clone()),
                _ => bad(
                    "python",
                    value,
                    "a path or a command name",
                    "it is left as it was",
                ),
            }
        }
        if let Some(value) = keys.get("debounceMs").filter(|value| !value.is_null()) {
            match value.as_u64().filter(|&ms| ms <= MAX_DEBOUNCE_MS) {
                Some(ms) => settings.debounce_ms = ms,
                None => bad(
                    "debounceMs",
                    value,
                    &format!("a whole number of milliseconds from 0 to {MAX_DEBOUNCE_MS}"),
                    &format!("it stays {}", settings.debounce_ms),
                ),
            }
        }
        Read { settings, problems }
    }
}

/// A boolean as clients send them: JSON booleans, and the strings (and 0/1) that settings
/// UIs and hand-written configuration produce.
fn boolean(value: &Value) -> Option<bool> {
    match value {
        Value::Bool(flag) => Some(*flag),
        Value::Number(number) => match number.as_u64() {
            Some(0) => Some(false),
            Some(1) => Some(true),
            _ => None,
        },
        Value::String(text) => match text.trim().to_ascii_lowercase().as_str() {
            "false" | "no" | "off" | "0" => Some(false),
            "true" | "yes" | "on" | "1" => Some(true),
            _ => None,
        },
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn reads_nested_or_flat_settings() {
        let flat = Settings::from_json(&json!({"runOn": "save", "execute": false}));
        assert_eq!(flat.run_on, RunOn::Save);
        assert!(!flat.execute);
        let nested = Settings::from_json(&json!({"objgraphDoctest": {"runOn": "manual"}}));
        assert_eq!(nested.run_on, RunOn::Manual);
        assert!(nested.execute);
        assert_eq!(Settings::from_json(&json!(42)), Settings::default());
    }

    #[test]
    fn updates_change_only_what_they_name_and_never_enable_execution() {
        let untrusted = Settings::from_json(&json!({"execute": false, "runOn": "save"}));
        assert_eq!(untrusted.updated(&json!({})).settings, untrusted);
        let after = untrusted
            .updated(&json!({"objgraphDoctest": {"execute": true, "debounceMs": 5}}))
            .settings;
        assert!(!after.execute);
        assert_eq!(after.run_on, RunOn::Save);
        assert_eq!(after.debounce_ms, 5);
    }

    #[test]
    fn a_bad_value_is_reported_and_ignored_on_its_own() {
        let read = Settings::default().updated(&json!({
            "runOn": "sometimes", "execute": false, "debounceMs": -3, "python": "/usr/bin/python3"
        }));
        assert_eq!(read.settings.run_on, RunOn::Change);
        assert!(!read.settings.execute);
        assert_eq!(read.settings.debounce_ms, 300);
        assert_eq!(read.settings.python.as_deref(), Some("/usr/bin/python3"));
        assert_eq!(read.problems.len(), 2, "{:?}", read.problems);
        assert!(read.problems[0].contains("objgraphDoctest.runOn"));
        assert!(read.problems[1].contains("objgraphDoctest.debounceMs: -3"));
    }

    #[test]
    fn execute_false_is_never_lost() {
        for off in [
            json!("false"),
            json!("False"),
            json!(0),
            json!("maybe"),
            json!([]),
        ] {
            let read = Settings::default().updated(&json!({"execute": off}));
            assert!(!read.settings.execute, "{off}");
        }
        let read = Settings::default().updated(&json!({"execute": "maybe"}));
        assert_eq!(read.problems.len(), 1);
        assert!(
            Settings::default()
                .updated(&json!({"execute": "true"}))
                .settings
                .execute
        );
    }
}
