//! How a command that ran to its end tells that some records failed: a line on stderr and
//! its own exit code, distinct from "could not run" (1), so a scheduler or script can tell
//! "try again later, the failed records are retried" from "fix something first".

use crate::exit::DONE_WITH_FAILURES;

/// Ends the process with [`DONE_WITH_FAILURES`] when anything failed; returns otherwise.
/// Everything is already stored: nothing is lost by exiting here.
pub(crate) fn exit_if_failed(failed: u64, failures: &[String], step_errors: &[String]) {
    if failed == 0 && step_errors.is_empty() {
        return;
    }
    let mut line = String::from("done with ");
    if failed > 0 {
        line.push_str(&format!("{failed} failed record{}", plural(failed)));
        if let Some(first) = failures.first() {
            line.push_str(&format!(" (first: {first})"));
        }
    }
    for (i, e) in step_errors.iter().enumerate() {
        if failed > 0 || i > 0 {
            line.push_str("; ");
        }
        line.push_str(e);
    }
    line.push_str("; they are retried on the next run");
    eprintln!("{line}");
    std::process::exit(i32::from(DONE_WITH_FAILURES));
}

fn plural(n: u64) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}
