//! A SIGBUS in SQLite's WAL index reported as a storage fault, not a silent death.
//!
//! Why it happens: in WAL mode every connection maps the database's `-shm` file (the WAL
//! index) with `MAP_SHARED` and writes it through memory — readers too, to mark what they
//! read. When the file system refuses such a write (an immutable file on ext4 refuses every
//! page fault for writing; a file system remounted read-only after a disk error too), the
//! kernel has no error to return and sends SIGBUS to the thread. No SQLite setting avoids
//! the mapping while several processes share the file (only `locking_mode=EXCLUSIVE` keeps
//! the index in heap memory, and it locks every other process out), and a write through a
//! mapping cannot be turned into an error and resumed. So the process ends here, as after a
//! crash (SQLite's commits are safe against that), but with a line that names the file and
//! the storage-fault exit code, instead of "Bus error".
//!
//! A SIGBUS anywhere else (another mapped file, e.g. a compiled plugin, or no file at all)
//! keeps its default action: this handler only speaks for faults it can name.

use std::cell::UnsafeCell;
use std::ffi::c_void;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::exit::STORAGE_FAULT;

/// Installs the handler. Call it before anything installs its own (wasmtime installs one
/// for its traps when the first engine is created and passes on the faults that are not
/// its own to the handler it found, this one).
pub(crate) fn install() {
    // SAFETY: a zeroed `sigaction` is a valid value; the handler has the SA_SIGINFO
    // signature; sigaction(2) is given valid pointers.
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = on_sigbus as *const () as usize;
        action.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
        libc::sigemptyset(&mut action.sa_mask);
        libc::sigaction(libc::SIGBUS, &action, std::ptr::null_mut());
    }
}

/// Set by whoever reports the error that ends the process: the handler, or `main` through
/// [`claim_report`]. Whoever comes second waits for the first to end the process, so a
/// person sees one line: after `main` printed a storage fault, closing the database on the
/// way out can fault on the WAL index too, and a background thread can fault while `main`
/// prints.
static REPORTING: AtomicBool = AtomicBool::new(false);

/// Claims the one error report of the process for `main`. When the handler has claimed it,
/// this waits for the handler to end the process (it never returns then).
pub(crate) fn claim_report() {
    if REPORTING.swap(true, Ordering::SeqCst) {
        loop {
            std::thread::park();
        }
    }
}

/// Memory for the handler: a signal handler may not allocate, and the alternate signal
/// stack it may run on is a few kilobytes.
struct Buffers {
    chunk: [u8; 8192],
    line: [u8; 4608],
    message: [u8; 10240],
}

struct HandlerMemory(UnsafeCell<Buffers>);

// SAFETY: only the thread that set `REPORTING` touches the buffers.
unsafe impl Sync for HandlerMemory {}

static MEMORY: HandlerMemory = HandlerMemory(UnsafeCell::new(Buffers {
    chunk: [0; 8192],
    line: [0; 4608],
    message: [0; 10240],
}));

extern "C" fn on_sigbus(_signal: libc::c_int, info: *mut libc::siginfo_t, _context: *mut c_void) {
    if REPORTING.swap(true, Ordering::SeqCst) {
        loop {
            // SAFETY: pause(2) is async-signal-safe; the reporting thread ends the process.
            unsafe {
                libc::pause();
            }
        }
    }
    // SAFETY: the kernel passes a valid siginfo for SA_SIGINFO; the buffers are ours alone
    // (REPORTING); only async-signal-safe calls follow (open, read, close, write, _exit,
    // sigaction).
    unsafe {
        let address = (*info).si_addr() as usize;
        let buffers = &mut *MEMORY.0.get();
        if let Some(length) = mapped_file(address, buffers) {
            let shm = &buffers.line[..length];
            if let Some(database) = shm.strip_suffix(b"-shm") {
                let mut message = Message {
                    buffer: &mut buffers.message,
                    length: 0,
                };
                message.push(b"error: storage: the database file ");
                message.push(database);
                message.push(
                    b" cannot be written: the file system refused a write to its \
                      shared-memory file ",
                );
                message.push(shm);
                message.push(
                    b" (an immutable or read-only file, or a failing disk); the process \
                      stopped there, as after a crash\n",
                );
                let text = &message.buffer[..message.length];
                libc::write(2, text.as_ptr().cast(), text.len());
                libc::_exit(i32::from(STORAGE_FAULT));
            }
        }
        // Not ours to explain: the default action (the instruction faults again on return).
        let mut default: libc::sigaction = std::mem::zeroed();
        default.sa_sigaction = libc::SIG_DFL;
        libc::sigaction(libc::SIGBUS, &default, std::ptr::null_mut());
    }
}

/// Bytes appended up to the buffer's end (a longer message is cut, never overflows).
struct Message<'a> {
    buffer: &'a mut [u8],
    length: usize,
}

impl Message<'_> {
    fn push(&mut self, bytes: &[u8]) {
        let n = bytes.len().min(self.buffer.len() - self.length);
        self.buffer[self.length..self.length + n].copy_from_slice(&bytes[..n]);
        self.length += n;
    }
}

