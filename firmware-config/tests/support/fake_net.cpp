#include "support/heap_meter.h"
#include "support/fake_net.h"

#include <cstdlib>
#include <cstring>

std::string http_reply(int status, const std::string& body, const std::string& extra) {
  return "HTTP/1.1 " + std::to_string(status) + " X\r\nContent-Type: application/json\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\n" + extra + "\r\n" + body;
}

bool FakeNet::connect(const char* host, uint16_t port) {
  heap_meter::Untracked untracked;
  if (connected_) return false;  // the client must close before reconnecting (no leaks)
  ++server_.connects;
  if (server_.refuse_connects > 0) {
    --server_.refuse_connects;
    return false;
  }
  connected_ = true;
  peer_closed_ = false;
  host_ = host;
  port_ = port;
  out_.clear();
  out_pos_ = 0;
  close_after_out_ = false;
  reset_request();
  return true;
}

void FakeNet::reset_request() {
  heap_meter::Untracked untracked;
  head_.clear();
  in_body_ = false;
  req_ = FakeRequest();
  body_seen_ = 0;
  hash_.reset();
}

void FakeNet::close() {
  heap_meter::Untracked untracked;
  if (connected_) ++server_.closes;
  connected_ = false;
  peer_closed_ = false;
}

void FakeNet::finish_request() {
  heap_meter::Untracked untracked;
  req_.body_sha256.resize(64);
  char hex[lifelog::Sha256::kHexSize];
  hash_.finish_hex(hex);
  req_.body_sha256 = hex;
  server_.log.push_back(req_);
  FakeReply reply = server_.handler ? server_.handler(req_) : FakeReply{http_reply(500, "{}"), false};
  out_.append(reply.raw);
  close_after_out_ = reply.close_after;
  reset_request();
}

int32_t FakeNet::write(const uint8_t* data, size_t len) {
  if (on_write) on_write(len);
  heap_meter::Untracked untracked;
  if (!connected_ || peer_closed_) return -1;
  size_t i = 0;
  while (i < len) {
    if (!in_body_) {
      head_.push_back(char(data[i++]));
      if (head_.size() >= 4 && head_.compare(head_.size() - 4, 4, "\r\n\r\n") == 0) {
        size_t line_end = head_.find("\r\n");
        std::string line = head_.substr(0, line_end);
        size_t sp1 = line.find(' '), sp2 = line.rfind(' ');
        req_.method = line.substr(0, sp1);
        req_.path = line.substr(sp1 + 1, sp2 - sp1 - 1);
        req_.host = host_;
        req_.port = port_;
        size_t pos = line_end + 2;
        while (pos < head_.size() - 2) {
          size_t e = head_.find("\r\n", pos);
          std::string h = head_.substr(pos, e - pos);
          size_t colon = h.find(':');
          std::string name = h.substr(0, colon);
          for (char& c : name) c = char(tolower(c));
          size_t v = colon + 1;
          while (v < h.size() && h[v] == ' ') ++v;
          req_.headers[name] = h.substr(v);
          pos = e + 2;
        }
        req_.content_length = strtoull(req_.headers["content-length"].c_str(), nullptr, 10);
        in_body_ = true;
        if (req_.content_length == 0) finish_request();
      }
    } else {
      size_t take = len - i;
      uint64_t left = req_.content_length - body_seen_;
      if (take > left) take = size_t(left);
      if (server_.drop_after_body_bytes >= 0 && body_seen_ + take > uint64_t(server_.drop_after_body_bytes)) {
        server_.drop_after_body_bytes = -1;
        peer_closed_ = true;
        return i > 0 ? int32_t(i) : -1;
      }
      hash_.update(data + i, take);
      // JSON bodies are kept (a batch's up to ~16 KB); photo bytes only when small.
      bool keep = req_.content_length <= 8192 || (req_.method == "POST" && req_.content_length <= 65536);
      if (keep) req_.body.append(reinterpret_cast<const char*>(data + i), take);
      body_seen_ += take;
      i += take;
      if (body_seen_ == req_.content_length) finish_request();
    }
  }
  return int32_t(len);
}

int32_t FakeNet::read(uint8_t* buf, size_t len) {
  heap_meter::Untracked untracked;
  if (!connected_) return -1;
  if (out_pos_ < out_.size()) {
    size_t n = out_.size() - out_pos_;
    if (n > len) n = len;
    if (n > server_.read_piece) n = server_.read_piece;
    memcpy(buf, out_.data() + out_pos_, n);
    out_pos_ += n;
    if (out_pos_ == out_.size()) {
      out_.clear();
      out_pos_ = 0;
      if (close_after_out_) peer_closed_ = true;
    }
    return int32_t(n);
  }
  if (peer_closed_) return 0;
  return -1;  // nothing will come: a real socket would time out
}
