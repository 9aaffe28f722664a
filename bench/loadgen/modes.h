#pragma once
// The load generator's modes, one file each (main.cc describes the
// protocol they speak with bench/lib/loadgen.js).

#include <cstdint>
#include <memory>

#include "common.h"
#include "engine.h"

namespace lg {

constexpr uint64_t kNsPerSec = 1'000'000'000ull;
constexpr uint64_t kNsPerMs = 1'000'000ull;

std::unique_ptr<Engine> makeSubscriberMode(const Args& args);  // --mode sub
std::unique_ptr<Engine> makePublisherMode(const Args& args);   // --mode pub
std::unique_ptr<Engine> makeHttpMode(const Args& args);        // --mode http

}  // namespace lg
