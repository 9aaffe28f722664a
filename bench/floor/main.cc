// ficus_floor: the bench protocol's syscall floor (see floor_server.h).
//
//   ficus_floor [--host 127.0.0.1] [--port 0] [--max-seconds 3600]
//
// Prints "floor server on http://127.0.0.1:PORT/" once listening (the line
// bench/lib/gateway.js waits for), serves /healthz, /ws?topics=... and
// /publish, and exits on SIGTERM/SIGINT, when its parent dies, or after
// --max-seconds, printing its counters as one JSON line on stderr.

#include <sys/prctl.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <exception>
#include <string>

#include "floor_server.h"

namespace {

volatile sig_atomic_t g_stop = 0;

void onSignal(int) { g_stop = 1; }

[[noreturn]] void usage(const std::string& why) {
  std::fprintf(stderr,
               "ficus_floor: %s\nusage: ficus_floor [--host 127.0.0.1] [--port "
               "0] [--max-seconds 3600]\n",
               why.c_str());
  std::exit(2);
}

unsigned long number(const char* flag, const char* value, unsigned long max) {
  if (value == nullptr) usage(std::string(flag) + " needs a value");
  char* end = nullptr;
  unsigned long n = std::strtoul(value, &end, 10);
  if (*value == '\0' || *end != '\0' || n > max)
    usage(std::string(flag) + ": not a number up to " + std::to_string(max));
  return n;
}

}  // namespace

int main(int argc, char** argv) {
  std::string host = "127.0.0.1";
  unsigned long port = 0, max_seconds = 3600;
  for (int i = 1; i < argc; ++i) {
    const char* value = i + 1 < argc ? argv[i + 1] : nullptr;
    if (std::strcmp(argv[i], "--host") == 0 && value != nullptr) {
      host = value;
    } else if (std::strcmp(argv[i], "--port") == 0) {
      port = number("--port", value, 65535);
    } else if (std::strcmp(argv[i], "--max-seconds") == 0) {
      max_seconds = number("--max-seconds", value, 86400);
    } else {
      usage(std::string("unknown argument '") + argv[i] + "'");
    }
    ++i;
  }
  prctl(PR_SET_PDEATHSIG, SIGTERM);  // never outlive the bench that started it
  std::signal(SIGTERM, onSignal);
  std::signal(SIGINT, onSignal);
  std::signal(SIGPIPE, SIG_IGN);
  try {
    floorsrv::Server server(host, static_cast<uint16_t>(port));
    std::printf(
        "floor server on http://%s:%u/ (bench/floor: one thread, one send per "
        "delivery)\n",
        host.c_str(), server.port());
    std::fflush(stdout);
    timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    uint64_t deadline_ms =
        static_cast<uint64_t>(now.tv_sec) * 1000u + max_seconds * 1000u;
    server.run(g_stop, deadline_ms);
    const auto& n = server.counters();
    std::fprintf(stderr,
                 "{\"events\":%llu,\"rejected\":%llu,\"deliveries\":%llu,"
                 "\"backlogged\":%llu,\"dropped_slow\":%llu}\n",
                 static_cast<unsigned long long>(n.events),
                 static_cast<unsigned long long>(n.rejected),
                 static_cast<unsigned long long>(n.deliveries),
                 static_cast<unsigned long long>(n.backlogged),
                 static_cast<unsigned long long>(n.dropped_slow));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ficus_floor: %s\n", e.what());
    return 1;
  }
  return 0;
}
