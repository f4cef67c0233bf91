#include "tcp_net.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <linux/sockios.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

static bool connect_with_timeout(int fd, const sockaddr* addr, socklen_t len, int timeout_ms) {
  int flags = fcntl(fd, F_GETFL, 0);
  fcntl(fd, F_SETFL, flags | O_NONBLOCK);
  int rc = ::connect(fd, addr, len);
  if (rc != 0 && errno != EINPROGRESS) return false;
  if (rc != 0) {
    pollfd p{fd, POLLOUT, 0};
    if (poll(&p, 1, timeout_ms) != 1) return false;
    int err = 0;
    socklen_t elen = sizeof(err);
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) != 0 || err != 0) return false;
  }
  fcntl(fd, F_SETFL, flags);
  return true;
}

bool TcpNetClient::connect(const char* host, uint16_t port) {
  close();
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  char service[8];
  snprintf(service, sizeof(service), "%u", unsigned(port));
  addrinfo* res = nullptr;
  if (getaddrinfo(host, service, &hints, &res) != 0) return false;
  for (addrinfo* a = res; a; a = a->ai_next) {
    int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    int sndbuf = kSendBuffer;
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));  // before connect: sets the window
    if (connect_with_timeout(fd, a->ai_addr, a->ai_addrlen, connect_timeout_ms_)) {
      timeval tv{0, kSliceMs * 1000};
      setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
      setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
      int one = 1;
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
      fd_ = fd;
      break;
    }
    ::close(fd);
  }
  freeaddrinfo(res);
  return fd_ >= 0;
}

int32_t TcpNetClient::write(const uint8_t* data, size_t len) {
  if (fd_ < 0) return -1;
  for (;;) {
    ssize_t n = ::send(fd_, data, len, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return kWouldBlock;
    return n < 0 ? -1 : int32_t(n);
  }
}

int32_t TcpNetClient::read(uint8_t* buf, size_t len) {
  if (fd_ < 0) return -1;
  for (;;) {
    ssize_t n = ::recv(fd_, buf, len, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return kWouldBlock;
    return n < 0 ? -1 : int32_t(n);
  }
}

uint64_t TcpNetClient::unsent() {
  int queued = 0;
  if (fd_ < 0 || ioctl(fd_, SIOCOUTQ, &queued) != 0 || queued < 0) return 0;
  return uint64_t(queued);
}

void TcpNetClient::abort() {
  if (fd_ < 0) return;
  ++aborts_;
  if (abort_mode_ == AbortMode::kReset) {
    linger hard{1, 0};  // the kernel sends RST and drops what is queued
    setsockopt(fd_, SOL_SOCKET, SO_LINGER, &hard, sizeof(hard));
  }
  close();
}

void TcpNetClient::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}
