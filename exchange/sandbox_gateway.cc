#include "exchange/sandbox_gateway.h"

#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <httplib.h>

#include "core/clock.h"
#include "ringbuf/mpsc_queue.h"
#include "exchange/sandbox_json.h"
#include "exchange/sandbox_service.h"

namespace shadow {
namespace {

constexpr int kReadTimeoutS = 5;
constexpr int kKeepAliveS = 5;

std::int64_t wall_ms() noexcept { return realtime_ns() / 1'000'000; }

}  // namespace

// A command on its way to the exchange thread and its answer on the way back. Lives on the
// worker's stack while the worker waits.
struct SandboxGateway::Job {
  SandboxCommand cmd;
  RestReply reply;
  std::atomic<bool> done{false};
};

struct SandboxGateway::Impl {
  httplib::Server http;
  // At most kWorkers jobs are ever in flight (each worker waits for its own): never full.
  MpscQueue<Job*> inbox{4 * kWorkers};
};

SandboxGateway::SandboxGateway(const SandboxAccounts& accounts, SandboxService& service)
    : accounts_(accounts), service_(service), impl_(std::make_unique<Impl>()) {}

SandboxGateway::~SandboxGateway() {
  stop();
  if (event_fd_ >= 0) ::close(event_fd_);
}

bool SandboxGateway::start(int port, std::string& error) {
  event_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (event_fd_ < 0) {
    error = std::string("eventfd: ") + std::strerror(errno);
    return false;
  }
  httplib::Server& http = impl_->http;
  // SO_REUSEADDR only (httplib's default adds SO_REUSEPORT, which would let two exchanges share
  // the port and split the orders between them).
  http.set_socket_options([](socket_t sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  http.set_tcp_nodelay(true);  // an answer leaves at once, not after the peer's delayed ACK
  http.new_task_queue = [] { return new httplib::ThreadPool(kWorkers); };
  http.set_keep_alive_timeout(kKeepAliveS);
  http.set_read_timeout(kReadTimeoutS, 0);
  http.set_write_timeout(kReadTimeoutS, 0);
  http.set_payload_max_length(kMaxSandboxBody);
  const auto handler = [this](const httplib::Request& hreq, httplib::Response& hres) {
    const std::size_t q = hreq.target.find('?');
    RestRequest req;
    req.method = hreq.method;
    req.path = hreq.path;
    req.query = q == std::string::npos ? std::string_view() : std::string_view(hreq.target).substr(q + 1);
    req.body = hreq.body;
    const std::string key = hreq.get_header_value("X-BAPI-API-KEY");
    const std::string ts = hreq.get_header_value("X-BAPI-TIMESTAMP");
    const std::string window = hreq.get_header_value("X-BAPI-RECV-WINDOW");
    const std::string sign = hreq.get_header_value("X-BAPI-SIGN");
    req.api_key = key;
    req.timestamp = ts;
    req.recv_window = window;
    req.sign = sign;
    RestReply reply;
    handle(req, reply);
    hres.status = reply.http_status;
    if (reply.limit > 0) {
      hres.set_header("X-Bapi-Limit", std::to_string(reply.limit));
      hres.set_header("X-Bapi-Limit-Status", std::to_string(reply.limit_status));
      hres.set_header("X-Bapi-Limit-Reset-Timestamp", std::to_string(reply.limit_reset_ms));
    }
    hres.set_content(reply.body, reply.http_status == 200 ? "application/json" : "text/plain");
  };
  http.Get(".*", handler);
  http.Post(".*", handler);
  http.Put(".*", handler);
  http.Delete(".*", handler);
  port_ = port == 0 ? http.bind_to_any_port("127.0.0.1") : (http.bind_to_port("127.0.0.1", port) ? port : -1);
  if (port_ <= 0) {
    error = "cannot listen on 127.0.0.1:" + std::to_string(port) + ": " + std::strerror(errno);
    return false;
  }
  listener_ = std::thread([this] { impl_->http.listen_after_bind(); });
  return true;
}

void SandboxGateway::handle(const RestRequest& req, RestReply& reply) {
  Job job;
  if (!parse_sandbox_request(req, accounts_, wall_ms(), job.cmd, reply)) return;
  if (closing_.load(std::memory_order_acquire)) {
    reply.http_status = 503;
    reply.body = "shutting down";
    return;
  }
  Job* const queued = &job;
  Job* item = queued;
  while (!impl_->inbox.try_push(std::move(item))) {
    item = queued;
    std::this_thread::yield();  // cannot happen with one job per worker; never drop one
  }
  const std::uint64_t one = 1;
  [[maybe_unused]] const ssize_t w = ::write(event_fd_, &one, sizeof one);
  job.done.wait(false, std::memory_order_acquire);
  reply = std::move(job.reply);
  if (reply.listing) {  // order and execution lists are rendered here, off the exchange thread
    reply.body = service_.render(*reply.listing);
    reply.listing.reset();
  }
}

std::size_t SandboxGateway::drain() {
  if (event_fd_ < 0) return 0;
  std::uint64_t count = 0;
  [[maybe_unused]] const ssize_t r = ::read(event_fd_, &count, sizeof count);
  std::size_t n = 0;
  Job* job = nullptr;
  while (impl_->inbox.try_pop(job)) {
    job->reply = service_.execute(job->cmd, wall_ms());
    job->done.store(true, std::memory_order_release);
    job->done.notify_one();
    ++n;
  }
  return n;
}

void SandboxGateway::stop() {
  if (!listener_.joinable()) return;
  closing_.store(true, std::memory_order_release);
  // Workers may be waiting for this thread to execute their commands: keep draining while
  // httplib closes its sockets and joins them.
  std::atomic<bool> stopped{false};
  std::thread stopper([&] {
    impl_->http.stop();
    listener_.join();
    stopped.store(true, std::memory_order_release);
  });
  while (!stopped.load(std::memory_order_acquire)) {
    drain();
    ::usleep(1000);
  }
  stopper.join();
  drain();
}

}  // namespace shadow
