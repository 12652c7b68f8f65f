//! Editor settings, from `initializationOptions` or `workspace/configuration` (section
//! `objgraphDoctest`): when to run (`runOn`) and whether to run at all (`execute`).

use serde::Deserialize;

/// When pages are run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum RunOn {
    /// After each edit, once typing pauses (debounced).
    #[default]
    Change,
    /// When the document is saved.
    Save,
    /// Only when asked (the "Run page" code lens).
    Manual,
}

/// The settings a client may send.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
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

/// The keys a client may send, each optional, so that a partial update changes only what it
/// names.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct SettingsUpdate {
    run_on: Option<RunOn>,
    execute: Option<bool>,
    python: Option<String>,
    debounce_ms: Option<u64>,
}

impl Settings {
    /// Reads settings from a JSON value, which may hold them directly or under
    /// `objgraphDoctest`; anything unreadable leaves the defaults.
    pub fn from_json(value: &serde_json::Value) -> Settings {
        Settings::default().updated(value)
    }

    /// These settings with the keys present in `value` (flat or under `objgraphDoctest`)
    /// replaced: an empty object or one without our keys changes nothing. When `execute`
    /// was turned off at start-up (an untrusted workspace), later updates cannot turn it on;
    /// the client restarts the server once the workspace is trusted.
    pub fn updated(&self, value: &serde_json::Value) -> Settings {
        let section = value.get("objgraphDoctest").unwrap_or(value);
        let update: SettingsUpdate = serde_json::from_value(section.clone()).unwrap_or_default();
        Settings {
            run_on: update.run_on.unwrap_or(self.run_on),
            execute: self.execute && update.execute.unwrap_or(self.execute),
            python: update.python.or_else(|| self.python.clone()),
            debounce_ms: update.debounce_ms.unwrap_or(self.debounce_ms),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_nested_or_flat_settings() {
        let flat = Settings::from_json(&serde_json::json!({"runOn": "save", "execute": false}));
        assert_eq!(flat.run_on, RunOn::Save);
        assert!(!flat.execute);
        let nested =
            Settings::from_json(&serde_json::json!({"objgraphDoctest": {"runOn": "manual"}}));
        assert_eq!(nested.run_on, RunOn::Manual);
        assert!(nested.execute);
        assert_eq!(
            Settings::from_json(&serde_json::json!(42)),
            Settings::default()
        );
    }

    #[test]
    fn updates_change_only_what_they_name_and_never_enable_execution() {
        let untrusted =
            Settings::from_json(&serde_json::json!({"execute": false, "runOn": "save"}));
        assert_eq!(untrusted.updated(&serde_json::json!({})), untrusted);
        let after = untrusted
            .updated(&serde_json::json!({"objgraphDoctest": {"execute": true, "debounceMs": 5}}));
        assert!(!after.execute);
        assert_eq!(after.run_on, RunOn::Save);
        assert_eq!(after.debounce_ms, 5);
    }
}
