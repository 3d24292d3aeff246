//! Room for a message arriving from another pack, in as few page faults as possible.
//!
//! A fresh buffer is filled by the kernel at first touch, one fault per 4 KiB page; for
//! messages of megabytes those faults cost as much as the copy itself. Asking for
//! transparent huge pages (where the system grants them on request) makes it one fault
//! per 2 MiB.

const HUGE_PAGE: usize = 2 << 20;

/// A zeroed buffer of `length` bytes, backed by huge pages when it is large.
pub(crate) fn payload_buffer(length: usize) -> Vec<u8> {
    let buffer = vec![0u8; length];
    if length >= 2 * HUGE_PAGE {
        let start = buffer.as_ptr() as usize;
        let aligned = (start + HUGE_PAGE - 1) & !(HUGE_PAGE - 1);
        let end = (start + length) & !(HUGE_PAGE - 1);
        if end > aligned {
            // SAFETY: advice on whole pages inside a live allocation; it changes no contents.
            unsafe {
                libc::madvise(
                    aligned as *mut libc::c_void,
                    end - aligned,
                    libc::MADV_HUGEPAGE,
                );
            }
        }
    }
    buffer
}
