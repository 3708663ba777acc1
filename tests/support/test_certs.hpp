// tests/support/test_certs.hpp -- throw-away certificates for the TLS tests: a CA, a server
// certificate it signed for 127.0.0.1 and localhost, and a self-signed certificate of another
// CA, made with the `openssl` command in a temporary directory that the destructor removes.
// ok() is false when the command is missing or failed (the tests then GTEST_SKIP).
//   test_support::TestCerts certs;  certs.path("ca.pem"), "server.pem", "server.key",
//                                   "other.pem", "other.key"
#pragma once

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace test_support {

class TestCerts {
 public:
  TestCerts() {
    char tmpl[] = "/tmp/pyconc-certs-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) return;
    dir_ = tmpl;
    const std::string d = dir_;
    const std::string ec = " -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
    std::ofstream(d + "/ext.cnf") << "subjectAltName=IP:127.0.0.1,DNS:localhost\n";
    ok_ = sh("openssl req -x509" + ec + " -keyout " + d + "/ca.key -out " + d +
             "/ca.pem -days 2 -subj /CN=pyconc-test-ca") &&
          sh("openssl req" + ec + " -keyout " + d + "/server.key -out " + d +
             "/server.csr -subj /CN=127.0.0.1") &&
          sh("openssl x509 -req -in " + d + "/server.csr -CA " + d + "/ca.pem -CAkey " + d +
             "/ca.key -CAcreateserial -out " + d + "/server.pem -days 2 -extfile " + d +
             "/ext.cnf") &&
          sh("openssl req -x509" + ec + " -keyout " + d + "/other.key -out " + d +
             "/other.pem -days 2 -subj /CN=another-ca");
  }
  ~TestCerts() {
    if (dir_.empty()) return;
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  TestCerts(const TestCerts&) = delete;
  TestCerts& operator=(const TestCerts&) = delete;

  bool ok() const { return ok_; }
  std::string path(const std::string& name) const { return dir_ + "/" + name; }
  const std::string& dir() const { return dir_; }

 private:
  static bool sh(const std::string& cmd) {
    return std::system((cmd + " >/dev/null 2>&1").c_str()) == 0;
  }
  std::string dir_;
  bool ok_ = false;
};

}  // namespace test_support
