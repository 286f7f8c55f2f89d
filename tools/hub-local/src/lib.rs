//! What `hub-local` and `hub-stack` share: the in-process Lever sandbox and its OAuth app, and
//! every bundled profile registered as a partner with an API key kept in the data directory.

pub mod partners;
pub mod sandbox;

pub type AnyError = Box<dyn std::error::Error + Send + Sync>;

/// Listens on `addr`, or says in a sentence why not (and which flag moves it).
pub async fn bind(addr: &str) -> Result<tokio::net::TcpListener, AnyError> {
    tokio::net::TcpListener::bind(addr).await.map_err(|e| -> AnyError {
        match e.kind() {
            std::io::ErrorKind::AddrInUse => format!("address in use: {addr}, pass --addr").into(),
            std::io::ErrorKind::AddrNotAvailable => format!("address not available on this machine: {addr}, pass --addr").into(),
            _ => format!("cannot listen on {addr}: {e}").into(),
        }
    })
}

/// The data directory, made if missing: tokens, keys and secrets live there, so it is the
/// owner's only.
pub fn private_dir(dir: &std::path::Path) -> Result<(), AnyError> {
    std::fs::create_dir_all(dir).map_err(|e| format!("data directory {}: {e}", dir.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(|e| format!("data directory {}: {e}", dir.display()))?;
    }
    Ok(())
}
