// DECLARATIONS ONLY (arduino-esp32 3.x libraries/WebServer/src/WebServer.h, HTTP_Method.h,
// Uri.h; ESP-IDF http_parser.h for the method values); see README.md.
#pragma once
#include <functional>

#include "Arduino.h"

// HTTP_Method.h: `typedef enum http_method HTTPMethod;` with http_parser.h's values, and
// `#define HTTP_ANY (HTTPMethod)(255)`.
enum http_method { HTTP_DELETE = 0, HTTP_GET = 1, HTTP_HEAD = 2, HTTP_POST = 3, HTTP_PUT = 4 };
typedef enum http_method HTTPMethod;
#define HTTP_ANY (HTTPMethod)(255)

class Uri {
 public:
  Uri(const char* uri);
  Uri(const String& uri);
};

class RequestHandler;

class WebServer {
 public:
  typedef std::function<void(void)> THandlerFunction;
  explicit WebServer(int port = 80);
  virtual ~WebServer();
  virtual void begin();
  virtual void handleClient();
  void stop();
  // 3.x returns the handler (for setFilter()), not void.
  RequestHandler& on(const Uri& uri, THandlerFunction fn);
  RequestHandler& on(const Uri& uri, HTTPMethod method, THandlerFunction fn);
  void onNotFound(THandlerFunction fn);
  String arg(const String& name);
  void sendHeader(const String& name, const String& value, bool first = false);
  void send(int code, const char* content_type = NULL, const String& content = String(""));
  void send(int code, const char* content_type, const char* content);
};
