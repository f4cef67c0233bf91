// DECLARATIONS ONLY for a host syntax/type check of the sketch glue; see README.md.
// Shapes follow arduino-esp32 cores/esp32 (Arduino.h, WString.h, HardwareSerial.h, Esp.h, IPAddress.h).
#pragma once
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>

#define PROGMEM
#define PGM_P const char*
#define LOW 0x0
#define HIGH 0x1
#define INPUT 0x01
#define OUTPUT 0x03
#define INPUT_PULLUP 0x05  // cores/esp32/esp32-hal-gpio.h

// cores/esp32/esp32-hal-psram.h: PSRAM allocation, null when the board has none (or it is full).
extern "C" bool psramFound();
extern "C" void* ps_malloc(size_t size);

class String {
 public:
  String(const char* s = "");
  String(const String&);
  ~String();
  String& operator=(const String&);
  const char* c_str() const;
  unsigned int length() const;
  void trim();
  String& operator=(const char*);
  friend String operator+(const String&, const char*);
  friend String operator+(const String&, const String&);
};

class Print {
 public:
  virtual ~Print() = default;
  virtual size_t write(uint8_t) = 0;
  virtual size_t write(const uint8_t* buffer, size_t size);
  size_t printf(const char* format, ...) __attribute__((format(printf, 2, 3)));
  size_t println(const char*);
};

class Stream : public Print {
 public:
  virtual int available() = 0;
  virtual int read() = 0;
  virtual int peek() = 0;
};

class HardwareSerial : public Stream {
 public:
  void begin(unsigned long baud);
  size_t write(uint8_t) override;
  int available() override;
  int read() override;
  int peek() override;
};
extern HardwareSerial Serial;

class IPAddress {
 public:
  String toString() const;
};

// cores/esp32/Esp.h: getFreeHeap() is the total free heap (heap_caps_get_free_size), which says
// nothing about fragmentation; getMaxAllocHeap() is the largest block one allocation can get.
class EspClass {
 public:
  uint32_t getFreeHeap();
  uint32_t getMaxAllocHeap();
  uint64_t getEfuseMac();
  [[noreturn]] void restart();
};
extern EspClass ESP;

unsigned long millis();
void delay(uint32_t ms);
void pinMode(uint8_t pin, uint8_t mode);
void digitalWrite(uint8_t pin, uint8_t val);
int digitalRead(uint8_t pin);
void configTzTime(const char* tz, const char* server1, const char* server2 = nullptr, const char* server3 = nullptr);
