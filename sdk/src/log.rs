//! Diagnostics for the run's activity log. The host redacts secrets.
//!
//! Use the functions, or the macros that format like `format!`:
//!
//! ```ignore
//! switchyard_sdk::log::info!("fetched {} orders", n);
//! switchyard_sdk::log::warn("order 1001 vanished while paging");
//! ```

pub use crate::bindings::switchyard::connector::log::Level;

/// Writes one line at `level`.
pub fn write(level: Level, message: &str) {
    crate::host::log_write(level, message)
}

/// Writes a `trace` line.
pub fn trace(message: &str) {
    write(Level::Trace, message)
}

/// Writes a `debug` line.
pub fn debug(message: &str) {
    write(Level::Debug, message)
}

/// Writes an `info` line.
pub fn info(message: &str) {
    write(Level::Info, message)
}

/// Writes a `warn` line.
pub fn warn(message: &str) {
    write(Level::Warn, message)
}

/// Writes an `error` line.
pub fn error(message: &str) {
    write(Level::Error, message)
}

#[doc(hidden)]
#[macro_export]
macro_rules! __sdk_log {
    ($level:ident, $($arg:tt)*) => {
        $crate::log::write($crate::log::Level::$level, &::std::format!($($arg)*))
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __sdk_log_trace { ($($arg:tt)*) => { $crate::__sdk_log!(Trace, $($arg)*) }; }
#[doc(hidden)]
#[macro_export]
macro_rules! __sdk_log_debug { ($($arg:tt)*) => { $crate::__sdk_log!(Debug, $($arg)*) }; }
#[doc(hidden)]
#[macro_export]
macro_rules! __sdk_log_info { ($($arg:tt)*) => { $crate::__sdk_log!(Info, $($arg)*) }; }
#[doc(hidden)]
#[macro_export]
macro_rules! __sdk_log_warn { ($($arg:tt)*) => { $crate::__sdk_log!(Warn, $($arg)*) }; }
#[doc(hidden)]
#[macro_export]
macro_rules! __sdk_log_error { ($($arg:tt)*) => { $crate::__sdk_log!(Error, $($arg)*) }; }

/// Writes a formatted `debug` line: `debug!("page {}", n)`.
pub use crate::__sdk_log_debug as debug;
/// Writes a formatted `error` line: `error!("page {}", n)`.
pub use crate::__sdk_log_error as error;
/// Writes a formatted `info` line: `info!("page {}", n)`.
pub use crate::__sdk_log_info as info;
/// Writes a formatted `trace` line: `trace!("page {}", n)`.
pub use crate::__sdk_log_trace as trace;
/// Writes a formatted `warn` line: `warn!("page {}", n)`.
pub use crate::__sdk_log_warn as warn;

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use crate::testing::{logs, FakeHost};

    #[test]
    fn functions_and_macros_reach_the_host() {
        FakeHost::new().install();
        info("plain");
        crate::log::warn!("order {} vanished", 1001);
        assert_eq!(
            logs(),
            vec![
                (Level::Info, "plain".to_string()),
                (Level::Warn, "order 1001 vanished".to_string())
            ]
        );
    }
}
