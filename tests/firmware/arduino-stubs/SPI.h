// DECLARATIONS ONLY (arduino-esp32 libraries/SPI/src/SPI.h); see README.md.
#pragma once
#include "Arduino.h"

class SPIClass {
 public:
  bool begin(int8_t sck = -1, int8_t miso = -1, int8_t mosi = -1, int8_t ss = -1);
};
extern SPIClass SPI;
#define SS 21
