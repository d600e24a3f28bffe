//! tcpdoctor: follows every TCP connection through its lifecycle and tells what is wrong, why, and who
//! is responsible. This binary only parses the command line and wires the library crates together.

mod analyze;
#[cfg(target_os = "linux")]
mod capture_cmd;
#[cfg(target_os = "linux")]
mod exporter;
mod filter;
mod html_report;
#[cfg(target_os = "linux")]
mod lab;
mod ladder;
mod output;
mod pipeline;
mod seconds;
mod signals;
mod status;
#[cfg(target_os = "linux")]
mod top;
#[cfg(target_os = "linux")]
mod trace;

use clap::{Parser, Subcommand};
use std::io;
use std::process::ExitCode;

/// Exit codes, documented in `--help`.
const AFTER_HELP: &str = "Exit status: 0 success; 1 failure (I/O, permissions); 2 bad input (usage, a capture that \
is damaged, truncated or not a capture: the connections read before the damage are still reported).";

#[derive(Parser, Debug)]
#[command(name = "tcpdoctor", version, about, after_help = AFTER_HELP, args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// With no command, `status`'s options apply (`tcpdoctor -p`, `tcpdoctor --json`).
    #[command(flatten)]
    status: status::StatusArgs,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// How every TCP connection in a capture opened and ended, and what went wrong.
    Analyze(analyze::AnalyzeArgs),
    /// The same analysis on live traffic: capture on an interface until Ctrl-C, --duration or --count.
    #[cfg(target_os = "linux")]
    Capture(capture_cmd::CaptureArgs),
    /// Serve the host's TCP lifecycle as Prometheus metrics (/metrics), for a fleet's monitoring.
    #[cfg(target_os = "linux")]
    Exporter(exporter::ExporterArgs),
    /// What is in each TCP state, who holds it, and what is wrong (the default command).
    Status(status::StatusArgs),
    /// Every TCP state change and reset on this host as the kernel makes them, with the kernel's reason.
    #[cfg(target_os = "linux")]
    Trace(trace::TraceArgs),
    /// A live view: states over time, findings, who holds CLOSE-WAIT and TIME-WAIT, resets as they happen.
    #[cfg(target_os = "linux")]
    Top(top::TopArgs),
    /// The seed's situations made to happen with real sockets in a throwaway namespace, seen through
    /// packets, kernel events and the socket table at once (`lab list`, `lab all`).
    #[cfg(target_os = "linux")]
    Lab(lab::LabArgs),
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if e.use_stderr() => {
            eprintln!("tcpdoctor: {}", report::safe::terminal(&one_line(&e)));
            return ExitCode::from(2);
        }
        Err(e) => e.exit(), // --help, --version: on stdout, exit 0
    };
    let result = match &cli.command {
        Some(Command::Analyze(args)) => analyze::run(args),
        #[cfg(target_os = "linux")]
        Some(Command::Capture(args)) => capture_cmd::run(args),
        #[cfg(target_os = "linux")]
        Some(Command::Exporter(args)) => exporter::run(args),
        Some(Command::Status(args)) => status::run(args).map(|()| 0),
        #[cfg(target_os = "linux")]
        Some(Command::Trace(args)) => trace::run(args),
        #[cfg(target_os = "linux")]
        Some(Command::Top(args)) => top::run(args),
        #[cfg(target_os = "linux")]
        Some(Command::Lab(args)) => lab::run(args),
        None => status::run(&cli.status).map(|()| 0),
    };
    match result {
        Ok(code) => ExitCode::from(u8::try_from(code).unwrap_or(1)),
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tcpdoctor: {}", report::safe::terminal(&format!("{e:#}")));
            ExitCode::from(1)
        }
    }
}

/// A usage error in one line, as every other error: clap's message, its continuation lines joined
/// (the missing arguments), and its tip if it has one ("a similar argument exists: '--json'"); not the
/// usage and the pointer to --help that clap adds in paragraphs of their own.
fn one_line(e: &clap::Error) -> String {
    let text = e.render().to_string();
    let mut paragraphs = text
        .split("\n\n")
        .map(|p| p.lines().map(str::trim).collect::<Vec<_>>().join(" "));
    let first = paragraphs.next().unwrap_or_default();
    let mut line = first.strip_prefix("error: ").unwrap_or(&first).to_string();
    for tip in paragraphs.filter(|p| p.starts_with("tip: ")) {
        line.push_str(&format!(" ({tip})"));
    }
    line
}

/// A reader that went away (`tcpdoctor ... | head`) is not an error.
fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<io::Error>()
            .is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory as _;

    /// clap checks the definition (names, groups, conflicts, defaults that parse) only when asked, or
    /// at run time in debug builds when a command line reaches the faulty part.
    #[test]
    fn the_command_line_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn usage_errors_fit_on_one_line() {
        let line = |args: &[&str]| match Cli::try_parse_from(args) {
            Ok(_) => panic!("{args:?} parsed"),
            Err(e) => one_line(&e),
        };
        assert_eq!(
            line(&["tcpdoctor", "analyze"]),
            "the following required arguments were not provided: <FILE>..."
        );
        assert_eq!(
            line(&["tcpdoctor", "status", "--watch", "inf"]),
            "invalid value 'inf' for '--watch <SECS>': more than 315360000 seconds (10 years)"
        );
        assert_eq!(
            line(&["tcpdoctor", "--jsn"]),
            "unexpected argument '--jsn' found (tip: a similar argument exists: '--json')"
        );
    }
}
