// The host's NetClient on real loopback sockets: waits are bounded slices, the send queue is
// visible, and abort() ends the connection as the board's does (queued bytes drain, then FIN)
// unless told to reset it.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "support/test.h"
#include "tcp_net.h"

namespace {

struct Listener {
  int fd = -1;
  uint16_t port = 0;
  Listener() {
    fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int small = 4096;  // a slow reader: little room on its side
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
    bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a));
    listen(fd, 1);
    socklen_t len = sizeof(a);
    getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    port = ntohs(a.sin_port);
  }
  ~Listener() { close(fd); }
};

long ms_since(std::chrono::steady_clock::time_point t) {
  return long(std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t).count());
}

// Fills the peer's and our buffers (the peer does not read) and returns what write() accepted,
// or 0 if write() never reported kWouldBlock.
uint64_t fill(TcpNetClient& net) {
  std::vector<uint8_t> chunk(8192, 0x5a);
  uint64_t accepted = 0;
  int32_t n = 0;
  for (int i = 0; i < 200 && (n = net.write(chunk.data(), chunk.size())) > 0; ++i) accepted += uint64_t(n);
  return n == lifelog::NetClient::kWouldBlock ? accepted : 0;
}

// Reads until end of stream or error: the bytes that arrived and the errno (0 for an orderly end).
std::pair<uint64_t, int> drain(int peer) {
  uint8_t buf[4096];
  uint64_t drained = 0;
  for (;;) {
    ssize_t got = recv(peer, buf, sizeof(buf), 0);
    if (got > 0) {
      drained += uint64_t(got);
      continue;
    }
    return {drained, got < 0 ? errno : 0};
  }
}

}  // namespace

TEST(tcp_net_aborts_as_the_board_does_queued_bytes_then_fin) {
  Listener server;
  TcpNetClient net(2000);  // the default is the board's abort
  CHECK(net.connect("127.0.0.1", server.port));
  int peer = accept(server.fd, nullptr, nullptr);
  CHECK(peer >= 0);
  uint64_t accepted = fill(net);
  CHECK(accepted > 0);
  CHECK(net.unsent() > 0);
  net.abort();
  CHECK_EQ(net.aborts(), 1u);
  CHECK(!net.connected());
  auto [drained, err] = drain(peer);
  CHECK_EQ(err, 0);               // an orderly end of stream, no reset
  CHECK_EQ(drained, accepted);    // after every byte write() accepted: a short body, cleanly ended
  close(peer);
}

TEST(tcp_net_waits_in_slices_shows_its_queue_and_aborts_with_a_reset_when_told) {
  Listener server;
  TcpNetClient net(2000, TcpNetClient::AbortMode::kReset);
  CHECK(net.connect("127.0.0.1", server.port));
  int peer = accept(server.fd, nullptr, nullptr);
  CHECK(peer >= 0);

  // Nothing to read: one slice, then kWouldBlock (not an error, not a long block).
  uint8_t buf[64];
  auto t0 = std::chrono::steady_clock::now();
  CHECK_EQ(net.read(buf, sizeof(buf)), lifelog::NetClient::kWouldBlock);
  long waited = ms_since(t0);
  CHECK(waited >= TcpNetClient::kSliceMs - 50 && waited < TcpNetClient::kSliceMs + 500);

  // The peer does not read: writes fill the small buffers, then report kWouldBlock.
  uint64_t accepted = fill(net);
  CHECK(accepted > 0);
  CHECK(net.unsent() > 0);  // SIOCOUTQ: still queued on our side

  // abort(): the peer sees a reset, not an orderly end of stream after the queued bytes.
  net.abort();
  CHECK_EQ(net.aborts(), 1u);
  CHECK(!net.connected());
  auto [drained, err] = drain(peer);
  CHECK_EQ(err, ECONNRESET);
  CHECK(drained < accepted);  // what was still queued never arrived
  close(peer);
}
