//! systemd's service notifications (`sd_notify(3)`) without libsystemd: one datagram per message
//! to the Unix socket `$NOTIFY_SOCKET` names (a path, or an abstract name written `@name`). With
//! `Type=notify` the unit is started once cvmbot says `READY=1`, and with `WatchdogSec=` it is
//! restarted when the `WATCHDOG=1` pings stop. Outside systemd (no `$NOTIFY_SOCKET`) every call
//! does nothing.

use std::io;
use std::os::unix::net::{SocketAddr, UnixDatagram};
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Where notifications go, read from the environment systemd gives the service.
#[derive(Debug)]
pub struct Notify {
    socket: Option<SocketAddr>,
    watchdog: Option<Duration>,
}

impl Notify {
    /// From this process's environment.
    pub fn from_env() -> Notify {
        Notify::from_vars(|name| std::env::var(name).ok(), std::process::id())
    }

    /// From variables read by `var`, for the process `pid`: `NOTIFY_SOCKET`, and `WATCHDOG_USEC`
    /// when `WATCHDOG_PID` is unset or `pid` (systemd names the process it watches).
    pub fn from_vars(var: impl Fn(&str) -> Option<String>, pid: u32) -> Notify {
        let socket = var("NOTIFY_SOCKET").and_then(|name| address(&name));
        let ours = var("WATCHDOG_PID").is_none_or(|watched| watched.trim() == pid.to_string());
        let watchdog = var("WATCHDOG_USEC")
            .filter(|_| ours)
            .and_then(|usec| usec.trim().parse::<u64>().ok())
            .filter(|usec| *usec > 0)
            .map(Duration::from_micros);
        Notify { socket, watchdog }
    }

    /// Sends `state` (`NAME=value` lines); false when there is no socket to send to.
    pub fn send(&self, state: &str) -> io::Result<bool> {
        let Some(socket) = &self.socket else {
            return Ok(false);
        };
        UnixDatagram::unbound()?.send_to_addr(state.as_bytes(), socket)?;
        Ok(true)
    }

    /// How often to ping the watchdog: half its timeout, as `sd_watchdog_enabled(3)` advises;
    /// none when systemd does not watch this process.
    pub fn watchdog_interval(&self) -> Option<Duration> {
        self.watchdog
            .filter(|_| self.socket.is_some())
            .map(|timeout| timeout / 2)
    }
}

/// A socket address from `$NOTIFY_SOCKET`: a path, or `@name` for the abstract namespace.
fn address(name: &str) -> Option<SocketAddr> {
    if let Some(abstract_name) = name.strip_prefix('@') {
        use std::os::linux::net::SocketAddrExt;
        return SocketAddr::from_abstract_name(abstract_name.as_bytes()).ok();
    }
    name.starts_with('/')
        .then(|| SocketAddr::from_pathname(name).ok())
        .flatten()
}

impl Notify {
    /// Sends `state`, logging (not failing) when systemd cannot be told.
    fn tell(&self, state: &str) {
        if let Err(error) = self.send(state) {
            tracing::warn!(%error, state, "could not notify systemd");
        }
    }

    /// Tells systemd `READY=1` the first time the service is doing its job (answering on
    /// Discord, or standing by for another replica), and its status line on every change of
    /// duty (a gateway reconnecting, a standby taking over).
    pub fn follow_duty<D: Duty>(self, mut duty: watch::Receiver<D>) -> JoinHandle<()> {
        tokio::spawn(async move {
            let mut told_ready = false;
            loop {
                let now = duty.borrow_and_update().clone();
                let status = now.describe();
                if now.is_doing_its_job() && !told_ready {
                    self.tell(&format!("READY=1\nSTATUS={status}"));
                    told_ready = true;
                } else {
                    self.tell(&format!("STATUS={status}"));
                }
                if duty.changed().await.is_err() {
                    return;
                }
            }
        })
    }

