// Throwaway TLS certificates for wss:// tests: tests/support/tls_certs.py (python3-cryptography,
// run with the system /usr/bin/python3) once per test program into a fresh directory under
// /tmp, removed at exit. The test target defines SHADOW_TLS_CERTS, the script's path.
//
//   std::string why;
//   const std::string& dir = shadow::test_support::tls_cert_dir(why);
//   if (dir.empty()) SHADOW_MISSING(why);       // a failure, never a silent skip
//   ... dir + "/ca.pem", dir + "/localhost.pem", dir + "/localhost.key" ...
#pragma once

#include <cstdlib>
#include <string>

#include "tests/support/temp_dir.h"

namespace shadow::test_support {

inline const std::string& tls_cert_dir(std::string& why) {
  static TempDir tmp("shadow-tls");  // removed at exit
  static std::string dir;
  if (!dir.empty()) return dir;
  if (tmp.path().empty()) {
    why = "mkdtemp failed";
    return dir;
  }
  const std::string cmd = std::string("/usr/bin/python3 '") + SHADOW_TLS_CERTS + "' " + tmp.path() + " >/dev/null";
  if (std::system(cmd.c_str()) != 0) {
    why = std::string("'") + cmd + "' failed: /usr/bin/python3 with python3-cryptography is needed "
          "(tools/install-deps)";
    return dir;
  }
  dir = tmp.path();
  return dir;
}

}  // namespace shadow::test_support
