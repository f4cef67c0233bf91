#include "support/throttled_net.h"

#include "support/heap_meter.h"

bool ThrottledNet::connect(const char* host, uint16_t port) {
  heap_meter::Untracked untracked;
  queue_.clear();
  return inner_.connect(host, port);
}

bool ThrottledNet::wait_slice() {
  heap_meter::Untracked untracked;
  clock_.advance_ms(slice_ms);
  size_t n = size_t(uint64_t(rate_) * slice_ms / 1000);
  if (n > queue_.size()) n = queue_.size();
  if (n == 0) return true;
  int32_t sent = inner_.write(reinterpret_cast<const uint8_t*>(queue_.data()), n);
  if (sent < 0) return false;
  queue_.erase(0, size_t(sent));
  return true;
}

int32_t ThrottledNet::write(const uint8_t* data, size_t len) {
  heap_meter::Untracked untracked;
  if (!inner_.connected()) return -1;
  size_t room = cap_ - queue_.size();
  if (room == 0) return wait_slice() ? kWouldBlock : -1;
  size_t take = len < room ? len : room;
  queue_.append(reinterpret_cast<const char*>(data), take);
  return int32_t(take);
}

int32_t ThrottledNet::read(uint8_t* buf, size_t len) {
  if (!queue_.empty()) return wait_slice() ? kWouldBlock : -1;
  int32_t n = inner_.read(buf, len);
  if (n != -1 || !inner_.connected()) return n;
  // FakeNet has nothing (yet): a real socket would wait, so the caller's idle timeout decides.
  clock_.advance_ms(slice_ms);
  return kWouldBlock;
}

void ThrottledNet::close() {
  if (!queue_.empty()) ++closes_with_unsent;
  queue_.clear();
  inner_.close();
}

void ThrottledNet::abort() {
  ++aborts;
  queue_.clear();
  inner_.close();
}
