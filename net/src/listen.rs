//! Listening sockets: one per shard and address, all on the same port with
//! SO_REUSEPORT so the kernel spreads new connections over the shards.
//! Accepts go through the shard's ring (`uring::Ring::accept`).

use std::io;
use std::net::{IpAddr, SocketAddr, TcpListener};
use std::os::fd::FromRawFd;

/// Binds and listens on `ip:port` with SO_REUSEADDR and SO_REUSEPORT (and
/// IPV6_V6ONLY for IPv6, so `::` and `0.0.0.0` can both be bound, as Redis does).
pub fn listen(ip: IpAddr, port: u16, backlog: u32) -> io::Result<TcpListener> {
    let domain = match ip {
        IpAddr::V4(_) => libc::AF_INET,
        IpAddr::V6(_) => libc::AF_INET6,
    };
    // SAFETY: plain socket syscall; the fd is owned by the TcpListener below.
    let fd = unsafe { libc::socket(domain, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: fd is a fresh socket we own; dropping the listener closes it on error.
    let listener = unsafe { TcpListener::from_raw_fd(fd) };
    set_flag(fd, libc::SOL_SOCKET, libc::SO_REUSEADDR)?;
    set_flag(fd, libc::SOL_SOCKET, libc::SO_REUSEPORT)?;
    if domain == libc::AF_INET6 {
        set_flag(fd, libc::IPPROTO_IPV6, libc::IPV6_V6ONLY)?;
    }
    let (storage, len) = sockaddr(SocketAddr::new(ip, port));
    // SAFETY: storage holds a sockaddr of `len` bytes for this domain.
    if unsafe { libc::bind(fd, &storage as *const _ as *const libc::sockaddr, len) } < 0 {
        return Err(io::Error::last_os_error());
    }
    let backlog = backlog.min(i32::MAX as u32) as i32;
    // SAFETY: fd is a bound socket.
    if unsafe { libc::listen(fd, backlog) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(listener)
}

fn set_flag(fd: i32, level: i32, name: i32) -> io::Result<()> {
    let one: libc::c_int = 1;
    // SAFETY: passes a pointer to a live c_int and its size.
    let r = unsafe {
        libc::setsockopt(
            fd,
            level,
            name,
            &one as *const _ as *const libc::c_void,
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

fn sockaddr(addr: SocketAddr) -> (libc::sockaddr_storage, libc::socklen_t) {
    // SAFETY: an all-zero sockaddr_storage is a valid value.
    let mut storage: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
    let len = match addr {
        SocketAddr::V4(a) => {
            // SAFETY: sockaddr_storage is large and aligned enough for sockaddr_in.
            let sin = unsafe { &mut *(&mut storage as *mut _ as *mut libc::sockaddr_in) };
            sin.sin_family = libc::AF_INET as libc::sa_family_t;
            sin.sin_port = a.port().to_be();
            sin.sin_addr.s_addr = u32::from(*a.ip()).to_be();
            std::mem::size_of::<libc::sockaddr_in>()
        }
        SocketAddr::V6(a) => {
            // SAFETY: sockaddr_storage is large and aligned enough for sockaddr_in6.
            let sin6 = unsafe { &mut *(&mut storage as *mut _ as *mut libc::sockaddr_in6) };
            sin6.sin6_family = libc::AF_INET6 as libc::sa_family_t;
            sin6.sin6_port = a.port().to_be();
            sin6.sin6_addr.s6_addr = a.ip().octets();
            sin6.sin6_scope_id = a.scope_id();
            std::mem::size_of::<libc::sockaddr_in6>()
        }
    };
    (storage, len as libc::socklen_t)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    #[test]
    fn two_listeners_share_a_port() {
        let a = listen(Ipv4Addr::LOCALHOST.into(), 0, 16).unwrap();
        let port = a.local_addr().unwrap().port();
        let b = listen(Ipv4Addr::LOCALHOST.into(), port, 16).unwrap();
        assert_eq!(b.local_addr().unwrap().port(), port);
        // A third socket without SO_REUSEPORT is refused: the port is really taken.
        assert!(std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, port)).is_err());
    }

    #[test]
    fn a_bad_address_is_an_error() {
        // 192.0.2.1 (TEST-NET-1) is not an address of this host.
        let err = listen("192.0.2.1".parse().unwrap(), 0, 16).unwrap_err();
        assert_eq!(err.raw_os_error(), Some(libc::EADDRNOTAVAIL));
    }
}
