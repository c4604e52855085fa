// The program version every artifact and `--version` report: the project version, the commit
// the binary was built from and the build type ("0.1.0 (git 1a2b3c4, Release)").
#pragma once

#include <string>

namespace shadow {

std::string program_version();

}  // namespace shadow
