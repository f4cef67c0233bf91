// DECLARATIONS ONLY (lwIP src/include/lwip/sockets.h as ESP-IDF ships it); see README.md.
#pragma once
#define SOL_SOCKET 0xfff
#define SO_LINGER 0x0080
struct linger {
  int l_onoff;
  int l_linger;
};
