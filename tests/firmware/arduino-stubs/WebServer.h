// DECLARATIONS ONLY (arduino-esp32 libraries/WebServer/src/WebServer.h, HTTP_Method.h); see README.md.
#pragma once
#include <functional>

#include "Arduino.h"

typedef enum { HTTP_ANY, HTTP_GET, HTTP_HEAD, HTTP_POST } HTTPMethod;

class WebServer {
 public:
  typedef std::function<void(void)> THandlerFunction;
  explicit WebServer(int port = 80);
  virtual ~WebServer();
  virtual void begin();
  virtual void handleClient();
  virtual void stop();
  void on(const String& uri, HTTPMethod method, THandlerFunction fn);
  void onNotFound(THandlerFunction fn);
  String arg(const String& name) const;
  void sendHeader(const String& name, const String& value, bool first = false);
  void send(int code, const char* content_type = NULL, const String& content = String(""));
};
