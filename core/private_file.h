// Files that hold secrets (the Redis AUTH password, the sandbox's API secrets): one rule for all
// of them, the one ssh applies to a private key. The file must be a regular file (bounded_file's
// rules: no FIFO, no device, a size limit), of mode 0600 or stricter (no bit for group or
// others), owned by the effective user. A file others can read has already leaked its secret,
// and one owned by someone else can be changed under us; both are refused, not warned about.
//
// Errors come back as text without the path, like bounded_file's: each program names the file
// its own way ("export.redis_password_file: FILE: reason"). No error quotes the file's content.
// Cold path: allocates, makes syscalls.
#pragma once

#include <cstddef>
#include <string>

namespace shadow {

// Reads all of `path` into `out` (at most `max_bytes`) when it is a private file. The mode and
// owner are checked on the open descriptor that is then read (fstat), so a file swapped in
// after the check is never read. False with `error` set, e.g.:
//   "cannot open: No such file or directory", "is a FIFO, not a regular file" (open_regular_file)
//   "mode 0644 lets others read it; allowed: 0600 or stricter (chmod 600 FILE)"
//   "owned by uid 0, not by this user (uid 1000)"
//   "is 8192 bytes, over the limit of 4 KiB" (read_open_file)
bool read_private_file(const std::string& path, std::size_t max_bytes, std::string& out, std::string& error);

}  // namespace shadow
