// link-proxy: a TCP proxy that is a slow uplink, for the simulator on loopback. Bytes from the
// client go upstream no faster than --up-bps, and the proxy's receive buffer is held small, so
// the client's TCP sees acknowledgements at the link's pace as it would behind a slow hotspot.
// (A proxy that reads slowly from a full-size loopback buffer would let the kernel acknowledge
// ~64 KB at once and hide a minute of queue at 2 KB/s: kinder in one way, harsher in another.)
// Node's net module cannot set SO_RCVBUF, hence this small C++ tool.
// A client's end is passed on as it came, as a real path would: a FIN (the board's abort(), a
// plain close) becomes a FIN upstream after the bytes before it, and the answer still comes
// back; a reset becomes a reset. Each connection's end is printed as one line:
//   closed id=N client=fin|reset|open up_bytes=N answer=<HTTP status or 0> code=<S3 error code or ->
//
//   link-proxy --upstream HOST:PORT --up-bps N [--down-bps N] [--rcvbuf BYTES] [--port P]
// Prints "listening <port>" once ready; runs until killed.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

struct Options {
  std::string up_host;
  std::string up_port;
  double up_bps = 0;    // 0: unlimited
  double down_bps = 0;  // 0: unlimited
  int rcvbuf = 4096;
  int port = 0;
};

struct Pipe {
  unsigned id = 0;
  int client = -1;
  int upstream = -1;
  double up_tokens = 0;
  double down_tokens = 0;
  bool done = false;
  const char* client_end = "open";  // how the client ended its side: fin or reset
  unsigned long long up_bytes = 0;  // bytes the client sent that went upstream
  std::string answer;               // the first bytes upstream sent back
};

enum class Moved { kSome, kEnd, kReset, kFailed };

double now_s() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return double(ts.tv_sec) + double(ts.tv_nsec) / 1e9;
}

int connect_upstream(const Options& o) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (getaddrinfo(o.up_host.c_str(), o.up_port.c_str(), &hints, &res) != 0) return -1;
  int fd = -1;
  for (addrinfo* a = res; a && fd < 0; a = a->ai_next) {
    fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd >= 0 && connect(fd, a->ai_addr, a->ai_addrlen) != 0) {
      close(fd);
      fd = -1;
    }
  }
  freeaddrinfo(res);
  if (fd >= 0) {
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  }
  return fd;
}

// Moves up to the allowance from one socket to the other: kEnd when `from` ended (FIN), kReset
// when it was reset, kFailed when `to` would not take the bytes. `seen` collects the first bytes.
Moved move(int from, int to, double* tokens, bool limited, unsigned long long* count, std::string* seen) {
  char buf[16384];
  size_t want = sizeof(buf);
  if (limited) {
    if (*tokens < 1) return Moved::kSome;
    if (*tokens < double(want)) want = size_t(*tokens);
  }
  ssize_t n = recv(from, buf, want, MSG_DONTWAIT);
  if (n == 0) return Moved::kEnd;
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return Moved::kSome;
    return Moved::kReset;
  }
  if (limited) *tokens -= double(n);
  if (count) *count += (unsigned long long)n;
  if (seen && seen->size() < 512) seen->append(buf, size_t(std::min<ssize_t>(n, ssize_t(512 - seen->size()))));
  for (ssize_t off = 0; off < n;) {
    ssize_t w = send(to, buf + off, size_t(n - off), MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return Moved::kFailed;
    off += w;
  }
  return Moved::kSome;
}

// "HTTP/1.1 400 ...<Code>IncompleteBody</Code>" -> 400 and IncompleteBody.
void report(const Pipe& p) {
  int status = 0;
  if (p.answer.rfind("HTTP/", 0) == 0) {
    size_t sp = p.answer.find(' ');
    if (sp != std::string::npos) status = atoi(p.answer.c_str() + sp + 1);
  }
  std::string code = "-";
  size_t open = p.answer.find("<Code>");
  size_t close_tag = open == std::string::npos ? open : p.answer.find("</Code>", open);
  if (close_tag != std::string::npos) code = p.answer.substr(open + 6, close_tag - open - 6);
  printf("closed id=%u client=%s up_bytes=%llu answer=%d code=%s\n", p.id, p.client_end, p.up_bytes, status, code.c_str());
  fflush(stdout);
}

void reset_and_close(int fd) {
  linger hard{1, 0};
  setsockopt(fd, SOL_SOCKET, SO_LINGER, &hard, sizeof(hard));
  close(fd);
}

