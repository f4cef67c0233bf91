// The HTTP/1.1 response parser and the keep-alive connection.
#include <cstring>
#include <string>

#include "lifelog/device_api.h"
#include "lifelog/http.h"
#include "support/fake_net.h"
#include "support/test.h"

using namespace lifelog;

namespace {

struct Parsed {
  HttpResponseParser::Result result;
  HttpResponse resp;
  size_t consumed = 0;
};

// Feeds `raw` split into pieces at the given cut points; stops at Done/Error.
void parse_split(const std::string& raw, size_t cut1, size_t cut2, Parsed* p) {
  HttpResponseParser parser;
  parser.begin(&p->resp);
  size_t cuts[3] = {cut1, cut2, raw.size()};
  size_t at = 0;
  p->result = HttpResponseParser::Result::NeedMore;
  for (size_t c : cuts) {
    if (c < at) c = at;
    while (at < c && p->result == HttpResponseParser::Result::NeedMore) {
      size_t used = 0;
      p->result = parser.feed(reinterpret_cast<const uint8_t*>(raw.data()) + at, c - at, &used);
      at += used;
      p->consumed = at;
      if (used == 0) break;
    }
  }
  if (p->result == HttpResponseParser::Result::NeedMore && at == raw.size()) p->result = parser.finish_at_eof();
}

const char* kChunked =
    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-Long: "
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n"
    "7;ext=1\r\n{\"statu\r\n"
    "A\r\ns\":\"queued\r\n"
    "2\r\n\"}\r\n"
    "0\r\nTrailer: x\r\n\r\n";

}  // namespace

TEST(http_content_length_split_everywhere) {
  std::string raw = "HTTP/1.1 201 Created\r\ncontent-length: 19\r\nRetry-After: 3\r\n\r\n{\"status\":\"queued\"}";
  for (size_t i = 0; i <= raw.size(); ++i) {
    for (size_t j = i; j <= raw.size(); j += 7) {
      Parsed p;
      parse_split(raw, i, j, &p);
      CHECK(p.result == HttpResponseParser::Result::Done);
      CHECK_EQ(p.resp.status, 201);
      CHECK_STR(p.resp.body, "{\"status\":\"queued\"}");
      CHECK_EQ(p.resp.retry_after.delay_s, int64_t(3));
      CHECK(p.resp.keep_alive);
      CHECK_EQ(p.consumed, raw.size());
    }
  }
}

TEST(http_chunked_split_everywhere) {
  std::string raw = kChunked;
  for (size_t i = 0; i <= raw.size(); ++i) {
    for (size_t j = i; j <= raw.size(); ++j) {
      Parsed p;
      parse_split(raw, i, j, &p);
      CHECK(p.result == HttpResponseParser::Result::Done);
      CHECK_EQ(p.resp.status, 200);
      CHECK_STR(p.resp.body, "{\"status\":\"queued\"}");
      CHECK_EQ(p.consumed, raw.size());
    }
  }
}

TEST(http_byte_at_a_time_and_extra_bytes_not_consumed) {
  std::string raw = std::string(kChunked) + "HTTP/1.1 200 OK";  // start of a second response
  HttpResponseParser parser;
  HttpResponse resp;
  parser.begin(&resp);
  size_t i = 0;
  HttpResponseParser::Result r = HttpResponseParser::Result::NeedMore;
  while (r == HttpResponseParser::Result::NeedMore && i < raw.size()) {
    size_t used = 0;
    r = parser.feed(reinterpret_cast<const uint8_t*>(raw.data()) + i, 1, &used);
    i += used;
  }
  CHECK(r == HttpResponseParser::Result::Done);
  CHECK_EQ(i, strlen(kChunked));
}

TEST(http_interim_close_and_until_eof) {
  Parsed p;
  parse_split("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 409 Conflict\r\nConnection: close\r\nContent-Length: 2\r\n\r\n{}",
              5, 30, &p);
  CHECK(p.result == HttpResponseParser::Result::Done);
  CHECK_EQ(p.resp.status, 409);
  CHECK(!p.resp.keep_alive);
  Parsed q;
  parse_split("HTTP/1.0 200 OK\r\n\r\nhello", 3, 20, &q);
  CHECK(q.result == HttpResponseParser::Result::Done);
  CHECK_STR(q.resp.body, "hello");
  CHECK(!q.resp.keep_alive);
  Parsed r;
  parse_split("HTTP/1.1 204 No Content\r\n\r\n", 0, 0, &r);
  CHECK(r.result == HttpResponseParser::Result::Done);
  CHECK_EQ(r.resp.status, 204);
}

