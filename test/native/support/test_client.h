#pragma once
// A deliberately simple blocking WebSocket client for the core's tests: it
// can send anything, including frames a real client never would.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "ficus/frame_codec.h"
#include "ficus/unique_fd.h"

namespace ficus::test {

struct ReceivedFrame {
  Opcode opcode;
  bool fin;
  std::string payload;
  uint16_t closeCode() const;  // for close frames; 1005 when empty
};

// A masked client frame's bytes.
std::string maskedFrame(Opcode opcode, std::string_view payload,
                        bool fin = true);

class TestClient {
 public:
  // Opens TCP to 127.0.0.1:port (optionally from `source` address).
  static TestClient tcp(uint16_t port, const char* source = nullptr);
  // TCP + upgrade request for `target` ("/ws?topics=a,b"); fails the test
  // unless the answer is 101 with the right accept key.
  static TestClient open(uint16_t port, std::string_view target);

  void sendRaw(std::string_view bytes);
  // A masked client frame.
  void sendFrame(Opcode opcode, std::string_view payload, bool fin = true);
  void sendText(std::string_view text) { sendFrame(Opcode::kText, text); }

  // The HTTP response head (through the blank line), or "" on timeout.
  std::string readHttpHead(int timeout_ms = 2000);
  // The next frame, or nullopt on timeout or EOF.
  std::optional<ReceivedFrame> readFrame(int timeout_ms = 2000);
  // The next data frame, answering nothing and skipping pings.
  std::optional<ReceivedFrame> readData(int timeout_ms = 2000);
  // Reads until a close frame; returns its code, or nullopt.
  std::optional<uint16_t> readClose(int timeout_ms = 2000);
  // True when the server closed TCP (EOF or reset) within the timeout,
  // discarding whatever arrives before.
  bool waitEof(int timeout_ms = 2000);

  int fd() const { return fd_.get(); }
  // Closes our end, as a client does once it has seen the server's FIN.
  void closeSocket() { fd_.reset(); }
  void shrinkReceiveBuffer(int bytes);

 private:
  explicit TestClient(UniqueFd fd) : fd_(std::move(fd)) {}
  // Reads at least `n` bytes into buffer_; false on timeout/EOF.
  bool fill(size_t n, int timeout_ms);

  UniqueFd fd_;
  std::string buffer_;
  bool eof_ = false;
};

}  // namespace ficus::test
