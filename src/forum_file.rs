//! A forum's configuration file on disk (`config/forum.toml` and files given to the CLI): the
//! file side of [`config::parse`], which the domain keeps free of reading files.

use std::path::Path;

use crate::domain::forum::Forum;
use crate::domain::forum::catalogue::Catalogue;
use crate::domain::forum::config::{self, ConfigError};

/// Reads and parses a forum configuration file with the shipped catalogue. A file that cannot
/// be read is one problem, in Russian, naming the file.
pub fn load(path: &Path) -> Result<Forum, ConfigError> {
    let origin = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| {
        let why = match e.kind() {
            std::io::ErrorKind::NotFound => "такого файла нет".to_owned(),
            std::io::ErrorKind::PermissionDenied => "нет прав на чтение".to_owned(),
            std::io::ErrorKind::InvalidData => "файл не в кодировке UTF-8".to_owned(),
            _ => e.to_string(),
        };
        ConfigError::general(format!("{origin}: Не удалось прочитать файл: {why}"))
    })?;
    config::parse(&text, &origin, &Catalogue::shipped())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_file_is_reported() {
        let e = load(Path::new("/nonexistent/forum.toml")).unwrap_err();
        assert!(
            e.messages[0].ends_with("Не удалось прочитать файл: такого файла нет"),
            "{:?}",
            e.messages
        );
    }

    #[test]
    fn the_shipped_file_loads() {
        assert!(load(Path::new("config/forum.toml")).is_ok());
    }
}
