// TLS streams: echo between pyconc's client and server, interop with Python's ssl module and
// `openssl s_client`, certificate verification failures, a plain-TCP peer on a TLS server, and
// megabytes both ways. A throw-away CA and server certificate are made with the `openssl`
// command at test time (skipped when it is missing).
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "pyconc/asyncio.hpp"
#include "test_certs.hpp"

namespace aio = pyconc::asyncio;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

bool sh(const std::string& cmd) {
  return std::system((cmd + " >/dev/null 2>&1").c_str()) == 0;
}

class Ssl : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { certs_ = new test_support::TestCerts(); }
  static void TearDownTestSuite() {
    delete certs_;
    certs_ = nullptr;
  }
  void SetUp() override {
    if (!certs_->ok()) GTEST_SKIP() << "the openssl command could not make test certificates";
  }
  static std::string path(const std::string& name) { return certs_->path(name); }
  static aio::SSLContext server_ctx() {
    return aio::SSLContext::server(path("server.pem"), path("server.key"));
  }
  static aio::SSLContext client_ctx(const std::string& ca = "ca.pem") {
    auto c = aio::SSLContext::client();
    c.load_verify_locations(path(ca));
    return c;
  }

  static inline test_support::TestCerts* certs_ = nullptr;
};

aio::Task<> echo_lines(aio::StreamReader r, aio::StreamWriter w) {
  for (std::string line = co_await r.readline(); !line.empty(); line = co_await r.readline()) {
    w.write(line);
    co_await w.drain();
  }
  w.close();
  co_await w.wait_closed();
}

template <class F>
void run_bounded(F body) {
  aio::run(aio::wait_for(body(), 30s));
}

TEST_F(Ssl, EchoBetweenPyconcClientAndServer) {
  run_bounded([&]() -> aio::Task<> {
    auto server = co_await aio::start_server(echo_lines, "127.0.0.1", 0, {.ssl = server_ctx()});
    const auto ctx = client_ctx();
    auto [r, w] = co_await aio::open_connection("127.0.0.1", server.port(), {.ssl = ctx});
    EXPECT_FALSE(w.can_write_eof());
    EXPECT_THROW(w.write_eof(), pyconc::RuntimeError);  // SSL has no half-close
    for (int i = 0; i < 50; ++i) {
      const std::string line = "line " + std::to_string(i) + "\n";
      w.write(line);
      co_await w.drain();
      EXPECT_EQ(co_await r.readline(), line);
    }
    w.close();
    co_await w.wait_closed();
    server.close();
    co_await server.wait_closed();
  });
}

