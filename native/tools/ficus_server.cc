// A standalone ficus core server: the core's own listener, fed events on
// standard input. Used by the end-to-end tests (with clients no one here
// wrote) and by benchmarks of the core without Node.
//
//   ficus_server [--host 127.0.0.1] [--port 0] [--threads N]
//                [--max-message-bytes N] [--ping-interval-ms N]
//                [--max-connections N]   (past it upgrades are answered 503)
//
// Prints "listening <port>" once ready. Each input line is a
// DeliveryEvent (published), or a command: "!stats" prints one line of JSON
// counters; "!publish <topic> <payload>" publishes raw. On EOF or SIGTERM it
// stops (1001 to every client) and exits 0 when every loop closed cleanly.

#include <csignal>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>

#include "ficus/core.h"
#include "notification_sink.h"

namespace {

[[noreturn]] void usage(const std::string& why) {
  std::cerr << "ficus_server: " << why << "\n";
  std::exit(2);
}

unsigned long parseNumber(const char* flag, const char* value) {
  if (value == nullptr) usage(std::string(flag) + " needs a value");
  char* end = nullptr;
  unsigned long n = std::strtoul(value, &end, 10);
  if (*value == '\0' || *end != '\0') {
    usage(std::string(flag) + " expects a number, got '" + value + "'");
  }
  return n;
}

void printStats(const ficus::Core& core) {
  ficus::CoreStats s = core.stats();
  const ficus::WorkerStats& t = s.total;
  std::cout << "{\"connections\":" << t.connections_open
            << ",\"opened\":" << t.connections_opened
            << ",\"messages_in\":" << t.messages_in
            << ",\"messages_out\":" << t.messages_out
            << ",\"bytes_out\":" << t.bytes_out
            << ",\"events_accepted\":" << s.events_accepted
            << ",\"events_rejected\":" << s.events_rejected
            << ",\"drops_backpressure\":" << t.drops_backpressure
            << ",\"handshakes_rejected\":" << t.handshakes_rejected
            << ",\"latency_p50_ns\":" << s.delivery_latency.percentile(0.5)
            << ",\"latency_p99_ns\":" << s.delivery_latency.percentile(0.99)
            << ",\"closed\":{";
  bool first = true;
  for (unsigned i = 0; i < ficus::kCloseCodeSlots; ++i) {
    if (t.connections_closed[i] == 0) continue;
    std::cout << (first ? "" : ",") << "\""
              << (i < 16 ? std::to_string(1000 + i) : "other")
              << "\":" << t.connections_closed[i];
    first = false;
  }
  std::cout << "}}" << std::endl;
}

}  // namespace

int main(int argc, char** argv) {
  std::string host = "127.0.0.1";
  unsigned long port = 0;
  ficus::Options options;
  // Every flag takes one value.
  for (int i = 1; i < argc; i += 2) {
    std::string flag = argv[i];
    const char* value = i + 1 < argc ? argv[i + 1] : nullptr;
    if (flag == "--host" && value) {
      host = value;
    } else if (flag == "--port") {
      port = parseNumber("--port", value);
    } else if (flag == "--threads") {
      options.threads = static_cast<unsigned>(parseNumber("--threads", value));
    } else if (flag == "--max-message-bytes") {
      options.max_message_bytes = parseNumber(argv[i], value);
    } else if (flag == "--max-connections") {
      options.max_connections = parseNumber(argv[i], value);
    } else if (flag == "--ping-interval-ms") {
      options.ping_interval_ms =
          static_cast<uint32_t>(parseNumber(argv[i], value));
    } else {
      usage("unknown flag " + flag);
    }
  }
  if (port > 65535) usage("--port must be 0..65535");

  // SIGTERM/SIGINT end the read below (EINTR) like EOF does.
  struct sigaction action {};
  action.sa_handler = [](int) {};
  sigaction(SIGTERM, &action, nullptr);
  sigaction(SIGINT, &action, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  try {
    ficus_tools::NotificationBell bell;
    ficus::Core core(options, bell.ringFn());
    ficus_tools::NotificationSink sink(bell, core);
    core.start();
    uint16_t bound = core.listen(host, static_cast<uint16_t>(port), "/ws");
    std::cout << "listening " << bound << std::endl;

    std::string line;
    while (std::getline(std::cin, line)) {
      if (line == "!stats") {
        printStats(core);
      } else if (line.rfind("!publish ", 0) == 0) {
        std::string rest = line.substr(9);
        size_t space = rest.find(' ');
        if (space != std::string::npos) {
          core.publish(rest.substr(0, space), rest.substr(space + 1));
        }
      } else {
        ficus::PublishResult r = core.publishEvents(line);
        for (const auto& rejected : r.rejected) {
          std::cerr << "rejected: " << rejected.reason << "\n";
        }
      }
    }
    core.stop();
    return core.loopsClosedCleanly() ? 0 : 1;
  } catch (const std::exception& e) {
    std::cerr << "ficus_server: " << e.what() << "\n";
    return 1;
  }
}