    /// Pings the watchdog at [`Notify::watchdog_interval`] for as long as the runtime runs; none
    /// when systemd does not watch this process.
    pub fn watchdog(self) -> Option<JoinHandle<()>> {
        let every = self.watchdog_interval()?;
        Some(tokio::spawn(async move {
            let mut ticks = tokio::time::interval(every);
            // After a stall, one ping and the same pace again, not a burst of the missed ones.
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticks.tick().await;
                self.tell("WATCHDOG=1");
            }
        }))
    }
}

/// What the service is doing, as systemd hears it.
pub trait Duty: Clone + Send + Sync + 'static {
    /// True when the service does what it should (systemd may finish starting it).
    fn is_doing_its_job(&self) -> bool;
    /// In words, for `systemctl status`.
    fn describe(&self) -> &'static str;
}

/// `READY=1`: cvmbot is doing its job (systemd finishes starting the unit). For a replica that
/// stands by, say so with [`status`] too.
pub fn ready() {
    Notify::from_env().tell("READY=1");
}

/// `STATUS=…`: the line `systemctl status` shows.
pub fn status(text: &str) {
    Notify::from_env().tell(&format!("STATUS={}", text.replace('\n', " ")));
}

/// `STOPPING=1`: cvmbot is shutting down.
pub fn stopping() {
    Notify::from_env().tell("STOPPING=1\nSTATUS=stopping: finishing the work in hand, handing over the lease");
}

/// Sends `READY=1` once the service does its job, and its duty as the status line; see
/// [`Notify::follow_duty`].
pub fn follow<D: Duty>(duty: watch::Receiver<D>) -> JoinHandle<()> {
    Notify::from_env().follow_duty(duty)
}

