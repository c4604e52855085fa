// A real redis-server for the tests (tests/sinks/): a child process on a free loopback port
// (optionally with requirepass and a unix socket), SIGTERMed and reaped at the end; a client
// connection, GET and TTL; a Subscriber that collects a channel's messages on its own thread.
// Used by redis_exporter_test and dryrun_export_test.
#pragma once

#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace shadow::test_support {

inline constexpr const char* kRedisServer = "/usr/bin/redis-server";

inline int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  socklen_t len = sizeof a;
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    if (fd >= 0) ::close(fd);
    throw std::runtime_error("no free port");
  }
  ::close(fd);
  return ntohs(a.sin_port);
}

struct ContextFree {
  void operator()(redisContext* c) const { redisFree(c); }
};
using Context = std::unique_ptr<redisContext, ContextFree>;
struct ReplyFree {
  void operator()(redisReply* r) const { freeReplyObject(r); }
};
using Reply = std::unique_ptr<redisReply, ReplyFree>;

struct ServerOptions {
  std::string password{};
  std::string unix_socket{};
};

// A redis-server child process; SIGTERM and reaped at the end.
class RedisServer {
 public:
  using Options = ServerOptions;
  explicit RedisServer(Options o = {}) : opt_(std::move(o)), port_(free_port()) { start(); }
  ~RedisServer() { stop(SIGTERM); }
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  int port() const { return port_; }

  void start() {
    std::vector<std::string> args = {kRedisServer, "--port", std::to_string(port_), "--bind",
                                     "127.0.0.1", "--save", "", "--appendonly", "no"};
    if (!opt_.password.empty()) args.insert(args.end(), {"--requirepass", opt_.password});
    if (!opt_.unix_socket.empty()) {
      args.insert(args.end(), {"--unixsocket", opt_.unix_socket, "--unixsocketperm", "700"});
    }
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_ = ::fork();
    if (pid_ == 0) {
      const int null = ::open("/dev/null", O_WRONLY);
      ::dup2(null, 1);
      ::dup2(null, 2);
      ::execv(kRedisServer, argv.data());
      ::_exit(127);
    }
    if (pid_ < 0) throw std::runtime_error("fork failed");
    // Up when a PING gets any answer (NOAUTH counts) within 5 s.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        throw std::runtime_error("redis-server exited at start");
      }
      Context c(redisConnectWithTimeout("127.0.0.1", port_, timeval{0, 100'000}));
      if (c && !c->err) {
        Reply r(static_cast<redisReply*>(redisCommand(c.get(), "PING")));
        if (r) return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    throw std::runtime_error("redis-server did not answer PING within 5 s");
  }

  void signal(int sig) const { ::kill(pid_, sig); }

  void stop(int sig) {
    if (pid_ <= 0) return;
    ::kill(pid_, sig);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
  }

  // A client connection, authenticated and on `db`.
  Context client(int db = 0) const {
    Context c(opt_.unix_socket.empty()
                  ? redisConnectWithTimeout("127.0.0.1", port_, timeval{1, 0})
                  : redisConnectUnixWithTimeout(opt_.unix_socket.c_str(), timeval{1, 0}));
    if (!c || c->err) throw std::runtime_error("test client cannot connect");
    redisSetTimeout(c.get(), timeval{2, 0});
    if (!opt_.password.empty()) {
      Reply r(static_cast<redisReply*>(redisCommand(c.get(), "AUTH %s", opt_.password.c_str())));
    }
    if (db != 0) Reply r(static_cast<redisReply*>(redisCommand(c.get(), "SELECT %d", db)));
    return c;
  }

  std::optional<std::string> get(const std::string& key, int db = 0) const {
    Context c = client(db);
    Reply r(static_cast<redisReply*>(redisCommand(c.get(), "GET %b", key.data(), key.size())));
    if (!r || r->type != REDIS_REPLY_STRING) return std::nullopt;
    return std::string(r->str, r->len);
  }

  long long ttl(const std::string& key, int db = 0) const {
    Context c = client(db);
    Reply r(static_cast<redisReply*>(redisCommand(c.get(), "TTL %b", key.data(), key.size())));
    return r && r->type == REDIS_REPLY_INTEGER ? r->integer : -100;
  }

 private:
  Options opt_;
  int port_;
  pid_t pid_ = -1;
};

// SUBSCRIBEs on its own connection and collects the message payloads.
class Subscriber {
 public:
  Subscriber(const RedisServer& server, const std::string& channel) : c_(server.client()) {
    Reply r(static_cast<redisReply*>(
        redisCommand(c_.get(), "SUBSCRIBE %b", channel.data(), channel.size())));
    if (!r || r->type != REDIS_REPLY_ARRAY) throw std::runtime_error("SUBSCRIBE failed");
    thread_ = std::thread([this] { run(); });
  }
  ~Subscriber() {
    stop_ = true;
    thread_.join();
  }

  // Waits until `n` messages arrived or `timeout` passed; returns what arrived.
  std::vector<std::string> wait_for(std::size_t n, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      {
        std::lock_guard lock(mu_);
        if (messages_.size() >= n) break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    std::lock_guard lock(mu_);
    return messages_;
  }

 private:
  void run() {
    // redisGetReply after a read timeout leaves the context in error, so poll(2) the socket with
    // a timeout and feed the reader by hand.
    while (!stop_) {
      void* raw = nullptr;
      while (redisGetReplyFromReader(c_.get(), &raw) == REDIS_OK && raw != nullptr) {
        Reply r(static_cast<redisReply*>(raw));
        raw = nullptr;
        if (r->type == REDIS_REPLY_ARRAY && r->elements == 3 &&
            std::string(r->element[0]->str, r->element[0]->len) == "message") {
          std::lock_guard lock(mu_);
          messages_.emplace_back(r->element[2]->str, r->element[2]->len);
        }
      }
      pollfd p{c_->fd, POLLIN, 0};
      if (::poll(&p, 1, 50) > 0 && redisBufferRead(c_.get()) != REDIS_OK) return;
    }
  }

  Context c_;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::vector<std::string> messages_;
  std::thread thread_;
};

}  // namespace shadow::test_support
