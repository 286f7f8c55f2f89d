//! One process per embedded store: an exclusive lock held for as long as the store is open.
//!
//! Two hubs on one data directory used to compact the log under each other and lose writes.
//! The lock is the operating system's (`flock` via `std::fs::File::try_lock`), so it is released
//! however the holder ends, crash included, and a stale lock file never blocks anyone. The
//! holder writes its PID into the file so the refused opener can name it.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read as _, Seek as _, Write as _};
use std::path::{Path, PathBuf};

/// Held while the store is open; dropping it (or the process ending) releases the lock.
#[derive(Debug)]
pub struct DataLock {
    _file: File,
    path: PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum DataLockError {
    #[error("the data directory {dir} is in use by another hub ({holder}); stop that one, or give this one another data directory")]
    Held { dir: PathBuf, holder: String },
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
}

impl DataLock {
    /// Takes the lock in `lock_path`, creating the file (mode 0600) if needed, or says who holds it.
    pub fn acquire(lock_path: &Path) -> Result<Self, DataLockError> {
        let io = |source| DataLockError::Io { path: lock_path.to_owned(), source };
        let mut file = private_file(OpenOptions::new().read(true).write(true).create(true).truncate(false)).open(lock_path).map_err(io)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let mut text = String::new();
                // The holder may not have written its PID yet; the refusal stands without it.
                let _ = file.read_to_string(&mut text);
                let holder = match text.trim().parse::<u32>() {
                    Ok(pid) => format!("PID {pid}"),
                    Err(_) => "PID not yet recorded".to_owned(),
                };
                let dir = lock_path.parent().unwrap_or(Path::new(".")).to_owned();
                return Err(DataLockError::Held { dir, holder });
            }
            Err(TryLockError::Error(e)) => return Err(io(e)),
        }
        file.set_len(0).map_err(io)?;
        file.rewind().map_err(io)?;
        writeln!(file, "{}", std::process::id()).and_then(|()| file.sync_all()).map_err(io)?;
        Ok(Self { _file: file, path: lock_path.to_owned() })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Open options for a file only its owner may read or write (0600 on Unix).
pub(crate) fn private_file(options: &mut OpenOptions) -> &mut OpenOptions {
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    options
}

/// Creates `dir` and its missing parents, each only its owner may enter (0700 on Unix).
/// Existing directories are left as they are: the store may live in a shared one.
pub(crate) fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt as _;
        builder.mode(0o700);
    }
    builder.create(dir)
}
