//! `cvmbot healthcheck [URL]`: asks a running cvmbot's health endpoint and exits 0 when it
//! answers 2xx, so a container image needs no curl or wget for its `HEALTHCHECK`.

use std::process::ExitCode;
use std::time::Duration;

/// Where a cvmbot in a container serves its health endpoint (`CVMBOT_SERVICE__LISTEN=0.0.0.0:9464`).
pub const DEFAULT_URL: &str = "http://127.0.0.1:9464/healthz";

/// How long the answer may take: a container engine kills a probe that hangs, and says less.
const TIMEOUT: Duration = Duration::from_secs(3);

/// `GET url`: `Ok` with the status line when it answered 2xx, else what went wrong.
pub async fn probe(url: &str) -> Result<String, String> {
    let client = reqwest::Client::builder()
        .timeout(TIMEOUT)
        .no_proxy()
        .build()
        .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
    let response = client
        .get(url)
        .send()
        .await
        .map_err(|e| format!("{url} did not answer: {e}"))?;
    let status = response.status();
    if status.is_success() {
        Ok(format!("{url}: {status}"))
    } else {
        Err(format!("{url} answered {status}"))
    }
}

/// Runs the probe and prints one line: on stdout when healthy, on stderr when not.
pub async fn run(url: &str) -> ExitCode {
    match probe(url).await {
        Ok(line) => {
            println!("{line}");
            ExitCode::SUCCESS
        }
        Err(problem) => {
            eprintln!("cvmbot healthcheck: {problem}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// A server on 127.0.0.1 that answers every request with `status_line` once.
    async fn answering(status_line: &'static str) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}/healthz", listener.local_addr().expect("address"));
        tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.expect("a connection");
            let mut request = [0u8; 1024];
            let _ = socket.read(&mut request).await;
            let answer = format!("HTTP/1.1 {status_line}\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok");
            let _ = socket.write_all(answer.as_bytes()).await;
        });
        url
    }

    #[tokio::test]
    async fn a_2xx_answer_is_healthy_and_anything_else_is_not() {
        assert!(probe(&answering("200 OK").await).await.is_ok());
        let unhealthy = probe(&answering("503 Service Unavailable").await).await;
        assert!(unhealthy.is_err_and(|e| e.contains("503")));
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let closed = format!("http://{}/healthz", listener.local_addr().expect("address"));
        drop(listener);
        assert!(probe(&closed).await.is_err_and(|e| e.contains("did not answer")));
    }
}
