// Linux CPU lists ("0-3,8,10-11"), as the kernel writes them in /sys and /proc
// (Documentation/admin-guide/kernel-parameters.rst, "cpu lists") and as the kernel command line
// and shadow-tune-check's --cores take them.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace shadow {

// Parses a CPU list into sorted, unique CPU numbers. Accepts single CPUs ("3"), ranges ("2-5"),
// strided ranges ("0-7:2/4": the first 2 of every group of 4), "all" and "N" (the last CPU),
// both meaning `last_cpu` (pass -1 when there is none: then they are refused). "" on success,
// else why not ("'x' is not a CPU number", "range 5-2 runs backwards"). An empty text is an
// empty list. CPU numbers above 8191 (the kernel's NR_CPUS ceiling) are refused.
std::string parse_cpu_list(std::string_view text, std::vector<int>& out, int last_cpu = -1);

// The list text the kernel writes for sorted, unique CPUs: {0,1,2,5} -> "0-2,5", {2,3} -> "2-3",
// {} -> "".
std::string format_cpu_list(const std::vector<int>& cpus);

// CPUs of `a` that are also in `b` (both sorted and unique).
std::vector<int> cpu_intersection(const std::vector<int>& a, const std::vector<int>& b);
// CPUs of `a` that are not in `b` (both sorted and unique).
std::vector<int> cpu_difference(const std::vector<int>& a, const std::vector<int>& b);

}  // namespace shadow
