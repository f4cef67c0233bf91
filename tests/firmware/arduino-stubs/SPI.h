// DECLARATIONS ONLY (arduino-esp32 libraries/SPI/src/SPI.h); see README.md.
#pragma once
#include "Arduino.h"

class SPIClass {
 public:
  bool begin(int8_t sck = -1, int8_t miso = -1, int8_t mosi = -1, int8_t ss = -1);
};
extern SPIClass SPI;
// variants/XIAO_ESP32S3/pins_arduino.h: SS = 44 (D7/RX), SCK 7, MISO 8, MOSI 9. The Sense
// board's card chip-select is GPIO21, so the firmware passes 21 to SD.begin, never SS.
static const uint8_t SS = 44;
static const uint8_t SCK = 7;
static const uint8_t MISO = 8;
static const uint8_t MOSI = 9;
