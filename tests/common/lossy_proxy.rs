//! A TCP proxy in front of the test server that counts requests and can lose one answer on the way back:
//! the request reaches the server and is carried out, but the client only sees its connection close.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

pub struct LossyProxy {
    pub url: String,
    addr: SocketAddr,
    lose_next: Arc<AtomicBool>,
    lost: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    /// Everything clients sent, to count requests.
    sent: Arc<Mutex<Vec<u8>>>,
}

impl LossyProxy {
    pub fn start(upstream: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the proxy");
        let addr = listener.local_addr().expect("the proxy's address");
        let lose_next = Arc::new(AtomicBool::new(false));
        let lost = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let sent = Arc::new(Mutex::new(Vec::new()));
        let (lose, count, stopped, log) = (lose_next.clone(), lost.clone(), stop.clone(), sent.clone());
        std::thread::spawn(move || {
            for client in listener.incoming() {
                if stopped.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(client) = client else { continue };
                let Ok(server) = TcpStream::connect(upstream) else { continue };
                let (lose, count, log) = (lose.clone(), count.clone(), log.clone());
                std::thread::spawn(move || relay(client, server, &lose, &count, log));
            }
        });
        Self { url: format!("http://{addr}"), addr, lose_next, lost, stop, sent }
    }

    /// The next bytes the server sends back, on any connection, are dropped and that connection closed.
    pub fn lose_next_answer(&self) {
        self.lose_next.store(true, Ordering::SeqCst);
    }

    /// How many requests with this method and path went through (a request line is written whole).
    pub fn requests(&self, method: &str, path: &str) -> usize {
        let line = format!("{method} {path} HTTP/");
        let sent = self.sent.lock().expect("sent");
        sent.windows(line.len()).filter(|w| *w == line.as_bytes()).count()
    }

    /// How many answers were lost so far.
    pub fn lost(&self) -> usize {
        self.lost.load(Ordering::SeqCst)
    }
}

impl Drop for LossyProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(self.addr);
    }
}

fn relay(
    client: TcpStream,
    server: TcpStream,
    lose: &AtomicBool,
    lost: &AtomicUsize,
    sent: Arc<Mutex<Vec<u8>>>,
) {
    let (Ok(mut client_in), Ok(mut server_out)) = (client.try_clone(), server.try_clone()) else { return };
    std::thread::spawn(move || {
        let mut buf = [0u8; 16 * 1024];
        loop {
            let n = match client_in.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            sent.lock().expect("sent").extend_from_slice(&buf[..n]);
            if server_out.write_all(&buf[..n]).is_err() {
                break;
            }
        }
        let _ = server_out.shutdown(Shutdown::Write);
    });
    let (mut server_in, mut client_out) = (server, client);
    let mut buf = [0u8; 16 * 1024];
    loop {
        let n = match server_in.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if lose.swap(false, Ordering::SeqCst) {
            lost.fetch_add(1, Ordering::SeqCst);
            break;
        }
        if client_out.write_all(&buf[..n]).is_err() {
            break;
        }
    }
    let _ = client_out.shutdown(Shutdown::Both);
    let _ = server_in.shutdown(Shutdown::Both);
}
