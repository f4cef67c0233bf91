#pragma once

namespace lifelog {

// Unmounts and mounts the card again. A read error on an SPI microSD card is often the card's
// controller or the bus in a bad state; a fresh mount (CMD0 + init) clears most of them.
class CardMount {
 public:
  virtual ~CardMount() = default;
  virtual bool remount() = 0;
};

}  // namespace lifelog
