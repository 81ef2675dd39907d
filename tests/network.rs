//! Slow and broken servers over plain http on loopback: what a request that stalls means.

mod common;

use std::io::{Read as _, Write as _};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use common::*;

/// A server that sends its headers and the start of a body at once, then stalls with the
/// connection open.
fn stalling_body() -> (String, Arc<Mutex<Vec<std::net::TcpStream>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let held = Arc::new(Mutex::new(Vec::new()));
    let keep = Arc::clone(&held);
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            let mut request = [0u8; 4096];
            let _ = stream.read(&mut request);
            let _ = stream.write_all(
                b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 200\r\n\r\n{\"id\": \"job_1\",",
            );
            keep.lock().unwrap().push(stream);
        }
    });
    (url, held)
}

/// A body that stalls past `MINTLIFY_REQUEST_TIMEOUT` is the same failure as headers that do:
/// retried, and at the deadline a timeout naming the setting, not "broke off" and "never a job".
#[test]
fn a_body_that_stalls_is_a_request_timeout() {
    let (url, _held) = stalling_body();
    let run = Gate::new(&url)
        .env("MINTLIFY_REQUEST_TIMEOUT", "300ms")
        .env("MINTLIFY_TIMEOUT", "1s")
        .run();
    run.assert_code(4).assert_logged(
        "has no final status after 1.0s (last status: none; last problem: no answer within MINTLIFY_REQUEST_TIMEOUT (300ms))",
    );
    assert!(
        !run.stderr.contains("broke off") && !run.stderr.contains("never with a job"),
        "{}",
        run.stderr
    );
    assert_eq!(run.outputs()["result"], "timeout");
}

/// A create whose answer stalls after its headers reached the server: as with late headers, a
/// job may exist, and the run says so instead of trying again.
#[test]
fn a_create_whose_body_stalls_may_have_started_a_job() {
    let (url, held) = stalling_body();
    let mut gate = Gate::new(&url)
        .env("MINTLIFY_REQUEST_TIMEOUT", "300ms")
        .env("MINTLIFY_PROMPT", "Fix the typos");
    gate.command.env_remove("MINTLIFY_JOB_ID");
    let run = gate.run();
    run.assert_code(5).assert_logged(
        "may or may not have reached Mintlify (no answer within MINTLIFY_REQUEST_TIMEOUT (300ms))",
    );
    assert_eq!(held.lock().unwrap().len(), 1, "the create was sent again");
}

/// A loopback listener whose accept queue is full: Linux drops every further SYN, as a
/// firewall does, so a connect neither completes nor fails. Returns its URL and what must stay
/// alive meanwhile (the listener and the connections that fill its queue).
#[cfg(target_os = "linux")]
fn dropping_syns() -> (String, Vec<socket2::Socket>) {
    use socket2::{Domain, Socket, Type};
    let listener = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
    listener
        .bind(&std::net::SocketAddr::from(([127, 0, 0, 1], 0)).into())
        .unwrap();
    listener.listen(0).unwrap();
    let address = listener.local_addr().unwrap();
    let mut held = vec![listener];
    // Fill the queue until a connect hangs: the proof that SYNs are dropped now.
    for _ in 0..16 {
        let client = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
        match client.connect_timeout(&address, std::time::Duration::from_millis(200)) {
            Ok(()) => held.push(client),
            Err(error) if error.kind() == std::io::ErrorKind::TimedOut => {
                let url = format!("http://{}", address.as_socket().unwrap());
                return (url, held);
            }
            Err(error) => panic!("filling the accept queue: {error}"),
        }
    }
    panic!("the accept queue never filled");
}

/// Dropped SYNs: the connect phase has its own, shorter timeout than the request (with the two
/// equal, the request's fires first and the server looks slow), so a create that never left
/// this machine is retried and ends "could not be reached" (exit 4), not "may or may not".
#[cfg(target_os = "linux")]
#[test]
fn dropped_syns_are_a_connect_timeout_and_unreachable() {
    let (url, _held) = dropping_syns();
    let mut gate = Gate::new(&url)
        .env("MINTLIFY_REQUEST_TIMEOUT", "400ms")
        .env("MINTLIFY_TIMEOUT", "1s")
        .env("MINTLIFY_PROMPT", "Fix the typos");
    gate.command.env_remove("MINTLIFY_JOB_ID");
    let run = gate.run();
    run.assert_code(4)
        .assert_logged("creating a job: no connection within 200ms; trying again")
        .assert_logged("could not be reached");
    assert!(!run.stderr.contains("may or may not"), "{}", run.stderr);
}

/// Every request gets a connection of its own, even from a server that keeps connections
/// alive: so a connection still being made when a request fails is that request's, and "never
/// connected" (which lets a start be sent again) is certain.
#[test]
fn every_request_makes_its_own_connection() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let counts = Arc::new(Mutex::new((0, 0)));
    let count = Arc::clone(&counts);
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            count.lock().unwrap().0 += 1;
            let count = Arc::clone(&count);
            std::thread::spawn(move || {
                let mut stream = stream;
                let mut request = [0u8; 4096];
                // One request per read: the gate sends small GETs and waits for each answer.
                while stream.read(&mut request).is_ok_and(|n| n > 0) {
                    let polls = {
                        let mut count = count.lock().unwrap();
                        count.1 += 1;
                        count.1
                    };
                    let status = if polls < 3 { "active" } else { "completed" };
                    let body = job(status, Some(PR_LINK)).to_string();
                    let answer = format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
                        body.len()
                    );
                    if stream.write_all(answer.as_bytes()).is_err() {
                        return;
                    }
                }
            });
        }
    });
    Gate::new(&url).run().assert_code(0);
    assert_eq!(*counts.lock().unwrap(), (3, 3), "(connections, requests)");
}
