//! How the `switchyard` process ends: one line `error: …` for a person, and an exit code a
//! script can act on.

use std::error::Error as StdError;

use switchyard_store::StoreError;

/// The command could not do its job (any error that is not one of the below).
pub(crate) const COULD_NOT_RUN: u8 = 1;
// 2: the command line was wrong; clap exits with it itself, before anything runs.
/// The database cannot be used: disk full, not writable, I/O error, cannot be opened,
/// corrupt. Nothing is stored until a person fixes the disk or the file; running again
/// afterwards goes on where the last commit left off.
pub(crate) const STORAGE_FAULT: u8 = 3;
/// The command ran to its end, but records (or steps) failed: each failure is on its
/// record and in the run's log, and a later run retries it (see [`crate::outcome`]).
pub(crate) const DONE_WITH_FAILURES: u8 = 4;

/// The exit codes, for `--help`.
pub(crate) const EXIT_CODES_HELP: &str = "\
Exit codes:
  0  done
  1  could not run (the line after `error:` says why)
  2  wrong command line
  3  storage fault: the database file cannot be written or read (disk full, read-only,
     I/O error, cannot be opened, corrupt); fix it and run again
  4  done, with failed records (sync, flow sync/push/status): each is on its record
     (`switchyard why`) and in the run's note (`switchyard runs`), and is retried by the
     next run

`-v` / `--verbose` (or RUST_BACKTRACE=1) prints every cause and the backtrace of an error.";

/// Prints the error on stderr and picks the exit code. The caller ends the process with
/// it at once ([`std::process::exit`]), so nothing else is printed after the line: see
/// [`crate::sigbus::claim_report`].
///
/// Without `verbose`, one line: the causes joined with `: `, each said once (most errors
/// repeat their cause's text in their own), and nothing below a storage fault, which
/// already says in words what SQLite's code means. With `verbose`, the line and then
/// every cause and the backtrace.
pub(crate) fn report(error: &anyhow::Error, verbose: bool) -> u8 {
    crate::sigbus::claim_report();
    eprintln!("error: {}", one_line(error));
    if verbose {
        for (i, cause) in error.chain().enumerate().skip(1) {
            eprintln!("  cause {i}: {cause}");
        }
        let backtrace = error.backtrace();
        if backtrace.status() == std::backtrace::BacktraceStatus::Captured {
            eprintln!("backtrace:\n{backtrace}");
        }
    }
    code(error)
}

/// The exit code for an error.
pub(crate) fn code(error: &anyhow::Error) -> u8 {
    if storage_fault(error).is_some() {
        STORAGE_FAULT
    } else {
        COULD_NOT_RUN
    }
}

/// The storage fault in the error's chain, if any.
fn storage_fault(error: &anyhow::Error) -> Option<&StoreError> {
    error
        .chain()
        .filter_map(|e| e.downcast_ref::<StoreError>())
        .find(|e| e.storage_fault().is_some())
}

/// The error and its causes on one line.
pub(crate) fn one_line(error: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in error.chain() {
        let text = cause.to_string();
        // A wrapper that prints its cause ("storage: {0}") already holds the cause's text.
        if !line.contains(text.trim()) {
            if !line.is_empty() {
                line.push_str(": ");
            }
            line.push_str(text.trim());
        }
        if is_storage_fault(cause) {
            break;
        }
    }
    // A cause's text with a line break (a provider's message, say) stays one line.
    line.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn is_storage_fault(cause: &(dyn StdError + 'static)) -> bool {
    cause
        .downcast_ref::<StoreError>()
        .is_some_and(|e| e.storage_fault().is_some())
}

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::Context;
    use switchyard_store::{SecretKey, Store};

    #[test]
    fn causes_are_joined_once() {
        #[derive(Debug)]
        struct Wrapper(std::io::Error);
        impl std::fmt::Display for Wrapper {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "storage: {}", self.0)
            }
        }
        impl StdError for Wrapper {
            fn source(&self) -> Option<&(dyn StdError + 'static)> {
                Some(&self.0)
            }
        }
        let inner = std::io::Error::other("the disk\nis on fire");
        let e = anyhow::Error::new(Wrapper(inner)).context("sync of shop/orders failed");
        assert_eq!(
            one_line(&e),
            "sync of shop/orders failed: storage: the disk is on fire"
        );
        assert_eq!(code(&e), COULD_NOT_RUN);
    }

    #[tokio::test]
    async fn a_storage_fault_ends_the_line_and_has_its_own_code() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("switchyard.db");
        std::fs::write(&path, vec![0x5a; 8192]).unwrap();
        let e = Store::open(&path, SecretKey::from_bytes([1; 32]))
            .await
            .context("opening the host")
            .unwrap_err();
        assert_eq!(
            one_line(&e),
            format!(
                "opening the host: the database file {} is not a SQLite database \
                 (while opening the database)",
                path.display()
            )
        );
        assert_eq!(code(&e), STORAGE_FAULT);
    }
}
