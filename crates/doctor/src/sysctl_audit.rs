//! The seed's §5 advice (`tcp_syncookies=1`, `tcp_tw_reuse=1`, `tcp_tw_recycle=1`, `tcp_fin_timeout=30`)
//! held against what those settings do on Linux 6.x, plus the limits the other rules compare against.

use lifecycle::kernel::{Finding, HostEvidence, Severity, SysctlLine};

pub fn audit(evidence: &HostEvidence, findings: &mut Vec<Finding>) -> Vec<SysctlLine> {
    let sys = &evidence.sysctls;
    let mut lines = Vec::new();
    let mut line = |name: &str, ok: bool, note: String| {
        lines.push(SysctlLine {
            name: format!("net.{}", name.replace('/', ".")),
            value: sys.get(name).map(str::to_string),
            ok,
            note,
        });
    };
    let timestamps = sys.int("ipv4/tcp_timestamps");
    let reuse = sys.int("ipv4/tcp_tw_reuse");
    let reuse_note = match reuse {
        Some(0) => "off: TIME-WAIT ports are never reused for new outgoing connections".to_string(),
        Some(1) => "new outgoing connections may reuse a TIME-WAIT port (needs tcp_timestamps); incoming are unaffected".into(),
        Some(2) => "loopback only (the default): outgoing connections to 127.0.0.0/8 or ::1 may reuse TIME-WAIT ports".into(),
        _ => "not readable".into(),
    };
    let reuse_useless = matches!(reuse, Some(1 | 2)) && timestamps == Some(0);
    line(
        "ipv4/tcp_tw_reuse",
        !reuse_useless,
        if reuse_useless {
            format!("{reuse_note}; but tcp_timestamps = 0 makes it ineffective")
        } else {
            reuse_note
        },
    );
    if sys.get("ipv4/tcp_tw_reuse_delay").is_some() {
        line(
            "ipv4/tcp_tw_reuse_delay",
            true,
            "ms a TIME-WAIT socket must have waited before tcp_tw_reuse may take its port".into(),
        );
    }
    line(
        "ipv4/tcp_fin_timeout",
        true,
        "seconds an orphaned FIN-WAIT-2 waits for the peer's FIN; does not shorten TIME-WAIT (fixed 60 s)"
            .into(),
    );
    line(
        "ipv4/tcp_max_tw_buckets",
        true,
        "TIME-WAIT sockets beyond this are not kept (TCPTimeWaitOverflow)".into(),
    );
    let cookies = sys.int("ipv4/tcp_syncookies");
    line(
        "ipv4/tcp_syncookies",
        cookies != Some(0),
        match cookies {
            Some(0) => "off: a SYN flood fills the SYN queue and drops real clients".into(),
            Some(1) => "on when the SYN queue overflows: a SYN-flood defence, unrelated to TIME-WAIT".into(),
            Some(2) => "always on: a SYN-flood defence, unrelated to TIME-WAIT".into(),
            _ => "not readable".into(),
        },
    );
    let range = sys
        .get("ipv4/ip_local_port_range")
        .unwrap_or_default()
        .to_string();
    line(
        "ipv4/ip_local_port_range",
        true,
        format!("ephemeral ports {range}: one connection per port per (local IP, remote IP, remote port)"),
    );
    line(
        "ipv4/tcp_timestamps",
        timestamps != Some(0),
        match timestamps {
            Some(0) => "off: no PAWS protection, and tcp_tw_reuse cannot work".into(),
            _ => "RFC 7323 timestamps: PAWS and RTT measurement; needed by tcp_tw_reuse".into(),
        },
    );
    line(
        "core/somaxconn",
        true,
        "upper limit on any listen() backlog (the accept queue)".into(),
    );
    line(
        "ipv4/tcp_max_syn_backlog",
        true,
        "SYN-RECEIVED requests a listener keeps before dropping or using syncookies".into(),
    );
    line(
        "ipv4/tcp_max_orphans",
        true,
        "closed-but-not-finished sockets allowed before they are reset".into(),
    );
    if let Some(v) = sys.get("ipv4/tcp_tw_recycle") {
        let on = v != "0";
        line(
            "ipv4/tcp_tw_recycle",
            !on,
            "removed in Linux 4.12; when on, drops SYNs from clients behind NAT (their timestamps interleave)".into(),
        );
        if on {
            findings.push(Finding {
                severity: Severity::Critical,
                code: "tw-recycle-enabled",
                summary: format!("net.ipv4.tcp_tw_recycle = {v} on this kernel: clients behind NAT get dropped"),
                evidence: vec![format!("net.ipv4.tcp_tw_recycle = {v}")],
                explanation: "tcp_tw_recycle rejects SYNs whose timestamp is older than the last one seen from the \
                              same IP; hosts behind one NAT have unrelated clocks, so their connections fail at \
                              random. It was removed in Linux 4.12 for this reason."
                    .into(),
                next_step: "Set net.ipv4.tcp_tw_recycle = 0 and remove it from the sysctl configuration.".into(),
            });
        }
    }
    for c in evidence
        .conf_lines
        .iter()
        .filter(|c| c.key == "ipv4/tcp_tw_recycle")
    {
        findings.push(Finding {
            severity: Severity::Warning,
            code: "tw-recycle-configured",
            summary: format!("{}:{} still sets net.ipv4.tcp_tw_recycle = {} (the seed's advice, obsolete and harmful)", c.file, c.line, c.value),
            evidence: vec![format!("{}:{}: net.ipv4.tcp_tw_recycle = {}", c.file, c.line, c.value)],
            explanation: "tcp_tw_recycle was removed in Linux 4.12 (2017): it broke clients behind NAT. On current \
                          kernels the key no longer exists and `sysctl --system` reports an error for it; on old \
                          ones it silently drops connections."
                .into(),
            next_step: "Delete the line. For TIME-WAIT pressure on outgoing connections use tcp_tw_reuse = 1 or, \
                        better, connection reuse."
                .into(),
        });
    }
    lines
}
