//! The profile catalog from a folder given at start (local runs, tools, tests), where the
//! bundled catalog is compiled in. Reading files is I/O, so it lives here and not in the pure
//! `core::catalog`, which parses and validates the texts it is given.

use std::path::Path;

use crate::core::catalog::{CatalogError, ProfileCatalog, ProfileError};

impl ProfileCatalog {
    /// Every `*.toml` file directly in `dir` (other files are ignored).
    pub fn from_dir(dir: impl AsRef<Path>) -> Result<Self, CatalogError> {
        let dir = dir.as_ref();
        let file_err =
            |file: String, reason: String| CatalogError { errors: vec![ProfileError { file, field: "(file)".into(), line: None, reason }] };
        let rd = std::fs::read_dir(dir).map_err(|e| file_err(dir.display().to_string(), format!("cannot read the profiles folder: {e}")))?;
        let mut paths: Vec<_> =
            rd.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "toml")).collect();
        paths.sort();
        if paths.is_empty() {
            return Err(file_err(dir.display().to_string(), "no *.toml profile in the folder".into()));
        }
        let mut sources = Vec::new();
        for p in paths {
            let text = std::fs::read_to_string(&p).map_err(|e| file_err(p.display().to_string(), format!("cannot read: {e}")))?;
            sources.push((p.display().to_string(), text));
        }
        Self::from_sources(sources)
    }
}