bool parse(int argc, char** argv, Options* o) {
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    const char* v = argv[i + 1];
    if (a == "--upstream") {
      std::string s = v;
      size_t colon = s.rfind(':');
      if (colon == std::string::npos) return false;
      o->up_host = s.substr(0, colon);
      o->up_port = s.substr(colon + 1);
    } else if (a == "--up-bps") {
      o->up_bps = atof(v);
    } else if (a == "--down-bps") {
      o->down_bps = atof(v);
    } else if (a == "--rcvbuf") {
      o->rcvbuf = atoi(v);
    } else if (a == "--port") {
      o->port = atoi(v);
    } else {
      return false;
    }
  }
  return !o->up_host.empty();
}

}  // namespace

int main(int argc, char** argv) {
  signal(SIGPIPE, SIG_IGN);
  Options o;
  if (!parse(argc, argv, &o)) {
    fprintf(stderr, "usage: link-proxy --upstream HOST:PORT --up-bps N [--down-bps N] [--rcvbuf BYTES] [--port P]\n");
    return 2;
  }
  int listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  // Set before listen(): accepted sockets inherit it, and it bounds the window they advertise.
  setsockopt(listener, SOL_SOCKET, SO_RCVBUF, &o.rcvbuf, sizeof(o.rcvbuf));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(uint16_t(o.port));
  if (bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 || listen(listener, 16) != 0) {
    perror("link-proxy: listen");
    return 1;
  }
  socklen_t len = sizeof(addr);
  getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len);
  printf("listening %u\n", unsigned(ntohs(addr.sin_port)));
  fflush(stdout);

  std::vector<Pipe> pipes;
  unsigned next_id = 0;
  double last = now_s();
  for (;;) {
    std::vector<pollfd> fds;
    fds.push_back({listener, POLLIN, 0});
    for (const Pipe& p : pipes) {
      // After the client's FIN its socket stays readable (end of stream): leave it out of poll.
      fds.push_back({p.client_end[0] == 'o' ? p.client : -1, POLLIN, 0});
      fds.push_back({p.upstream, POLLIN, 0});
    }
    poll(fds.data(), fds.size(), 10);  // 10 ms ticks refill the buckets
    double t = now_s();
    double dt = t - last;
    last = t;
    if (fds[0].revents & POLLIN) {
      int c = accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
      if (c >= 0) {
        int u = connect_upstream(o);
        if (u < 0) {
          close(c);
        } else {
          setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
          Pipe p;
          p.id = ++next_id;
          p.client = c;
          p.upstream = u;
          pipes.push_back(p);
        }
      }
    }
    for (Pipe& p : pipes) {
      // Buckets hold at most 50 ms of rate: no bursts after an idle spell.
      if (o.up_bps > 0) p.up_tokens = std::min(p.up_tokens + o.up_bps * dt, o.up_bps * 0.05 + 1);
      if (o.down_bps > 0) p.down_tokens = std::min(p.down_tokens + o.down_bps * dt, o.down_bps * 0.05 + 1);
      if (p.client_end[0] == 'o') {
        Moved up = move(p.client, p.upstream, &p.up_tokens, o.up_bps > 0, &p.up_bytes, nullptr);
        if (up == Moved::kEnd) {
          p.client_end = "fin";
          shutdown(p.upstream, SHUT_WR);  // the answer may still come back
        } else if (up == Moved::kReset) {
          p.client_end = "reset";
          p.done = true;
          continue;
        } else if (up == Moved::kFailed) {
          p.done = true;
          continue;
        }
      }
      // After the client's FIN a send to it may fail (it closed fully): keep reading the answer.
      Moved down = move(p.upstream, p.client, &p.down_tokens, o.down_bps > 0, nullptr, &p.answer);
      if (down == Moved::kEnd || down == Moved::kReset || (down == Moved::kFailed && p.client_end[0] == 'o')) p.done = true;
    }
    for (size_t i = 0; i < pipes.size();) {
      if (pipes[i].done) {
        report(pipes[i]);
        if (pipes[i].client_end[0] == 'r') {
          reset_and_close(pipes[i].upstream);
        } else {
          close(pipes[i].upstream);
        }
        close(pipes[i].client);
        pipes[i] = pipes.back();
        pipes.pop_back();
      } else {
        ++i;
      }
    }
  }
}