TEST(http_rejects_garbage_and_truncation) {
  Parsed a;
  parse_split("HTTX/1.1 200 OK\r\n\r\n", 0, 0, &a);
  CHECK(a.result == HttpResponseParser::Result::Error);
  Parsed b;
  parse_split("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", 0, 0, &b);
  CHECK(b.result == HttpResponseParser::Result::Error);  // ended early
  Parsed c;
  parse_split("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 0, 0, &c);
  CHECK(c.result == HttpResponseParser::Result::Error);
  Parsed d;
  parse_split("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab", 0, 0, &d);
  CHECK(d.result == HttpResponseParser::Result::Error);
}

TEST(http_body_is_bounded) {
  std::string big(kMaxResponseBody + 500, 'x');
  std::string raw = "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(big.size()) + "\r\n\r\n" + big;
  Parsed p;
  parse_split(raw, 100, 3000, &p);
  CHECK(p.result == HttpResponseParser::Result::Done);
  CHECK_EQ(p.resp.body_len, kMaxResponseBody);
  CHECK(p.resp.body_truncated);
  CHECK_EQ(p.consumed, raw.size());  // the rest was drained so the connection stays usable
}

TEST(http_connection_reuses_and_recovers) {
  FakeServer server;
  server.read_piece = 3;
  server.handler = [](const FakeRequest& r) {
    return FakeReply{http_reply(200, "{\"path\":\"" + r.path + "\"}"), false};
  };
  FakeNet net(server);
  HttpConnection conn(net);
  HttpResponse resp;
  HttpHeader h[1] = {{"X-A", "1"}};
  HttpRequest req;
  req.host = "api.test";
  req.port = 8080;
  req.path = "/one";
  req.headers = h;
  req.header_count = 1;
  req.body = "{}";
  req.body_len = 2;
  for (int i = 0; i < 5; ++i) CHECK(conn.exchange(req, resp) == HttpError::None);
  CHECK_EQ(server.connects, 1u);
  CHECK_STR(server.log[0].headers["host"], "api.test:8080");
  CHECK_STR(server.log[0].headers["content-length"], "2");
  CHECK_STR(server.log[0].headers["x-a"], "1");
  // The server dropped the idle connection: one silent reconnect, not an error.
  net.server_hangs_up();
  CHECK(conn.exchange(req, resp) == HttpError::None);
  CHECK_EQ(server.connects, 2u);
  // A different host means a new connection, and the old one is closed first.
  req.host = "other.test";
  CHECK(conn.exchange(req, resp) == HttpError::None);
  CHECK_EQ(server.connects, 3u);
  CHECK_STR(server.log.back().host, "other.test");
  // A server that says Connection: close gets a fresh connection next time.
  server.handler = [](const FakeRequest&) {
    return FakeReply{"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n", true};
  };
  CHECK(conn.exchange(req, resp) == HttpError::None);
  CHECK(!net.connected());
  CHECK(conn.exchange(req, resp) == HttpError::None);
  CHECK_EQ(server.connects, 4u);
  // Refused connection is reported, not retried forever.
  conn.close();
  server.refuse_connects = 1;
  CHECK(conn.exchange(req, resp) == HttpError::Connect);
}

TEST(base_url_parsing) {
  ApiEndpoint e;
  CHECK(parse_base_url("http://127.0.0.1:54321/functions/v1/", &e));
  CHECK_STR(e.host, "127.0.0.1");
  CHECK_EQ(e.port, 54321);
  CHECK_STR(e.prefix, "/functions/v1");
  CHECK(!e.tls);
  CHECK(parse_base_url("https://abc.supabase.co/functions/v1", &e));
  CHECK_EQ(e.port, 443);
  CHECK(e.tls);
  CHECK(parse_base_url("http://host", &e));
  CHECK_STR(e.prefix, "");
  CHECK(!parse_base_url("ftp://x", &e));
  CHECK(!parse_base_url("http://x:99999/", &e));
  CHECK(!parse_base_url("http://:80/", &e));
}

TEST(error_bodies_are_classified) {
  HttpResponse r;
  r.status = 409;
  strcpy(r.body, "{\"error\":{\"code\":\"object_missing\",\"message\":\"m\"}}");
  r.body_len = strlen(r.body);
  ApiResult a = classify_response(HttpError::None, r);
  CHECK(a.outcome == ApiOutcome::Rejected);
  CHECK_STR(a.code, "object_missing");
  r.status = 503;
  CHECK(classify_response(HttpError::None, r).outcome == ApiOutcome::ServerError);
  r.status = 401;
  CHECK(classify_response(HttpError::None, r).outcome == ApiOutcome::Unauthorized);
  r.status = 429;
  r.retry_after.delay_s = 12;
  ApiResult b = classify_response(HttpError::None, r);
  CHECK(b.outcome == ApiOutcome::RateLimited);
  CHECK_EQ(b.retry_after.delay_s, int64_t(12));
  CHECK(classify_response(HttpError::Receive, r).outcome == ApiOutcome::Network);
}