/// The path of the file mapped at `address`, from `/proc/self/maps`, left at the start of
/// `buffers.line`; its length. `None` when no file is mapped there or the path is too long.
///
/// # Safety
/// Async-signal-safe: only open(2), read(2) and close(2), no allocation.
unsafe fn mapped_file(address: usize, buffers: &mut Buffers) -> Option<usize> {
    let fd = libc::open(
        c"/proc/self/maps".as_ptr(),
        libc::O_RDONLY | libc::O_CLOEXEC,
    );
    if fd < 0 {
        return None;
    }
    let mut found = None;
    let mut line_length = 0;
    let mut overlong = false;
    'reading: loop {
        let n = libc::read(fd, buffers.chunk.as_mut_ptr().cast(), buffers.chunk.len());
        if n <= 0 {
            break;
        }
        for i in 0..n as usize {
            let byte = buffers.chunk[i];
            if byte != b'\n' {
                if line_length < buffers.line.len() {
                    buffers.line[line_length] = byte;
                    line_length += 1;
                } else {
                    overlong = true;
                }
                continue;
            }
            if !overlong {
                if let Some(path) = path_if_mapping_holds(&buffers.line[..line_length], address) {
                    // Move the path to the start of the buffer for the caller.
                    let (start, length) = path;
                    buffers.line.copy_within(start..start + length, 0);
                    found = Some(length);
                    break 'reading;
                }
            } else if mapping_holds(&buffers.line[..line_length], address) {
                break 'reading;
            }
            line_length = 0;
            overlong = false;
        }
    }
    libc::close(fd);
    found
}

/// For a maps line `start-end perms offset dev inode   path` whose range holds `address`:
/// where the path starts in the line and its length (without " (deleted)").
fn path_if_mapping_holds(line: &[u8], address: usize) -> Option<(usize, usize)> {
    if !mapping_holds(line, address) {
        return None;
    }
    // Skip the five fields before the path.
    let mut i = 0;
    for _ in 0..5 {
        while i < line.len() && line[i] != b' ' {
            i += 1;
        }
        while i < line.len() && line[i] == b' ' {
            i += 1;
        }
    }
    let path = &line[i..];
    if path.first() != Some(&b'/') {
        return None; // anonymous, [heap], [stack], …
    }
    let path = path.strip_suffix(b" (deleted)").unwrap_or(path);
    Some((i, path.len()))
}

fn mapping_holds(line: &[u8], address: usize) -> bool {
    let Some(dash) = line.iter().position(|&b| b == b'-') else {
        return false;
    };
    let Some(space) = line.iter().position(|&b| b == b' ') else {
        return false;
    };
    match (hex(&line[..dash]), line.get(dash + 1..space).and_then(hex)) {
        (Some(start), Some(end)) => start <= address && address < end,
        _ => false,
    }
}

fn hex(digits: &[u8]) -> Option<usize> {
    if digits.is_empty() {
        return None;
    }
    let mut value: usize = 0;
    for &d in digits {
        let v = match d {
            b'0'..=b'9' => d - b'0',
            b'a'..=b'f' => d - b'a' + 10,
            b'A'..=b'F' => d - b'A' + 10,
            _ => return None,
        };
        value = value.checked_mul(16)?.checked_add(usize::from(v))?;
    }
    Some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_maps_line_gives_the_file_mapped_at_an_address() {
        let line = b"7f1c2a3b4000-7f1c2a3bc000 rw-s 00000000 fe:00 1234567                    /x/my dir/switchyard.db-shm (deleted)";
        assert_eq!(path_if_mapping_holds(line, 0x7f1c2a3b3fff), None);
        assert_eq!(path_if_mapping_holds(line, 0x7f1c2a3bc000), None);
        let (start, length) = path_if_mapping_holds(line, 0x7f1c2a3b4010).unwrap();
        assert_eq!(
            &line[start..start + length],
            b"/x/my dir/switchyard.db-shm".as_slice()
        );
        let anonymous = b"7f1c2a3b4000-7f1c2a3bc000 rw-p 00000000 00:00 0 ";
        assert_eq!(path_if_mapping_holds(anonymous, 0x7f1c2a3b4010), None);
    }

    #[test]
    fn this_process_maps_are_read() {
        // A file mapped here is found by an address inside it.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mapped.db-shm");
        std::fs::write(&path, vec![1u8; 4096]).unwrap();
        let file = std::fs::File::open(&path).unwrap();
        // SAFETY: a fresh read-only mapping of a file we own, unmapped below.
        let address = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                4096,
                libc::PROT_READ,
                libc::MAP_SHARED,
                std::os::fd::AsRawFd::as_raw_fd(&file),
                0,
            )
        };
        assert_ne!(address, libc::MAP_FAILED);
        let mut buffers = Box::new(Buffers {
            chunk: [0; 8192],
            line: [0; 4608],
            message: [0; 10240],
        });
        // SAFETY: not in a signal handler; the function only reads /proc/self/maps.
        let found = unsafe { mapped_file(address as usize + 100, &mut buffers) };
        // SAFETY: the mapping made above.
        unsafe {
            libc::munmap(address, 4096);
        }
        let length = found.expect("the mapping is listed");
        assert_eq!(&buffers.line[..length], path.to_str().unwrap().as_bytes());
    }
}
