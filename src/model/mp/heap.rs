//! Keeps the message-passing tape's large, short-lived arrays on the heap instead of fresh `mmap`
//! pages (glibc only).
//!
//! A tape pass allocates and frees per-edge arrays of several MiB each (edges x channels). With
//! glibc's defaults each one above the mmap threshold is mapped and unmapped again, and memory
//! freed at the top of the heap is trimmed back to the kernel, so every pass pays page faults to
//! zero fresh pages: on the paper-width network half of the process time was kernel time
//! (validation/README.md, "Energy-model speed"). Raising the mmap and trim thresholds once lets
//! freed blocks be reused; peak memory is unchanged (the same arrays are live at once), only the
//! return of freed memory to the kernel is deferred. Numerics are untouched.

use std::sync::Once;

static TUNE: Once = Once::new();

/// Raises glibc's mmap threshold (to 256 MiB, or to 32 MiB where an older glibc refuses the larger
/// value) and its trim threshold (to 1 GiB), once per process. A no-op on other C libraries; cheap
/// after the first call.
pub fn keep_freed_memory() {
    TUNE.call_once(|| {
        #[cfg(all(target_os = "linux", target_env = "gnu"))]
        // SAFETY: mallopt only adjusts allocator parameters under the allocator's own lock.
        unsafe {
            if libc::mallopt(libc::M_MMAP_THRESHOLD, 256 << 20) == 0 {
                libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20);
            }
            libc::mallopt(libc::M_TRIM_THRESHOLD, 1 << 30);
        }
    });
}
