#pragma once
// Standard base64 (RFC 4648 §4, with padding), just what the handshake needs:
// encoding the accept key and checking the client's key.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace ficus {

// Encodes arbitrary bytes, padding with '='.
std::string base64Encode(std::string_view bytes);

// The number of bytes `text` decodes to, or nullopt when it is not valid
// padded base64 (length not a multiple of 4, a character outside the
// alphabet, or '=' anywhere but the last one or two positions). Non-zero
// pad bits are tolerated, as RFC 4648 §3.5 permits.
std::optional<size_t> base64DecodedSize(std::string_view text);

}  // namespace ficus
