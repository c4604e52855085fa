// Reading files that come from outside (artifacts, thresholds, configs, captures) with bounds
// (issue 11 "Hardening"): only regular files are accepted (a symlink is followed, and what it
// points at must be a regular file), opening never blocks (a FIFO is refused, not waited on),
// and a whole-file read stops at a size limit instead of growing until bad_alloc.
//
// Errors come back as text without the path: each program names the file its own way
// ("FILE: reason", "--config FILE: reason"). Cold path: allocates, makes syscalls.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <string>

namespace shadow {

// What a st_mode is, for messages: "a regular file", "a directory", "a FIFO", "a character
// device", "a block device", "a socket", "a symbolic link", "an unknown kind of file".
const char* file_kind(mode_t mode) noexcept;

// "16 MiB", "64 KiB", "1000 bytes": a limit as people read it (exact multiples only).
std::string byte_count_text(std::size_t bytes);

// Opens `path` read-only (O_CLOEXEC) when it is a regular file. The kind is checked with
// stat() before opening (so no device is ever opened) and again with fstat() on the
// descriptor (so a file swapped in between is caught); the open uses O_NONBLOCK, cleared
// afterwards, so a FIFO can never block it. Returns the descriptor, with its size in `*size`
// when given; -1 with `error` = "cannot open: <OS reason>" or "is a FIFO, not a regular file".
int open_regular_file(const std::string& path, std::string& error, std::size_t* size = nullptr);

// Reads all of the regular file `path` into `out` (replacing its content), at most `max_bytes`.
// False with `error` set (nothing about `out` promised) when open_regular_file() refuses it,
// when it is larger ("is 3221225472 bytes, over the limit of 16 MiB"; checked before reading,
// and again while reading, for a file that grows or reports no size), or when read() fails.
bool read_regular_file(const std::string& path, std::size_t max_bytes, std::string& out, std::string& error);

// The reading half of read_regular_file(), for a caller that checks the descriptor first
// (read_private_file() checks its mode and owner): reads `fd`, from open_regular_file() with its
// `size`, to the end into `out`, at most `max_bytes`, with the same errors. Does not close `fd`.
bool read_open_file(int fd, std::size_t size, std::size_t max_bytes, std::string& out, std::string& error);

}  // namespace shadow
