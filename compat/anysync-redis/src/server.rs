//! Starting a throwaway `redis-server` on a loopback port, for tests and
//! examples.
//!
//! [`LocalServer::start`] runs the `redis-server` found on `PATH` (Debian's
//! `redis-server` package) bound to `127.0.0.1` on a free port, with its
//! files in a fresh temporary directory, and stops it and removes the
//! directory when dropped. Nothing listens beyond the loopback interface.

use std::{
    fmt, io,
    net::{TcpListener, TcpStream},
    path::PathBuf,
    process::{Child, Command, Stdio},
    sync::atomic::{AtomicU32, Ordering},
    thread,
    time::{Duration, Instant},
};

/// A `redis-server` process started by [`LocalServer::start`], stopped on
/// drop.
pub struct LocalServer {
    child: Option<Child>,
    port: u16,
    dir: PathBuf,
    append_only: bool,
}

/// Why a [`LocalServer`] could not be started.
#[derive(Debug)]
#[non_exhaustive]
pub enum StartError {
    /// No `redis-server` on `PATH`.
    NotInstalled,
    /// It was found but did not start or did not answer in time.
    Failed(io::Error),
}

impl fmt::Display for StartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StartError::NotInstalled => f.write_str("redis-server is not installed (not on PATH)"),
            StartError::Failed(e) => write!(f, "redis-server did not start: {e}"),
        }
    }
}

impl std::error::Error for StartError {}

impl LocalServer {
    /// Starts `redis-server` on a free loopback port, without persistence.
    ///
    /// # Errors
    /// [`StartError::NotInstalled`] or [`StartError::Failed`].
    pub fn start() -> Result<LocalServer, StartError> {
        Self::start_with(false)
    }

    /// Starts `redis-server` with the append-only file on (`appendfsync
    /// always`), so a [`restart`](Self::restart) keeps every write.
    ///
    /// # Errors
    /// As for [`start`](Self::start).
    pub fn start_persistent() -> Result<LocalServer, StartError> {
        Self::start_with(true)
    }

    fn start_with(append_only: bool) -> Result<LocalServer, StartError> {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let port = free_port().map_err(StartError::Failed)?;
        let dir = std::env::temp_dir().join(format!(
            "anysync-redis-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).map_err(StartError::Failed)?;
        let mut server = LocalServer {
            child: None,
            port,
            dir,
            append_only,
        };
        server.spawn()?;
        Ok(server)
    }

    fn spawn(&mut self) -> Result<(), StartError> {
        let mut cmd = Command::new("redis-server");
        cmd.arg("--port")
            .arg(self.port.to_string())
            .args([
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--protected-mode",
                "yes",
            ])
            .arg("--dir")
            .arg(&self.dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if self.append_only {
            cmd.args(["--appendonly", "yes", "--appendfsync", "always"]);
        }
        let child = match cmd.spawn() {
            Ok(child) => child,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(StartError::NotInstalled),
            Err(e) => return Err(StartError::Failed(e)),
        };
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if ping(self.port) {
                return Ok(());
            }
            if let Some(child) = self.child.as_mut() {
                if let Ok(Some(status)) = child.try_wait() {
                    return Err(StartError::Failed(io::Error::other(format!(
                        "redis-server exited with {status}"
                    ))));
                }
            }
            thread::sleep(Duration::from_millis(10));
        }
        Err(StartError::Failed(io::Error::new(
            io::ErrorKind::TimedOut,
            "redis-server did not answer PING within 10 s",
        )))
    }

    /// The `redis://127.0.0.1:PORT` URL to connect to.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Kills the server (SIGKILL) and starts it again on the same port and
    /// directory. With the append-only file on, every acknowledged write
    /// survives.
    ///
    /// # Errors
    /// As for [`start`](Self::start).
    pub fn restart(&mut self) -> Result<(), StartError> {
        self.stop();
        self.spawn()
    }

    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for LocalServer {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl fmt::Debug for LocalServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalServer")
            .field("port", &self.port)
            .field("append_only", &self.append_only)
            .finish()
    }
}

fn free_port() -> io::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn ping(port: u16) -> bool {
    use std::io::{Read, Write};
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_millis(500)));
    let mut buf = [0u8; 16];
    s.write_all(b"PING\r\n").is_ok()
        && matches!(s.read(&mut buf), Ok(n) if buf[..n].starts_with(b"+PONG"))
}
