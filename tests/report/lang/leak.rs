// Leaks one connection from each of two Rust functions (a method and a
// generic function in a module), prints "ready" and waits for EOF on stdin
// (with an argument, exits at once).
// The lines marked LEAK-A and LEAK-B are the calls the report must name.
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};

mod feed {
    use std::net::{SocketAddr, TcpStream};

    pub struct Client {
        pub addr: SocketAddr,
    }

    impl Client {
        #[inline(never)]
        pub fn open(&self) -> TcpStream {
            TcpStream::connect(self.addr).expect("connect") // LEAK-A
        }
    }

    #[inline(never)]
    pub fn reconnect<T: Into<u64>>(addr: SocketAddr, tries: T) -> TcpStream {
        let _ = tries.into();
        TcpStream::connect(addr).expect("connect") // LEAK-B
    }
}

fn main() {
    let srv = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = srv.local_addr().expect("addr");
    let c = feed::Client { addr };
    let a: TcpStream = c.open();
    let b: TcpStream = feed::reconnect(addr, 2u32);
    println!("ready");
    std::io::stdout().flush().expect("flush");
    if std::env::args().count() > 1 {
        std::process::exit(0); // "exit": leave with the leaks held
    }
    let mut buf = Vec::new();
    std::io::stdin().read_to_end(&mut buf).expect("stdin");
    drop((a, b, srv));
}
