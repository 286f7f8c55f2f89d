//! The state file: the whole account as JSON, written atomically (a private
//! temporary file renamed over the old one) after every change, and read back
//! at start instead of seeding.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::Inner;
use crate::seed::SeedIds;
use crate::state::State;

/// Bumped when the file's layout changes incompatibly.
const FORMAT: u32 = 1;

#[derive(Serialize)]
struct SavedRef<'a> {
    format: u32,
    seed_ids: &'a SeedIds,
    jwt_key: String,
    state: &'a State,
}

#[derive(Deserialize)]
struct SavedOwned {
    format: u32,
    seed_ids: SeedIds,
    jwt_key: String,
    state: State,
}

pub struct Saved {
    pub state: State,
    pub seed_ids: SeedIds,
    pub jwt_key: Vec<u8>,
}

pub fn save(inner: &Inner, path: &Path) -> anyhow::Result<()> {
    // Snapshot after taking the write lock: writes land in snapshot order.
    let _order = inner.persist_lock.lock().unwrap_or_else(|p| p.into_inner());
    let bytes = {
        let st = inner.lock();
        serde_json::to_vec(&SavedRef { format: FORMAT, seed_ids: &inner.seed_ids, jwt_key: hex::encode(&inner.jwt_key), state: &st })?
    };
    write_atomically(path, &bytes)
}

pub fn load(path: &Path) -> anyhow::Result<Option<Saved>> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => anyhow::bail!("cannot read state file {}: {e}", path.display()),
    };
    let saved: SavedOwned =
        serde_json::from_slice(&bytes).map_err(|e| anyhow::anyhow!("state file {} is not a sandbox state file: {e}", path.display()))?;
    if saved.format != FORMAT {
        anyhow::bail!("state file {} has format {}, this sandbox reads {FORMAT}; delete it to start afresh", path.display(), saved.format);
    }
    let jwt_key = hex::decode(&saved.jwt_key).map_err(|e| anyhow::anyhow!("state file {}: bad jwt_key: {e}", path.display()))?;
    Ok(Some(Saved { state: saved.state, seed_ids: saved.seed_ids, jwt_key }))
}

fn temp_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(format!(".{}.tmp", std::process::id()));
    path.with_file_name(name)
}

/// Owner-only file with the new content, then renamed over `path`: a reader
/// (or a crash) sees the old file or the new one, never half of one.
fn write_atomically(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = temp_path(path);
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(&tmp)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        f.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    f.write_all(bytes)?;
    f.flush()?;
    drop(f);
    std::fs::rename(&tmp, path)?;
    Ok(())
}
