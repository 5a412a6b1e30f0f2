//! Reading and validating a forum configuration (TOML) into the [`Forum`] model.
//! (Being written: see issue 2, section 1.)

use std::path::Path;

use super::catalogue::Catalogue;
use super::model::Forum;

/// Everything wrong with a configuration, each message naming the file, the session and the field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub messages: Vec<String>,
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.messages.join("\n"))
    }
}

impl std::error::Error for ConfigError {}

/// Parses forum configuration text; `origin` names the file in messages.
pub fn parse(_text: &str, origin: &str, _catalogue: &Catalogue) -> Result<Forum, ConfigError> {
    Err(ConfigError {
        messages: vec![format!("{origin}: not implemented yet")],
    })
}

/// Reads and parses a forum configuration file with the shipped catalogue.
pub fn load(path: &Path) -> Result<Forum, ConfigError> {
    let origin = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
        messages: vec![format!("{origin}: не удалось прочитать файл ({e})")],
    })?;
    parse(&text, &origin, &Catalogue::shipped())
}