/// Pings systemd's watchdog at half its timeout while the runtime runs, when systemd watches this
/// process: a runtime that stops running its tasks stops the pings, and systemd restarts cvmbot.
pub fn spawn_watchdog() -> Option<JoinHandle<()>> {
    Notify::from_env().watchdog()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn from(vars: &[(&str, &str)], pid: u32) -> Notify {
        let vars: BTreeMap<String, String> = vars.iter().map(|(k, v)| ((*k).into(), (*v).into())).collect();
        Notify::from_vars(|name| vars.get(name).cloned(), pid)
    }

    fn received(socket: &UnixDatagram) -> String {
        let mut buffer = [0u8; 512];
        let n = socket.recv(&mut buffer).expect("a datagram");
        String::from_utf8_lossy(&buffer[..n]).into_owned()
    }

    #[test]
    fn notifications_reach_a_socket_named_by_path_and_one_named_in_the_abstract_namespace() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("notify");
        let listening = UnixDatagram::bind(&path).expect("bind");
        let notify = from(&[("NOTIFY_SOCKET", path.to_str().expect("UTF-8"))], 1);
        assert!(notify.send("READY=1\nSTATUS=answering").expect("sent"));
        assert_eq!(received(&listening), "READY=1\nSTATUS=answering");

        use std::os::linux::net::SocketAddrExt;
        let name = format!("cvmbot-test-{}", std::process::id());
        let address = SocketAddr::from_abstract_name(name.as_bytes()).expect("an abstract name");
        let listening = UnixDatagram::bind_addr(&address).expect("bind");
        let notify = from(&[("NOTIFY_SOCKET", &format!("@{name}"))], 1);
        assert!(notify.send("STOPPING=1").expect("sent"));
        assert_eq!(received(&listening), "STOPPING=1");
    }

    #[test]
    fn without_a_socket_nothing_is_sent_and_a_bad_name_is_no_socket() {
        assert!(!from(&[], 1).send("READY=1").expect("nothing to do"));
        assert!(
            !from(&[("NOTIFY_SOCKET", "relative/path")], 1)
                .send("READY=1")
                .expect("nothing to do")
        );
    }

    #[test]
    fn the_watchdog_is_pinged_at_half_its_timeout_and_only_by_the_process_it_watches() {
        let socket = ("NOTIFY_SOCKET", "/run/systemd/notify");
        let watched = from(&[socket, ("WATCHDOG_USEC", "30000000"), ("WATCHDOG_PID", "42")], 42);
        assert_eq!(watched.watchdog_interval(), Some(Duration::from_secs(15)));
        let any_pid = from(&[socket, ("WATCHDOG_USEC", "30000000")], 7);
        assert_eq!(any_pid.watchdog_interval(), Some(Duration::from_secs(15)));
        let another = from(&[socket, ("WATCHDOG_USEC", "30000000"), ("WATCHDOG_PID", "41")], 42);
        assert_eq!(
            another.watchdog_interval(),
            None,
            "a child that inherited the variables"
        );
        assert_eq!(from(&[("WATCHDOG_USEC", "30000000")], 1).watchdog_interval(), None);
        assert_eq!(from(&[socket, ("WATCHDOG_USEC", "0")], 1).watchdog_interval(), None);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn ready_is_told_once_when_the_service_first_does_its_job_and_later_changes_only_change_the_status() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("notify");
        let listening = UnixDatagram::bind(&path).expect("bind");
        listening
            .set_read_timeout(Some(Duration::from_secs(5)))
            .expect("a timeout");
        let notify = from(&[("NOTIFY_SOCKET", path.to_str().expect("UTF-8"))], 1);
        /// A service's duties as cvmbot's replicas have them.
        #[derive(Clone, Copy)]
        enum Replica {
            Starting,
            StandingBy,
            Connecting,
            Answering,
        }
        impl Duty for Replica {
            fn is_doing_its_job(&self) -> bool {
                matches!(self, Replica::StandingBy | Replica::Answering)
            }
            fn describe(&self) -> &'static str {
                match self {
                    Replica::Starting => "starting",
                    Replica::StandingBy => "standing by: another replica answers on Discord and runs the workers",
                    Replica::Connecting => "connecting to Discord",
                    Replica::Answering => "answering on Discord",
                }
            }
        }
        let (tell, duty) = watch::channel(Replica::Starting);
        let task = notify.follow_duty(duty);
        let mut told = vec![tokio::task::block_in_place(|| received(&listening))];
        for now in [
            Replica::StandingBy,
            Replica::Connecting,
            Replica::Answering,
            Replica::Connecting,
        ] {
            tell.send(now).expect("told");
            told.push(tokio::task::block_in_place(|| received(&listening)));
        }
        drop(tell);
        task.await.expect("the task ends with the service");
        assert_eq!(
            told,
            [
                "STATUS=starting",
                "READY=1\nSTATUS=standing by: another replica answers on Discord and runs the workers",
                "STATUS=connecting to Discord",
                "STATUS=answering on Discord",
                "STATUS=connecting to Discord",
            ]
        );
    }

    #[tokio::test]
    async fn the_watchdog_pings_every_half_timeout() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("notify");
        let listening = UnixDatagram::bind(&path).expect("bind");
        listening.set_nonblocking(true).expect("non-blocking");
        let notify = from(
            &[
                ("NOTIFY_SOCKET", path.to_str().expect("UTF-8")),
                ("WATCHDOG_USEC", "200000"),
            ],
            1,
        );
        let pings = notify.watchdog().expect("watched");
        tokio::time::sleep(Duration::from_millis(350)).await;
        pings.abort();
        let mut count = 0;
        let mut buffer = [0u8; 64];
        while let Ok(n) = listening.recv(&mut buffer) {
            assert_eq!(&buffer[..n], b"WATCHDOG=1");
            count += 1;
        }
        // At 0, 100, 200 and 300 ms; a slow machine may fit fewer in, never more.
        assert!((2..=4).contains(&count), "{count} pings in 350 ms");
    }
}
