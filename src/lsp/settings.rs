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

impl Settings {
    /// Reads settings from a JSON value, which may hold them directly or under
    /// `objgraphDoctest`; anything unreadable leaves the defaults.
    pub fn from_json(value: &serde_json::Value) -> Settings {
        let section = value.get("objgraphDoctest").unwrap_or(value);
        serde_json::from_value(section.clone()).unwrap_or_default()
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
}
