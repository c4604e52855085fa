// Whole-file artifacts written atomically (DESIGN.md "Artifacts"): the content goes to a
// temporary file in the same directory, which is fsynced, renamed over the target, and the
// directory is fsynced — so a reader (or a crash) sees the old file or the new one, never half
// of either.
#pragma once

#include <string>
#include <string_view>

namespace shadow {

// Writes `content` to `path` atomically. False with `error` = "<path>: <step>: <reason>".
bool write_file_atomically(const std::string& path, std::string_view content, std::string& error);

// fsync of a directory (after creating, renaming or linking entries in it).
bool fsync_directory(const std::string& dir, std::string& error);

// Points `link` (a symlink) at `target` atomically: a temporary link renamed over it.
bool replace_symlink(const std::string& target, const std::string& link, std::string& error);

}  // namespace shadow