TEST_F(Ssl, SeveralMegabytesBothWays) {
  run_bounded([&]() -> aio::Task<> {
    auto pump = [](aio::StreamReader r, aio::StreamWriter w) -> aio::Task<> {
      for (std::string chunk = co_await r.read(1 << 16); !chunk.empty();
           chunk = co_await r.read(1 << 16)) {
        w.write(chunk);
        co_await w.drain();
      }
      w.close();
    };
    auto server = co_await aio::start_server(pump, "127.0.0.1", 0, {.ssl = server_ctx()});
    const auto ctx = client_ctx();
    auto [r, w] = co_await aio::open_connection("127.0.0.1", server.port(), {.ssl = ctx});
    std::string payload(6 * 1024 * 1024, '\0');
    for (std::size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<char>(i * 131 + 7);
    auto reader =
        aio::create_task([](aio::StreamReader rr, std::size_t n) -> aio::Task<std::string> {
          co_return co_await rr.readexactly(static_cast<std::ptrdiff_t>(n));
        }(r, payload.size()));
    for (std::size_t off = 0; off < payload.size(); off += 100'000) {
      w.write(std::string_view(payload).substr(off, 100'000));
      co_await w.drain();
    }
    const std::string back = co_await reader;
    EXPECT_TRUE(back == payload) << "the echo differs (" << back.size() << " bytes)";
    w.close();
    EXPECT_EQ(co_await r.read(), "");  // the server's close_notify / EOF
    server.close();
    co_await server.wait_closed();
  });
}

TEST_F(Ssl, WrongCaAndWrongHostRaiseCertVerificationError) {
  run_bounded([&]() -> aio::Task<> {
    auto server = co_await aio::start_server(echo_lines, "127.0.0.1", 0, {.ssl = server_ctx()});
    const auto wrong = client_ctx("other.pem");
    try {
      co_await aio::open_connection("127.0.0.1", server.port(), {.ssl = wrong});
      ADD_FAILURE() << "a certificate of an unknown CA was accepted";
    } catch (const aio::SSLCertVerificationError& e) {
      EXPECT_NE(std::string(e.what()).find("CERTIFICATE_VERIFY_FAILED"), std::string::npos)
          << e.what();
      EXPECT_NE(e.verify_code(), 0);
    }
    const auto right = client_ctx();
    try {
      co_await aio::open_connection("127.0.0.1", server.port(),
                                    {.ssl = right, .server_hostname = "wrong.example"});
      ADD_FAILURE() << "a certificate for another host was accepted";
    } catch (const aio::SSLCertVerificationError& e) {
      EXPECT_NE(std::string(e.verify_message()).find("mismatch"), std::string::npos)
          << e.verify_message();
    }
    // An SSLError is an OSError, as in Python.
    try {
      co_await aio::open_connection("127.0.0.1", server.port(), {.ssl = wrong});
    } catch (const pyconc::OSError&) {
      SUCCEED();
    }
    // "localhost" is in the certificate too; the server kept serving through the failures.
    auto [r, w] = co_await aio::open_connection("127.0.0.1", server.port(),
                                                {.ssl = right, .server_hostname = "localhost"});
    w.write("still serving\n");
    EXPECT_EQ(co_await r.readline(), "still serving\n");
    w.close();
    server.close();
    co_await server.wait_closed();
  });
}

TEST_F(Ssl, PlainTcpPeerIsRefusedAndTheServerGoesOn) {
  run_bounded([&]() -> aio::Task<> {
    int served = 0;
    auto count = [&](aio::StreamReader r, aio::StreamWriter w) -> aio::Task<> {
      ++served;
      co_await echo_lines(std::move(r), std::move(w));
    };
    auto server = co_await aio::start_server(count, "127.0.0.1", 0, {.ssl = server_ctx()});
    {
      auto [r, w] = co_await aio::open_connection("127.0.0.1", server.port());
      w.write("GET / HTTP/1.0\r\n\r\n");
      co_await w.drain();
      // The server's handshake fails: it may send an alert, then it closes the connection.
      std::string got;
      for (std::string c = co_await r.read(4096); !c.empty(); c = co_await r.read(4096)) got += c;
      EXPECT_EQ(got.find("HTTP"), std::string::npos);
      w.close();
    }
    const auto ctx = client_ctx();
    auto [r, w] = co_await aio::open_connection("127.0.0.1", server.port(), {.ssl = ctx});
    w.write("after\n");
    EXPECT_EQ(co_await r.readline(), "after\n");
    EXPECT_EQ(served, 1);  // the callback never ran for the plain-TCP peer
    w.close();
    server.close();
    co_await server.wait_closed();
  });
}

TEST_F(Ssl, ContextErrorsAsPython) {
  auto c = aio::SSLContext::client();
  EXPECT_TRUE(c.check_hostname());
  EXPECT_EQ(c.verify_mode(), aio::VerifyMode::CERT_REQUIRED);
  EXPECT_THROW(c.set_verify_mode(aio::VerifyMode::CERT_NONE), pyconc::ValueError);
  c.set_check_hostname(false);
  c.set_verify_mode(aio::VerifyMode::CERT_NONE);
  EXPECT_EQ(c.verify_mode(), aio::VerifyMode::CERT_NONE);
  EXPECT_THROW(c.load_verify_locations(path("missing.pem")), pyconc::FileNotFoundError);
  EXPECT_THROW(c.load_verify_locations(path("ext.cnf")), aio::SSLError);
  // A key that does not belong to the certificate.
  EXPECT_THROW(aio::SSLContext::server(path("server.pem"), path("other.key")), aio::SSLError);
  aio::run([&]() -> aio::Task<> {
    auto srv = server_ctx();
    EXPECT_THROW(co_await aio::open_connection("127.0.0.1", 1, {.ssl = srv}), pyconc::ValueError);
    auto cli = client_ctx();
    EXPECT_THROW(co_await aio::start_server(echo_lines, "127.0.0.1", 0, {.ssl = cli}),
                 pyconc::ValueError);
    EXPECT_THROW(co_await aio::open_connection("127.0.0.1", 1, {.server_hostname = "x"}),
                 pyconc::ValueError);
  }());
}

TEST_F(Ssl, UnverifiedClientAcceptsASelfSignedPeer) {
  run_bounded([&]() -> aio::Task<> {
    auto self_signed = aio::SSLContext::server(path("other.pem"), path("other.key"));
    auto server = co_await aio::start_server(echo_lines, "127.0.0.1", 0, {.ssl = self_signed});
    auto c = aio::SSLContext::client();
    c.set_check_hostname(false);
    c.set_verify_mode(aio::VerifyMode::CERT_NONE);
    auto [r, w] = co_await aio::open_connection("127.0.0.1", server.port(), {.ssl = c});
    w.write("x\n");
    EXPECT_EQ(co_await r.readline(), "x\n");
    w.close();
    server.close();
    co_await server.wait_closed();
  });
}

TEST_F(Ssl, PyconcClientAgainstPythonSslServer) {
  if (!sh("python3 -c 'import ssl'")) GTEST_SKIP() << "python3 with ssl is not available";
  const std::string script =
      "import socket, ssl, sys\n"
      "ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)\n"
      "ctx.load_cert_chain(sys.argv[1], sys.argv[2])\n"
      "ls = socket.create_server(('127.0.0.1', 0))\n"
      "print(ls.getsockname()[1], flush=True)\n"
      "conn, _ = ls.accept()\n"
      "s = ctx.wrap_socket(conn, server_side=True)\n"
      "f = s.makefile('rb')\n"
      "line = f.readline()\n"
      "s.sendall(b'py:' + line)\n"
      "s.unwrap()\n"
      "s.close()\n";
  run_bounded([&]() -> aio::Task<> {
    auto proc = co_await aio::create_subprocess_exec(
        {"python3", "-c", script, path("server.pem"), path("server.key")}, {.stdout_ = aio::PIPE});
    const int port = std::stoi(co_await proc.stdout_().readline());
    const auto ctx = client_ctx();
    auto [r, w] = co_await aio::open_connection("127.0.0.1", port, {.ssl = ctx});
    w.write("hello\n");
    EXPECT_EQ(co_await r.readline(), "py:hello\n");
    EXPECT_EQ(co_await r.read(), "");  // Python's unwrap(): close_notify, a clean EOF
    w.close();
    co_await w.wait_closed();
    EXPECT_EQ(co_await proc.wait(), 0);
  });
}

TEST_F(Ssl, PythonSslClientAgainstPyconcServer) {
  if (!sh("python3 -c 'import ssl'")) GTEST_SKIP() << "python3 with ssl is not available";
  const std::string script =
      "import socket, ssl, sys\n"
      "ctx = ssl.create_default_context(cafile=sys.argv[1])\n"
      "raw = socket.create_connection(('127.0.0.1', int(sys.argv[2])))\n"
      "s = ctx.wrap_socket(raw, server_hostname='127.0.0.1')\n"
      "s.sendall(b'x' * 300000 + b'\\n')\n"
      "f = s.makefile('rb')\n"
      "line = f.readline()\n"
      "print(len(line), s.version(), flush=True)\n"
      "s.close()\n";
  run_bounded([&]() -> aio::Task<> {
    auto server = co_await aio::start_server(echo_lines, "127.0.0.1", 0,
                                             {.limit = 1 << 20, .ssl = server_ctx()});
    auto proc = co_await aio::create_subprocess_exec(
        {"python3", "-c", script, path("ca.pem"), std::to_string(server.port())},
        {.stdout_ = aio::PIPE});
    const std::string out = co_await proc.stdout_().readline();
    EXPECT_EQ(out.substr(0, out.find(' ')), "300001") << out;
    EXPECT_NE(out.find("TLSv1."), std::string::npos) << out;
    EXPECT_EQ(co_await proc.wait(), 0);
    server.close();
    co_await server.wait_closed();
  });
}

}  // namespace
