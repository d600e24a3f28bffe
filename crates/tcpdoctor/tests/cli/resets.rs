//! Who really sent a reset, on real forwarded traffic: a client, a router and a server in three
//! namespaces (IPv4 and IPv6). In each family the server resets one connection itself (SO_LINGER 0)
//! after a silence, and the router forges a reset for the other (an nftables `reject with tcp reset`
//! rule added mid-connection) when the client writes after a silence. The capture is taken on the
//! client's side, where the router's resets arrive with TTL 64 and the server's segments with 63.
//! Needs root (skips, saying so, without).

use crate::live::{Netns, is_root, start_server, stop_when_quiet, tcpdump, wait_bounded};
use crate::{stdout, tcpdoctor};
use serde_json::Value;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

/// The silence before each reset, in seconds.
const GAP: &str = "1.5";

fn run(ns: &Netns, argv: &str) {
    let argv: Vec<&str> = argv.split_whitespace().collect();
    let out = ns.cmd(&argv).output().unwrap();
    assert!(out.status.success(), "{argv:?}: {out:?}");
}

/// Client, router and server, with addresses in both families and routes through the router.
fn topology() -> (Netns, Netns, Netns) {
    let (c, r, s) = (Netns::new("rc"), Netns::new("rr"), Netns::new("rs"));
    for (a, b, an, bn) in [(&c, &r, "c0", "r0"), (&r, &s, "r1", "s0")] {
        let ok = Command::new("ip")
            .args([
                "link", "add", an, "netns", &a.0, "type", "veth", "peer", "name", bn, "netns", &b.0,
            ])
            .status()
            .unwrap()
            .success();
        assert!(ok);
    }
    for (ns, dev, v4, v6) in [
        (&c, "c0", "10.1.0.1/24", "fd01::1/64"),
        (&r, "r0", "10.1.0.254/24", "fd01::fe/64"),
        (&r, "r1", "10.2.0.254/24", "fd02::fe/64"),
        (&s, "s0", "10.2.0.2/24", "fd02::2/64"),
    ] {
        run(ns, &format!("ip addr add {v4} dev {dev}"));
        run(ns, &format!("ip -6 addr add {v6} dev {dev} nodad"));
        run(ns, &format!("ip link set {dev} up"));
    }
    for (ns, v4, v6) in [(&c, "10.1.0.254", "fd01::fe"), (&s, "10.2.0.254", "fd02::fe")] {
        run(ns, &format!("ip route add default via {v4}"));
        run(ns, &format!("ip -6 route add default via {v6}"));
    }
    run(&r, "sysctl -qw net.ipv4.ip_forward=1");
    run(&r, "sysctl -qw net.ipv6.conf.all.forwarding=1");
    run(&r, "nft add table inet tcpdoctor");
    run(
        &r,
        "nft add chain inet tcpdoctor forward { type filter hook forward priority 0 ; }",
    );
    (c, r, s)
}

#[test]
fn forged_and_genuine_resets_after_a_silence_are_told_apart_in_both_families() {
    if !is_root() {
        println!("skipped: namespaces and nftables need root");
        return;
    }
    let (c, r, s) = topology();
    let dir = tempfile::tempdir().unwrap();
    let pcap = dir.path().join("client-side.pcap");
    let cap = tcpdump(&c, "c0", &pcap, &[]);
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cli/reset_traffic.py");
    let script = script.to_str().unwrap();
    let mut server_cmd = s.cmd(&["python3", script, "server", GAP]);
    server_cmd.stdin(Stdio::piped());
    let mut server = start_server(server_cmd);
    for (addr, family) in [("10.2.0.2", "ip"), ("fd02::2", "ip6")] {
        let mut client = c
            .cmd(&["python3", script, "client", addr, GAP])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(client.stdout.take().unwrap()).lines();
        assert_eq!(lines.next().unwrap().unwrap(), "8080 reset");
        assert_eq!(lines.next().unwrap().unwrap(), "armed");
        run(
            &r,
            &format!(
                "nft add rule inet tcpdoctor forward {family} daddr {addr} tcp dport 8081 reject with tcp reset"
            ),
        );
        writeln!(client.stdin.take().unwrap(), "go").unwrap();
        assert_eq!(lines.next().unwrap().unwrap(), "8081 reset");
        assert!(wait_bounded(client, Duration::from_secs(30)).status.success());
    }
    drop(server.stdin.take());
    let _ = wait_bounded(server, Duration::from_secs(30));
    stop_when_quiet(cap, &pcap);

    let out = tcpdoctor(&["analyze", "--json", pcap.to_str().unwrap()]);
    assert!(out.status.success(), "{out:?}");
    let records: Vec<Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(records.len(), 4, "{}", stdout(&out));
    for v in &records {
        let forged = v["server"].as_str().unwrap().ends_with(":8081");
        assert_eq!(v["reset_by"], "server", "{v}");
        assert_eq!(
            v["reset_origin"],
            if forged { "middlebox" } else { "endpoint" },
            "{v}"
        );
        let reasons: Vec<&str> = v["reset_evidence"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r.as_str().unwrap())
            .collect();
        let evidence = reasons.iter().find(|r| r.starts_with("TTL")).unwrap();
        if forged {
            assert!(
                evidence.starts_with("TTL 64, while the server's other"),
                "{evidence}"
            );
            assert!(evidence.ends_with("arrive with 63"), "{evidence}");
        } else {
            assert!(
                evidence.starts_with("TTL 63, as the server's other"),
                "{evidence}"
            );
        }
        let idle = v["idle_before_reset"].as_f64().unwrap();
        assert!((1.4..3.0).contains(&idle), "idle_before_reset {idle}: {v}");
    }
    let summary = stdout(&tcpdoctor(&["analyze", pcap.to_str().unwrap()]));
    for server in ["10.2.0.2:8081", "[fd02::2]:8081"] {
        let line = format!(
            "1 resets were probably forged by a device between this capture point and {server} (TTL 64, while that endpoint's segments arrive with 63)"
        );
        assert!(summary.contains(&line), "{summary}");
    }
    assert!(
        summary.contains("4 resets: 2 sent by the endpoint named in them, 2 probably forged"),
        "{summary}"
    );
}
