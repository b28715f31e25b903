//! TCP listeners for the relay and the milter, with a backlog sized for
//! bursts: both face many connections opened at once (clients, or one
//! milter connection per SMTP session of the MTA).

use tokio::net::TcpListener;

/// Pending connections the kernel may queue before `accept`. The default
/// of std and tokio (128) makes a burst of hundreds of connects
/// overflow the accept queue, leaving clients connected but never greeted;
/// the kernel still caps it at `net.core.somaxconn`.
pub const LISTEN_BACKLOG: u32 = 8192;

/// Binds a listener with [`LISTEN_BACKLOG`].
pub fn bind(addr: std::net::SocketAddr) -> std::io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    // A restart must not wait for TIME_WAIT sockets of the previous process.
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(LISTEN_BACKLOG)
}
