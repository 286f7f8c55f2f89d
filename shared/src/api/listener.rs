//! The TCP listener of the hub's own HTTP servers (`hub-local`, `hub-stack`'s gateway).
//!
//! hyper answers a request it cannot parse — a request line that is not ASCII, a path over 64 KiB,
//! headers over its buffer — by itself, before any route runs: a 400, 414 or 431 with an empty
//! body. Every 4xx of the hub is a problem document, so each connection's writes are watched and
//! such an answer is rewritten into one (`bad-request`, with the status hyper chose). In AWS,
//! API Gateway answers these before the functions; this is for the servers that stand in for it.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

use super::problem::{Problem, ProblemType};

/// A [`TcpListener`] whose connections answer unparseable requests with problem documents.
pub struct ProblemListener(pub TcpListener);

/// The peer of a connection (for `ConnectInfo<PeerAddr>`).
#[derive(Clone, Copy, Debug)]
pub struct PeerAddr(pub SocketAddr);

impl axum::serve::Listener for ProblemListener {
    type Io = ProblemOnParseError<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        let (io, addr) = axum::serve::Listener::accept(&mut self.0).await;
        (ProblemOnParseError { inner: io, pending: Vec::new(), sent: 0 }, addr)
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.0.local_addr()
    }
}

impl axum::extract::connect_info::Connected<axum::serve::IncomingStream<'_, ProblemListener>> for PeerAddr {
    fn connect_info(stream: axum::serve::IncomingStream<'_, ProblemListener>) -> Self {
        PeerAddr(*stream.remote_addr())
    }
}

/// A connection whose writes are watched for hyper's own empty error answers.
pub struct ProblemOnParseError<T> {
    inner: T,
    /// The rewritten answer, and how much of it has reached the socket.
    pending: Vec<u8>,
    sent: usize,
}

impl<T: AsyncWrite + Unpin> ProblemOnParseError<T> {
    fn poll_drain(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.sent < self.pending.len() {
            let n = ready!(Pin::new(&mut self.inner).poll_write(cx, &self.pending[self.sent..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.sent += n;
        }
        self.pending.clear();
        self.sent = 0;
        Poll::Ready(Ok(()))
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for ProblemOnParseError<T> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for ProblemOnParseError<T> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        ready!(self.poll_drain(cx))?;
        if let Some(answer) = problem_for_empty_error(buf) {
            // hyper is told its bytes were written; the problem goes out in their place.
            self.pending = answer;
            self.sent = 0;
            // A socket that is not writable now is drained by the flush hyper makes next.
            let _ = self.poll_drain(cx)?;
            return Poll::Ready(Ok(buf.len()));
        }
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_drain(cx))?;
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_drain(cx))?;
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
    // Not vectored: hyper then writes each answer's head in one buffer, where it can be read.
}

/// When `written` is a whole answer head with a 4xx status, no body and no content type — what
/// hyper sends for a request it could not parse; every answer of the hub's routes has a body —
/// the same status as a problem document.
fn problem_for_empty_error(written: &[u8]) -> Option<Vec<u8>> {
    if !written.starts_with(b"HTTP/1.") {
        return None;
    }
    let mut headers = [httparse::EMPTY_HEADER; 16];
    let mut response = httparse::Response::new(&mut headers);
    let head_len = match response.parse(written) {
        Ok(httparse::Status::Complete(n)) => n,
        _ => return None,
    };
    let status = response.code.filter(|c| (400..500).contains(c))?;
    let has = |name: &str| response.headers.iter().any(|h| h.name.eq_ignore_ascii_case(name));
    let empty = response.headers.iter().any(|h| h.name.eq_ignore_ascii_case("content-length") && h.value == b"0");
    if !empty || has("content-type") || head_len != written.len() {
        return None;
    }
    let detail = match status {
        414 => "The request's path and query string are longer than the hub reads (64 KiB).",
        431 => "The request's headers are larger than the hub reads.",
        _ => "The request line or a header is not valid HTTP/1.1 (for example, it is not ASCII).",
    };
    let mut problem = Problem::new(ProblemType::BadRequest, detail);
    problem.status = status;
    let body = serde_json::to_vec(&problem).ok()?;
    let reason = response.reason.unwrap_or("");
    let mut answer = format!(
        "HTTP/1.1 {status} {reason}\r\ncontent-type: application/problem+json\r\ncontent-length: {}\r\ncache-control: no-store\r\nx-content-type-options: nosniff\r\nconnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    answer.extend_from_slice(&body);
    Some(answer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_hypers_empty_error_answers_are_rewritten() {
        let answer = problem_for_empty_error(b"HTTP/1.1 414 URI Too Long\r\ncontent-length: 0\r\ndate: x\r\n\r\n").unwrap();
        let text = String::from_utf8(answer).unwrap();
        assert!(text.starts_with("HTTP/1.1 414 URI Too Long\r\ncontent-type: application/problem+json\r\n"), "{text}");
        let body: serde_json::Value = serde_json::from_str(text.split("\r\n\r\n").nth(1).unwrap()).unwrap();
        assert_eq!((body["type"].as_str(), body["status"].as_u64()), (Some("/problems/bad-request"), Some(414)));

        for untouched in [
            &b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n"[..],
            b"HTTP/1.1 404 Not Found\r\ncontent-type: application/problem+json\r\ncontent-length: 0\r\n\r\n",
            b"HTTP/1.1 400 Bad Request\r\ncontent-length: 2\r\n\r\n{}",
            b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n",
            b"{\"HTTP/1.1 400\": 1}",
        ] {
            assert!(problem_for_empty_error(untouched).is_none(), "{}", String::from_utf8_lossy(untouched));
        }
    }
}
